#!/usr/bin/env python3
"""Writes Tests/Fixtures/normalization/cases.json for Tests/EngineTests/NormalizationTests.swift:

- cases: hard strings (Hangul, stacked Vietnamese diacritics, ligatures, full- and half-width forms, Å three ways,
  combining sequences that need reordering, composition exclusions, emoji, CJK) with, for NFC, NFD, NFKC, NFKD,
  NFD + StripAccents and Lowercase, the normalized text and each normalized scalar's source (the index of the
  original scalar it came from) as the tokenizers library's alignments give it. Each text equals
  unicodedata.normalize's (checked here), so the cases stay within what tokenizers' older Unicode tables agree on.
- blocks: for each form, the FNV-1a 64 of the UTF-8 of unicodedata.normalize(form, block) for every block of 4096
  code points of planes 0-3 and 14 (surrogates left out): every decomposition, class and composition in the tables.

Usage: /work/venv/bin/python tools/reference/normalization_cases.py   (from the repository root)
"""

import json
import unicodedata
from pathlib import Path

from tokenizers import Regex, Tokenizer
from tokenizers import normalizers as N
from tokenizers import pre_tokenizers
from tokenizers.models import WordLevel

OUT = Path("Tests/Fixtures/normalization/cases.json")

TEXTS = [
    "", "Hello, world!",
    "\u00c5 \u212b A\u030a",                                     # Å precomposed, Ångström sign, decomposed
    "한국어 테스트", "\u1100\u1161\u11a8\u1100\u1161", "\u3131\uffa1\u3164",  # syllables, conjoining and compatibility jamo
    "Tiếng Việt có dấu: ặ ẫ ở ự", "a\u0323\u0306 a\u0306\u0323 e\u0302\u0301\u0323",
    "\ufb01\ufb02\ufb03 \ufb06 \u01c4 \u01c6 \u337b \u3300 \u00bd \u2075 \u2082 \u2460 \u2122 \u2121 \u33c2 \u2026",
    "\uff21\uff22\uff23\uff11\uff12\uff13\uff01\uff1f \uff76\uff9e\uff77\uff9e \uff8a\uff9f",  # full- and half-width
    "q\u0307\u0323 e\u0301\u0327\u0316\u031b \u05d1\u05bc\u05b8 a\u0316\u0301 \u0301a \u0301\u0300",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1ef\U0001f1f5 \U0001f44d\U0001f3fd \u2764\ufe0f",
    "中文字符 漢字 \U0002000b \uf900\ufa10\U0002f800",
    "\u0390 \u03b0 \u1fb3 \u1faf \u2126 \u037e \u0387 \u1e9b \u1e9b\u0323 \u017f",
    "\u0958 \u0f43 \u2adc \U0001d15e \u0344 \u0f73 \u0f75 \u0f81 \u09c7\u09be \u0915\u093c\u093f",
    "\ufefc \ufdfa \ufdfd \u0627\u0653 \u0928\u092e\u0938\u094d\u0924\u0947",
    "İstanbul ΣΑΣ ΌΣΟΣ \u1e9e \u01c5 \u1fbc \u0531 \U00010400 \u13a0 \u212a Ǆ",
    "Ångström café naïve résumé CRÈME BRÛLÉE",
]

NORMALIZERS = {
    "NFC": N.NFC(), "NFD": N.NFD(), "NFKC": N.NFKC(), "NFKD": N.NFKD(),
    "NFD+StripAccents": N.Sequence([N.NFD(), N.StripAccents()]),
    "Lowercase": N.Lowercase(),
}


def sources(normalizer, text: str) -> list:
    """Each normalized scalar's original index: one token per scalar through a tokenizers pipeline."""
    out = normalizer.normalize_str(text)
    vocab = {c: i for i, c in enumerate(sorted(set(out)))}
    vocab["[UNK]"] = len(vocab)
    t = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    t.normalizer = normalizer
    t.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), "isolated")
    e = t.encode(text)
    assert len(e.offsets) == len(out), text
    assert all(end - start == 1 for start, end in e.offsets), (text, e.offsets)
    return [start for start, _ in e.offsets]


def fnv1a64(b: bytes) -> str:
    h = 0xCBF29CE484222325
    for x in b:
        h = ((h ^ x) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def main() -> None:
    cases = []
    for text in TEXTS:
        forms = {}
        for name, n in NORMALIZERS.items():
            out = n.normalize_str(text)
            if name in ("NFC", "NFD", "NFKC", "NFKD"):
                assert out == unicodedata.normalize(name, text), (name, text)
            forms[name] = {"text": out, "sources": sources(n, text)}
        cases.append({"text": text, "forms": forms})
    planes = [*range(0, 0x40000, 4096), *range(0xE0000, 0xF0000, 4096)]
    blocks = {}
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        hashes = []
        for start in planes:
            block = "".join(chr(c) for c in range(start, start + 4096) if not 0xD800 <= c < 0xE000)
            hashes.append(fnv1a64(unicodedata.normalize(form, block).encode()))
        blocks[form] = hashes
    OUT.parent.mkdir(parents=True, exist_ok=True)
    line = lambda v: json.dumps(v, ensure_ascii=False)
    OUT.write_text("\n".join([
        "{", f' "unicode_version": {line(unicodedata.unidata_version)},', ' "block_size": 4096,',
        f' "block_starts": {line(planes)},', ' "cases": [',
        ",\n".join("  " + line(c) for c in cases), " ],", ' "blocks": {',
        ",\n".join(f"  {line(form)}: {line(h)}" for form, h in blocks.items()), " }", "}", ""]))
    json.loads(OUT.read_text())
    print(f"{OUT}: {len(cases)} cases, {len(planes)} blocks per form")


if __name__ == "__main__":
    main()
