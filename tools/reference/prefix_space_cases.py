"""transformers' RoBERTa tokenizer with add_prefix_space=True (as token-classification checkpoints save it: the
ByteLevel pre-tokenizer adds a space before each piece of text that does not start with one) on the hard texts of
unigram_cases.py, with roberta-tiny's vocabulary: ids with special tokens and offset_mapping, for
Tests/EngineTests/TokenizerTests.swift. Writes Tests/Fixtures/tokenizer/prefix_space_cases.json.

    /work/venv/bin/python tools/reference/prefix_space_cases.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import tokenizers
import transformers
from transformers import AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from unigram_cases import TEXTS  # noqa: E402

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"
# Beyond the hard texts: special tokens inside text, where each piece between them gets its own space.
EXTRA = ["a<mask>b", "<s>x</s>", " leading space", "two  words"]


def main() -> None:
    tok = AutoTokenizer.from_pretrained(str(FIX / "roberta-tiny"), add_prefix_space=True)
    pre = json.loads(tok.backend_tokenizer.to_str())["pre_tokenizer"]
    assert pre.get("add_prefix_space") is True, pre
    cases = []
    for text in TEXTS + EXTRA:
        enc = tok(text, return_offsets_mapping=True)
        cases.append({"text": text, "ids": enc["input_ids"], "offsets": [list(o) for o in enc["offset_mapping"]]})
    out = {"versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
           "pre_tokenizer": pre, "cases": cases}
    path = FIX / "tokenizer" / "prefix_space_cases.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
