#!/usr/bin/env python3
"""Builds the vocab-only GGUF fixtures and the llama.cpp golden ids that
Tests/QKVKitTests/GGUFTokenizerTests.swift checks.

Run by hand (never in CI) with llama-cpp-python 0.3.36 (it builds llama.cpp locally), gguf-py
(`gguf` 0.19), `tokenizers` and `sentencepiece` installed, after `bash scripts/fetch_minilm.sh`
and `bash scripts/fetch_smollm2.sh`:

    python3 scripts/make_gguf_tokenizer_goldens.py [--llama-cpp-src DIR]

Writes fixtures/gguf/:
  corpus.json              the hard strings, in order
  vocab/bpe-PRE.gguf       one byte-level BPE vocabulary (trained here with `tokenizers`) written
                           once per tokenizer.ggml.pre value, with a few BOS/EOS variations
  vocab/spm-*.gguf         SentencePiece vocabularies trained here with `sentencepiece` (BPE and
                           unigram, byte fallback), converted as llama.cpp's converter does, with
                           add_space_prefix true and false
  vocab/bert-minilm.gguf   all-MiniLM-L6-v2's WordPiece vocabulary in llama.cpp's phantom-space form,
                           and bert-cased / bert-keep-accents: its first 4000 tokens with the
                           normalizer keys set otherwise
  vocab/bpe-gpt-2-no-4-byte-leads.gguf, vocab/spm-bpe-phi3.gguf  quirk variants (bytes without a
                           token are dropped; Phi-3 names strip spaces after special tokens)
  vocab/NAME.ids.json      for each vocabulary: llama.cpp's ids for every corpus string in the four
                           modes add_special x parse_special
  smollm2.ids.json         the same for the real SmolLM2-135M-Instruct Q4_1 file (not committed;
                           the tests fetch it)
  llamacpp_unicode.json    (only with --llama-cpp-src, a vendored llama.cpp source tree such as
                           vendor/llama.cpp of the llama-cpp-python sdist) llama.cpp's own code
                           point tables from src/unicode-data.cpp: category ranges, whitespace,
                           simple lowercase pairs, first code point of each NFD

Every id comes from llama.cpp through llama_cpp.llama_tokenize; nothing from qkv.
"""

import argparse
import json
import os
import random
import re
import sys
import tempfile

import gguf
import llama_cpp
import sentencepiece as spm
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "gguf")
VOCAB = os.path.join(OUT, "vocab")
CACHE = os.environ.get("QKV_MODEL_CACHE", os.path.expanduser("~/.cache/qkv-models"))

