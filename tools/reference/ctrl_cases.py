"""transformers' CTRLTokenizer on hard texts with the ctrl-tiny fixture's vocab.json and merges.txt, for
Tests/EngineTests/CTRLTokenizerTests.swift: writes Tests/Fixtures/ctrl-tokenizer/cases.json.

Per text: `ids` (tok.encode), `decoded` (tok.decode of those ids) and, for texts without special tokens,
`offsets`: the [start, end) of each token in Python str indices (Unicode scalars), which the slow tokenizer does
not give. Each piece covers its own characters: "@@" and "</w>" cover nothing, so a word's pieces tile the word,
trailing newline included. They are derived from the words `\\S+\\n?` and tok.bpe's pieces, checked first against
tok.tokenize. `decode_only`: id lists (some hand-made) and tok.decode of them.

    /work/venv/bin/python tools/reference/ctrl_cases.py
"""
from __future__ import annotations

import json
from pathlib import Path

import regex
import transformers
from transformers import CTRLTokenizer

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"
TEXTS = [
    "Links Hello world",  # a control code first (not in the tiny vocabulary)
    "Wikipedia The history of the printing press",
    "Wikipedia transformer predicts the next token, which is widely used.",
    "  leading and trailing  ",
    "lines\nand\n\nparagraphs\n",
    "model\nmodel \n model\r\nmodel\n\n\nmodel",
    "tabs\tand   runs\u000bvt\u000cff",
    "\u00a0nbsp\u3000ideographic\u2028line\u0085nel\u2009thin",
    "file\x1cseparator\x1fword zero\u200bwidth",  # isspace() but not regex's \s; not whitespace at all
    "Ångström café",
    "cafe\u0301 decomposed",
    "日本語 emoji 🎉 👨\u200d👩\u200d👧 flag 🇯🇵",
    "",
    " ",
    "\n",
    "\n\n\n",
    "a",
    "a\n",
    "x" * 30,
    "transformer" * 12,
    "don't stop, won't stop!",
    "3.14159 and 1,000",
    "re re re rea read reads",
    "l ll lll llll lllll ll. ll.ll.",
    "ttle tttl ttttle sequencesequence quick. questions?",
    "@@ a@@ @@b </w> x</w>",
    "Wikipedia <unk> model<unk>text",  # <unk> is special: cut out before the BPE
]
DECODE_ONLY = [
    [0, 3],  # "\n@@" ","
    [32, 33, 32],  # "a@@" "a" "a@@": a trailing "@@" stays
    [32, 32, 234, 33],
    [4, 5, 4, 5],
    [1, 1, 33, 1],  # newlines inside and at the ends (strip)
    [999, 33],  # outside the vocabulary: the unknown token
    [],
]


def offsets(tok: CTRLTokenizer, text: str) -> list[list[int]]:
    out, pieces = [], []
    for m in regex.finditer(r"\S+\n?", text):
        word = tok.bpe(m.group()).split(" ")
        pieces += word
        at = m.start()
        for k, piece in enumerate(word):
            n = len(piece) - (2 if k < len(word) - 1 else 0)  # "@@" on all but the last
            assert k == len(word) - 1 or piece.endswith("@@"), (text, word)
            out.append([at, at + n])
            at += n
        assert at == m.end(), (text, word)
    assert pieces == tok.tokenize(text), (text, pieces, tok.tokenize(text))
    return out


def main() -> None:
    tok = CTRLTokenizer.from_pretrained(str(FIX / "ctrl-tiny"))
    cases = []
    for t in TEXTS:
        ids = tok.encode(t)
        case = {"text": t, "ids": ids, "decoded": tok.decode(ids)}
        if "<unk>" not in t:
            case["offsets"] = offsets(tok, t)
        cases.append(case)
    decode_only = [{"ids": ids, "decoded": tok.decode(ids)} for ids in DECODE_ONLY]
    doc = {"transformers": transformers.__version__, "cases": cases, "decode_only": decode_only}
    # One case per line: small and diffable.
    lines = [json.dumps(c, ensure_ascii=False) for c in cases]
    lines2 = [json.dumps(c, ensure_ascii=False) for c in decode_only]
    text = ('{"transformers": ' + json.dumps(doc["transformers"]) + ',\n"cases": [\n' + ",\n".join(lines)
            + '\n],\n"decode_only": [\n' + ",\n".join(lines2) + "\n]}\n")
    assert json.loads(text) == doc
    path = FIX / "ctrl-tokenizer" / "cases.json"
    path.write_text(text)
    print(f"wrote {path} ({len(text.encode())} bytes, {len(cases)} texts)")


if __name__ == "__main__":
    main()
