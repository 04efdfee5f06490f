#!/usr/bin/env python3
"""Generate Swiftlet's Python-reference test fixtures (deterministic, fixed seeds).

How to run (from anywhere; paths are resolved relative to this file):

    python3 -m venv /work/venv
    /work/venv/bin/pip install -r tools/reference/requirements.txt
    /work/venv/bin/python tools/reference/make_fixtures.py            # writes Tests/Fixtures/
    /work/venv/bin/python tools/reference/make_fixtures.py --only quant,gguf   # a subset

Sections (all under Tests/Fixtures/):
  tokenizer/   tiny byte-level BPE (tokenizers lib, GPT-2 style ByteLevel pre-tokenizer), vocab 384:
               tokenizer.json, tokenizer_config.json, special_tokens_map.json,
               encode_cases.json (text -> ids/tokens per HF tokenizer),
               gguf_vocab.json (tokenizer.* GGUF metadata that llama.cpp's convert_hf_to_gguf.py
               would derive from this tokenizer).
  llama-tiny/  LlamaForCausalLM, random weights, float32 safetensors + config + tokenizer files,
               reference.json (prompt ids, logits at every position, greedy continuation),
               expected_tensors.json (GGUF tensor data hashes per output type, llama.cpp conventions;
               "_meta" documents the rules and the expected hyper-parameter KV pairs),
               reference_gguf.json (per output type: logits of the quantized-then-dequantized
               weights, numpy float64 forward pass, greedy continuation; and the same with the
               activations quantized to Q8_0 before products with Q8_0/Q4_*/Q5_* weights, as ggml does).
               `--only expectations` rewrites just these two files (and llama-hd-tiny's and gpt2-tiny's)
               from the committed model files, without torch.
  llama-hd-tiny/ LlamaForCausalLM like llama-tiny, but head_dim (20) != hidden_size / num_attention_heads
               (96 / 4), so attn_q is 80 x 96 and attn_output 96 x 80 (row length 80: F16 under the
               q8_0/q4 types); tied embeddings (no lm_head / output.weight: logits use token_embd);
               rope_theta 31337; same files as llama-tiny.                         --only llama-hd
  gpt2-tiny/   GPT2LMHeadModel, same layout as llama-tiny.
  quant/       bit-exactness cases for the block quantizers (raw f32 in, gguf.quants bytes out,
               dequantized f32), listed in cases.txt; summary.json has sizes and hashes.
  gguf/        python.gguf (GGUFWriter: every KV value type + tiny tensors), python.json
               (its listing as gguf.GGUFReader reports it; exactly what check_gguf.py prints for it)
               and python_hashes.json (FNV-1a 64 of each tensor's data).
  encoders (encoder_fixtures.py has the details): each directory holds the HF files, reference.json,
               expected_tensors.json and gguf_vocab.json (tokenizer.* metadata as llama.cpp writes it).
    bert-tiny/          BertForPreTraining (MLM + NSP), WordPiece tokenizer      --only bert
    bert-seqcls-tiny/   BertForSequenceClassification (labels), one shared body  --only bert
    bert-tokcls-tiny/   BertForTokenClassification (labels)                      --only bert
    bert-qa-tiny/       BertForQuestionAnswering                                 --only bert
    bert-st-tiny/       BertModel in a sentence-transformers directory           --only bert
    roberta-tiny/       RobertaForMaskedLM, byte-level BPE                       --only roberta
    distilbert-tiny/    DistilBertForMaskedLM, WordPiece                         --only distilbert
    albert-tiny/        AlbertForPreTraining (MLM + SOP), SentencePiece Unigram  --only albert

No network access is needed: nothing is downloaded, all weights are random with fixed seeds.
Re-running reproduces the same bytes with the pinned versions in requirements.txt (torch CPU,
one thread).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from hashlib import sha256
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gguf_listing import dumps_compact, fnv1a64, gguf_listing, to_json_floats  # noqa: E402

REPO = HERE.parents[1]
FIX = REPO / "Tests" / "Fixtures"

VOCAB_SIZE = 384
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
PROMPT_TEXT = "def add(a, b):\n    return a + b  # 42"
N_PROMPT = 11
N_NEW = 8

# ---------------------------------------------------------------------------------------------
# Tokenizer training corpus (a few KB; English, code, numbers, CJK, emoji, whitespace runs)
# ---------------------------------------------------------------------------------------------
CORPUS = [
    "The quick brown fox jumps over the lazy dog. The dog was not amused, but the fox did not care.",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.",
    "Swiftlet is a small inference engine. It reads GGUF files, loads the weights and runs the transformer.",
    "A tokenizer splits text into pieces; the model then predicts the next piece, one token at a time.",
    "In the beginning there was nothing, and then there was a byte, and the byte became a token.",
    "She sells sea shells by the sea shore. The shells she sells are surely sea shells.",
    "I've been told he's there; you'll see. We're not sure they'd agree, but it's fine.",
    "Hello, world! Hello, Swift! Hello again, world. Goodbye for now.",
    "def add(a, b):\n    return a + b\n\n\nclass Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
    "for i in range(10):\n    print(i, i * i, i ** 3)\n",
    "import numpy as np\nx = np.zeros((4, 4), dtype=np.float32)\nprint(x.sum())\n",
    "func add(_ a: Int, _ b: Int) -> Int {\n    return a + b\n}\n\nlet xs = [1, 2, 3].map { $0 * 2 }\n",
    "struct Tensor {\n    var shape: [Int]\n    var data: [Float]\n}\n",
    "if (x != 0 && y >= 10) { return x / y; } else { return -1; }",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }\n",
    "SELECT name, count(*) FROM users WHERE age > 30 GROUP BY name;",
    "{\"key\": \"value\", \"list\": [1, 2, 3], \"nested\": {\"a\": true, \"b\": null}}",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 42 100 1000 2024 3.14159 2.71828 -7 1e-5 0x1F 65536 99.9%",
    "Call 555-0199 at 10:30 or 14:45. Order #12345 costs $19.99 (tax 8.25%).",
    "3 33 333 3333 33333 3.3 3..3 1,000,000 1_000_000",
    "日本語のテキストです。東京は日本の首都です。今日は良い天気ですね。",
    "我想在苹果工作。中文文本也很重要。你好，世界！",
    "한국어 문장도 조금 있습니다. 안녕하세요.",
    "Ünïcödé àccents: café, naïve, résumé, Straße, Ελληνικά, русский текст.",
    "Emoji: 🚀 🦙 😀 👍 🎉 ✅ ❤️ 🌍 and a family 👨‍👩‍👧 plus flags 🇯🇵 🇺🇸.",
    "Tabs\tand\ttabs\t\tand  double  spaces   and    more     spaces.",
    "Line one\nLine two\n\nLine four\r\nWindows line\n\n\n",
    "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|endoftext|>",
    "'''''' ``````` \"\"\"\" ...... !!!!!! ?????? ------ ====== ****** ______",
    "The model predicts: the the the the of of and and to to in in is is it it that that.",
    "Machine learning models learn patterns from data. Language models learn the patterns of text.",
    "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z a b c d e f g h i j k l m n o p q r s t u v w x y z",
]


def corpus_lines() -> list[str]:
    # repeat with small variations so common pairs get merged; a few KB total
    out = []
    for rep in range(3):
        for i, line in enumerate(CORPUS):
            out.append(line if rep == 0 else f"{line} {i * (rep + 1)}")
    return out


def write_json(path: Path, obj, indent: int | None = 1, depth: int | None = None) -> None:
    """depth given: one line per entry down to that nesting level (see gguf_listing.dumps_compact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        if depth is not None:
            f.write(dumps_compact(obj, depth))
        else:
            json.dump(obj, f, ensure_ascii=False, indent=indent, allow_nan=False)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# a) tokenizer
# ---------------------------------------------------------------------------------------------
def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus_lines(), trainer=trainer)
    assert tok.get_vocab_size() == VOCAB_SIZE, tok.get_vocab_size()
    return tok