# The hard strings. Each covers something a tokenizer can get wrong; grouped by theme.
CORPUS = [
    # empty and whitespace
    "", " ", "  ", "\t", "\n", "\r\n", "\n\n", " \n", "\n ", "   leading", "trailing   ", " \n \n ",
    "a\n\n\nb", "\t\tindent", "x \r\n y", "   \t  \n", "a  b   c    d", "end\n", "\r", "word\r\nword\n\rword",
    "a\u00a0b", "c\u3000d", "thin\u2009space", "nel\u0085line", "ogham\u1680space", "line\u2028sep",
    "a \u00a0 b", "\u3000\u3000lead", "x\u000b\u000cy",
    # digits and numbers
    "1", "12", "123", "1234", "12345", "1234567", "3.14159", "1,000,000", "2024-06-01", "+1 (555) 010-9999",
    "x1y22z333w4444", "٣٤٥ and ۱۲۳", "①②③ ½ ¾ ² ³", "Ⅻ and ⅻ", "０１２３", "99999999999999999999999999999",
    " 42", "v1.2.3-rc4", "$100 and 50% off",
    # contractions and case
    "I'm you're they've we'll he'd it's don't", "I'M YOU'RE THEY'VE WE'LL HE'D IT'S DON'T",
    "They'Ve We'Ll", "'s 'S 't 're 'RE", "rock'n'roll", "' s", "''quoted''", "Mr. O'Neil's dog",
    "\u2018curly\u2019 \u201cquotes\u201d", "HELLO WORLD", "hello world", "Hello world", " Hello world",
    "Hello  world", "MiXeD CaSe", "snake_case camelCase PascalCase kebab-case",
    # accents, NFC and NFD
    "café", "cafe\u0301", "naïve résumé façade", "Ångström", "A\u030angstro\u0308m", "İstanbul ıi",
    "straße STRASSE ẞ", "ǅungla ǈ", "ΣΊΣΥΦΟΣ σίσυφος", "Привет, мир!", "Ἀθῆναι", "Tiếng Việt",
    "x\u20ddy", "\u0301alone", "e\u0301\u0302\u0303",
    # CJK and Hangul
    "你好，世界！", "日本語のテキストです。", "한국어 문장입니다.", "中文和English混合", "漢字かなカナ",
    "\U00020000\U0002A6D6", "\u1100\u1161\u11a8", "全角ＡＢＣ", "「引用」と『二重』", "한국어123漢字",
    # other scripts
    "ภาษาไทยง่ายนิดเดียว", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "தமிழ் மொழி", "ქართული",
    "Ελληνικά κείμενα",
    # emoji
    "👍", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", "❤\ufe0f", "🇫🇷🇯🇵", "emoji😀in😀text",
    "🤖🤖🤖", "I love 🥰 and 🤗",
    # code
    "def f(x):\n    return x**2  # square\n", "if (a != b && c <= d) { return; }",
    "let x = [1, 2, 3].map { $0 * 2 }", "SELECT * FROM t WHERE id=42;", "<div class=\"a\">Hi</div>",
    "https://example.com/path?q=1&r=two#frag", "path/to/file_name.py", "$HOME ~/.bashrc |> <= >= => ->",
    "a+b=c^2 `code` ~tilde~ |pipe|", "@user #hashtag 100%", "    indented\n\tcode\n", "}\n}\n",
    "/* comment */ // done", "x = {'a': [1, (2, 3)]}\n", "for (int i = 0; i < n; ++i) {\n    sum += i;\n}",
    "!!!???...", "—– -- ---", "«guillemets» ¿Qué? ¡Sí!", "C++ C# F#", "e.g. i.e. etc. U.S.A.",
    # special-token-looking text
    "<|im_start|>user\nHello<|im_end|>\n", "<|im_start|><|im_end|>", "a<|im_start|>b", "<|im_start",
    "<s>Hello</s>", "<s>", "</s>", "<unk>", "<|endoftext|>", "text<|endoftext|>more", "[CLS] [SEP] [MASK]",
    "<|eot_id|>", "<fim_prefix>x<fim_suffix>y<fim_middle>", "[USER] hello [USER]", "<0x41>", "▁already▁escaped",
    "Ġalready", " <|im_end|> ", "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n",
    "[MASK]", "##ing",
    # rare code points
    "\u0000", "a\u0000b", "\u0378", "\u1c89\u1c8a", "\U0001FAE8", "\U0001FAE9", "\ue000", "\ufffd", "\uffff",
    "\U0010FFFF", "\u200d", "\ufeffbom", "soft\u00adhyphen", "zero\u200bwidth", "\u001c\u001d\u001e\u001f",
    "a\u0300", "\u0b83\u0e31", "\U000E0041", "\u0897x",
    # long
    "a" * 300, "Pneumonoultramicroscopicsilicovolcanoconiosis", "supercalifragilisticexpialidocious" * 3,
    "ab" * 100 + " " + "xyz" * 50, "9" * 60, "中" * 80, " " * 50 + "x", "!" * 40, "\n" * 30 + "end",
    # sentences
    "Hello, world!", "The quick brown fox jumps over the lazy dog.", "Attention is all you need.",
    "In 2024, 3.14159 and 1,000,000 people paid $100 (50% off)!",
    "The Transformer relies entirely on an attention mechanism to draw global dependencies between input "
    "and output; it reaches a new state of the art in translation quality after twelve hours on eight GPUs.",
]

