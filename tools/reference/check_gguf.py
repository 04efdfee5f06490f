#!/usr/bin/env python3
"""List a GGUF file as gguf.GGUFReader sees it, or check its tensor data against expected hashes.

Usage (with the reference venv, see requirements.txt):

    /work/venv/bin/python tools/reference/check_gguf.py FILE.gguf
        Print the JSON listing: {"architecture", "file_bytes", "metadata" (arrays whole),
        "metadata_types", "tensors": [{"name", "type", "shape" (ne order), "offset" (absolute),
        "bytes"}]}. Same shape as Tests/Fixtures/gguf/python.json; meant to be diffed against
        `swiftlet inspect --json FILE.gguf` (e.g. with --compare).

    /work/venv/bin/python tools/reference/check_gguf.py FILE.gguf --compare OTHER.json
        Compare the listing with a JSON file (e.g. the Swift tool's output) and print every
        difference; exit 1 if any. Keys missing from OTHER.json's top level are ignored only
        for "metadata_types" (so a tool that does not report types can still be compared).

    /work/venv/bin/python tools/reference/check_gguf.py FILE.gguf \
            --expect-hashes Tests/Fixtures/llama-tiny/expected_tensors.json --type q8_0
        FNV-1a 64 of each tensor's raw data in FILE.gguf vs the expected table for that type
        (ggml type, shape, byte count and hash; missing / unexpected tensors). Prints the
        mismatches and exits 1 if any, else prints "OK: N tensors match" and exits 0.
        Add --hashes to also print every tensor's hash.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gguf_listing import dumps_compact, fnv1a64, gguf_listing  # noqa: E402


def check_hashes(path: str, expected_path: str, qtype: str, verbose: bool) -> int:
    from gguf import GGUFReader

    with open(expected_path, encoding="utf-8") as f:
        expected_all = json.load(f)
    if qtype not in expected_all:
        types = [k for k in expected_all if not k.startswith("_")]
        print(f"error: type {qtype!r} not in {expected_path} (has: {', '.join(types)})", file=sys.stderr)
        return 2
    expected = expected_all[qtype]
    r = GGUFReader(path)
    problems = []
    seen = set()
    for t in r.tensors:
        start = int(t.data_offset)
        h = fnv1a64(r.data[start:start + int(t.n_bytes)].tobytes())
        shape = [int(n) for n in t.shape]
        if verbose:
            print(f"{t.name}\t{t.tensor_type.name}\t{shape}\t{int(t.n_bytes)}\t{h}")
        e = expected.get(t.name)
        if e is None:
            problems.append(f"unexpected tensor {t.name} ({t.tensor_type.name} {shape})")
            continue
        seen.add(t.name)
        if t.tensor_type.name != e["ggml_type"]:
            problems.append(f"{t.name}: type {t.tensor_type.name} != expected {e['ggml_type']}")
        if shape != e["shape"]:
            problems.append(f"{t.name}: shape {shape} != expected {e['shape']}")
        if int(t.n_bytes) != e["nbytes"]:
            problems.append(f"{t.name}: nbytes {int(t.n_bytes)} != expected {e['nbytes']}")
        if h != e["fnv1a64"]:
            problems.append(f"{t.name}: fnv1a64 {h} != expected {e['fnv1a64']}")
    for name in expected:
        if name not in seen:
            problems.append(f"missing tensor {name} ({expected[name]['ggml_type']} {expected[name]['shape']})")
    for p in problems:
        print("MISMATCH " + p)
    if problems:
        print(f"FAIL: {len(problems)} mismatch(es) against {expected_path} [{qtype}]")
        return 1
    print(f"OK: {len(expected)} tensors match {expected_path} [{qtype}]")
    return 0


def _diff(a, b, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                out.append(f"{path}.{k}: missing in other")
            else:
                _diff(a[k], b[k], f"{path}.{k}", out)
        for k in b:
            if k not in a:
                out.append(f"{path}.{k}: only in other")
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f"{path}[{i}]", out)
        return
    # numbers: exact comparison (float32 metadata is widened exactly to double on both sides);
    # bool vs int are different things in JSON
    if type(a) is bool or type(b) is bool:
        if a is not b:
            out.append(f"{path}: {a!r} != {b!r}")
        return
    if a != b:
        out.append(f"{path}: {a!r} != {b!r}")


def compare(listing: dict, other_path: str) -> int:
    with open(other_path, encoding="utf-8") as f:
        other = json.load(f)
    mine = dict(listing)
    if "metadata_types" not in other:
        mine.pop("metadata_types", None)
    # Extra top-level facts `swiftlet inspect --json` adds are not in gguf-py's listing.
    for extra in ("version", "alignment", "data_offset"):
        if extra not in mine:
            other.pop(extra, None)
    # A FLOAT32 value may be printed at float32's shortest precision ("1e-05"): compare it as a float32.
    types = listing.get("metadata_types", {})
    for key, t in types.items():
        theirs = other.get("metadata", {}).get(key)
        if isinstance(theirs, float) and (t == "FLOAT32" or t == "ARRAY[FLOAT32]"):
            other["metadata"][key] = float(np.float32(theirs))
        elif isinstance(theirs, list) and t == "ARRAY[FLOAT32]":
            other["metadata"][key] = [float(np.float32(x)) if isinstance(x, float) else x for x in theirs]
    out: list[str] = []
    _diff(mine, other, "$", out)
    for line in out:
        print("DIFF " + line)
    if out:
        print(f"FAIL: {len(out)} difference(s)")
        return 1
    print("OK: listings are identical")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description="GGUF listing / tensor hash checker (gguf-py reference)")
    ap.add_argument("gguf", help="path to a .gguf file")
    ap.add_argument("--expect-hashes", metavar="EXPECTED_JSON",
                    help="expected_tensors.json to check tensor data against (needs --type)")
    ap.add_argument("--type", help="which table of EXPECTED_JSON to use: f32, f16, q8_0, q4_0, q4_1 (q5_0, q5_1 for llama/gpt2)")
    ap.add_argument("--hashes", action="store_true", help="with --expect-hashes: print every tensor's hash")
    ap.add_argument("--compare", metavar="OTHER_JSON", help="diff the listing against this JSON file")
    ap.add_argument("--indent", action="store_true", help="fully indented JSON (default: one line per entry)")
    args = ap.parse_args()

    if args.expect_hashes:
        if not args.type:
            ap.error("--expect-hashes needs --type")
        return check_hashes(args.gguf, args.expect_hashes, args.type, args.hashes)
    listing = gguf_listing(args.gguf)
    if args.compare:
        return compare(listing, args.compare)
    if args.indent:
        print(json.dumps(listing, ensure_ascii=False, indent=1, allow_nan=False))
    else:
        print(dumps_compact(listing, 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