def hf_tokenizer(tok):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        add_bos_token=False,
        add_eos_token=False,
        clean_up_tokenization_spaces=False,
        model_max_length=128,
    )


SPECIAL_TOKENS_MAP = {
    "bos_token": "<|endoftext|>",
    "eos_token": "<|endoftext|>",
    "unk_token": "<|endoftext|>",
    "pad_token": "<|endoftext|>",
    "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
}

TOKENIZER_CONFIG = {
    "add_bos_token": False,
    "add_eos_token": False,
    "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
    "bos_token": "<|endoftext|>",
    "clean_up_tokenization_spaces": False,
    "eos_token": "<|endoftext|>",
    "model_max_length": 128,
    "pad_token": "<|endoftext|>",
    "tokenizer_class": "PreTrainedTokenizerFast",
    "unk_token": "<|endoftext|>",
}

ENCODE_CASES = [
    "",
    "Hello, world!",
    "Hello  world",
    " leading space",
    "trailing space ",
    "The quick brown fox jumps over the lazy dog.",
    "def add(a, b):\n    return a + b",
    "3 33 333 3333 33333 3.14159",
    "I've been told he's there; you'll see.",
    "日本語のテキスト",
    "你好，世界！",
    "🚀 🦙 😀 👨‍👩‍👧",
    "café naïve Straße",
    "tabs\t\tand\nnewlines\n\n\r\n",
    "<|im_start|>user\nhi<|im_end|>",
    "<|endoftext|>",
    "words never seen: zyxwvut qqqq",
    PROMPT_TEXT,
]


def save_tokenizer_files(hf_tok, outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    hf_tok.save_pretrained(str(outdir))
    # transformers 5 writes tokenizer_class "TokenizersBackend" (unknown to transformers 4.x and to
    # llama.cpp's pinned transformers) and no special_tokens_map.json; write portable v4-style files
    # instead (transformers 5 loads them fine; checked in make_tokenizer()).
    write_json(outdir / "tokenizer_config.json", TOKENIZER_CONFIG, indent=2)
    write_json(outdir / "special_tokens_map.json", SPECIAL_TOKENS_MAP, indent=2)
    for p in outdir.iterdir():
        if p.name not in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            p.unlink()


def llama_cpp_vocab_metadata(tokdir: Path, vocab_size: int) -> dict:
    """Re-derive what convert_hf_to_gguf.py (TextModel.get_vocab_base + _set_vocab_gpt2 +
    gguf.SpecialVocab) writes for this tokenizer. Our own code, following the converter's rules:
      - token strings: the HF vocab keys (byte-level 'Ġ'-encoded), ids 0..vocab_size-1,
        '[PAD{i}]' for ids missing from the vocab (type UNUSED)
      - token_type: added token that is special (or looks like <|...|>) -> CONTROL (3),
        other added token -> USER_DEFINED (4), everything else NORMAL (1)
      - merges: tokenizer.json model.merges joined as 'a b'
      - bos/eos/unk/pad ids: from tokenizer_config.json *_token looked up in added_tokens,
        then config.json *_token_id (first one found wins)
      - add_bos_token/add_eos_token: from tokenizer_config.json when they are booleans
    """
    import gguf
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokdir))
    reverse = {i: t for t, i in tok.get_vocab().items()}
    added = tok.get_added_vocab()
    decoder = tok.added_tokens_decoder
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(int(gguf.TokenType.UNUSED))
            continue
        t = reverse[i]
        if t in added:
            looks_special = t.startswith("<|") and t.endswith("|>")
            types.append(int(gguf.TokenType.CONTROL if (decoder[i].special or looks_special) else gguf.TokenType.USER_DEFINED))
        else:
            types.append(int(gguf.TokenType.NORMAL))
        tokens.append(t)

    sv = gguf.SpecialVocab(tokdir, load_merges=True, n_vocab=vocab_size)
    chktxt = ('\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) '
              '✅ 🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ '
              '------======= нещо на Български \'\'\'\'\'\'```````""""......!!!!!!?????? I\'ve been \'told he\'s there, '
              '\'RE you sure? \'M not sure I\'ll make it, \'D you like some tea? We\'Ve a\'lL')
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()   # the probe text is longer than model_max_length; that is fine
    chkhsh = sha256(str(tok.encode(chktxt)).encode()).hexdigest()
    md = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "gpt-2",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.merges": sv.merges,
    }
    for typ, tid in sv.special_token_ids.items():
        md[f"tokenizer.ggml.{typ}_token_id"] = tid
    for typ, val in sv.add_special_token.items():
        md[f"tokenizer.ggml.add_{typ}_token"] = val
    return {
        "_notes": [
            "What llama.cpp's convert_hf_to_gguf.py (_set_vocab_gpt2 path) would write for this tokenizer.",
            "tokenizer.ggml.pre: the converter hashes the token ids of a fixed probe text (chkhsh below) and "
            "looks the hash up in a table of known tokenizers; this tiny tokenizer's hash is not in that table, "
            "so the real converter raises 'BPE pre-tokenizer was not recognized'. 'gpt-2' is the semantically "
            "right value: our pre-tokenizer is GPT-2's ByteLevel regex (use_regex=True, add_prefix_space=False).",
            "token_type values: 1 NORMAL, 2 UNKNOWN, 3 CONTROL, 4 USER_DEFINED, 5 UNUSED, 6 BYTE.",
            "add_bos_token/add_eos_token are written by gguf.SpecialVocab only when tokenizer_config.json has them as "
            "booleans (and TemplateProcessing post-processors can set them); ours says false for both.",
        ],
        "chkhsh": chkhsh,
        "metadata": md,
    }


