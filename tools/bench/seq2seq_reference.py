"""Target tokens per second of a T5 model with CTranslate2 (int8, CPU), for tools/bench/seq2seq.sh: one source of
--source-tokens tokens, then exactly --new-tokens target tokens, greedy and with beams (--beams-list). Each cell is
warmed up with one call, then translate_batch is called one call at a time for at least --seconds (and at least 5
calls); the figure is new tokens / median call time. A call encodes the source once and decodes, so the rate
includes the encoder, like `swiftlet bench`'s with_encode_tokens_per_s. A beam step counts once, however many beams.

    python tools/bench/seq2seq_reference.py --hf DIR --ct2-dir DIR [--threads 2] [--source-tokens 32]
        [--new-tokens 64] [--beams-list 1,4] [--seconds 3]
    python tools/bench/seq2seq_reference.py --make-model DIR [--seed 0]
    needs: tools/bench/requirements-seq2seq.txt

Prints one JSON object on stdout (progress goes to stderr): {"ctranslate2": {"version": ..., "greedy": {"tokens":
N, "tokens_per_s": ...}, "beam4": {"tokens": N, "beams": 4, "tokens_per_s": ...}}, "threads": ..., ...}. "tokens"
is the length of the hypothesis CTranslate2 returned, checked to be N: min_decoding_length = max_decoding_length = N
keeps it from stopping at </s> (CTranslate2 masks the end token before the minimum length). CTranslate2 4.x's
Translator has no encoder-only call, so there is no encode figure.

--make-model writes a t5-small-shaped T5ForConditionalGeneration with seeded random weights (no download is possible
here) and a T5 tokenizer: a SentencePiece unigram model of 32000 made-up pieces (built as a ModelProto, since training
needs a corpus) plus the 100 <extra_id_N> sentinels, as t5-small has them. Swiftlet's `quantize` needs spiece.model
for T5 and CTranslate2's converter needs a tokenizer, so the tokenizer is not optional.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import json
import os
import platform
import statistics
import string
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from encoder_reference import cpu_model  # noqa: E402

PIECES = 32000  # t5-small's SentencePiece size; the 100 sentinels follow, config.vocab_size pads to 32128


def log(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


def sentencepiece_model(path: Path) -> None:
    """A unigram SentencePiece model laid out as T5's: <pad> 0, </s> 1, <unk> 2, then PIECES - 3 pieces: every
    printable character (alone and after ▁, so any ASCII text encodes), then ▁ + two and three lowercase letters
    and the same without ▁, scores falling with the id as a trained model's roughly do."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    kind = pb.ModelProto.SentencePiece.Type
    for piece, t in (("<pad>", kind.CONTROL), ("</s>", kind.CONTROL), ("<unk>", kind.UNKNOWN)):
        m.pieces.add(piece=piece, score=0.0, type=t)
    chars = [c for c in string.ascii_lowercase + string.ascii_uppercase + string.digits + string.punctuation]
    letters = string.ascii_lowercase
    candidates = itertools.chain(
        ["▁"], ("▁" + c for c in chars), chars,
        ("▁" + "".join(p) for p in itertools.product(letters, repeat=2)), ("".join(p) for p in itertools.product(letters, repeat=2)),
        ("▁" + "".join(p) for p in itertools.product(letters, repeat=3)), ("".join(p) for p in itertools.product(letters, repeat=3)))
    for i, piece in enumerate(itertools.islice(candidates, PIECES - 3)):
        m.pieces.add(piece=piece, score=-2.0 - i * 1e-3, type=kind.NORMAL)
    assert len(m.pieces) == PIECES
    m.trainer_spec.model_type = pb.TrainerSpec.ModelType.UNIGRAM
    m.trainer_spec.vocab_size = PIECES
    m.trainer_spec.pad_id, m.trainer_spec.eos_id, m.trainer_spec.unk_id, m.trainer_spec.bos_id = 0, 1, 2, -1
    m.trainer_spec.pad_piece, m.trainer_spec.eos_piece, m.trainer_spec.unk_piece = "<pad>", "</s>", "<unk>"
    m.normalizer_spec.name = "identity"  # no precompiled NFKC map to ship; the text here is plain ASCII
    m.normalizer_spec.add_dummy_prefix = True
    m.normalizer_spec.remove_extra_whitespaces = True
    m.normalizer_spec.escape_whitespaces = True
    path.write_bytes(m.SerializeToString())


