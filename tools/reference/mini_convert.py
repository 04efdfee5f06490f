#!/usr/bin/env python3
"""Write a GGUF for one of the tiny fixture models, following llama.cpp's convert_hf_to_gguf.py
conventions as re-implemented in make_fixtures.py (tensor names, Q/K permutation, GPT-2 Conv1D
transposition, F32 for 1-D/norm/position tensors, F16 fallback when a row is not a multiple of 32).

    /work/venv/bin/python tools/reference/mini_convert.py Tests/Fixtures/llama-tiny /tmp/llama-q8_0.gguf --type q8_0
    /work/venv/bin/python tools/reference/check_gguf.py /tmp/llama-q8_0.gguf \
        --expect-hashes Tests/Fixtures/llama-tiny/expected_tensors.json --type q8_0
    /work/venv/bin/python tools/reference/numpy_forward.py /tmp/llama-q8_0.gguf Tests/Fixtures/llama-tiny/reference.json

Metadata: the architecture hyper-parameters from expected_tensors.json "_meta.expected_kv", the
tokenizer.* keys from Tests/Fixtures/tokenizer/gguf_vocab.json, general.file_type and
general.quantization_version. Output files are for local testing; do not commit them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_fixtures as mf  # noqa: E402

FILE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q8_0": 7}


def convert(model_dir: Path, out: Path, out_type: str) -> None:
    import gguf
    import numpy as np

    hp = json.loads((model_dir / "config.json").read_text())
    arch = {"llama": "llama", "gpt2": "gpt2"}[hp["model_type"]]
    items = mf.llama_gguf_items(model_dir) if arch == "llama" else mf.gpt2_gguf_items(model_dir)
    meta = json.loads((model_dir / "expected_tensors.json").read_text())["_meta"]
    vocab = json.loads((mf.FIX / "tokenizer" / "gguf_vocab.json").read_text())["metadata"]

    w = gguf.GGUFWriter(str(out), arch=arch)
    w.add_string("general.name", model_dir.name)
    for k, v in meta["expected_kv"].items():
        if k.startswith("_") or k == "general.architecture":
            continue
        if isinstance(v, float):
            w.add_float32(k, v)
        else:
            w.add_uint32(k, int(v))
    w.add_uint32("general.file_type", FILE_TYPES[out_type])
    w.add_uint32("general.quantization_version", gguf.GGML_QUANT_VERSION)
    w.add_string("tokenizer.ggml.model", vocab["tokenizer.ggml.model"])
    w.add_string("tokenizer.ggml.pre", vocab["tokenizer.ggml.pre"])
    w.add_array("tokenizer.ggml.tokens", vocab["tokenizer.ggml.tokens"])
    w.add_array("tokenizer.ggml.token_type", vocab["tokenizer.ggml.token_type"])
    w.add_array("tokenizer.ggml.merges", vocab["tokenizer.ggml.merges"])
    for k, v in vocab.items():
        if k.endswith("_token_id"):
            w.add_uint32(k, int(v))
        elif k.startswith("tokenizer.ggml.add_"):
            w.add_bool(k, bool(v))

    for gname, _hname, data, _transform, force_f32 in items:
        qtype = mf._qtype_for(out_type, gname, data.ndim, force_f32)
        try:
            q = gguf.quants.quantize(data, qtype)
        except gguf.QuantError:
            qtype = gguf.GGMLQuantizationType.F16
            q = gguf.quants.quantize(data, qtype)
        if q.dtype == np.uint8:
            w.add_tensor(gname, q, raw_dtype=qtype)
        else:
            w.add_tensor(gname, q)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> None:
    ap = argparse.ArgumentParser(description="tiny-model HF -> GGUF writer (reference conventions)")
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--type", default="f32", choices=sorted(FILE_TYPES))
    args = ap.parse_args()
    convert(args.model_dir, args.out, args.type)
    print(args.out)


if __name__ == "__main__":
    main()