# Random strings over a pool that stresses the pre-tokenizers' corner cases (apostrophes before
# letters of either case, runs of mixed whitespace with CR/LF, digits of several scripts next to
# letters and symbols, marks, unassigned and newer-than-Unicode-15.1 code points, pieces of special
# tokens); fixed seed, so the corpus is the same on every run.
POOL = (list("aAstdmlrevzéÉßΣσİǅ") + ["'"] * 4 + ["\u2019"] + [" "] * 8
        + ["\t", "\n", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2009", "\u0085", "\u000b"]
        + list("05٣½Ⅻ０") + list(".,!?-_$+^`~(|<>=@#%&*/\\{}[]、。！“—…")
        + ["\u0301", "\u0308", "\u20dd"] + list("中文日한국ภาعशन्")
        + ["🥰", "👍", "\u200d", "\ufe0f", "🏽"]
        + ["<|im_start|>", "<|im_end|>", "<s>", "</s>", "<unk>", "[USER]", "[CLS]", "<|eot_id|>", "im_start"]
        + ["\u0378", "\u1c89", "\ue000", "\ufffd", "\u0000", "\u200b", "\u00ad", "\U0001FAE9"])


def random_strings(count=100, seed=20250601):
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(0, 30))) for _ in range(count)]


CORPUS += random_strings()

# Text the small vocabularies are trained on: varied enough that merges cover the corpus's scripts,
# and the corpus itself, so that its long runs and special-looking strings have merges too.
TRAINING_TEXT = [
    "Attention is all you need. The dominant sequence transduction models are based on complex recurrent "
    "or convolutional neural networks that include an encoder and a decoder.",
    "We propose a new simple network architecture, the Transformer, based solely on attention mechanisms, "
    "dispensing with recurrence and convolutions entirely.",
    "Hello world! Hello there, how are you doing today? I'm fine, thanks. Don't worry, we'll be there. "
    "They've said it's what he'd do.",
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.",
    "Numbers like 2024, 3.14159 and 1,000,000 appear in text; so do prices such as $100 and 50%.",
    "Café, naïve, résumé and façade are English words borrowed from French. Straße, Ångström, señor.",
    "def attention(query, key, value):\n    scores = query @ key.T / math.sqrt(d)\n    return softmax(scores) @ value\n",
    "for (int i = 0; i < n; ++i) {\n    sum += values[i];\n}\nif (a != b && c <= d) { return x; }\n",
    "SELECT name, count(*) FROM users WHERE id = 42 GROUP BY name;",
    "<div class=\"container\"><p>Hello</p></div> https://example.com/index.html?query=value",
    "你好，世界！我爱北京天安门。中文和英文混合的句子。日本語のテキストです。ひらがなとカタカナ。",
    "한국어 문장입니다. 안녕하세요, 세계! 서울은 한국의 수도입니다.",
    "Привет, мир! Русский текст для обучения. Ελληνικά κείμενα για την εκπαίδευση.",
    "مرحبا بالعالم. هذا نص عربي. שלום עולם, זה טקסט בעברית.",
    "नमस्ते दुनिया, यह हिंदी पाठ है। ภาษาไทยง่ายนิดเดียว สวัสดีชาวโลก",
    "Emoji: 👍 😀 🤖 ❤️ 🇫🇷 and more text around them.",
    "    indented code\n\tand tabs\n\n\nand blank lines\r\nwith CRLF.",
] * 4 + CORPUS


def new_writer(path, arch="llama"):
    return gguf.GGUFWriter(path, arch)


def finish(writer):
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


# --- byte-level BPE (gpt2) -------------------------------------------------------------------

