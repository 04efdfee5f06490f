#!/usr/bin/env python3
"""Plain-numpy forward pass over a GGUF file (llama or gpt2 architecture), using llama.cpp's
conventions, compared against a reference.json from make_fixtures.py.

    /work/venv/bin/python tools/reference/numpy_forward.py MODEL.gguf Tests/Fixtures/llama-tiny/reference.json

It is a readable reference for what the Swift engine has to compute from GGUF data:
  - weights are (out, in) row-major (ne0 = in): y = W @ x
  - llama: RMSNorm (x / sqrt(mean(x^2) + eps) * w), RoPE in llama.cpp's "normal" mode, i.e. rotating
    adjacent pairs (x[2i], x[2i+1]) of each head by pos * base^(-2i/n_rot) -- this is why the
    converter permutes the Q/K rows of HF checkpoints (HF rotates (x[i], x[i+d/2])) --, GQA with
    query head h reading kv head h // (n_head / n_head_kv), SwiGLU FFN down(silu(gate(x)) * up(x)).
    The head size is llama.attention.key_length when present (it need not be embedding_length /
    head_count: attn_q is (n_head * head_size) x n_embd and attn_output n_embd x (n_head * head_size)),
    else n_embd / n_head; scores are scaled by 1/sqrt(head_size). RoPE rotates the first
    n_rot = llama.rope.dimension_count (default: head size) dims of each head and passes the rest.
    Output projection: output.weight, or token_embd.weight when absent (tied embeddings).
  - gpt2: learned positions, LayerNorm with bias, fused QKV rows [Q | K | V], gelu (tanh form),
    output projection tied to token_embd when output.weight is absent.
  - q8_activations=True (--q8-activations) mimics ggml's CPU matrix products: before every product
    with a Q8_0, Q4_0, Q4_1, Q5_0 or Q5_1 weight, each activation row (length = the weight's row
    length, the input dim) is rounded to float32 and quantized to Q8_0 blocks of 32 exactly as ggml's quantize_row_q8_0
    (reference C version) does -- d = max|x|/127, q = roundf(x * (1/d)) (round half away from zero),
    d stored as f16 -- via gguf.quants (its Q8_0 is bit-exact with that C code), then dequantized; the
    product itself is taken in float64. F32/F16 weights leave the activations alone. Attention (QK^T,
    softmax, V) and everything else stay float64.
    Deliberately not modelled: ggml pairs Q4_1 and Q5_1 with Q8_1 activations (same quantized values,
    but the m * sum term uses s = f16(d * sum(q)) instead of f16(d) * sum(q)), converts activations
    to f16 for F16 weights, and its SIMD quantizers (AVX2, NEON) round exact .5 ties to even with id = 127/max.
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


ACT_QUANT_TYPES = frozenset({"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})


def q8_0_roundtrip(x):
    """Each row of x (float64, row length a multiple of 32) as ggml's quantize_row_q8_0 sees it
    (float32), quantized to Q8_0 and dequantized again; returned as float64."""
    import gguf
    Q8 = gguf.GGMLQuantizationType.Q8_0
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    return np.asarray(gguf.quants.dequantize(gguf.quants.quantize(x32, Q8), Q8), dtype=np.float64).reshape(x.shape)


def matmul(x, W, name, types=None, q8_activations=False):
    """x @ W[name].T -- y = W x per row, W (out, in) as stored in GGUF. types maps tensor names to
    ggml type names ("Q8_0", ...); with q8_activations, x goes through q8_0_roundtrip first when the
    weight is one of ACT_QUANT_TYPES (ggml's vec_dot_type Q8_0 or Q8_1)."""
    if q8_activations and types is not None and types.get(name) in ACT_QUANT_TYPES:
        x = q8_0_roundtrip(x)
    return x @ W[name].T


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


def rope_normal(x, pos, base, n_rot=None):
    # x: (T, heads, hd); rotate adjacent pairs (llama.cpp LLAMA_ROPE_TYPE_NORM) among the first
    # n_rot dims of each head (default: all); dims n_rot.. pass through unchanged
    T, H, hd = x.shape
    n_rot = hd if n_rot is None else n_rot
    assert n_rot % 2 == 0 and n_rot <= hd, (n_rot, hd)
    inv = base ** (-np.arange(0, n_rot, 2, dtype=np.float64) / n_rot)  # (n_rot/2,)
    ang = pos[:, None].astype(np.float64) * inv[None, :]                # (T, n_rot/2)
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x0, x1 = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
    out = x.copy()
    out[..., 0:n_rot:2] = x0 * c - x1 * s
    out[..., 1:n_rot:2] = x0 * s + x1 * c
    return out


def forward_llama(md, W, ids, types=None, q8_activations=False):
    """types: tensor name -> ggml type name, needed only with q8_activations."""
    a = "llama"
    mm = lambda x, name: matmul(x, W, name, types, q8_activations)  # noqa: E731
    L = int(md[f"{a}.block_count"])
    nh = int(md[f"{a}.attention.head_count"])
    nkv = int(md.get(f"{a}.attention.head_count_kv", nh))
    eps = float(md[f"{a}.attention.layer_norm_rms_epsilon"])
    base = float(md.get(f"{a}.rope.freq_base", 10000.0))
    x = W["token_embd.weight"][ids].astype(np.float64)
    T, D = x.shape
    hd = int(md.get(f"{a}.attention.key_length", D // nh))
    assert int(md.get(f"{a}.attention.value_length", hd)) == hd, "value_length != key_length"
    n_rot = int(md.get(f"{a}.rope.dimension_count", hd))
    pos = np.arange(T)
    for i in range(L):
        p = f"blk.{i}."
        h = rmsnorm(x, W[p + "attn_norm.weight"], eps)
        q = mm(h, p + "attn_q.weight").reshape(T, nh, hd)
        k = mm(h, p + "attn_k.weight").reshape(T, nkv, hd)
        v = mm(h, p + "attn_v.weight").reshape(T, nkv, hd)
        q, k = rope_normal(q, pos, base, n_rot), rope_normal(k, pos, base, n_rot)
        x = x + mm(attention(q, k, v, nh, nkv), p + "attn_output.weight")
        h = rmsnorm(x, W[p + "ffn_norm.weight"], eps)
        g = mm(h, p + "ffn_gate.weight")
        u = mm(h, p + "ffn_up.weight")
        x = x + mm((g / (1 + np.exp(-g))) * u, p + "ffn_down.weight")
    h = rmsnorm(x, W["output_norm.weight"], eps)
    return mm(h, "output.weight" if "output.weight" in W else "token_embd.weight")


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def forward_gpt2(md, W, ids, types=None, q8_activations=False):
    """types: tensor name -> ggml type name, needed only with q8_activations."""
    a = "gpt2"
    mm = lambda x, name: matmul(x, W, name, types, q8_activations)  # noqa: E731
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
        qkv = mm(h, p + "attn_qkv.weight") + W[p + "attn_qkv.bias"]
        q, k, v = (qkv[:, j * D:(j + 1) * D].reshape(T, nh, hd) for j in range(3))
        x = x + mm(attention(q, k, v, nh, nh), p + "attn_output.weight") + W[p + "attn_output.bias"]
        h = layernorm(x, W[p + "ffn_norm.weight"], W[p + "ffn_norm.bias"], eps)
        u = gelu_tanh(mm(h, p + "ffn_up.weight") + W[p + "ffn_up.bias"])
        x = x + mm(u, p + "ffn_down.weight") + W[p + "ffn_down.bias"]
    h = layernorm(x, W["output_norm.weight"], W["output_norm.bias"], eps)
    return mm(h, "output.weight" if "output.weight" in W else "token_embd.weight")


def main() -> int:
    ap = argparse.ArgumentParser(description="numpy forward pass over a GGUF vs reference.json")
    ap.add_argument("gguf")
    ap.add_argument("reference")
    ap.add_argument("--atol", type=float, default=None,
                    help="max |logit diff| allowed (default: 1e-4 for all-F32 files, 3e-2 when F16 tensors are "
                         "present; files with quantized tensors are only reported, never failed)")
    ap.add_argument("--q8-activations", action="store_true",
                    help="quantize activations to Q8_0 before products with Q8_0/Q4_0/Q4_1 weights, as ggml does")
    args = ap.parse_args()
    md, W, types = load(args.gguf)
    ref = json.load(open(args.reference, encoding="utf-8"))
    arch = str(md["general.architecture"])
    fwd0 = {"llama": forward_llama, "gpt2": forward_gpt2}[arch]
    fwd = lambda md, W, ids: fwd0(md, W, ids, types, args.q8_activations)  # noqa: E731
    ids = ref["prompt_ids"]
    logits = fwd(md, W, ids)
    want = np.array(ref["logits"], dtype=np.float64)
    diff = np.abs(logits - want).max(axis=-1)
    print(f"arch {arch}; tensor types: {sorted(set(types.values()))}"
          + ("; activations Q8_0 before quantized weights" if args.q8_activations else ""))
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
