#!/usr/bin/env python3
"""Writes Tests/Fixtures/wordpiece/bert-tiny.json and minilm.json for Tests/EngineTests/WordPieceTests.swift: what
transformers (its tokenizers backend: BertNormalizer, BertPreTokenizer, WordPiece) gives for hard texts with the
bert-tiny fixture's tokenizer (300 tokens: many [UNK]) and the real all-MiniLM-L6-v2 one (30522-token uncased BERT).

For each text: `ids` and `offsets` (offset_mapping, scalar offsets) without special tokens; `decoded` and
`decoded_skip`: decode([CLS] ids [SEP]) with skip_special_tokens False and True. `special` marks texts that
spell special tokens ([MASK]), which the Tokenizer cuts out before WordPiece sees the text. For pairs: `ids`,
`type_ids` and `offsets` with special tokens ([CLS] a [SEP] b [SEP]). The vocabulary is not copied: it is in
the models' tokenizer.json.

Usage: /work/venv/bin/python tools/reference/wordpiece_cases.py [MINILM_DIR]
  (from the repository root; MINILM_DIR defaults to what tools/minilm-model.sh prints)
"""

import json
import subprocess
import sys
from pathlib import Path

from transformers import AutoTokenizer

TEXTS = [
    "Hello, world!",
    "café Ångström naïve résumé CRÈME BRÛLÉE",
    "HeLLo WoRLD MiXeD CaSe iPhone",
    "中文字符 and 日本語のテキスト ひらがな カタカナ",
    "한국어 텍스트입니다",
    "emoji 😀👍🏽 🇯🇵 ❤️ family 👨‍👩‍👧",
    "control\u0000chars\u0001here\u0007 \ufffd and\u200bzero width \u00ad soft\u00adhyphen a\u0085b",
    "tabs\tand\nnewlines\r\n  multiple   spaces\u00a0nbsp\u3000ideographic\u2028line",
    "runs of punctuation!!! ??? ... --- (([[{{}}]])) \"quoted\" 'single' ¿¡ «» “” — …",
    "don't can't won't it's y'all",
    "https://www.example.com/path?query=1&b=2#frag user@example.com",
    "numbers 1,234,567.89 and 3.14159 and 2024-01-15",
    "abcdefghij" * 15,
    "x" * 100 + " " + "y" * 101,
    "ξψω ꙮꙮ \U0001d518\U0001d52b\U0001d526",
    "",
    "   \t\n  ",
    "ＨＥＬＬＯ　ｗｏｒｌｄ！１２３",
    "e\u0301 a\u0308 o\u0302\u0323 q\u0307\u0323 \u0301abc",
    "مرحبا بالعالم مَرْحَبًا",
    "नमस्ते दुनिया",
    "a\u200db क्\u200dष",
    "ΑΘΗΝΑ Ἀθῆναι İstanbul Straße STRASSE ẞ",
    "The quick brown fox jumps over the lazy dog.",
    "abc中def \U00020000 \U0002b820 〇 ㄱ",
    "[CLS] the [MASK] is [SEP] here [UNK]",
]

PAIRS = [
    ("Hello, world!", "How are you?"),
    ("café", "中文字符"),
    ("", "x"),
]


def cases(tok) -> dict:
    out = []
    for text in TEXTS:
        e = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = e["input_ids"]
        full = tok(text)["input_ids"]
        assert full == [tok.cls_token_id, *ids, tok.sep_token_id]
        c = {"text": text, "ids": ids, "offsets": [list(o) for o in e["offset_mapping"]],
             "decoded": tok.decode(full, skip_special_tokens=False),
             "decoded_skip": tok.decode(full, skip_special_tokens=True)}
        if "[MASK]" in text:
            c["special"] = True
        out.append(c)
    pairs = []
    for a, b in PAIRS:
        e = tok(a, b, return_offsets_mapping=True, return_token_type_ids=True)
        pairs.append({"a": a, "b": b, "ids": e["input_ids"], "type_ids": e["token_type_ids"],
                      "offsets": [list(o) for o in e["offset_mapping"]]})
    return {"cases": out, "pairs": pairs}


def write(path: Path, doc: dict) -> None:
    line = lambda v: json.dumps(v, ensure_ascii=False)
    text = "\n".join(["{", f' "tokenizer": {line(doc["tokenizer"])},', ' "cases": [',
                      ",\n".join("  " + line(c) for c in doc["cases"]), " ],", ' "pairs": [',
                      ",\n".join("  " + line(p) for p in doc["pairs"]), " ]", "}", ""])
    assert json.loads(text) == doc
    path.write_text(text)
    print(f"{path}: {len(doc['cases'])} cases, {len(doc['pairs'])} pairs, {len(text.encode())} bytes")


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    minilm = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(
        subprocess.run(["bash", str(root / "tools/minilm-model.sh")], check=True, capture_output=True, text=True).stdout.strip())
    out = root / "Tests/Fixtures/wordpiece"
    out.mkdir(parents=True, exist_ok=True)
    for name, directory in (("bert-tiny", root / "Tests/Fixtures/bert-tiny"), ("minilm", minilm)):
        tok = AutoTokenizer.from_pretrained(str(directory))
        write(out / f"{name}.json", {"tokenizer": type(tok).__name__, **cases(tok)})


if __name__ == "__main__":
    main()