def make_model(out: Path, seed: int) -> None:
    import sentencepiece
    import torch
    import transformers

    out.mkdir(parents=True, exist_ok=True)
    sentencepiece_model(out / "spiece.model")
    sp = sentencepiece.SentencePieceProcessor(model_file=str(out / "spiece.model"))
    assert sp.get_piece_size() == PIECES and sp.eos_id() == 1 and sp.pad_id() == 0 and sp.unk_id() == 2
    tok = transformers.T5Tokenizer.from_pretrained(str(out), extra_ids=100)  # converts spiece.model to tokenizer.json
    assert len(tok) == PIECES + 100, len(tok)
    sample = "the quick brown fox jumps over the lazy dog"
    assert sp.encode(sample) + [1] == tok(sample)["input_ids"], "spiece.model and tokenizer.json disagree"

    config = transformers.T5Config(
        vocab_size=32128, d_model=512, d_ff=2048, d_kv=64, num_layers=6, num_decoder_layers=6, num_heads=8,
        relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="relu",
        tie_word_embeddings=True, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    torch.manual_seed(seed)
    model = transformers.T5ForConditionalGeneration(config).eval()
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    log(f"wrote {out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, seed {seed}")


def timed(call, seconds: float, least: int = 5) -> float:
    """Median seconds of one call, after one warm-up call, over at least `seconds` and `least` calls."""
    call()
    times: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < least:
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hf", type=Path, help="Hugging Face T5 directory")
    ap.add_argument("--ct2-dir", type=Path, help="the converted model (made from --hf if absent)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--source-tokens", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--beams-list", default="1,4")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--make-model", type=Path, metavar="DIR")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.make_model:
        make_model(a.make_model, a.seed)
        return
    if not (a.hf and a.ct2_dir):
        ap.error("--hf and --ct2-dir are needed (or --make-model)")

    import ctranslate2

    if not a.ct2_dir.exists():
        log(f"converting {a.hf} → {a.ct2_dir} (int8)")
        # In a child process, so that torch (which the converter loads) and its OpenMP stay out of the timed one.
        subprocess.run([sys.executable, "-c", "import ctranslate2, sys; ctranslate2.converters.TransformersConverter("
                        "sys.argv[1]).convert(sys.argv[2], quantization='int8')", str(a.hf), str(a.ct2_dir)], check=True)
    translator = ctranslate2.Translator(str(a.ct2_dir), device="cpu", compute_type="int8",
                                        inter_threads=1, intra_threads=a.threads)

    vocabulary_file = a.ct2_dir / "shared_vocabulary.json"
    if vocabulary_file.exists():
        vocabulary = json.loads(vocabulary_file.read_text())
    else:
        vocabulary = (a.ct2_dir / "shared_vocabulary.txt").read_text().splitlines()
    # Ordinary pieces (past <pad> </s> <unk>, before the sentinels), picked as `swiftlet bench` picks its ids,
    # then </s> as a T5 tokenizer ends a source.
    first, end = 3, PIECES if len(vocabulary) >= PIECES else len(vocabulary)
    source = [vocabulary[first + (i * 7919 + 13) % (end - first)] for i in range(a.source_tokens - 1)] + ["</s>"]
    n = a.new_tokens

    out: dict = {"ctranslate2": {"version": ctranslate2.__version__}, "threads": a.threads,
                 "source_tokens": len(source), "new_tokens": n,
                 "timing": f"new tokens / median call time, >= {a.seconds:g} s and >= 5 calls per cell after 1 warm-up call",
                 "compute_type": translator.compute_type,
                 "supported_compute_types": sorted(ctranslate2.get_supported_compute_types("cpu")),
                 "versions": {"ctranslate2": ctranslate2.__version__, "python": platform.python_version()},
                 "machine": {"nproc": os.cpu_count(), "cpu": cpu_model()}}
    for name in ("transformers", "torch", "sentencepiece", "numpy"):
        try:  # from the installed metadata: importing torch here would load its OpenMP beside CTranslate2's
            out["versions"][name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass

    for beams in (int(b) for b in a.beams_list.split(",")):
        def call() -> list[str]:
            r = translator.translate_batch([source], beam_size=beams, min_decoding_length=n, max_decoding_length=n,
                                           num_hypotheses=1, return_scores=False)
            return r[0].hypotheses[0]
        made = len(call())
        rate = n / timed(call, a.seconds)
        cell = {"tokens": made, "tokens_per_s": round(rate, 2)}
        if beams > 1:
            cell["beams"] = beams
        if made != n:
            cell["error"] = f"made {made} tokens, not {n}"
        out["ctranslate2"]["greedy" if beams == 1 else f"beam{beams}"] = cell
        log(f"ctranslate2 beams {beams}: {made} tokens, {rate:.1f} t/s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