BPE_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def train_bpe():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2600, min_frequency=2, special_tokens=BPE_SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(TRAINING_TEXT, trainer)
    state = json.loads(tokenizer.to_str())
    vocab = state["model"]["vocab"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in state["model"]["merges"]]
    tokens = [None] * len(vocab)
    for text, index in vocab.items():
        tokens[index] = text
    types = [gguf.TokenType.CONTROL if t in BPE_SPECIAL else gguf.TokenType.NORMAL for t in tokens]
    # Typed normal here on purpose: llama.cpp promotes "<|eot_id|>" (end of turn) and "<fim_prefix>"
    # (fill-in-the-middle) to control tokens by their text. "[USER]" is an ordinary added token.
    for text, kind in [("<|eot_id|>", gguf.TokenType.NORMAL), ("<fim_prefix>", gguf.TokenType.NORMAL),
                       ("[USER]", gguf.TokenType.USER_DEFINED)]:
        tokens.append(text)
        types.append(kind)
    return tokens, types, merges


# pre value -> (add_bos_token, add_eos_token); None leaves the key out (llama.cpp's default).
BPE_PRES = {
    "default": (False, False), "gpt-2": (None, None), "llama-bpe": (True, False), "qwen2": (False, False),
    "smollm": (False, False), "deepseek-llm": (True, False), "deepseek-coder": (True, False),
    "falcon": (False, True), "starcoder": (False, False), "refact": (False, False), "mpt": (None, None),
    "command-r": (True, False),
}


def write_bpe(tokens, types, merges):
    names = []
    for pre, (add_bos, add_eos) in BPE_PRES.items():
        name = f"bpe-{pre}"
        w = new_writer(os.path.join(VOCAB, name + ".gguf"))
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(pre)
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges(merges)
        w.add_bos_token_id(0)
        w.add_eos_token_id(2)
        if add_bos is not None:
            w.add_add_bos_token(add_bos)
        if add_eos is not None:
            w.add_add_eos_token(add_eos)
        finish(w)
        names.append(name)
    return names


