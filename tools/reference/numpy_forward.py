#!/usr/bin/env python3
"""Plain-numpy forward pass over a GGUF file (llama or gpt2 architecture), using llama.cpp's
conventions, compared against a reference.json from make_fixtures.py.

    /work/venv/bin/python tools/reference/numpy_forward.py MODEL.gguf Tests/Fixtures/llama-tiny/reference.json

It is a readable reference for what the Swift engine has to compute from GGUF data:
  - weights are (out, in) row-major (ne0 = in): y = W @ x
  - llama: RMSNorm (x / sqrt(mean(x^2) + eps) * w), RoPE in llama.cpp's "normal" mode, i.e. rotating
    adjacent pairs (x[2i], x[2i+1]) of each head by pos * base^(-2i/head_dim) -- this is why the
    converter permutes the Q/K rows of HF checkpoints (HF rotates (x[i], x[i+d/2])) --, GQA with
    query head h reading kv head h // (n_head / n_head_kv), SwiGLU FFN down(silu(gate(x)) * up(x)).
  - gpt2: learned positions, LayerNorm with bias, fused QKV rows [Q | K | V], gelu (tanh form),
    output projection tied to token_embd when output.weight is absent.
Prints the max |logit difference| per position and the greedy continuation; exits 1 when an
F32/F16 file differs from the reference by more than --atol or the greedy tokens differ.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def load(path: str):
    import gguf
    r = gguf.GGUFReader(path)
    md = {}
    for name, f in r.fields.items():
        if not name.startswith("GGUF.") and f.types and f.types[0] != gguf.GGUFValueType.ARRAY:
            v = f.contents()
            md[name] = v
    ts, types = {}, {}
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type)
        ts[t.name] = np.asarray(a, dtype=np.float32).reshape([int(n) for n in reversed(t.shape)])
        types[t.name] = t.tensor_type.name
    return md, ts, types


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layernorm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def attention(q, k, v, n_head, n_kv):
    # q: (T, n_head, hd), k/v: (T, n_kv, hd); causal
    T, _, hd = q.shape
    group = n_head // n_kv
    out = np.empty_like(q)
    mask = np.triu(np.full((T, T), -np.inf, dtype=np.float64), 1)
    for h in range(n_head):
        kh, vh = k[:, h // group], v[:, h // group]
        s = (q[:, h] @ kh.T) / np.sqrt(hd) + mask
        out[:, h] = softmax(s) @ vh
    return out.reshape(T, -1)


def rope_normal(x, pos, base):
    # x: (T, heads, hd); rotate adjacent pairs (llama.cpp LLAMA_ROPE_TYPE_NORM)
    T, H, hd = x.shape
    inv = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)        # (hd/2,)
    ang = pos[:, None].astype(np.float64) * inv[None, :]                # (T, hd/2)
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out


def forward_llama(md, W, ids):
    a = "llama"
    L = int(md[f"{a}.block_count"])
    nh, nkv = int(md[f"{a}.attention.head_count"]), int(md[f"{a}.attention.head_count_kv"])
    eps = float(md[f"{a}.attention.layer_norm_rms_epsilon"])
    base = float(md.get(f"{a}.rope.freq_base", 10000.0))
    x = W["token_embd.weight"][ids].astype(np.float64)
    T, D = x.shape
    hd = D // nh
    pos = np.arange(T)
    for i in range(L):
        p = f"blk.{i}."
        h = rmsnorm(x, W[p + "attn_norm.weight"], eps)
        q = (h @ W[p + "attn_q.weight"].T).reshape(T, nh, hd)
        k = (h @ W[p + "attn_k.weight"].T).reshape(T, nkv, hd)
        v = (h @ W[p + "attn_v.weight"].T).reshape(T, nkv, hd)
        q, k = rope_normal(q, pos, base), rope_normal(k, pos, base)
        x = x + attention(q, k, v, nh, nkv) @ W[p + "attn_output.weight"].T
        h = rmsnorm(x, W[p + "ffn_norm.weight"], eps)
        g = h @ W[p + "ffn_gate.weight"].T
        u = h @ W[p + "ffn_up.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * u) @ W[p + "ffn_down.weight"].T
    h = rmsnorm(x, W["output_norm.weight"], eps)
    out = W.get("output.weight", W["token_embd.weight"])
    return h @ out.T


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def forward_gpt2(md, W, ids):
    a = "gpt2"
    L = int(md[f"{a}.block_count"])
    nh = int(md[f"{a}.attention.head_count"])
    eps = float(md[f"{a}.attention.layer_norm_epsilon"])
    T = len(ids)
    x = (W["token_embd.weight"][ids] + W["position_embd.weight"][np.arange(T)]).astype(np.float64)
    D = x.shape[1]
    hd = D // nh
    for i in range(L):
        p = f"blk.{i}."
        h = layernorm(x, W[p + "attn_norm.weight"], W[p + "attn_norm.bias"], eps)
        qkv = h @ W[p + "attn_qkv.weight"].T + W[p + "attn_qkv.bias"]
        q, k, v = (qkv[:, j * D:(j + 1) * D].reshape(T, nh, hd) for j in range(3))
        x = x + attention(q, k, v, nh, nh) @ W[p + "attn_output.weight"].T + W[p + "attn_output.bias"]
        h = layernorm(x, W[p + "ffn_norm.weight"], W[p + "ffn_norm.bias"], eps)
        u = gelu_tanh(h @ W[p + "ffn_up.weight"].T + W[p + "ffn_up.bias"])
        x = x + u @ W[p + "ffn_down.weight"].T + W[p + "ffn_down.bias"]
    h = layernorm(x, W["output_norm.weight"], W["output_norm.bias"], eps)
    out = W.get("output.weight", W["token_embd.weight"])
    return h @ out.T


def main() -> int:
    ap = argparse.ArgumentParser(description="numpy forward pass over a GGUF vs reference.json")
    ap.add_argument("gguf")
    ap.add_argument("reference")
    ap.add_argument("--atol", type=float, default=None,
                    help="max |logit diff| allowed (default: 1e-4 for all-F32 files, 3e-2 when F16 tensors are "
                         "present; files with quantized tensors are only reported, never failed)")
    args = ap.parse_args()
    md, W, types = load(args.gguf)
    ref = json.load(open(args.reference, encoding="utf-8"))
    arch = str(md["general.architecture"])
    fwd = {"llama": forward_llama, "gpt2": forward_gpt2}[arch]
    ids = ref["prompt_ids"]
    logits = fwd(md, W, ids)
    want = np.array(ref["logits"], dtype=np.float64)
    diff = np.abs(logits - want).max(axis=-1)
    print(f"arch {arch}; tensor types: {sorted(set(types.values()))}")
    print("max |logit diff| per position:", " ".join(f"{d:.2e}" for d in diff))
    seq = list(ids)
    for _ in range(len(ref["greedy_new_tokens"])):
        seq.append(int(np.argmax(fwd(md, W, seq)[-1])))
    got = seq[len(ids):]
    print("greedy:", got, "reference:", ref["greedy_new_tokens"], "match" if got == ref["greedy_new_tokens"] else "DIFFER")
    present = set(types.values())
    if not present <= {"F32", "F16"}:
        return 0
    atol = args.atol if args.atol is not None else (1e-4 if present == {"F32"} else 3e-2)
    if diff.max() > atol or got != ref["greedy_new_tokens"]:
        print("FAIL")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
