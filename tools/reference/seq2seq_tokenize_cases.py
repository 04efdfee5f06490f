"""transformers' tokenizers of the encoder-decoder fixtures (t5-tiny, flan-t5-tiny, bart-tiny, marian-tiny) on the
hard texts of unigram_cases.py, whole: tokenizer(text).input_ids with the special tokens it adds, and
decode(ids, skip_special_tokens=True), for Tests/EngineTests/Seq2SeqTests.swift. Writes
Tests/Fixtures/seq2seq_tokenize.json.

MarianTokenizer sets up sacremoses' MosesPunctNormalizer when sacremoses is installed, but its tokenize never calls
it (checked here: the ids are the same with and without it), so neither does Swiftlet.

    /work/venv/bin/python tools/reference/seq2seq_tokenize_cases.py
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
MODELS = ["t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny"]


def main() -> None:
    out: dict = {"versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
                 "texts": TEXTS, "models": {}}
    for name in MODELS:
        tok = AutoTokenizer.from_pretrained(str(FIX / name))
        cases = []
        for text in TEXTS:
            ids = tok(text)["input_ids"]
            cases.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=True)})
        if hasattr(tok, "punc_normalizer"):
            tok.punc_normalizer = lambda x: x
            assert [tok(t)["input_ids"] for t in TEXTS] == [c["ids"] for c in cases], "Moses normalization applied"
        out["models"][name] = {"class": type(tok).__name__, "cases": cases}
    path = FIX / "seq2seq_tokenize.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
