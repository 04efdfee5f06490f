"""Sentence embeddings per second of all-MiniLM-L6-v2 with sentence-transformers (torch, CPU) and ONNX Runtime,
for tools/bench/encoder.sh: short (about 16 tokens) and long (about 256) texts, batches of 1 and 32, each cell
timed for at least 3 s after a warm-up, tokenization included (as `swiftlet embed` counts it).

    python tools/bench/encoder_reference.py --model DIR [--threads 2] [--write-texts DIR]

Prints one JSON object: {"sentence_transformers": {"short_b1": s/s, ...}, "onnxruntime": {...} or {"error": ...},
"threads": N, "texts": N, "versions": {...}}; --write-texts writes short.txt and long.txt (one text per line) so
that Swiftlet embeds the very same texts. ONNX Runtime runs the transformer exported by torch.onnx; pooling and
normalization are done in numpy, as sentence-transformers does them.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WORDS = ("the model reads every sentence of a long document and turns it into a vector that keeps its meaning "
         "so that similar questions and answers end up close together while unrelated texts stay far apart").split()


def texts(n: int, words: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=words)) + "." for _ in range(n)]


def timed(run, batch: int, items: list[str]) -> float:
    """Sentences per second: batches of `batch` texts over `items`, repeated for at least 3 s after a warm-up."""
    run(items[:batch])
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < 3:
        for i in range(0, len(items), batch):
            run(items[i:i + batch])
        done += len(items)
    return done / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--write-texts", type=Path)
    a = ap.parse_args()

    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(a.threads)
    model = SentenceTransformer(a.model, device="cpu")
    tok = model.tokenizer
    sets = {"short": texts(64, 12, 1), "long": texts(64, 230, 2)}
    lengths = {k: float(np.mean([len(tok(t)["input_ids"]) for t in v])) for k, v in sets.items()}
    print(f"mean tokens: {lengths}", file=sys.stderr)
    if a.write_texts:
        a.write_texts.mkdir(parents=True, exist_ok=True)
        for k, v in sets.items():
            (a.write_texts / f"{k}.txt").write_text("\n".join(v) + "\n")

    out: dict = {"threads": a.threads, "texts": 64, "mean_tokens": lengths,
                 "versions": {"torch": torch.__version__, "transformers": transformers.__version__}}
    st = {}
    for k, items in sets.items():
        for b in (1, 32):
            st[f"{k}_b{b}"] = timed(lambda x: model.encode(x, batch_size=len(x)), b, items)
            print(f"sentence-transformers {k} b{b}: {st[f'{k}_b{b}']:.1f}/s", file=sys.stderr)
    out["sentence_transformers"] = st

    try:
        import onnxruntime as ort
        out["versions"]["onnxruntime"] = ort.__version__
        class Body(torch.nn.Module):  # plain positional inputs and one output, which the exporter handles
            def __init__(self, bert):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                 token_type_ids=token_type_ids).last_hidden_state

        body = Body(model[0].auto_model.eval())
        onnx_path = Path(tempfile.mkdtemp()) / "minilm.onnx"
        example = tok(["a b c"], return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
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

        check = embed(sets["short"][:4])
        ref = model.encode(sets["short"][:4])
        assert float((check * ref).sum(1).min()) > 0.9999, "the ONNX model disagrees with sentence-transformers"
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
