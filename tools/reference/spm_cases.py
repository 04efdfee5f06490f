"""sentencepiece's own tokenizations of hard texts with the fixtures' SentencePiece BPE models (Mistral, Mixtral:
llama.cpp's "llama" vocabulary), for Tests/EngineTests/SentencePieceBPETests.swift: writes
Tests/Fixtures/spm/cases.json (ids without BOS, and sentencepiece's decode of them).

    python tools/reference/spm_cases.py
"""
from __future__ import annotations

import json
from pathlib import Path

import sentencepiece

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"
TEXTS = [
    "Mistral slides a window ¿",
    "Hello world",
    " leading space",
    "trailing space ",
    "runs   of    spaces",
    "tabs\tand\nnewlines\n",
    "Ångström café naïve",
    "日本語のテキスト",
    "emoji 🎉🚀✅",
    "",
    "a",
    "x" * 40,
    "def f(x): return x**2  # square",
    "3.14159, 1,000,000 and 42%",
]


def main() -> None:
    out = {"sentencepiece": sentencepiece.__version__, "models": {}}
    for name in ["mistral-tiny", "mixtral-tiny"]:
        sp = sentencepiece.SentencePieceProcessor(model_file=str(FIX / name / "tokenizer.model"))
        out["models"][name] = [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t))} for t in TEXTS]
    path = FIX / "spm" / "cases.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
