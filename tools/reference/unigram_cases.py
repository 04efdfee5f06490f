"""transformers' tokenizations of hard texts with the fixtures' SentencePiece Unigram tokenizers (ALBERT: Replace,
NFKD, StripAccents, Lowercase, Precompiled, WhitespaceSplit + Metaspace; XLNet; T5), for
Tests/EngineTests/UnigramTests.swift: writes Tests/Fixtures/unigram/cases.json.

    python tools/reference/unigram_cases.py
"""
from __future__ import annotations

import json
from pathlib import Path

import tokenizers
import transformers
from transformers import AutoTokenizer

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world",
    "  leading and trailing spaces  ",
    "runs   of    spaces\tand\ttabs\nand\nnewlines",
    "``quoted'' text",
    "Ångström café NAÏVE résumé",
    "ﬁne ｆｕｌｌ-width Ａ",
    "日本語のテキスト 中文",
    "emoji 🎉🚀 and ✅",
    "unknown ☃ characters ⌘",
    "",
    "   ",
    "a" * 60,
    "x=1; y=2 (a+b)*c",
    "Mr. Smith's 3.14",
]


def main() -> None:
    out = {"versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__}, "models": {}}
    for name in ["albert-tiny", "xlnet-tiny", "t5-tiny"]:
        tok = AutoTokenizer.from_pretrained(str(FIX / name))
        cases = []
        for text in TEXTS:
            e = tok(text, add_special_tokens=False, return_offsets_mapping=True)
            cases.append({"text": text, "ids": e["input_ids"], "offsets": [list(o) for o in e["offset_mapping"]],
                          "decoded": tok.decode(e["input_ids"], skip_special_tokens=True)})
        out["models"][name] = cases
    path = FIX / "unigram" / "cases.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