def make_tokenizer() -> object:
    tok = build_tokenizer()
    hf = hf_tokenizer(tok)
    outdir = FIX / "tokenizer"
    if outdir.exists():
        shutil.rmtree(outdir)
    save_tokenizer_files(hf, outdir)

    # reload from disk exactly like a user would
    from transformers import AutoTokenizer
    hf2 = AutoTokenizer.from_pretrained(str(outdir))
    assert len(hf2) == VOCAB_SIZE, len(hf2)
    cases = []
    for text in ENCODE_CASES:
        ids = hf2.encode(text)
        cases.append({
            "text": text,
            "ids": ids,
            "tokens": hf2.convert_ids_to_tokens(ids),
            "decoded": hf2.decode(ids),
        })
    assert hf2.bos_token_id == 0 and hf2.eos_token_id == 0
    assert hf2.encode("<|im_start|>x<|im_end|>")[0] == 1
    notes = ("ids from transformers AutoTokenizer.encode(text) (add_special_tokens default: adds nothing for "
             "this tokenizer); special tokens inside text are matched as whole tokens; 'decoded' is "
             "tokenizer.decode(ids) (skip_special_tokens=False).")
    with open(outdir / "encode_cases.json", "w", encoding="utf-8") as f:
        f.write('{"_notes": ' + json.dumps([notes], ensure_ascii=False) + ',\n "cases": [\n')
        f.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n ]}\n")
    write_json(outdir / "gguf_vocab.json", llama_cpp_vocab_metadata(outdir, VOCAB_SIZE), indent=None)
    return hf2


def copy_tokenizer_into(model_dir: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(FIX / "tokenizer" / name, model_dir / name)


# ---------------------------------------------------------------------------------------------
# b/c/d) tiny models + reference outputs
# ---------------------------------------------------------------------------------------------
def _init_llama(model, torch, seed: int = 20240611, tied: bool = False) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():   # a tied lm_head is not listed (it is embed_tokens)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                # tied: the embedding is also the output head; 0.3 keeps the logits spread like llama-tiny's
                p.copy_(torch.randn(p.shape, generator=g) * (0.3 if tied else 1.0))
            elif p.dim() == 2:  # nn.Linear weight (out, in)
                gain = 1.5 if ("q_proj" in name or "k_proj" in name) else 1.0
                p.copy_(torch.randn(p.shape, generator=g) * (gain / p.shape[1] ** 0.5))
            else:
                raise RuntimeError(f"unexpected parameter {name}")
        if not tied:
            # lm_head: a bit larger so logits are spread out (std ~3)
            model.lm_head.weight.mul_(3.0)


def _init_gpt2(model, torch) -> None:
    g = torch.Generator().manual_seed(20240612)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=g))
            elif name.endswith(("ln_1.bias", "ln_2.bias", "ln_f.bias")):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("wte.weight"):
                p.copy_(0.35 * torch.randn(p.shape, generator=g))
            elif name.endswith("wpe.weight"):
                p.copy_(0.35 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 2:  # Conv1D weight is (in, out)
                gain = 1.5 if name.endswith("c_attn.weight") else 1.0
                p.copy_(torch.randn(p.shape, generator=g) * (gain / p.shape[0] ** 0.5))
            else:
                raise RuntimeError(f"unexpected parameter {name}")


def _reference(model, tok, torch, name: str, extra: dict) -> dict:
    ids = tok.encode(PROMPT_TEXT)[:N_PROMPT]
    assert len(ids) == N_PROMPT, (len(ids), ids)
    x = torch.tensor([ids], dtype=torch.long)
    with torch.no_grad():
        logits = model(x).logits[0].float().numpy()
        out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=N_NEW, do_sample=False,
                             pad_token_id=0, eos_token_id=None)
    cont = out[0, N_PROMPT:].tolist()
    assert len(cont) == N_NEW, cont
    # cross-check generate() against a plain argmax loop over full forwards (no KV cache)
    seq = list(ids)
    margins = []
    with torch.no_grad():
        for _ in range(N_NEW):
            l = model(torch.tensor([seq])).logits[0, -1]
            top2 = torch.topk(l, 2).values
            margins.append(float(top2[0] - top2[1]))
            seq.append(int(torch.argmax(l)))
    assert seq[N_PROMPT:] == cont, (seq[N_PROMPT:], cont)
    lstd = float(logits.std())
    print(f"  {name}: prompt={ids} greedy={cont} logits std={lstd:.3f} min greedy margin={min(margins):.4f}")
    assert min(margins) > 1e-2, "greedy continuation is too close to a tie; change the seed"
    full_logits_last = None
    with torch.no_grad():
        full_logits_last = model(torch.tensor([seq])).logits[0, -1].float().numpy()
    import tokenizers
    import transformers
    return {
        "model": name,
        "prompt_text": PROMPT_TEXT,
        "prompt_ids": ids,
        "logits_shape": list(logits.shape),
        "logits": to_json_floats(logits),
        "greedy_new_tokens": cont,
        "greedy_min_top2_margin": round(min(margins), 6),
        "full_sequence": seq,
        "full_sequence_last_logits": to_json_floats(full_logits_last),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
        "_notes": [
            "logits[i] = model(prompt_ids).logits[0, i] (float32, [n_prompt][vocab]), no BOS is added.",
            "greedy_new_tokens = model.generate(prompt_ids, max_new_tokens=8, do_sample=False, eos_token_id=None)[n_prompt:], "
            "cross-checked against an argmax loop over full forward passes.",
            "full_sequence_last_logits = model(full_sequence).logits[0, -1] (the logits after the 8th generated token).",
        ] + extra.get("notes", []),
    }


def make_llama(tok) -> None:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    outdir = FIX / "llama-tiny"
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    cfg = LlamaConfig(
        vocab_size=VOCAB_SIZE, hidden_size=96, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=24, max_position_embeddings=128,
        rope_theta=12345.0, rms_norm_eps=1e-5, tie_word_embeddings=False, hidden_act="silu",
        attention_bias=False, mlp_bias=False, bos_token_id=0, eos_token_id=0, pad_token_id=0,
        initializer_range=0.02, use_cache=True, dtype="float32",
    )
    torch.manual_seed(1234)
    model = LlamaForCausalLM._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    _init_llama(model, torch)
    model.eval()
    model.generation_config = GenerationConfig(bos_token_id=0, eos_token_id=0, pad_token_id=0, do_sample=False)
    model.save_pretrained(str(outdir), safe_serialization=True)
    (outdir / "model.safetensors").chmod(0o644)
    copy_tokenizer_into(outdir)
    ref = _reference(model, tok, torch, "llama-tiny", {"notes": [
        "rope_theta lives in config.json rope_parameters.rope_theta (transformers 5 layout); value 12345.0.",
        "Q/K weights in model.safetensors are in HF layout (rotate_half RoPE); GGUF 'llama' expects them "
        "row-permuted (see expected_tensors.json _meta)."]})
    write_json(outdir / "reference.json", ref, indent=None)
    items, kv = write_expected_tensors_llama(outdir, cfg)
    write_reference_gguf(outdir, "llama", items, kv, ref)


