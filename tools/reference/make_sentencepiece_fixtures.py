#!/usr/bin/env python3
"""Tiny SentencePiece models and their decoding by the sentencepiece library, for the Swift reader's test.

    /work/venv/bin/pip install sentencepiece protobuf
    /work/venv/bin/python tools/reference/make_sentencepiece_fixtures.py

Writes Tests/Fixtures/sentencepiece/{unigram,bpe}.model and expected.json: every piece (text, score, type)
and the trainer/normalizer fields Swiftlet reads. unigram.model uses nmt_nfkc (so it carries a
precompiled charsmap); bpe.model has byte fallback, a pad id and identity normalization.
"""
import json
import os
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "sentencepiece")
TEXT = """The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Sphinx of black quartz, judge my vow. 123 456 7890 héllo wörld café naïve. 日本語のテキスト。 emoji 🦙 tokens.
""" * 30


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write(TEXT)
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(OUT, "unigram"), vocab_size=70,
                                       model_type="unigram", character_coverage=1.0, user_defined_symbols=["<sep>"],
                                       minloglevel=2)
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(OUT, "bpe"), vocab_size=330,
                                       model_type="bpe", byte_fallback=True, character_coverage=1.0, pad_id=3,
                                       normalization_rule_name="identity", add_dummy_prefix=False, minloglevel=2)
    out = {}
    for kind in ("unigram", "bpe"):
        os.remove(os.path.join(OUT, kind + ".vocab"))
        m = pb.ModelProto()
        with open(os.path.join(OUT, kind + ".model"), "rb") as f:
            m.ParseFromString(f.read())
        t, n = m.trainer_spec, m.normalizer_spec
        out[kind] = {
            "pieces": [[p.piece, p.score, int(p.type)] for p in m.pieces],
            "model_type": int(t.model_type), "vocab_size": t.vocab_size, "byte_fallback": t.byte_fallback,
            "unk_id": t.unk_id, "bos_id": t.bos_id, "eos_id": t.eos_id, "pad_id": t.pad_id, "unk_piece": t.unk_piece,
            "normalizer_name": n.name, "add_dummy_prefix": n.add_dummy_prefix,
            "remove_extra_whitespaces": n.remove_extra_whitespaces, "escape_whitespaces": n.escape_whitespaces,
            "precompiled_charsmap_bytes": len(n.precompiled_charsmap),
        }
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
