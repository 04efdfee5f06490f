"""Shared helpers for the Python reference tools (imported by make_fixtures.py and check_gguf.py).

- fnv1a64(data): FNV-1a 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
  over raw bytes, returned as 16 lower-case hex digits.
- gguf_listing(path): the JSON-able listing of a GGUF file as gguf.GGUFReader reports it.

Listing shape (this is what `swiftlet inspect --json` is diffed against):

    {
      "architecture": "llama",              # value of general.architecture (null if absent)
      "file_bytes": 12345,                  # size of the file
      "metadata": {key: value, ...},        # every KV pair, file order; arrays whole
      "metadata_types": {key: "UINT8" | ... | "ARRAY[INT32]", ...},
      "tensors": [ {"name", "type", "shape", "offset", "bytes"}, ... ]   # file order
    }

Value conventions: integers as JSON integers (uint64/int64 exact), bool as true/false,
float32 values widened exactly to double (so 0.1f prints as 0.10000000149011612), float64
as is, strings as JSON strings. NaN/Inf floats are written as the strings "nan", "inf",
"-inf" (JSON has no literal for them). "type" is the ggml type name ("F32", "Q8_0", ...),
"shape" is in GGUF/ggml order (ne0 = row length first), "offset" is the absolute file
offset of the tensor's first data byte, "bytes" its data size in bytes.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = 0xFFFFFFFFFFFFFFFF


def fnv1a64(data: bytes | bytearray | memoryview) -> str:
    h = FNV_OFFSET
    for b in bytes(data):
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return f"{h:016x}"


def _json_float(x: float) -> Any:
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _scalar(v: Any, vtype) -> Any:
    from gguf import GGUFValueType as T
    if vtype == T.BOOL:
        return bool(v)
    if vtype in (T.FLOAT32, T.FLOAT64):
        return _json_float(v)
    if vtype == T.STRING:
        return v
    return int(v)


def field_value(field) -> tuple[Any, str]:
    """(json value, type name) of one gguf.ReaderField."""
    from gguf import GGUFValueType as T
    main = field.types[0]
    if main == T.ARRAY:
        sub = field.types[-1]
        if len(field.types) > 2:
            # nested arrays: not produced by our writers; report raw contents
            return field.contents(), "ARRAY[ARRAY]"
        vals = field.contents()
        return [_scalar(v, sub) for v in vals], f"ARRAY[{sub.name}]"
    return _scalar(field.contents(), main), main.name


def gguf_listing(path: str | os.PathLike[str]) -> dict[str, Any]:
    from gguf import GGUFReader
    r = GGUFReader(path)
    metadata: dict[str, Any] = {}
    types: dict[str, str] = {}
    for name, field in r.fields.items():
        # GGUFReader exposes header values as pseudo-fields named "GGUF.*"; they are not KV pairs
        if name.startswith("GGUF."):
            continue
        v, t = field_value(field)
        metadata[name] = v
        types[name] = t
    tensors = []
    for t in r.tensors:
        tensors.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "shape": [int(n) for n in t.shape],
            "offset": int(t.data_offset),
            "bytes": int(t.n_bytes),
        })
    arch = metadata.get("general.architecture")
    return {
        "architecture": arch if isinstance(arch, str) else None,
        "file_bytes": os.path.getsize(path),
        "metadata": metadata,
        "metadata_types": types,
        "tensors": tensors,
    }


def tensor_bytes(reader, tensor) -> bytes:
    """Raw on-disk bytes of one tensor (reader = gguf.GGUFReader)."""
    start = int(tensor.data_offset)
    return reader.data[start:start + int(tensor.n_bytes)].tobytes()


def to_json_floats(a: np.ndarray) -> Any:
    """float32 array -> nested lists of Python floats that round-trip to the same float32
    (9 significant digits; shortest repr), keeping the JSON small."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 0:
        return float(f"{float(a):.9g}")
    return [to_json_floats(x) for x in a]


def dumps_compact(obj: Any, depth: int = 2, _level: int = 0) -> str:
    """JSON text with one line per entry down to `depth` levels of nesting, everything deeper
    on a single line (keeps big fixture files readable and diff-friendly)."""
    pad = " " * (_level + 1)
    end = " " * _level
    scalar_list = isinstance(obj, list) and all(not isinstance(v, (dict, list)) for v in obj)
    if _level >= depth or not isinstance(obj, (dict, list)) or len(obj) == 0 or scalar_list:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False)
    if isinstance(obj, dict):
        items = [pad + json.dumps(k, ensure_ascii=False) + ": " + dumps_compact(v, depth, _level + 1)
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    items = [pad + dumps_compact(v, depth, _level + 1) for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + end + "]"