def make_llama_hd(tok) -> None:
    """llama-hd-tiny: head_dim 20 with hidden_size 96 and 4 heads (not 96 / 4 = 24), tied embeddings."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    outdir = FIX / "llama-hd-tiny"
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    cfg = LlamaConfig(
        vocab_size=VOCAB_SIZE, hidden_size=96, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=20, max_position_embeddings=128,
        rope_theta=31337.0, rms_norm_eps=1e-5, tie_word_embeddings=True, hidden_act="silu",
        attention_bias=False, mlp_bias=False, bos_token_id=0, eos_token_id=0, pad_token_id=0,
        initializer_range=0.02, use_cache=True, dtype="float32",
    )
    torch.manual_seed(1235)
    model = LlamaForCausalLM._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    model.tie_weights()
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    _init_llama(model, torch, seed=20240620, tied=True)
    assert model.model.layers[0].self_attn.q_proj.weight.shape == (80, 96)
    model.eval()
    model.generation_config = GenerationConfig(bos_token_id=0, eos_token_id=0, pad_token_id=0, do_sample=False)
    model.save_pretrained(str(outdir), safe_serialization=True)
    (outdir / "model.safetensors").chmod(0o644)
    from safetensors import safe_open
    with safe_open(str(outdir / "model.safetensors"), "np") as f:
        assert "lm_head.weight" not in f.keys(), "tied lm_head was saved"
    copy_tokenizer_into(outdir)
    ref = _reference(model, tok, torch, "llama-hd-tiny", {"notes": [
        "head_dim 20 != hidden_size / num_attention_heads = 24: q_proj is (80, 96), k_proj/v_proj (40, 96), "
        "o_proj (96, 80); attention scores are scaled by 1/sqrt(20); RoPE rotates all 20 dims of each head.",
        "tie_word_embeddings true: model.safetensors has no lm_head.weight; logits = final norm output @ embed_tokens^T.",
        "rope_theta lives in config.json rope_parameters.rope_theta (transformers 5 layout); value 31337.0.",
        "Q/K weights in model.safetensors are in HF layout (rotate_half RoPE); GGUF 'llama' expects them "
        "row-permuted (see expected_tensors.json _meta)."]})
    write_json(outdir / "reference.json", ref, indent=None)
    items, kv = write_expected_tensors_llama(outdir, cfg)
    write_reference_gguf(outdir, "llama", items, kv, ref)


def make_gpt2(tok) -> None:
    import torch
    from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel

    outdir = FIX / "gpt2-tiny"
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    cfg = GPT2Config(
        vocab_size=VOCAB_SIZE, n_positions=64, n_ctx=64, n_embd=80, n_layer=2, n_head=5, n_inner=200,
        activation_function="gelu_new", layer_norm_epsilon=1e-5, resid_pdrop=0.0, embd_pdrop=0.0,
        attn_pdrop=0.0, bos_token_id=0, eos_token_id=0, pad_token_id=0, tie_word_embeddings=True,
        dtype="float32",
    )
    torch.manual_seed(4321)
    model = GPT2LMHeadModel._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    _init_gpt2(model, torch)
    model.tie_weights()
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    model.eval()
    model.generation_config = GenerationConfig(bos_token_id=0, eos_token_id=0, pad_token_id=0, do_sample=False)
    model.save_pretrained(str(outdir), safe_serialization=True)
    (outdir / "model.safetensors").chmod(0o644)
    copy_tokenizer_into(outdir)
    ref = _reference(model, tok, torch, "gpt2-tiny", {"notes": [
        "activation gelu_new (tanh approximation); LayerNorm eps 1e-5; lm_head tied to wte (only "
        "transformer.wte.weight is stored).",
        "HF Conv1D weights are stored (in, out) in model.safetensors."]})
    write_json(outdir / "reference.json", ref, indent=None)
    items, kv = write_expected_tensors_gpt2(outdir, cfg)
    write_reference_gguf(outdir, "gpt2", items, kv, ref)


# ---------------------------------------------------------------------------------------------
# e) expected GGUF tensor data (llama.cpp convert_hf_to_gguf.py conventions)
# ---------------------------------------------------------------------------------------------
OUT_TYPES = ["f32", "f16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"]


def _load_safetensors(path: Path) -> list[tuple[str, np.ndarray]]:
    from safetensors.numpy import load_file
    d = load_file(str(path))
    # the converter iterates the safetensors keys (safetensors lists them sorted by name)
    return [(k, d[k].astype(np.float32, copy=False)) for k in sorted(d.keys())]


def llama_permute(w: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """LlamaModel.permute from convert_hf_to_gguf.py (same formula, numpy)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def _qtype_for(out_type: str, gguf_name: str, n_dims: int, force_f32: bool):
    import gguf
    Q = gguf.GGMLQuantizationType
    if n_dims <= 1 or gguf_name.endswith("_norm.weight") or not gguf_name.endswith(".weight") or force_f32:
        return Q.F32
    return {"f32": Q.F32, "f16": Q.F16, "q8_0": Q.Q8_0, "q4_0": Q.Q4_0, "q4_1": Q.Q4_1, "q5_0": Q.Q5_0,
            "q5_1": Q.Q5_1}[out_type]


def _encode(data: np.ndarray, qtype):
    """gguf.quants.quantize with the converter's fallback to F16 when the row length is not a
    multiple of the block size. Returns (bytes, final qtype, ne shape)."""
    import gguf
    try:
        q = gguf.quants.quantize(data, qtype)
    except gguf.QuantError:
        qtype = gguf.GGMLQuantizationType.F16
        q = gguf.quants.quantize(data, qtype)
    shape = gguf.quant_shape_from_byte_shape(q.shape, qtype) if q.dtype == np.uint8 else q.shape
    return np.ascontiguousarray(q).tobytes(), qtype, [int(n) for n in reversed(shape)]


def _expected_tables(tensors: list[tuple[str, str, np.ndarray, str, bool]]) -> dict:
    """tensors: (gguf_name, hf_name, data (numpy, HF/torch axis order after transforms), transform, force_f32)"""
    out = {}
    for ot in OUT_TYPES:
        table = {}
        for gname, hname, data, transform, force_f32 in tensors:
            qtype = _qtype_for(ot, gname, data.ndim, force_f32)
            raw, final, ne = _encode(data, qtype)
            table[gname] = {
                "ggml_type": final.name,
                "shape": ne,
                "nbytes": len(raw),
                "fnv1a64": fnv1a64(raw),
                "hf_name": hname,
                "transform": transform,
            }
        out[ot] = table
    return out


def llama_gguf_items(model_dir: Path) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """(gguf name, hf name, data in GGUF row layout, transform, force_f32) for a HF Llama dir."""
    import gguf
    hp = json.loads((model_dir / "config.json").read_text())
    n_head, n_kv = hp["num_attention_heads"], hp["num_key_value_heads"]
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, hp["num_hidden_layers"])
    items = []
    for hname, data in _load_safetensors(model_dir / "model.safetensors"):
        transform = "none"
        if hname.endswith("q_proj.weight"):
            data, transform = llama_permute(data, n_head, n_head), f"permute(n_head={n_head})"
        elif hname.endswith("k_proj.weight"):
            data, transform = llama_permute(data, n_head, n_kv), f"permute(n_head={n_head}, n_head_kv={n_kv})"
        gname = tmap.get_name(hname, try_suffixes=(".weight", ".bias"))
        assert gname is not None, hname
        items.append((gname, hname, np.ascontiguousarray(data), transform, False))
    return items


