"""Reference tokenizations of hard texts with SentencePiece Unigram tokenizers, for
Tests/EngineTests/UnigramTests.swift. Writes to Tests/Fixtures/unigram/:

- cases.json: transformers (the tokenizers library) on the fixtures' tokenizers, no special tokens added nor cut
  out of the text first (split_special_tokens, so "<sep>" reaches the Unigram model as Swiftlet's Unigram sees it): ids,
  offset_mapping (Python str indices) and decode with and without skip_special_tokens, for albert-tiny (Replace
  ``/'', NFKD, StripAccents, Lowercase, Precompiled, WhitespaceSplit + Metaspace), xlnet-tiny, t5-tiny and
  flan-t5-tiny (Precompiled).
- sentencepiece.json: SentencePiece .model files run two ways. "tokenizers": the pipeline transformers' T5Tokenizer
  builds (Precompiled charsmap, WhitespaceSplit + Metaspace, Unigram; its decoder Metaspace, with ByteFallback
  first when the model has byte fallback) with the pieces as its vocabulary and the unknown and control pieces as
  special tokens. "sentencepiece": the sentencepiece library itself (ids, and each piece's begin/end as
  Unicode-scalar offsets of its surface). Models: Tests/Fixtures/sentencepiece/unigram.model (nmt_nfkc, its
  full 240 KB charsmap, a user-defined <sep>), bytes.model (written here: byte fallback, identity normalization)
  and marian-tiny's source.spm, for which "marian_ids" are MarianTokenizer's ids (vocab.json) as well.
- synthetic.json: a hand-made vocabulary run both ways, where the unknown token's score and a user-defined piece
  decide the segmentation.

    /work/venv/bin/python tools/reference/unigram_cases.py
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import sentencepiece as spm
import tokenizers
import transformers
from sentencepiece import sentencepiece_model_pb2 as pb
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import Unigram
from transformers import AutoTokenizer, MarianTokenizer

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"
OUT = FIX / "unigram"
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
    # Combining marks, and graphemes the charsmap starts (ﬁ, Ａ with a mark: replaced whole, the mark's source kept).
    "e\u0301te\u0301 cafe\u0301 ﬁ\u0301ne Ａ\u0301b",
    "wait… what…",
    "ideographic\u3000space and nbsp\u00a0here",
    "zero\u200bwidth soft\u00adhyphen",
    "a\u2581b \u2581 \u2581\u2581c",
    "İstanbul ß ǅ ΣΑΣ",
    "👨\u200d👩\u200d👧 family 🇯🇵 flag",
    "ｶﾞｷﾞ ﾊﾟ ｱ",
    "\r\n crlf \r\n",
    "Hello , world ! It 's a test .",
    "한국어 텍스트",
    "नमस्ते दुनिया",
    "mixed\u000bVT\u000cFF\u0085NEL\u2028LS end",
    "☃☃☃ab☃ ☃x☃",
    "supercalifragilisticexpialidocious" * 3,
    "a<sep>b <sep>",
    "tab\tonly",
    " x",
    "x ",
    # nmt_nfkc deletes control characters; tokenizers charges a deletion at the very start to no one.
    "\u0001\u0002start and mid\u0003dle\u0004",
]


def char_offsets(text: str):
    """byte offset → Python str index, for sentencepiece's byte offsets."""
    at = {}
    b = 0
    for i, c in enumerate(text):
        at[b] = i
        b += len(c.encode("utf-8"))
    at[b] = len(text)
    return at


def hf_cases(name: str) -> list:
    tok = AutoTokenizer.from_pretrained(str(FIX / name))
    cases = []
    for text in TEXTS:
        e = tok(text, add_special_tokens=False, return_offsets_mapping=True, split_special_tokens=True)
        cases.append({"ids": e["input_ids"], "offsets": [list(o) for o in e["offset_mapping"]],
                      "decoded": tok.decode(e["input_ids"], skip_special_tokens=True),
                      "decoded_special": tok.decode(e["input_ids"], skip_special_tokens=False)})
    return cases


def sentencepiece_cases(path: Path) -> list:
    sp = spm.SentencePieceProcessor(model_file=str(path))
    cases = []
    for text in TEXTS:
        at = char_offsets(text)
        p = sp.encode(text, return_type="proto")
        cases.append({"ids": [x.id for x in p.pieces], "offsets": [[at[x.begin], at[x.end]] for x in p.pieces]})
    return cases


def tokenizers_pipeline(path: Path) -> Tokenizer:
    """What transformers' T5Tokenizer builds for this model (Tokenizer, not the T5-specific special tokens)."""
    m = pb.ModelProto()
    m.ParseFromString(path.read_bytes())
    byte_fallback = m.trainer_spec.byte_fallback
    tok = Tokenizer(Unigram([(p.piece, p.score) for p in m.pieces], unk_id=m.trainer_spec.unk_id,
                            byte_fallback=byte_fallback))
    if m.normalizer_spec.precompiled_charsmap:
        tok.normalizer = normalizers.Precompiled(m.normalizer_spec.precompiled_charsmap)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    metaspace = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), metaspace]) if byte_fallback else metaspace
    tok.add_special_tokens([p.piece for p in m.pieces if p.type in (pb.ModelProto.SentencePiece.UNKNOWN, pb.ModelProto.SentencePiece.CONTROL)])
    return tok


