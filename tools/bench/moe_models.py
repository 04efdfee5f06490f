"""Random-weight Llama-architecture GGUF files for tools/bench/moe.sh: a mixture of experts and two dense models,
one with the mixture's active feed-forward size (top-k experts' worth) and one with its total size.

    python tools/bench/moe_models.py OUT_DIR [--type q8_0]

Shapes (per layer): hidden 512, 8 heads, 2 KV heads, 4 layers; mixture: 8 experts of 1024, top 2; dense-active:
feed-forward 2048; dense-total: 8192. The tokenizer metadata comes from the mixtral-tiny fixture (vocab 384),
converted first with `quantize` (given as --tokenizer-from).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import gguf

DIM, HEADS, KV_HEADS, LAYERS, VOCAB, EXPERT_FF, EXPERTS, USED = 512, 8, 2, 4, 384, 1024, 8, 2


def copy_tokenizer(reader: gguf.GGUFReader, w: gguf.GGUFWriter) -> None:
    for f in reader.fields.values():
        if not f.name.startswith("tokenizer."):
            continue
        vt = f.types[0]
        if vt == gguf.GGUFValueType.ARRAY:
            sub = f.types[1]
            vals = [f.parts[i] for i in f.data]
            vals = [bytes(v).decode() for v in vals] if sub == gguf.GGUFValueType.STRING else [v[0].item() for v in vals]
            w.add_key_value(f.name, vals, vt, sub_type=sub)
        elif vt == gguf.GGUFValueType.STRING:
            w.add_key_value(f.name, bytes(f.parts[f.data[0]]).decode(), vt)
        else:
            w.add_key_value(f.name, f.parts[f.data[0]][0].item(), vt)


def write(path: Path, tokenizer: gguf.GGUFReader, qtype: gguf.GGMLQuantizationType, ff: int, experts: int) -> None:
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(str(path), "llama")
    head_dim = DIM // HEADS
    w.add_context_length(2048)
    w.add_embedding_length(DIM)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(ff)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(VOCAB)
    if experts:
        w.add_expert_count(experts)
        w.add_expert_used_count(USED)
    copy_tokenizer(tokenizer, w)

    def matrix(name: str, *shape: int) -> None:  # shape in numpy order (rows last = ne0)
        x = (rng.standard_normal(shape) * 0.02).astype(np.float32)
        w.add_tensor(name, gguf.quants.quantize(x, qtype), raw_shape=gguf.quant_shape_to_byte_shape(x.shape, qtype),
                     raw_dtype=qtype)

    def vector(name: str, n: int) -> None:
        w.add_tensor(name, np.ones(n, dtype=np.float32))

    matrix("token_embd.weight", VOCAB, DIM)
    matrix("output.weight", VOCAB, DIM)
    vector("output_norm.weight", DIM)
    for l in range(LAYERS):
        p = f"blk.{l}."
        vector(p + "attn_norm.weight", DIM)
        vector(p + "ffn_norm.weight", DIM)
        matrix(p + "attn_q.weight", DIM, DIM)
        matrix(p + "attn_k.weight", KV_HEADS * head_dim, DIM)
        matrix(p + "attn_v.weight", KV_HEADS * head_dim, DIM)
        matrix(p + "attn_output.weight", DIM, DIM)
        if experts:
            w.add_tensor(p + "ffn_gate_inp.weight", (rng.standard_normal((experts, DIM)) * 0.02).astype(np.float32))
            matrix(p + "ffn_gate_exps.weight", experts, ff, DIM)
            matrix(p + "ffn_up_exps.weight", experts, ff, DIM)
            matrix(p + "ffn_down_exps.weight", experts, DIM, ff)
        else:
            matrix(p + "ffn_gate.weight", ff, DIM)
            matrix(p + "ffn_up.weight", ff, DIM)
            matrix(p + "ffn_down.weight", DIM, ff)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--tokenizer-from", type=Path, required=True, help="a GGUF whose tokenizer.* keys to copy")
    ap.add_argument("--type", default="q8_0")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    qtype = gguf.GGMLQuantizationType[a.type.upper()]
    tok = gguf.GGUFReader(str(a.tokenizer_from))
    write(a.out / "moe.gguf", tok, qtype, EXPERT_FF, EXPERTS)
    write(a.out / "dense-active.gguf", tok, qtype, EXPERT_FF * USED, 0)
    write(a.out / "dense-total.gguf", tok, qtype, EXPERT_FF * EXPERTS, 0)


if __name__ == "__main__":
    main()