def write_expected_tensors_llama(outdir: Path, cfg) -> None:
    n_head, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    head_dim = cfg.head_dim
    rope_theta = float(cfg.rope_parameters["rope_theta"])
    items = llama_gguf_items(outdir)
    tables = _expected_tables(items)
    fallback = [f"{g} (row length {d.shape[1]})" for g, _h, d, _t, _f in items
                if d.ndim == 2 and tables["q8_0"][g]["ggml_type"] == "F16"]
    fallback_note = (f"None in {outdir.name}." if not fallback else
                     f"In {outdir.name}: " + ", ".join(fallback) + ".")
    extra_rules = []
    if cfg.tie_word_embeddings:
        extra_rules.append("No output.weight: tie_word_embeddings is true and save_pretrained stores only "
                           "model.embed_tokens.weight; llama.cpp's llama loader then uses token_embd for the output projection.")
    if head_dim != cfg.hidden_size // n_head:
        extra_rules.append(f"head_dim {head_dim} != hidden_size / num_attention_heads ({cfg.hidden_size} / {n_head}): "
                           f"attn_q is [{cfg.hidden_size}, {n_head * head_dim}], attn_k/attn_v [{cfg.hidden_size}, {n_kv * head_dim}], "
                           f"attn_output [{n_head * head_dim}, {cfg.hidden_size}] (ne order); permute works per head on "
                           f"head_dim = {head_dim} rows.")
    tables["_meta"] = {
        "architecture": "llama",
        "converter": "llama.cpp convert_hf_to_gguf.py, class LlamaModel (re-implemented; gguf-py "
                     "quantize/tensor-name map used directly)",
        "rules": [
            "Tensor names from gguf.get_tensor_name_map(MODEL_ARCH.LLAMA, n_layers).",
            "attn_q.weight = permute(q_proj.weight, n_head, n_head); attn_k.weight = permute(k_proj.weight, n_head, n_head_kv); "
            "permute(w, n_head, n_head_kv): if n_head_kv given and != n_head use n_head = n_head_kv; "
            "w.reshape(n_head, 2, rows // n_head // 2, *rest).swapaxes(1, 2).reshape(w.shape). "
            "I.e. within each head, HF's rotate_half layout [x0..x(d/2-1) | x(d/2)..x(d-1)] becomes interleaved pairs "
            "(x0, x(d/2)), (x1, x(d/2+1)), ... as expected by llama.cpp's normal (non-NEOX) RoPE.",
            "Shapes are GGUF ne order: [row length (in_features), rows (out_features)].",
            "1-D tensors and names ending in _norm.weight are always F32.",
            "f32: everything F32 (--outtype f32). f16: 2-D weights F16 (--outtype f16). q8_0: 2-D weights Q8_0 "
            "(--outtype q8_0; convert_hf_to_gguf keeps token_embd/output at Q8_0 too).",
            "q4_0 / q4_1 / q5_0 / q5_1: NOT an outtype of convert_hf_to_gguf.py (llama-quantize makes those, and it would use "
            "other types for some tensors, e.g. Q6_K for output.weight). Here every 2-D weight is quantized with "
            "gguf.quants.quantize to that type, per the Swiftlet test plan.",
            "Any 2-D weight whose row length is not a multiple of the block size (32) falls back to F16 "
            "(convert_hf_to_gguf catches gguf.QuantError and uses F16). " + fallback_note,
            "fnv1a64: FNV-1a 64-bit over the tensor's raw data bytes as stored in the GGUF (no padding).",
        ] + extra_rules,
        "unsure": [],
        "expected_kv": {
            "general.architecture": "llama",
            "llama.block_count": cfg.num_hidden_layers,
            "llama.context_length": cfg.max_position_embeddings,
            "llama.embedding_length": cfg.hidden_size,
            "llama.feed_forward_length": cfg.intermediate_size,
            "llama.attention.head_count": n_head,
            "llama.attention.head_count_kv": n_kv,
            "llama.rope.freq_base": rope_theta,
            "llama.attention.layer_norm_rms_epsilon": cfg.rms_norm_eps,
            "llama.attention.key_length": head_dim,
            "llama.attention.value_length": head_dim,
            "llama.rope.dimension_count": head_dim,
            "llama.vocab_size": VOCAB_SIZE,
            "_note": "key_length/value_length are written because config.json has head_dim; "
                     "tokenizer.* keys: see Tests/Fixtures/tokenizer/gguf_vocab.json",
        },
    }
    write_json(outdir / "expected_tensors.json", tables, depth=2)
    return items, tables["_meta"]["expected_kv"]


def gpt2_gguf_items(model_dir: Path) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """(gguf name, hf name, data in GGUF row layout, transform, force_f32) for a HF GPT-2 dir."""
    import gguf
    hp = json.loads((model_dir / "config.json").read_text())
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GPT2, hp["n_layer"])
    items = []
    for hname, data in _load_safetensors(model_dir / "model.safetensors"):
        if hname.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # causal-mask buffers; the converter skips them (not saved by transformers 5 anyway)
        transform = "none"
        if hname.endswith((".c_attn.weight", ".c_proj.weight", ".c_fc.weight")):
            data, transform = np.ascontiguousarray(data.T), "transpose (HF Conv1D (in,out) -> (out,in))"
        gname = tmap.get_name(hname, try_suffixes=(".weight", ".bias"))
        assert gname is not None, hname
        force_f32 = gname.startswith("position_embd")
        items.append((gname, hname, data, transform, force_f32))
    return items


