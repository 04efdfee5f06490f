"""Sentence embeddings per second of all-MiniLM-L6-v2 with sentence-transformers (torch, CPU) and ONNX Runtime,
for tools/bench/encoder.sh: 64 short (16 tokens with [CLS] and [SEP]) and 64 long (256 tokens, the model's
max_seq_length) texts, batches of 1 and 32. Each cell is warmed up, then its batches are timed one by one, cycling
over the texts, for at least 3 s (and at least 5 batches); the figure is batch / median batch time. Tokenization is
included (as `swiftlet embed` counts it), model loading and the ONNX export are not.

    python tools/bench/encoder_reference.py --model DIR [--threads 2] [--write-texts DIR]
    needs: tools/bench/requirements-encoder.txt; DIR: tools/minilm-model.sh prints it

Prints one JSON object on stdout (progress goes to stderr): {"sentence_transformers": {"short_b1": s/s, ...},
"onnxruntime": {...} or {"error": ...}, "threads": N, "texts": 64, "tokens": {...}, "versions": {...},
"machine": {...}}; --write-texts writes short.txt and long.txt (one text per line) so that Swiftlet embeds the very
same texts. The texts are word sequences drawn (seeded, so always the same) from a fixed list of words that are one
WordPiece token each. ONNX Runtime runs the model's BertModel exported by torch.onnx.export from the same weights;
mean pooling and L2 normalization are done in numpy, as the model's Pooling and Normalize modules do them (checked
against sentence-transformers before timing).
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

WORDS = ("the model reads every sentence of a long document and turns it into a vector that keeps its meaning "
         "so that similar questions and answers end up close together while unrelated texts stay far apart").split()


def texts(n: int, words: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=words)) + "." for _ in range(n)]


SHORT_WORDS, LONG_WORDS = 13, 253  # + "." + [CLS] + [SEP] = 16 and 256 tokens


def timed(run, batch: int, items: list[str], seconds: float = 3.0, least: int = 5) -> float:
    """Sentences per second: `batch` / the median time of one batch, the batches cycling over `items`, timed one by
    one for at least `seconds` and `least` batches after a warm-up of two batches."""
    batches = [items[i:i + batch] for i in range(0, len(items), batch)]
    for b in batches[:2]:
        run(b)
    times: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < least:
        b = batches[len(times) % len(batches)]
        t = time.perf_counter()
        run(b)
        times.append(time.perf_counter() - t)
    return batch / statistics.median(times)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--write-texts", type=Path)
    a = ap.parse_args()

    import sentence_transformers
    import tokenizers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    model = SentenceTransformer(a.model, device="cpu")
    tok = model.tokenizer
    sets = {"short": texts(64, SHORT_WORDS, 1), "long": texts(64, LONG_WORDS, 2)}
    counts = {k: [len(tok(t)["input_ids"]) for t in v] for k, v in sets.items()}
    lengths = {k: {"min": min(c), "mean": float(np.mean(c)), "max": max(c)} for k, c in counts.items()}
    assert max(counts["long"]) <= model.max_seq_length, "long texts must not be cut"
    print(f"tokens per text: {lengths}", file=sys.stderr)
    if a.write_texts:
        a.write_texts.mkdir(parents=True, exist_ok=True)
        for k, v in sets.items():
            (a.write_texts / f"{k}.txt").write_text("\n".join(v) + "\n")

    out: dict = {"threads": a.threads, "texts": 64, "tokens": lengths,
                 "timing": "batch / median batch time, >= 3 s and >= 5 batches per cell after 2 warm-up batches",
                 "versions": {"sentence_transformers": sentence_transformers.__version__, "torch": torch.__version__,
                              "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                              "numpy": np.__version__, "python": platform.python_version()},
                 "machine": {"nproc": os.cpu_count(), "cpu": cpu_model()}}
    st = {}
    for k, items in sets.items():
        for b in (1, 32):
            st[f"{k}_b{b}"] = timed(lambda x: model.encode(x, batch_size=len(x)), b, items)
            print(f"sentence-transformers {k} b{b}: {st[f'{k}_b{b}']:.1f}/s", file=sys.stderr)
    out["sentence_transformers"] = st

    try:
        import onnxruntime as ort
        import onnx
        out["versions"]["onnxruntime"] = ort.__version__
        out["versions"]["onnx"] = onnx.__version__
        class Body(torch.nn.Module):  # plain positional inputs and one output, which the exporter handles
            def __init__(self, bert):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                 token_type_ids=token_type_ids).last_hidden_state

        body = Body(model[0].auto_model.eval())
        onnx_dir = tempfile.mkdtemp(prefix="minilm-onnx-")
        atexit.register(shutil.rmtree, onnx_dir, ignore_errors=True)
        onnx_path = Path(onnx_dir) / "minilm.onnx"
        example = tok(["a b c"], return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with warnings.catch_warnings():  # the TorchScript exporter's deprecation and tracer notes
            warnings.simplefilter("ignore")
            torch.onnx.export(body, tuple(example[n] for n in names), str(onnx_path),
                              input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names},
                              opset_version=17, dynamo=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        limit = model.max_seq_length

        def embed(x: list[str]) -> np.ndarray:
            e = tok(x, padding=True, truncation=True, max_length=limit, return_tensors="np")
            h = session.run(None, {k: e[k].astype(np.int64) for k in names})[0]
            m = e["attention_mask"][..., None].astype(np.float32)
            v = (h * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)

        mixed = sets["short"][:2] + sets["long"][:2] + ["a", ""]  # a padded batch: lengths 16, 256, 3 and 2
        for k, x in {"short": sets["short"][:4], "long": sets["long"][:4], "mixed": mixed}.items():
            agree = float((embed(x) * model.encode(x)).sum(1).min())
            assert agree > 0.9999, f"the ONNX model disagrees with sentence-transformers ({k}: cosine {agree})"
        print(f"the ONNX export agrees with sentence-transformers", file=sys.stderr)
        ortr = {}
        for k, items in sets.items():
            for b in (1, 32):
                ortr[f"{k}_b{b}"] = timed(embed, b, items)
                print(f"onnxruntime {k} b{b}: {ortr[f'{k}_b{b}']:.1f}/s", file=sys.stderr)
        out["onnxruntime"] = ortr
    except Exception as e:  # report, do not hide: the table says why the column is empty
        out["onnxruntime"] = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