def write_bpe_without_bytes(tokens, types, merges):
    """The gpt-2 variant without the byte characters of 0xF0…0xF4 (the lead bytes of emoji and other
    4-byte characters) and every token and merge built from them. llama.cpp then drops those bytes
    silently: its per-byte lookup of a character that is not a token finds nothing."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    byte_chars = sorted(alphabet)
    # GPT-2's table maps bytes to characters in a fixed order; rebuild it to find 0xF0…0xF4.
    table = {}
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    extra = 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    assert set(table.values()) == set(byte_chars)
    gone = {table[b] for b in range(0xF0, 0xF5)}
    keep = [i for i, t in enumerate(tokens) if not (set(t) & gone) or types[i] != gguf.TokenType.NORMAL]
    new_tokens = [tokens[i] for i in keep]
    new_types = [types[i] for i in keep]
    new_merges = [m for m in merges if not (set(m) & gone)]
    name = "bpe-gpt-2-no-4-byte-leads"
    w = new_writer(os.path.join(VOCAB, name + ".gguf"))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(new_tokens)
    w.add_token_types(new_types)
    w.add_token_merges(new_merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(2)
    finish(w)
    return name


# --- SentencePiece (llama) -------------------------------------------------------------------

def train_spm(model_type, vocab_size):
    directory = tempfile.mkdtemp(prefix="qkv-spm-")
    prefix = os.path.join(directory, "m")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAINING_TEXT), model_prefix=prefix, model_type=model_type,
        vocab_size=vocab_size, byte_fallback=True, character_coverage=0.9995,
        normalization_rule_name="identity", add_dummy_prefix=True, remove_extra_whitespaces=False,
        split_digits=True, allow_whitespace_only_pieces=True, hard_vocab_limit=False, minloglevel=2)
    processor = spm.SentencePieceProcessor(model_file=prefix + ".model")
    tokens, scores, types = [], [], []
    for index in range(processor.vocab_size()):
        # As llama.cpp's converter (_create_vocab_sentencepiece) assigns types.
        kind = gguf.TokenType.NORMAL
        if processor.IsUnknown(index):
            kind = gguf.TokenType.UNKNOWN
        elif processor.IsControl(index):
            kind = gguf.TokenType.CONTROL
        elif processor.IsUnused(index):
            kind = gguf.TokenType.UNUSED
        elif processor.IsByte(index):
            kind = gguf.TokenType.BYTE
        tokens.append(processor.IdToPiece(index))
        scores.append(processor.GetScore(index))
        types.append(kind)
    # Added tokens get score -1000, as the converter gives them.
    for text, kind in [("<|im_start|>", gguf.TokenType.CONTROL), ("<|im_end|>", gguf.TokenType.CONTROL),
                       ("[USER]", gguf.TokenType.USER_DEFINED)]:
        tokens.append(text)
        scores.append(-1000.0)
        types.append(kind)
    return tokens, scores, types


def write_spm(name, vocab, add_space_prefix, add_bos, add_eos, general_name=None):
    tokens, scores, types = vocab
    w = new_writer(os.path.join(VOCAB, name + ".gguf"))
    if general_name is not None:
        w.add_name(general_name)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    if add_space_prefix is not None:
        w.add_add_space_prefix(add_space_prefix)
    if add_bos is not None:
        w.add_add_bos_token(add_bos)
    if add_eos is not None:
        w.add_add_eos_token(add_eos)
    finish(w)
    return name


# --- WordPiece (bert) ------------------------------------------------------------------------

def write_bert(name="bert-minilm", keep=None, lowercase=None, strip_accents=None):
    """MiniLM's vocabulary, or its first `keep` tokens, with llama.cpp's normalizer keys if given."""
    folder = os.path.join(CACHE, "all-MiniLM-L6-v2")
    if not os.path.isdir(folder):
        sys.exit(f"{folder} is missing: run bash scripts/fetch_minilm.sh first")
    with open(os.path.join(folder, "vocab.txt"), encoding="utf-8") as f:
        vocab = f.read().split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()
    if keep is not None:
        vocab = vocab[:keep]
    with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
        special = {t["content"] for t in json.load(f)["added_tokens"] if t.get("special")}
    types = [gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in vocab]

    # llama.cpp's BERT converter: control tokens stay, "##x" becomes "x", other words get "▁".
    def phantom(token, kind):
        if kind == gguf.TokenType.CONTROL:
            return token
        if token.startswith("##"):
            return token[2:]
        return "\u2581" + token

    tokens = [phantom(t, k) for t, k in zip(vocab, types)]
    w = new_writer(os.path.join(VOCAB, name + ".gguf"), arch="bert")
    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    special_vocab = gguf.SpecialVocab(folder, n_vocab=len(tokens))
    special_vocab.add_to_gguf(w)
    if lowercase is not None:
        w.add_bool("tokenizer.ggml.normalizer.lowercase", lowercase)
    if strip_accents is not None:
        w.add_bool("tokenizer.ggml.normalizer.strip_accents", strip_accents)
    finish(w)
    return name


# --- goldens ---------------------------------------------------------------------------------

MODES = [(True, True), (True, False), (False, True), (False, False)]


def mode_name(add_special, parse_special):
    return f"{'add' if add_special else 'noadd'}-{'parse' if parse_special else 'noparse'}"


def goldens(path):
    model = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    result = {}
    for add_special, parse_special in MODES:
        result[mode_name(add_special, parse_special)] = [
            model.tokenize(text.encode("utf-8"), add_bos=add_special, special=parse_special) for text in CORPUS]
    del model
    return result


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")


# --- llama.cpp's Unicode tables ----------------------------------------------------------------

def unicode_tables(source):
    text = open(os.path.join(source, "src", "unicode-data.cpp"), encoding="utf-8").read()

    def section(name):
        start = text.index(name)
        return text[start:text.index("};", start)]

    pair = r"\{0x([0-9A-Fa-f]+), 0x([0-9A-Fa-f]+)\}"
    flags = [[int(a, 16), int(b, 16)] for a, b in re.findall(pair, section("unicode_ranges_flags"))]
    whitespace = sorted(int(x, 16) for x in re.findall(r"0x([0-9A-Fa-f]+)", section("unicode_set_whitespace")))
    lowercase = [[int(a, 16), int(b, 16)] for a, b in re.findall(pair, section("unicode_map_lowercase"))]
    nfd = [[int(a, 16), int(b, 16), int(c, 16)] for a, b, c in
           re.findall(r"\{0x([0-9A-Fa-f]+), 0x([0-9A-Fa-f]+), 0x([0-9A-Fa-f]+)\}", section("unicode_ranges_nfd"))]
    return {
        "source": "llama.cpp src/unicode-data.cpp (llama-cpp-python 0.3.36)",
        "category_flags": "1 undefined, 2 number, 4 letter, 8 separator, 16 mark, 32 punctuation, 64 symbol, 128 control",
        "flag_ranges": flags, "whitespace": whitespace, "lowercase": lowercase, "nfd_ranges": nfd,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llama-cpp-src", help="a llama.cpp source tree, for llamacpp_unicode.json")
    args = parser.parse_args()
    if llama_cpp.__version__ != "0.3.36":
        sys.exit(f"llama-cpp-python 0.3.36 expected, found {llama_cpp.__version__}")
    os.makedirs(VOCAB, exist_ok=True)
    write_json(os.path.join(OUT, "corpus.json"), CORPUS)

    bpe = train_bpe()
    names = write_bpe(*bpe)
    names.append(write_bpe_without_bytes(*bpe))
    bpe_spm = train_spm("bpe", 1800)
    names.append(write_spm("spm-bpe", bpe_spm, add_space_prefix=True, add_bos=None, add_eos=None))
    names.append(write_spm("spm-bpe-noprefix", bpe_spm, add_space_prefix=False, add_bos=False, add_eos=True))
    names.append(write_spm("spm-unigram", train_spm("unigram", 1500), add_space_prefix=None, add_bos=True, add_eos=None))
    # llama.cpp strips whitespace after every special token of a model named Phi-3.
    # (Its tokens must include <unk> <s> </s> <|endoftext|>, or llama.cpp refuses the file.)
    phi3 = (bpe_spm[0] + ["<|endoftext|>"], bpe_spm[1] + [-1000.0], bpe_spm[2] + [gguf.TokenType.CONTROL])
    names.append(write_spm("spm-bpe-phi3", phi3, add_space_prefix=True, add_bos=None, add_eos=None,
                           general_name="Phi-3 mini test"))
    names.append(write_bert())
    # The first 4000 tokens (specials, single characters, common words) with other normalizer keys.
    names.append(write_bert("bert-cased", keep=4000, lowercase=False, strip_accents=False))
    names.append(write_bert("bert-keep-accents", keep=4000, lowercase=True, strip_accents=False))

    for name in names:
        path = os.path.join(VOCAB, name + ".gguf")
        write_json(os.path.join(VOCAB, name + ".ids.json"), goldens(path))
        print(f"{name}: {os.path.getsize(path)} bytes", file=sys.stderr)

    smollm2 = os.path.join(CACHE, "SmolLM2-135M-Instruct.Q4_1.gguf")
    if os.path.exists(smollm2):
        write_json(os.path.join(OUT, "smollm2.ids.json"), goldens(smollm2))
    else:
        print(f"{smollm2} missing (bash scripts/fetch_smollm2.sh): smollm2.ids.json not rewritten", file=sys.stderr)

    if args.llama_cpp_src:
        write_json(os.path.join(OUT, "llamacpp_unicode.json"), unicode_tables(args.llama_cpp_src))


if __name__ == "__main__":
    main()
