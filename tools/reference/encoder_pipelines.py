"""transformers' pipelines on the tiny encoder fixtures, for the CLI tests of fill-mask, classify, ner and qa:
writes Tests/Fixtures/pipelines/pipelines.json. Run after make_fixtures.py, from the repository root:
    python tools/reference/encoder_pipelines.py
transformers 5 removed the question-answering pipeline; run this with transformers 4 (the last 4.x keeps it),
e.g. installed beside the fixtures' environment and put first on the path:
    pip install --target /tmp/tf4 --no-deps "transformers==4.57.1" "tokenizers==0.22.1" "huggingface_hub<1.0"
    PYTHONPATH=/tmp/tf4 python tools/reference/encoder_pipelines.py
The weights are random, so the answers mean nothing; what counts is that Swiftlet's commands give the same ones
(the same tokens, labels, spans and character offsets, scores within float tolerance).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import transformers
from transformers import pipeline

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"

MASK_TEXT = "The quick brown {mask} jumps over the lazy dog."
CLASSIFY = [("It was the best of times.", None), ("The dog sleeps.", "The fox jumps over it.")]
NER_TEXTS = ["Hello world, she sells sea shells by the sea.", "The quick brown fox jumps over the lazy dog in 2024."]
QA = [
    ("Who jumps?", "The quick brown fox jumps over the lazy dog."),
    # Longer than the fixture's 48 positions: read in overlapping windows (doc_stride).
    ("What is the name?", "It was the best of times, it was the worst of times. The model predicts the next token "
     "from the text, and the name of the model is Swift; then it learns patterns from data, again and again, "
     "one token at a time, until the end of the world."),
]


def main() -> None:
    torch.manual_seed(0)
    out: dict = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__}}

    masks = {}
    for name in ["bert-tiny", "roberta-tiny", "distilbert-tiny", "albert-tiny"]:
        p = pipeline("fill-mask", model=str(FIX / name), device="cpu")
        if name.startswith("distilbert"):  # the fixture shares BERT's tokenizer, which makes token types
            p.tokenizer.model_input_names = ["input_ids", "attention_mask"]
        text = MASK_TEXT.format(mask=p.tokenizer.mask_token)
        masks[name] = {"text": text, "top": [
            {"id": int(r["token"]), "token": r["token_str"], "score": float(r["score"])} for r in p(text, top_k=5)]}
    out["fill_mask"] = masks

    p = pipeline("text-classification", model=str(FIX / "bert-seqcls-tiny"), device="cpu")
    out["classify"] = [
        {"text": a, "pair": b, "labels": [{"label": r["label"], "score": float(r["score"])} for r in
                                          p({"text": a, "text_pair": b} if b else a, top_k=None)]}
        for a, b in CLASSIFY]

    p = pipeline("token-classification", model=str(FIX / "bert-tokcls-tiny"), aggregation_strategy="simple", device="cpu")
    out["ner"] = [{"text": t, "entities": [
        {"word": e["word"], "label": e["entity_group"], "start": int(e["start"]), "end": int(e["end"]),
         "score": float(e["score"])} for e in p(t)]} for t in NER_TEXTS]

    p = pipeline("question-answering", model=str(FIX / "bert-qa-tiny"), device="cpu")
    out["qa"] = []
    for q, c in QA:
        r = p(question=q, context=c)
        out["qa"].append({"question": q, "context": c, "answer": r["answer"], "start": int(r["start"]),
                          "end": int(r["end"]), "score": float(r["score"])})

    path = FIX / "pipelines" / "pipelines.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