def write_expected_tensors_gpt2(outdir: Path, cfg) -> None:
    items = gpt2_gguf_items(outdir)
    tables = _expected_tables(items)
    tables["_meta"] = {
        "architecture": "gpt2",
        "converter": "llama.cpp convert_hf_to_gguf.py, class GPT2Model (re-implemented)",
        "rules": [
            "Tensor names from gguf.get_tensor_name_map(MODEL_ARCH.GPT2, n_layers): transformer.wte -> token_embd, "
            "wpe -> position_embd, h.N.ln_1 -> blk.N.attn_norm, attn.c_attn -> attn_qkv, attn.c_proj -> attn_output, "
            "ln_2 -> ffn_norm, mlp.c_fc -> ffn_up, mlp.c_proj -> ffn_down, ln_f -> output_norm (weights and biases).",
            "GPT2Model.modify_tensors transposes c_attn/c_proj/c_fc weights (HF Conv1D stores (in, out)), so GGUF holds "
            "(out, in) row-major: ne0 = in_features. attn_qkv rows are [Q(n_embd) | K(n_embd) | V(n_embd)], no permutation.",
            "No output.weight: HF ties lm_head to wte and save_pretrained stores only transformer.wte.weight; llama.cpp's "
            "gpt2 loader falls back to token_embd for the output projection.",
            "position_embd.weight stays F32 for every outtype (prepare_tensors forces MODEL_TENSOR.POS_EMBD to F32).",
            "Biases and norm weights are 1-D -> F32.",
            "n_embd = 80 and n_inner = 200 are not multiples of 32, so with q8_0/q4_0/q4_1/q5_0/q5_1 every 2-D weight "
            "(token_embd, attn_qkv, attn_output, ffn_up: row length 80; ffn_down: row length 200) falls back to F16.",
        ],
        "unsure": [
            "gpt2.feed_forward_length: upstream GPT2Model.set_gguf_parameters writes 4 * n_embd (= 320), not n_inner (= 200); "
            "a file converted upstream from this model would therefore disagree with its ffn tensor shapes "
            "(llama.cpp would likely refuse to load it). expected_kv below uses the true n_inner.",
            "gpt2.context_length: upstream reads hparams['n_ctx'] (config.json has n_ctx = 64 = n_positions).",
        ],
        "expected_kv": {
            "general.architecture": "gpt2",
            "gpt2.block_count": cfg.n_layer,
            "gpt2.context_length": cfg.n_positions,
            "gpt2.embedding_length": cfg.n_embd,
            "gpt2.feed_forward_length": cfg.n_inner,
            "gpt2.attention.head_count": cfg.n_head,
            "gpt2.attention.layer_norm_epsilon": cfg.layer_norm_epsilon,
        },
    }
    write_json(outdir / "expected_tensors.json", tables, depth=2)
    return items, tables["_meta"]["expected_kv"]


def write_reference_gguf(outdir: Path, arch: str, items, expected_kv: dict, ref: dict) -> None:
    """Logits of the GGUF-layout model per output type, weights dequantized (gguf.quants) and the
    forward pass done in float64 numpy (numpy_forward.py) -- what an engine that dequantizes
    weights exactly should reproduce for each quant type. The *_q8_activations fields redo it with
    the activations quantized to Q8_0 before every product with a Q8_0/Q4_*/Q5_* weight (ggml's
    CPU path; numpy_forward.q8_0_roundtrip)."""
    import gguf
    import numpy_forward as nf
    md = {k: v for k, v in expected_kv.items() if not k.startswith("_")}
    fwd = {"llama": nf.forward_llama, "gpt2": nf.forward_gpt2}[arch]
    ids = ref["prompt_ids"]
    want = np.array(ref["logits"], dtype=np.float64)
    def greedy(W, types, q8):
        seq, margins = list(ids), []
        for _ in range(N_NEW):
            last = fwd(md, W, seq, types, q8)[-1]
            top = np.sort(last)[-2:]
            margins.append(float(top[1] - top[0]))
            seq.append(int(np.argmax(last)))
        return seq[len(ids):], round(min(margins), 6)

    res = {}
    for ot in OUT_TYPES:
        W, types = {}, {}
        for gname, _h, data, _t, force_f32 in items:
            qtype = _qtype_for(ot, gname, data.ndim, force_f32)
            try:
                q = gguf.quants.quantize(data, qtype)
            except gguf.QuantError:
                qtype = gguf.GGMLQuantizationType.F16
                q = gguf.quants.quantize(data, qtype)
            W[gname] = np.asarray(gguf.quants.dequantize(q, qtype), dtype=np.float32).reshape(data.shape)
            types[gname] = qtype.name
        logits = fwd(md, W, ids)
        new_tokens, margin = greedy(W, None, False)
        logits_q8 = fwd(md, W, ids, types, True)
        new_tokens_q8, margin_q8 = greedy(W, types, True)
        res[ot] = {
            "last_logits": to_json_floats(logits[-1].astype(np.float32)),
            "max_abs_diff_vs_hf_f32": float(f"{np.abs(logits - want).max():.4g}"),
            "greedy_new_tokens": new_tokens,
            "greedy_min_top2_margin": margin,
            "last_logits_q8_activations": to_json_floats(logits_q8[-1].astype(np.float32)),
            "greedy_new_tokens_q8_activations": new_tokens_q8,
            "greedy_min_top2_margin_q8_activations": margin_q8,
        }
    write_json(outdir / "reference_gguf.json", {
        "_notes": [
            "Per GGUF output type (same tensor types as expected_tensors.json): weights quantized with gguf.quants, "
            "dequantized back to float32, forward pass in float64 numpy (tools/reference/numpy_forward.py) with "
            "llama.cpp conventions on the prompt_ids of reference.json.",
            "last_logits = logits at the last prompt position; greedy_new_tokens = 8 argmax steps (full recompute).",
            "An engine that dequantizes weights exactly and computes in float32 should be within ~1e-3 of last_logits; "
            "one that also quantizes activations (as llama.cpp's q8_0/q4 dot products do) will differ more.",
            "*_q8_activations: the same forward pass, but before every matrix product whose weight is Q8_0, Q4_0, Q4_1, "
            "Q5_0 or Q5_1 "
            "each activation row (length = the weight's row length) is rounded to float32, quantized to Q8_0 blocks of 32 "
            "as ggml's quantize_row_q8_0 does (d = max|x|/127, q = roundf(x * (1/d)), half away from zero; d stored as f16; "
            "gguf.quants is bit-exact with it) and dequantized; the product is then taken in float64. F32/F16 weights, "
            "attention (QK^T, softmax, V), norms and activations functions are unchanged. For types whose matrices all "
            "stay F32/F16 (f32, f16, and every type of gpt2-tiny, whose rows of 80/200 fall back to F16) the "
            "*_q8_activations fields equal the plain ones. Not modelled: ggml's Q4_1 path uses Q8_1 activations (same "
            "values, but the min term uses s = f16(d * sum q)), and so does Q5_1's; ggml rounds activations to f16 for F16 "
            "weights.",
            "greedy_new_tokens_q8_activations / greedy_min_top2_margin_q8_activations: 8 argmax steps (full recompute) "
            "with activation quantization on, and the smallest top-1 minus top-2 logit gap along the way.",
        ],
        "prompt_ids": ids,
        "types": res,
    }, depth=2)


def remake_expectations() -> None:
    """expected_tensors.json and reference_gguf.json of llama-tiny, llama-hd-tiny and gpt2-tiny again, from their
    committed model.safetensors, config.json and reference.json: what a new output type needs, without torch or
    transformers (numpy, safetensors and gguf; config.json has every field these functions read)."""
    from types import SimpleNamespace
    for name, arch in (("llama-tiny", "llama"), ("llama-hd-tiny", "llama"), ("gpt2-tiny", "gpt2")):
        outdir = FIX / name
        cfg = SimpleNamespace(**json.loads((outdir / "config.json").read_text()))
        ref = json.loads((outdir / "reference.json").read_text())
        write = write_expected_tensors_llama if arch == "llama" else write_expected_tensors_gpt2
        items, kv = write(outdir, cfg)
        write_reference_gguf(outdir, arch, items, kv, ref)


