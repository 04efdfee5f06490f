"""transformers' CTRLTokenizer on hard texts with the ctrl-tiny fixture's vocab.json and merges.txt, for
Tests/EngineTests/CTRLTokenizerTests.swift: writes Tests/Fixtures/ctrl-tokenizer/cases.json.

    python tools/reference/ctrl_cases.py
"""
from __future__ import annotations

import json
from pathlib import Path

import transformers
from transformers import CTRLTokenizer

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"
TEXTS = [
    "Links Hello world",
    "Wikipedia The history of the printing press",
    "  leading and trailing  ",
    "lines\nand\n\nparagraphs\n",
    "tabs\tand   runs",
    "Ångström café",
    "日本語 emoji 🎉",
    "",
    "a",
    "x" * 30,
    "don't stop, won't stop!",
    "3.14159 and 1,000",
]


def main() -> None:
    tok = CTRLTokenizer(vocab_file=str(FIX / "ctrl-tiny" / "vocab.json"), merges_file=str(FIX / "ctrl-tiny" / "merges.txt"))
    cases = [{"text": t, "ids": tok.encode(t), "decoded": tok.decode(tok.encode(t))} for t in TEXTS]
    path = FIX / "ctrl-tokenizer" / "cases.json"
    path.write_text(json.dumps({"transformers": transformers.__version__, "cases": cases}, ensure_ascii=False, indent=0) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
