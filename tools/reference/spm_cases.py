"""sentencepiece's own encodings and decodings with the fixtures' SentencePiece BPE models (llama.cpp's "llama"
vocabulary), for Tests/EngineTests/SentencePieceBPETests.swift. Writes one file per model to Tests/Fixtures/spm/:

- mistral-tiny.json, mixtral-tiny.json: the tokenizer.model of those HF fixtures (byte fallback, add_dummy_prefix);
- bpe.json: Tests/Fixtures/sentencepiece/bpe.model (byte fallback, no dummy prefix, remove_extra_whitespaces).

Each holds "cases": hard texts with sentencepiece's ids (no BOS), its decode of them, and the offsets transformers
gives (offset_mapping: Unicode scalars, the prepended "▁" on the first character, every byte token of a
character on that character) where its ids equal sentencepiece's, else null; and "decode_cases": id lists that
exercise decoding alone (control tokens, byte runs that are not UTF-8, leading "▁" pieces).

    /work/venv/bin/python tools/reference/spm_cases.py
"""
from __future__ import annotations

import json
from pathlib import Path

import sentencepiece
from sentencepiece import sentencepiece_model_pb2

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"
TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog",
    "Mistral slides a window ¿",
    " leading space",
    "  two leading spaces",
    "trailing space ",
    "trailing spaces   ",
    "runs   of    spaces",
    " ",
    "   ",
    "tabs\tand\nnewlines\n",
    "\n",
    "line\r\nbreak",
    "Ångström café naïve",
    "e\u0301 combining",
    "ß İ ø Œ",
    "日本語のテキスト",
    "emoji 🎉🚀✅",
    "family 👨\u200d👩\u200d👧",
    "",
    "a",
    "x" * 40,
    "antidisestablishmentarianism",
    "supercalifragilisticexpialidocious",
    "quick quick quickquick jumpjump",
    "zyxwvut qqq kkk",
    "def f(x): return x**2  # square",
    "3.14159, 1,000,000 and 42%",
    "1234567890",
    "Punctuation!?.,;:'\"()[]{}<>",
    "<s> and </s> as text",
    "\u2581 a literal lower block \u2581\u2581",
]


def offsets_or_none(hf, text: str, ids: list[int]):
    if hf is None:
        return None
    e = hf(text, add_special_tokens=False, return_offsets_mapping=True)
    return [list(o) for o in e["offset_mapping"]] if e["input_ids"] == ids else None


def decode_cases(sp) -> list[dict]:
    """Id lists for decoding alone, each with sentencepiece's text."""
    def pid(piece: str) -> int:
        i = sp.piece_to_id(piece)
        assert i != sp.unk_id() or piece == "<unk>", piece
        return i

    space, a, b = pid("\u2581"), pid("a"), pid("b")
    lists = [
        [sp.bos_id()] + sp.encode("Hello world") + [sp.eos_id()],   # control tokens are invisible
        [sp.eos_id(), sp.bos_id(), pid("\u2581b"), a],              # the bos "▁" is the first visible one
        [space, pid("\u2581b")],                                     # only one "▁" is taken
        [pid("\u2581\u2581") if sp.piece_to_id("\u2581\u2581") != sp.unk_id() else space, a],
        [pid("<0x41>"), pid("\u2581b")],                             # bytes first: the space stays
        [pid("<0xE6>"), pid("<0x97>"), a],                           # a cut character: U+FFFD per byte
        [pid("<0x80>"), pid("<0xC3>"), pid("<0xA9>"), b],            # a stray continuation byte, then é
        [pid("<0xF0>"), pid("<0x9F>"), pid("<0x8E>"), pid("<0x89>")],
        [pid("<0xED>"), pid("<0xA0>"), pid("<0x80>")],               # a UTF-16 surrogate: three U+FFFD
        [pid("<0xC0>"), pid("<0x80>")],                              # an overlong NUL: two U+FFFD
        [a, pid("<0x20>"), pid("\u2581"), b],
    ]
    return [{"ids": ids, "text": sp.decode(ids)} for ids in lists]


def write(name: str, model: Path, hf_dir: Path | None) -> None:
    sp = sentencepiece.SentencePieceProcessor(model_file=str(model))
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.read_bytes())
    assert proto.trainer_spec.model_type == sentencepiece_model_pb2.TrainerSpec.BPE, f"{model} is not a BPE model"
    hf = None
    if hf_dir is not None:
        from transformers import AutoTokenizer
        hf = AutoTokenizer.from_pretrained(str(hf_dir))
    cases = []
    for t in TEXTS:
        ids = sp.encode(t)
        cases.append({"text": t, "ids": ids, "decoded": sp.decode(ids), "offsets": offsets_or_none(hf, t, ids)})
    out = {
        "sentencepiece": sentencepiece.__version__,
        "model": str(model.relative_to(FIX)),
        "add_dummy_prefix": proto.normalizer_spec.add_dummy_prefix,
        "remove_extra_whitespaces": proto.normalizer_spec.remove_extra_whitespaces,
        "cases": cases,
        "decode_cases": decode_cases(sp),
    }
    path = FIX / "spm" / f"{name}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes; offsets for {sum(c['offsets'] is not None for c in cases)}"
          f" of {len(cases)} texts)")


def main() -> None:
    for name in ["mistral-tiny", "mixtral-tiny"]:
        write(name, FIX / name / "tokenizer.model", FIX / name)
    write("bpe", FIX / "sentencepiece" / "bpe.model", None)


if __name__ == "__main__":
    main()