# ---------------------------------------------------------------------------------------------
# f) quantizer bit-exactness cases
# ---------------------------------------------------------------------------------------------
def quant_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(31337)
    f32 = np.float32
    c: dict[str, np.ndarray] = {}
    c["normal_256"] = rng.standard_normal(256).astype(f32)
    c["normal_scaled_64"] = (rng.standard_normal(64) * 0.037).astype(f32)
    c["zeros_32"] = np.zeros(32, f32)
    c["neg_zeros_32"] = np.full(32, -0.0, f32)
    c["const_pos_64"] = np.full(64, 3.3, f32)                       # max == min (q4_1 d = 0)
    c["const_neg_32"] = np.full(32, -0.7, f32)
    # Q8_0: d = amax/127; with amax = 127*2^k, d is exact and id = 1/d is exact, so x*id lands on k+0.5 exactly
    ties_q8 = np.concatenate([
        np.array([127.0] + [((i % 126) - 63 + 0.5) for i in range(31)], f32),              # d = 1
        np.array([-31.75] + [((i % 120) - 60 + 0.5) * 0.25 for i in range(31)], f32),      # d = 0.25, max negative
    ])
    c["ties_q8_0_64"] = ties_q8
    # Q4_0: d = max/-8 (max = signed value with largest |x|); max = -8 -> d = 1, id = 1: x + 8.5 integral at x = k + .5
    c["ties_q4_0_32"] = np.array([-8.0] + [((i % 15) - 7 + 0.5) for i in range(31)], f32)
    # Q4_1: d = (max - min)/15; min = 0, max = 15 -> d = 1: (x - min)*id + 0.5 integral at x = k + .5
    c["ties_q4_1_32"] = np.array([0.0, 15.0] + [((i % 15) + 0.5) for i in range(30)], f32)
    # Q5_0: max = -16 -> d = 1, id = 1: x + 16.5 integral at x = k + .5 (15.5 + 16.5 = 32 clips to 31)
    c["ties_q5_0_32"] = np.array([-16.0] + [((i % 31) - 15 + 0.5) for i in range(31)], f32)
    # Q5_1: min = 0, max = 31 -> d = 1: (x - min)*id + 0.5 integral at x = k + .5
    c["ties_q5_1_32"] = np.array([0.0, 31.0] + [((i % 31) + 0.5) for i in range(30)], f32)
    # F16 ties: exactly halfway between adjacent f16 values (round-to-nearest-even decides)
    base = np.array([1.0, 2.0, 1024.0, 0.5, -1.0, -3.0, 6.103515625e-05, 65504.0 / 2], f32)
    ulp = np.spacing(base.astype(np.float16)).astype(f32)
    f16t = np.concatenate([base + ulp / 2, base + 3 * ulp / 2, base - ulp / 2, base + ulp / 4])
    c["ties_f16_32"] = f16t.astype(f32)
    # BF16 ties: low 16 bits exactly 0x8000 (even and odd upper halves), plus NaN-free extremes
    hi = rng.integers(0x3F00, 0x4100, 32).astype(np.uint32)
    lo = np.where(np.arange(32) % 4 == 0, 0x8000, np.where(np.arange(32) % 4 == 1, 0x7FFF, np.where(np.arange(32) % 4 == 2, 0x8001, 0x0000))).astype(np.uint32)
    sign = np.where(np.arange(32) % 8 < 4, 0, 0x80000000).astype(np.uint32)
    c["ties_bf16_32"] = (sign | (hi << 16) | lo).view(f32)
    # negative-dominant blocks: largest |x| is negative
    nd = rng.uniform(-1.0, 1.0, 64).astype(f32)
    nd[5], nd[40] = -2.5, -1.75
    c["neg_dominant_64"] = nd
    # positive-dominant mixed signs, with the maximum both first and last in a block
    md = rng.uniform(-1.0, 1.0, 64).astype(f32)
    md[0], md[63] = 1.5, 1.5
    c["mixed_signs_64"] = md
    c["alternating_32"] = np.array([(-1) ** i * (i + 1) * 0.125 for i in range(32)], f32)
    c["huge_32"] = (rng.standard_normal(32) * 1e30).astype(f32)       # fp16 scale overflows to inf
    c["big_fp16_edge_32"] = np.array([65504.0, -65504.0, 65519.0, 65520.0, 70000.0, -1e5] + list(rng.uniform(-60000, 60000, 26)), f32)
    c["tiny_32"] = (rng.standard_normal(32) * 1e-30).astype(f32)      # normal f32, scale underflows f16
    sub = rng.standard_normal(64).astype(f32)
    sub[:32] *= f32(1e-3)
    sub[0] = 1.0                                                      # block 0: f32 subnormals next to 1.0
    sub[1:12] = np.array([1e-40, -1e-40, 1.4e-45, -1.4e-45, 1e-39, 5e-39, -0.0, 0.0, 1e-38, 6e-8, -3e-8], f32)
    sub[32:] = (rng.standard_normal(32) * 2e-5).astype(f32)           # block 1: f16-subnormal range, d subnormal in f16
    c["subnormal_64"] = sub
    c["one_hot_32"] = np.eye(32, dtype=f32)[7] * f32(-0.3)
    ramp = np.linspace(-1.0, 1.0, 256, dtype=f32)
    c["ramp_256"] = ramp
    return c


def make_quant() -> None:
    import gguf
    Q = gguf.GGMLQuantizationType
    outdir = FIX / "quant"
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    types = {"q8_0": Q.Q8_0, "q4_0": Q.Q4_0, "q4_1": Q.Q4_1, "q5_0": Q.Q5_0, "q5_1": Q.Q5_1, "f16": Q.F16, "bf16": Q.BF16}
    cases = quant_cases()
    names = []
    summary = {}
    with np.errstate(all="ignore"):
        for name, x in cases.items():
            x = np.ascontiguousarray(x, dtype="<f4")
            assert x.ndim == 1 and x.size % 32 == 0, name
            (outdir / f"{name}.f32").write_bytes(x.tobytes())
            summary[name] = {"n": int(x.size), "f32_fnv1a64": fnv1a64(x.tobytes())}
            for tname, qt in types.items():
                q = np.ascontiguousarray(gguf.quants.quantize(x, qt))
                raw = q.view(np.uint8).tobytes() if q.dtype != np.uint8 else q.tobytes()
                (outdir / f"{name}.{tname}").write_bytes(raw)
                deq = gguf.quants.dequantize(np.frombuffer(raw, dtype=np.uint8) if qt not in (Q.F16,) else
                                             np.frombuffer(raw, dtype=np.float16), qt)
                deq = np.ascontiguousarray(deq, dtype="<f4")
                assert deq.size == x.size, (name, tname)
                (outdir / f"{name}.{tname}.deq.f32").write_bytes(deq.tobytes())
                summary[name][tname] = {"nbytes": len(raw), "fnv1a64": fnv1a64(raw),
                                        "deq_fnv1a64": fnv1a64(deq.tobytes())}
            names.append(name)
    (outdir / "cases.txt").write_text("".join(n + "\n" for n in names))
    write_json(outdir / "summary.json", {
        "_notes": [
            "NAME.f32: input row, raw little-endian float32.",
            "NAME.<type>: gguf.quants.quantize(row, type) bytes (blocks of 32 for q8_0/q4_0/q4_1/q5_0/q5_1; "
            "f16/bf16 = 2 bytes per value, little-endian).",
            "NAME.<type>.deq.f32: gguf.quants.dequantize(those bytes) as little-endian float32.",
            "Block layouts: q8_0 = f16 d + 32 x int8; q4_0 = f16 d + 16 bytes (low nibbles = x[0..15], high nibbles = "
            "x[16..31]), q = nibble - 8; q4_1 = f16 d + f16 m + 16 bytes, x = d*q + m; q5_0 = f16 d + u32 qh + 16 "
            "bytes (bit j of qh is x[j]'s fifth bit, nibbles as q4_0), x = d*(q - 16); q5_1 = f16 d + f16 m + u32 qh + "
            "16 bytes, x = d*q + m.",
            "huge_32 quantizes to scales of +inf in f16, so its dequantized values contain inf and NaN (inf*0): "
            "compare deq bit patterns (NaN payloads included) or treat NaN==NaN.",
        ],
        "cases": summary,
    }, depth=3)


