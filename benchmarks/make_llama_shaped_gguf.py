#!/usr/bin/env python3
"""Writes a LLaMA-shaped GGUF of random f16 weights, then quantizes it with llama.cpp's own quantizer.

Used by benchmarks/run.sh to compare qkv with llama.cpp on realistic shapes without a model hub:

    python3 benchmarks/make_llama_shaped_gguf.py tinyllama OUT_DIR     # 22 layers, dim 2048, 32/4 heads, ffn 5632
    python3 benchmarks/make_llama_shaped_gguf.py 7b OUT_DIR            # 32 layers, dim 4096, 32/8 heads, ffn 14336

writes OUT_DIR/NAME-f16.gguf (random weights, streamed tensor by tensor so memory stays at one tensor)
and OUT_DIR/NAME-Q4_K_M.gguf (llama.cpp's `llama_model_quantize`, so the K-quant mix is llama.cpp's).
Needs numpy, gguf (gguf-py) and llama-cpp-python; not part of the tests. Idempotent: existing files stay.
"""

import os
import sys

import gguf
import numpy as np

SHAPES = {
    # TinyLlama-1.1B: vocab 32000.
    "tinyllama": dict(n_layer=22, n_embd=2048, n_head=32, n_head_kv=4, n_ff=5632, n_vocab=32000),
    # Llama-2/Mistral-7B-like with GQA 32/8 and ffn 14336 (Mistral 7B's).
    "7b": dict(n_layer=32, n_embd=4096, n_head=32, n_head_kv=8, n_ff=14336, n_vocab=32000),
}


def vocabulary(n_vocab: int):
    """A SentencePiece-style vocabulary llama.cpp loads: <unk>, <s>, </s>, 256 byte tokens, filler words."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"▁w{i}" for i in range(n_vocab - len(tokens))]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    types += [gguf.TokenType.NORMAL] * (n_vocab - len(types))
    scores = [0.0] * 259 + [-float(i) for i in range(n_vocab - 259)]
    return tokens, scores, types


def write_f16(path: str, n_layer: int, n_embd: int, n_head: int, n_head_kv: int, n_ff: int, n_vocab: int) -> None:
    head = n_embd // n_head
    shapes = [("token_embd.weight", (n_vocab, n_embd))]
    for i in range(n_layer):
        p = f"blk.{i}."
        shapes += [
            (p + "attn_norm.weight", (n_embd,)), (p + "attn_q.weight", (n_head * head, n_embd)),
            (p + "attn_k.weight", (n_head_kv * head, n_embd)), (p + "attn_v.weight", (n_head_kv * head, n_embd)),
            (p + "attn_output.weight", (n_embd, n_head * head)), (p + "ffn_norm.weight", (n_embd,)),
            (p + "ffn_gate.weight", (n_ff, n_embd)), (p + "ffn_up.weight", (n_ff, n_embd)),
            (p + "ffn_down.weight", (n_embd, n_ff)),
        ]
    shapes += [("output_norm.weight", (n_embd,)), ("output.weight", (n_vocab, n_embd))]

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(os.path.basename(path))
    writer.add_context_length(4096)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(head)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    tokens, scores, types = vocabulary(n_vocab)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    for name, shape in shapes:
        dtype = np.float32 if len(shape) == 1 else np.float16
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        writer.add_tensor_info(name, shape, np.dtype(dtype), nbytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    rng = np.random.default_rng(0)
    for name, shape in shapes:
        if len(shape) == 1:
            writer.write_tensor_data(np.ones(shape, dtype=np.float32))
        else:
            # Row by row block of 256 rows, so memory stays small for the 7B embedding too.
            array = np.empty(shape, dtype=np.float16)
            for r in range(0, shape[0], 256):
                array[r:r + 256] = (rng.standard_normal((min(256, shape[0] - r), shape[1]), dtype=np.float32) * 0.02)
            writer.write_tensor_data(array)
            del array
    writer.close()


def quantize(source: str, target: str, ftype: str = "Q4_K_M") -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype}")
    params.nthread = 2
    status = llama_cpp.llama_model_quantize(source.encode(), target.encode(), params)
    if status != 0:
        sys.exit(f"llama_model_quantize failed with {status}")


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in SHAPES:
        sys.exit(__doc__)
    name, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    f16 = os.path.join(out, f"{name}-f16.gguf")
    q4 = os.path.join(out, f"{name}-Q4_K_M.gguf")
    if not os.path.exists(f16):
        write_f16(f16 + ".partial", **SHAPES[name])
        os.replace(f16 + ".partial", f16)
    if not os.path.exists(q4):
        quantize(f16, q4 + ".partial")
        os.replace(q4 + ".partial", q4)
    print(q4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