def tokenizers_cases(path: Path) -> list:
    tok = tokenizers_pipeline(path)
    cases = []
    for text in TEXTS:
        e = tok.encode(text, add_special_tokens=False)
        cases.append({"ids": e.ids, "offsets": [list(o) for o in e.offsets],
                      "decoded": tok.decode(e.ids, skip_special_tokens=True),
                      "decoded_special": tok.decode(e.ids, skip_special_tokens=False)})
    return cases


def bytes_model(path: Path) -> None:
    """A unigram model with byte fallback and no normalization rules (so no charsmap: a few KB)."""
    corpus = ("The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. "
              "Hello world, hello again. café résumé naïve 123 456 7890.\n") * 40
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "corpus.txt").write_text(corpus)
        spm.SentencePieceTrainer.train(input=str(Path(tmp) / "corpus.txt"), model_prefix=str(Path(tmp) / "bytes"),
                                       vocab_size=330, model_type="unigram", byte_fallback=True,
                                       character_coverage=1.0, normalization_rule_name="identity",
                                       hard_vocab_limit=False, num_threads=1, minloglevel=2)
        m = pb.ModelProto()
        m.ParseFromString((Path(tmp) / "bytes.model").read_bytes())
    # The trainer records its temporary paths; without them the file is the same on every run.
    m.trainer_spec.ClearField("input")
    m.trainer_spec.ClearField("model_prefix")
    path.write_bytes(m.SerializeToString())


# A hand-made vocabulary where the unknown token's score decides ("xyz": "▁" <unk> "yz" beats "▁" "xy" "z" only
# because the lowest score is -100, not the -10000 of a GGUF file's padding), with a user-defined piece (sentencepiece
# matches it before normalizing and scores it as length × the highest NORMAL score − 0.1), and a piece across a "▁"
# (which tokenizers' Metaspace never lets match, and sentencepiece's one Viterbi over the whole text does).
SYNTHETIC_PIECES = [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3), ("▁", -1.0, 1), ("xy", -20.0, 1),
                    ("yz", -1.0, 1), ("z", -100.0, 1), ("y", -50.0, 1), ("a", -2.0, 1), ("b", -2.0, 1),
                    ("@@", 0.0, 4), ("▁a", -3.0, 1), ("ab", -3.0, 1), ("▁@", -0.5, 1), ("@", -4.0, 1),
                    ("a▁b", -0.1, 1)]
SYNTHETIC_TEXTS = ["xyz", "x y z", "axyzb", "a@@b", "@@", " @@x", "☃xyz☃☃", "  a  b  ", "ab@ab", "yzyzy", "a▁b", "a b"]


def synthetic() -> dict:
    m = pb.ModelProto()
    for piece, score, kind in SYNTHETIC_PIECES:
        p = m.pieces.add()
        p.piece, p.score, p.type = piece, score, kind
    m.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    m.trainer_spec.unk_id, m.trainer_spec.bos_id, m.trainer_spec.eos_id, m.trainer_spec.pad_id = 0, 1, 2, -1
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = True
    m.normalizer_spec.remove_extra_whitespaces = True
    m.normalizer_spec.escape_whitespaces = True
    sp = spm.SentencePieceProcessor(model_proto=m.SerializeToString())
    tok = Tokenizer(Unigram([(p, s) for p, s, _ in SYNTHETIC_PIECES], unk_id=0, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    out = {"pieces": [list(p) for p in SYNTHETIC_PIECES], "tokenizers": [], "sentencepiece": []}
    for text in SYNTHETIC_TEXTS:
        e = tok.encode(text, add_special_tokens=False)
        out["tokenizers"].append({"ids": e.ids, "offsets": [list(o) for o in e.offsets],
                                  "decoded_special": tok.decode(e.ids, skip_special_tokens=False)})
        at = char_offsets(text)
        p = sp.encode(text, return_type="proto")
        out["sentencepiece"].append({"ids": [x.id for x in p.pieces], "offsets": [[at[x.begin], at[x.end]] for x in p.pieces]})
    return out


def main() -> None:
    versions = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                "sentencepiece": spm.__version__}
    cases = {"versions": versions, "texts": TEXTS,
             "models": {name: hf_cases(name) for name in ["albert-tiny", "xlnet-tiny", "t5-tiny", "flan-t5-tiny"]}}
    (OUT / "cases.json").write_text(json.dumps(cases, ensure_ascii=False, separators=(",", ":")) + "\n")

    bytes_model(OUT / "bytes.model")
    models = {}
    for name, path in [("unigram", FIX / "sentencepiece" / "unigram.model"), ("bytes", OUT / "bytes.model")]:
        models[name] = {"path": str(path.relative_to(FIX)), "tokenizers": tokenizers_cases(path),
                        "sentencepiece": sentencepiece_cases(path)}
    source = FIX / "marian-tiny" / "source.spm"
    marian = MarianTokenizer.from_pretrained(str(FIX / "marian-tiny"))
    models["marian-source"] = {"path": str(source.relative_to(FIX)), "sentencepiece": sentencepiece_cases(source),
                               "marian_ids": [marian(t, add_special_tokens=False)["input_ids"] for t in TEXTS]}
    out = {"versions": versions, "texts": TEXTS, "models": models}
    (OUT / "sentencepiece.json").write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    out = {"versions": versions, "texts": SYNTHETIC_TEXTS, "models": {"synthetic": synthetic()}}
    (OUT / "synthetic.json").write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    for f in sorted(OUT.iterdir()):
        print(f"wrote {f} ({f.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