# ---------------------------------------------------------------------------------------------
# g) GGUF writer fixture
# ---------------------------------------------------------------------------------------------
def make_gguf() -> None:
    import gguf
    Q = gguf.GGMLQuantizationType
    V = gguf.GGUFValueType
    outdir = FIX / "gguf"
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    path = outdir / "python.gguf"
    w = gguf.GGUFWriter(str(path), arch="llama")   # writes general.architecture = "llama" first
    w.add_string("general.name", "swiftlet python fixture")
    w.add_uint8("test.uint8", 200)
    w.add_int8("test.int8", -100)
    w.add_uint16("test.uint16", 60000)
    w.add_int16("test.int16", -30000)
    w.add_uint32("test.uint32", 4000000000)
    w.add_int32("test.int32", -2000000000)
    w.add_float32("test.float32", 0.1)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "héllo wörld 世界 🦙\nsecond line\t\"quoted\"")
    w.add_uint64("test.uint64", 18446744073709551615)
    w.add_int64("test.int64", -9223372036854775808)
    w.add_float64("test.float64", 2.718281828459045)
    w.add_array("test.array.int32", [1, -2, 3, 2147483647, -2147483648])
    w.add_array("test.array.float32", [0.5, -1.25, 3.0e-8, 1.0e30])
    w.add_array("test.array.string", ["alpha", "", "γάμμα", "<|endoftext|>", "a b"])
    w.add_array("test.array.bool", [True, False, True])
    w.add_key_value("test.array.uint8", [0, 1, 254, 255], V.ARRAY, sub_type=V.UINT8)
    w.add_key_value("test.array.int64", [-1, 9223372036854775807], V.ARRAY, sub_type=V.INT64)
    w.add_key_value("test.array.float64", [1.0 / 3.0, -0.0], V.ARRAY, sub_type=V.FLOAT64)
    w.add_uint32("general.alignment", 32)
    w.add_uint32("general.quantization_version", gguf.GGML_QUANT_VERSION)

    rng = np.random.default_rng(7)
    a32 = rng.standard_normal((3, 32)).astype(np.float32)
    w.add_tensor("t.f32", a32)                                                     # ne [32, 3]
    w.add_tensor("t.f16", rng.standard_normal((2, 5)).astype(np.float16))         # ne [5, 2] (odd size -> padding)
    w.add_tensor("t.q8_0", gguf.quants.quantize(rng.standard_normal((2, 64)).astype(np.float32), Q.Q8_0), raw_dtype=Q.Q8_0)
    w.add_tensor("t.q4_0", gguf.quants.quantize(rng.standard_normal((1, 32)).astype(np.float32), Q.Q4_0), raw_dtype=Q.Q4_0)
    w.add_tensor("t.q4_1", gguf.quants.quantize(rng.standard_normal((3, 32)).astype(np.float32), Q.Q4_1), raw_dtype=Q.Q4_1)
    w.add_tensor("t.bf16", gguf.quants.quantize(rng.standard_normal((2, 3)).astype(np.float32), Q.BF16), raw_dtype=Q.BF16)
    w.add_tensor("t.f32_3d", rng.standard_normal((2, 3, 4)).astype(np.float32))   # ne [4, 3, 2]
    w.add_tensor("t.q8_0_3d", gguf.quants.quantize(rng.standard_normal((2, 2, 32)).astype(np.float32), Q.Q8_0), raw_dtype=Q.Q8_0)
    w.add_tensor("t.f32_1d", np.arange(7, dtype=np.float32))                      # ne [7]
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    listing = gguf_listing(path)
    # per-tensor data hashes (handy for the Swift reader tests)
    r = gguf.GGUFReader(path)
    hashes = {}
    for t in r.tensors:
        start = int(t.data_offset)
        hashes[t.name] = fnv1a64(r.data[start:start + int(t.n_bytes)].tobytes())
    write_json(outdir / "python.json", listing, depth=2)
    write_json(outdir / "python_hashes.json", {"_notes": ["FNV-1a 64 of each tensor's raw data bytes in python.gguf"],
                                               "fnv1a64": hashes}, depth=2)


# ---------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="tokenizer,llama,llama-hd,gpt2,quant,gguf,bert,roberta,distilbert,albert",
                    help="comma list of sections: tokenizer,llama,llama-hd,gpt2,quant,gguf,bert,roberta,distilbert,"
                         "albert (llama, llama-hd and gpt2 need tokenizer); expectations: only the GGUF "
                         "expectations of llama, llama-hd and gpt2, from their committed files")
    args = ap.parse_args()
    only = set(args.only.split(","))

    # quant, gguf and expectations need no torch: it is imported for the sections that build models.
    if only - {"quant", "gguf", "expectations"}:
        import torch
        torch.manual_seed(0)
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)

    FIX.mkdir(parents=True, exist_ok=True)
    tok = None
    if only & {"tokenizer", "llama", "llama-hd", "gpt2"}:
        print("tokenizer")
        tok = make_tokenizer()
    if "llama" in only:
        print("llama-tiny")
        make_llama(tok)
    if "llama-hd" in only:
        print("llama-hd-tiny")
        make_llama_hd(tok)
    if "gpt2" in only:
        print("gpt2-tiny")
        make_gpt2(tok)
    if "expectations" in only:
        print("expectations")
        remake_expectations()
    if "quant" in only:
        print("quant")
        make_quant()
    if "gguf" in only:
        print("gguf")
        make_gguf()
    import encoder_fixtures as enc
    for family in ("bert", "roberta", "distilbert", "albert"):
        if family in only:
            print(family)
            torch.manual_seed(0)
            getattr(enc, f"make_{family}")(FIX, corpus_lines())
    print("done")


if __name__ == "__main__":
    main()
