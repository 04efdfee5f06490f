#!/usr/bin/env python3
"""Decoder fixtures for quantize's Mixtral, Mistral, CTRL and XLNet conversions (deterministic, fixed seeds).

    /work/venv/bin/python tools/reference/make_decoder_fixtures.py                   # writes all four
    /work/venv/bin/python tools/reference/make_decoder_fixtures.py --only ctrl,xlnet
    /work/venv/bin/python tools/reference/make_decoder_fixtures.py --llama-cpp DIR   # and cross-check with llama.cpp

Each Tests/Fixtures/<name>-tiny/ holds a Hugging Face directory (config.json, model.safetensors, tokenizer files)
made from random weights, plus
  reference.json          prompt ids, transformers' logits at every prompt position, 8 greedy tokens;
  expected_tensors.json   per output type (f32 f16 q8_0 q4_0 q4_1) every GGUF tensor's ggml type, shape (ne order),
                          byte count and FNV-1a 64 of its bytes (gguf.quants.quantize), llama-tiny's format; "_meta"
                          has the rules and the expected hyper-parameter keys;
  gguf_vocab.json         every tokenizer.* key the GGUF must hold.

  mixtral-tiny  MixtralForCausalLM (GGUF "llama"): 4 experts, top-2, head_dim 24 ≠ 64/4, ff 40 (expert down
                projections fall back to F16), bf16 safetensors as Mixtral ships; tokenizer.model is a
                SentencePiece BPE with byte fallback trained here, with tokenizer.json and a v4-style
                tokenizer_config.json.
  mistral-tiny  MistralForCausalLM (GGUF "llama"): one KV head, sliding_window 5 < the prompt; the same
                SentencePiece model plus added_tokens.json (a special and a plain added token) and vocab_size
                padded past them.
  ctrl-tiny     CTRLLMHeadModel (GGUF "ctrl", Swiftlet's names): vocab.json + merges.txt learned here in CTRL's
                "@@" BPE format.
  xlnet-tiny    XLNetLMHeadModel (GGUF "xlnet", Swiftlet's names): spiece.model is a SentencePiece unigram model
                with XLNet's control symbols and a small custom normalization rule set (so it carries a
                precompiled charsmap), with transformers' tokenizer.json and tokenizer_config.json.

The tokenizer expectations follow llama.cpp's convert_hf_to_gguf.py (LlamaModel.set_vocab →
_create_vocab_sentencepiece + gguf.SpecialVocab for the llama family; T5Model.set_vocab's unigram vocabulary for
XLNet) and formats/FORMAT.md for the keys that are Swiftlet's. With --llama-cpp DIR (a ggml-org/llama.cpp
checkout), mixtral-tiny and mistral-tiny are also converted by DIR/convert_hf_to_gguf.py at f32, f16 and q8_0 and
every tensor and tokenizer key is asserted equal to the expectations written here.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gguf_listing import fnv1a64, to_json_floats  # noqa: E402
from make_fixtures import OUT_TYPES, _expected_tables, llama_permute, write_json  # noqa: E402

FIX = HERE.parents[1] / "Tests" / "Fixtures"
N_NEW = 8
SPM_VOCAB = 384

SPM_CORPUS = """The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Mixtral routes every token to two of its eight experts; Mistral slides a window over the past.
def add(a, b):
    return a + b  # 42
for i in range(10): print(i, i * i)
Sphinx of black quartz, judge my vow. How vexingly quick daft zebras jump!
"""
LLAMA_PROMPT = "Mistral slides a window ¿"   # ¿ is not in the vocabulary: byte fallback

CTRL_CORPUS = """Wikipedia The llama is a domesticated South American camelid, widely used as a meat and pack animal.
Books The quick brown fox jumps over the lazy dog, and the dog does not care about the fox at all.
Reviews Rating: 5.0 This is the best little model I have ever loaded; it runs fast and small.
Questions Q: What is a control code? A: The first token, which tells the model what kind of text to write.
Wikipedia The transformer is a model that reads a sequence of tokens and predicts the next one.
"""
CTRL_PROMPT = "Wikipedia The llama is a fast fox, and the dog jumps"

XLNET_CORPUS = """XLNet permutes the factorization order; it reads the whole sentence both ways.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Sphinx of black quartz, judge my vow. How vexingly quick daft zebras jump!
Café naïve résumé ﬁne Ａ ``quoted'' text … 123 456 7890. When in doubt, permute the order.
Relative positions and segment encodings make a memory of the past useful for the next segment.
"""
XLNET_PROMPT = "The quick fox reads the whole ﬁne order"
# sentencepiece normalization rules (code points in hex → replacement): small, so the charsmap stays small
XLNET_RULES = "FB01\t66 69\nFF21\t41\n2026\t2E 2E 2E\n"


def manual_seed(seed: int):
    import torch
    return torch.Generator().manual_seed(seed)


def fresh(name: str) -> Path:
    d = FIX / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def save(model, outdir: Path) -> None:
    model.save_pretrained(str(outdir), safe_serialization=True)
    (outdir / "model.safetensors").chmod(0o644)


def load_tensors(path: Path) -> list[tuple[str, np.ndarray]]:
    """(name, float32 values) sorted by name; torch reads bf16, which numpy cannot."""
    from safetensors.torch import load_file
    d = load_file(str(path))
    return [(k, d[k].float().numpy()) for k in sorted(d)]


# ---------------------------------------------------------------------------------------------
# references
# ---------------------------------------------------------------------------------------------
def greedy(step, ids: list[int]) -> tuple[list[int], float]:
    """N_NEW argmax steps of step(seq) -> next-token logits (full recompute); also the smallest top-2 margin."""
    import torch
    seq, margins = list(ids), []
    for _ in range(N_NEW):
        logits = step(seq)
        top2 = torch.topk(logits, 2).values
        margins.append(float(top2[0] - top2[1]))
        seq.append(int(torch.argmax(logits)))
    return seq[len(ids):], min(margins)


def reference(name: str, prompt_text: str, ids: list[int], logits, cont: list[int], margin: float, notes: list[str]) -> dict:
    import tokenizers
    import torch
    import transformers
    print(f"  {name}: prompt={ids} greedy={cont} logits std={float(logits.std()):.3f} min greedy margin={margin:.4f}")
    assert margin > 1e-2, "greedy continuation is too close to a tie; change the seed"
    return {
        "model": name,
        "prompt_text": prompt_text,
        "prompt_ids": ids,
        "logits_shape": list(logits.shape),
        "logits": to_json_floats(logits),
        "greedy_new_tokens": cont,
        "greedy_min_top2_margin": round(margin, 6),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
        "_notes": notes,
    }


def causal_reference(model, name: str, prompt_text: str, ids: list[int], notes: list[str]) -> dict:
    """Logits at every prompt position; generate()'s greedy continuation, checked against full recomputes."""
    import torch
    x = torch.tensor([ids])
    with torch.no_grad():
        logits = model(x).logits[0].float().numpy()
        out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=N_NEW, do_sample=False,
                             pad_token_id=0, eos_token_id=None)
        cont, margin = greedy(lambda s: model(torch.tensor([s])).logits[0, -1], ids)
    assert out[0, len(ids):].tolist() == cont, (out[0, len(ids):].tolist(), cont)
    return reference(name, prompt_text, ids, logits, cont, margin, [
        "logits[i] = model(prompt_ids).logits[0, i] (float32, [n_prompt][vocab]).",
        "greedy_new_tokens = model.generate(prompt_ids, max_new_tokens=8, do_sample=False, eos_token_id=None)"
        "[n_prompt:], checked against an argmax loop over full forward passes.",
    ] + notes)


# ---------------------------------------------------------------------------------------------
# SentencePiece tokenizers
# ---------------------------------------------------------------------------------------------
def train_spm(prefix: Path, **kwargs) -> Path:
    """A SentencePiece model trained into prefix.model, with the temporary paths the trainer records cleared so
    that the file's bytes do not depend on where it was made."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb
    spm.SentencePieceTrainer.train(minloglevel=2, num_threads=1, character_coverage=1.0, **kwargs,
                                   model_prefix=str(prefix))
    prefix.with_suffix(".vocab").unlink()
    path = prefix.with_suffix(".model")
    m = pb.ModelProto()
    m.ParseFromString(path.read_bytes())
    m.trainer_spec.ClearField("model_prefix")
    m.normalizer_spec.ClearField("normalization_rule_tsv")
    path.write_bytes(m.SerializeToString())
    return path


def llama_spm(tmp: Path) -> Path:
    """A Llama-style tokenizer.model: BPE, byte fallback, <unk> <s> </s> at 0 1 2, digits split."""
    lines = SPM_CORPUS.splitlines() * 20
    return train_spm(tmp / "llama", sentence_iterator=iter(lines), vocab_size=SPM_VOCAB, model_type="bpe",
                     byte_fallback=True, split_digits=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
                     normalization_rule_name="identity", remove_extra_whitespaces=False,
                     allow_whitespace_only_pieces=True)


def llama_tokenizer_files(outdir: Path, spm_model: Path, config: dict, added: list[tuple[str, bool]]) -> object:
    """tokenizer.model, a hand-written transformers-4 tokenizer_config.json (as Mistral and Mixtral ship it),
    added_tokens.json for `added` (content, special), and the tokenizer.json transformers derives from them."""
    from transformers import AutoTokenizer
    shutil.copyfile(spm_model, outdir / "tokenizer.model")
    n = SPM_VOCAB
    decoder = {"0": "<unk>", "1": "<s>", "2": "</s>"}
    specials = {str(i): {"content": c, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
                         "special": True} for i, c in decoder.items()}
    for i, (content, special) in enumerate(added):
        specials[str(n + i)] = {"content": content, "lstrip": False, "normalized": False, "rstrip": False,
                                "single_word": False, "special": special}
    if added:
        write_json(outdir / "added_tokens.json", {c: n + i for i, (c, _) in enumerate(added)}, indent=2)
    write_json(outdir / "tokenizer_config.json", {"add_bos_token": True, "add_eos_token": False,
                                                  "added_tokens_decoder": specials, **config}, indent=2)
    tok = AutoTokenizer.from_pretrained(str(outdir))
    with tempfile.TemporaryDirectory() as t:
        tok.save_pretrained(t)
        shutil.copyfile(Path(t) / "tokenizer.json", outdir / "tokenizer.json")
    tok = AutoTokenizer.from_pretrained(str(outdir))   # as a user loads it: tokenizer.json + tokenizer_config.json
    for i, (content, _) in enumerate(added):
        assert tok.convert_tokens_to_ids(content) == n + i, content
    return tok


def spm_vocab(model_path: Path, vocab_size: int) -> tuple[list[str], list[float], list[int]]:
    """convert_hf_to_gguf.py's _create_vocab_sentencepiece / T5Model.set_vocab piece loop."""
    import gguf
    from sentencepiece import SentencePieceProcessor
    T = gguf.TokenType
    sp = SentencePieceProcessor()
    sp.LoadFromFile(str(model_path))
    tokens = [f"[PAD{i}]" for i in range(vocab_size)]
    scores = [-10000.0] * vocab_size
    types = [int(T.UNUSED)] * vocab_size
    for i in range(min(sp.vocab_size(), vocab_size)):
        t = T.NORMAL
        if sp.IsUnknown(i):
            t = T.UNKNOWN
        elif sp.IsControl(i):
            t = T.CONTROL
        elif sp.IsUnused(i):
            t = T.UNUSED
        elif sp.IsByte(i):
            t = T.BYTE
        tokens[i], scores[i], types[i] = sp.IdToPiece(i), sp.GetScore(i), int(t)
    return tokens, scores, types


def llama_spm_metadata(outdir: Path, vocab_size: int) -> dict:
    """What LlamaModel.set_vocab writes for a directory with tokenizer.model."""
    import gguf
    tokens, scores, types = spm_vocab(outdir / "tokenizer.model", vocab_size)
    added = outdir / "added_tokens.json"
    for content, i in (json.loads(added.read_text()) if added.exists() else {}).items():
        tokens[i], scores[i], types[i] = content, -1000.0, int(gguf.TokenType.USER_DEFINED)
    tc = json.loads((outdir / "tokenizer_config.json").read_text())
    for key, entry in tc.get("added_tokens_decoder", {}).items():
        i, content = int(key), entry["content"]
        looks_special = content.startswith("<|") and content.endswith("|>")
        if entry.get("special") or looks_special:
            types[i] = int(gguf.TokenType.CONTROL)
        else:
            content = content.replace("\u2581", " ")
            types[i] = int(gguf.TokenType.USER_DEFINED)
        tokens[i], scores[i] = content, -1000.0
    md = {"tokenizer.ggml.model": "llama", "tokenizer.ggml.pre": "default", "tokenizer.ggml.tokens": tokens,
          "tokenizer.ggml.scores": scores, "tokenizer.ggml.token_type": types}
    sv = gguf.SpecialVocab(outdir, n_vocab=vocab_size)
    names = {"unk": "unknown", "sep": "seperator", "pad": "padding"}
    for kind, i in sv.special_token_ids.items():
        if kind != "cls":   # gguf-py has no key for cls and skips it
            md[f"tokenizer.ggml.{names.get(kind, kind)}_token_id"] = i
    for kind, v in sv.add_special_token.items():
        if kind in ("bos", "eos", "sep"):
            md[f"tokenizer.ggml.add_{kind}_token"] = v
    if sv.chat_template is not None:
        md["tokenizer.chat_template"] = sv.chat_template
    return md


# ---------------------------------------------------------------------------------------------
# Llama family: Mixtral and Mistral
# ---------------------------------------------------------------------------------------------
def init_llama(model, seed: int, bf16: bool) -> None:
    import torch
    g = manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            elif name.endswith("mlp.gate.weight"):   # router: decisive, so top-2 is not a near tie
                p.copy_(torch.randn(p.shape, generator=g) * (3.0 / p.shape[-1] ** 0.5))
            else:   # Linear (out, in) and stacked experts (E, out, in)
                gain = 1.5 if ("q_proj" in name or "k_proj" in name) else 1.0
                p.copy_(torch.randn(p.shape, generator=g) * (gain / p.shape[-1] ** 0.5))
        model.lm_head.weight.mul_(3.0)
        if bf16:   # values bf16 can hold, so the bf16 file and the float32 reference are the same model
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).float())


def llama_items(outdir: Path) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """(GGUF name, HF name, data in GGUF row layout, transform, force F32) as LlamaModel.modify_tensors makes them."""
    import gguf
    hp = json.loads((outdir / "config.json").read_text())
    n_head, n_kv, n_layer = hp["num_attention_heads"], hp["num_key_value_heads"], hp["num_hidden_layers"]
    n_experts = hp.get("num_local_experts", 0)
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layer)
    tensors = dict(load_tensors(outdir / "model.safetensors"))
    items = []
    for hname, data in tensors.items():
        transform = "none"
        if hname.endswith("q_proj.weight"):
            data, transform = llama_permute(data, n_head, n_head), f"permute(n_head={n_head})"
        elif hname.endswith("k_proj.weight"):
            data, transform = llama_permute(data, n_head, n_kv), f"permute(n_head={n_head}, n_head_kv={n_kv})"
        elif ".block_sparse_moe.experts." in hname:
            continue   # stacked below
        gname = tmap.get_name(hname, try_suffixes=(".weight", ".bias"))
        assert gname is not None, hname
        items.append((gname, hname, np.ascontiguousarray(data), transform, gname.endswith("ffn_gate_inp.weight")))
    for bid in range(n_layer if n_experts else 0):
        for wid in ("w1", "w2", "w3"):
            names = [f"model.layers.{bid}.block_sparse_moe.experts.{e}.{wid}.weight" for e in range(n_experts)]
            gname = tmap.get_name(f"layers.{bid}.feed_forward.experts.{wid}.weight", try_suffixes=(".weight",))
            items.append((gname, ",".join(names), np.stack([tensors[n] for n in names]),
                          f"stack experts 0..{n_experts - 1} along a new outer axis", False))
    return items


def llama_expected_kv(cfg, extra: dict) -> dict:
    return {
        "general.architecture": "llama",
        "llama.vocab_size": cfg.vocab_size,
        "llama.context_length": cfg.max_position_embeddings,
        "llama.embedding_length": cfg.hidden_size,
        "llama.block_count": cfg.num_hidden_layers,
        "llama.feed_forward_length": cfg.intermediate_size,
        "llama.attention.head_count": cfg.num_attention_heads,
        "llama.attention.head_count_kv": cfg.num_key_value_heads,
        "llama.attention.layer_norm_rms_epsilon": cfg.rms_norm_eps,
        "llama.rope.freq_base": cfg.rope_parameters["rope_theta"],
        **extra,
    }


def write_expectations(outdir: Path, items, meta: dict, vocab: dict, vocab_notes: list[str]) -> None:
    tables = _expected_tables(items)
    tables["_meta"] = meta
    write_json(outdir / "expected_tensors.json", tables, depth=2)
    write_json(outdir / "gguf_vocab.json", {"_notes": vocab_notes, "metadata": vocab}, indent=None)


LLAMA_RULES = [
    "Tensor names from gguf.get_tensor_name_map(MODEL_ARCH.LLAMA, n_layers); Q and K rows permuted as "
    "LlamaModel.permute (see llama-tiny/expected_tensors.json).",
    "Shapes are GGUF ne order; 1-D tensors and *_norm.weight are F32; ffn_gate_inp (the MoE router) is F32 at "
    "every type, as convert_hf_to_gguf.py's prepare_tensors keeps it.",
    "A 2-D or 3-D weight whose row length is not a multiple of 32 falls back to F16 for q8_0/q4_0/q4_1.",
    "q4_0 / q4_1 are not outtypes of convert_hf_to_gguf.py; every quantizable weight is quantized to that type "
    "with gguf.quants.quantize.",
]
LLAMA_VOCAB_NOTES = [
    "tokenizer.* keys convert_hf_to_gguf.py writes for this directory: LlamaModel.set_vocab finds tokenizer.model, so "
    "_set_vocab_sentencepiece: pieces by id (user-defined pieces count as NORMAL), ids past the pieces [PAD{i}] with "
    "score -10000 (UNUSED); added_tokens.json USER_DEFINED and tokenizer_config.json added_tokens_decoder "
    "CONTROL/USER_DEFINED, both score -1000; then gguf.SpecialVocab (ids by content from tokenizer.json's "
    "added_tokens, then config.json; add_bos/add_sep from tokenizer.json's TemplateProcessing, add_eos from "
    "tokenizer_config.json).",
    "token_type: 1 NORMAL, 2 UNKNOWN, 3 CONTROL, 4 USER_DEFINED, 5 UNUSED, 6 BYTE.",
]


def make_mixtral(spm_model: Path) -> None:
    import torch
    from transformers import GenerationConfig, MixtralConfig, MixtralForCausalLM
    outdir = fresh("mixtral-tiny")
    tok = llama_tokenizer_files(outdir, spm_model, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                                                    "pad_token": None, "legacy": False, "clean_up_tokenization_spaces": False,
                                                    "model_max_length": 1000000000000000019884624838656,
                                                    "tokenizer_class": "LlamaTokenizer"}, [])
    cfg = MixtralConfig(vocab_size=SPM_VOCAB, hidden_size=64, intermediate_size=40, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, head_dim=24, num_local_experts=4,
                        num_experts_per_tok=2, max_position_embeddings=128, rope_theta=1e6, rms_norm_eps=1e-5,
                        sliding_window=None, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                        router_jitter_noise=0.0, dtype="bfloat16")
    torch.manual_seed(5150)
    model = MixtralForCausalLM._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    init_llama(model, 2, bf16=True)
    model.eval()
    ids = tok(LLAMA_PROMPT).input_ids
    ref = causal_reference(model, "mixtral-tiny", LLAMA_PROMPT, ids, [
        "Weights are bf16 values, stored as bf16 in model.safetensors; the reference runs them in float32.",
        "prompt_ids = the tokenizer's encoding with its BOS; the last two ids are byte-fallback pieces for '¿'.",
        "Experts: softmax over the 4 router logits, top 2, their weights renormalized to sum 1 (Mixtral).",
    ])
    model.to(torch.bfloat16)
    model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=2, do_sample=False)
    save(model, outdir)
    write_json(outdir / "reference.json", ref, indent=None)
    n = SPM_VOCAB
    write_expectations(outdir, llama_items(outdir), {
        "architecture": "llama",
        "converter": "llama.cpp convert_hf_to_gguf.py, class LlamaModel (MixtralForCausalLM), re-implemented",
        "rules": LLAMA_RULES + [
            "Experts: model.layers.N.block_sparse_moe.experts.E.{w1,w2,w3} stacked over E (torch.stack dim 0) into "
            "blk.N.ffn_gate_exps (w1), ffn_down_exps (w2), ffn_up_exps (w3): ne [64, 40, 4], [40, 64, 4], [64, 40, 4]. "
            "Row length 40 makes ffn_down_exps F16 for the quantized types.",
            "model.layers.N.block_sparse_moe.gate -> blk.N.ffn_gate_inp.weight, ne [64, 4], F32.",
        ],
        "expected_kv": llama_expected_kv(cfg, {"llama.expert_count": 4, "llama.expert_used_count": 2,
                                               "llama.attention.key_length": 24, "llama.attention.value_length": 24,
                                               "llama.rope.dimension_count": 24}),
    }, llama_spm_metadata(outdir, n), LLAMA_VOCAB_NOTES)


def make_mistral(spm_model: Path) -> None:
    import torch
    from transformers import GenerationConfig, MistralConfig, MistralForCausalLM
    outdir = fresh("mistral-tiny")
    template = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]"
                "{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}")
    added = [("<|im_start|>", True), ("<tool>", False)]
    tok = llama_tokenizer_files(outdir, spm_model, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                                                    "pad_token": None, "legacy": False, "chat_template": template,
                                                    "clean_up_tokenization_spaces": False,
                                                    "model_max_length": 1000000000000000019884624838656,
                                                    "tokenizer_class": "LlamaTokenizer"}, added)
    vocab = SPM_VOCAB + len(added) + 2   # two ids nobody names: [PAD386], [PAD387]
    cfg = MistralConfig(vocab_size=vocab, hidden_size=64, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=128, rope_theta=10000.0,
                        rms_norm_eps=1e-5, sliding_window=5, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                        dtype="float32")
    torch.manual_seed(5151)
    model = MistralForCausalLM._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    init_llama(model, 3, bf16=False)
    model.eval()
    ids = tok(LLAMA_PROMPT).input_ids
    assert len(ids) > cfg.sliding_window + 3
    ref = causal_reference(model, "mistral-tiny", LLAMA_PROMPT, ids, [
        "sliding_window 5: position i attends to positions i-4..i (transformers' sliding-window causal mask).",
        "greedy_without_window: the same model with sliding_window None (what llama.cpp's 'llama' graph computes, "
        "which ignores the window).",
    ])
    # The window must matter: without it, logits past position 4 change.
    full = MistralForCausalLM._from_config(MistralConfig(**{**cfg.to_dict(), "sliding_window": None}),
                                           attn_implementation="eager", dtype=torch.float32)
    full.load_state_dict(model.state_dict())
    full.eval()
    with torch.no_grad():
        unwindowed = full(torch.tensor([ids])).logits[0].numpy()
        ref["greedy_without_window"], margin = greedy(lambda s: full(torch.tensor([s])).logits[0, -1], ids)
    diff = np.abs(unwindowed - np.array(ref["logits"], dtype=np.float32))
    assert diff[:5].max() < 1e-4 and diff[5:].max() > 1e-2, (diff[:5].max(), diff[5:].max())
    ref["greedy_without_window_min_top2_margin"] = round(margin, 6)
    print(f"  mistral-tiny without window: greedy={ref['greedy_without_window']} margin={margin:.4f}")
    model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=2, do_sample=False)
    save(model, outdir)
    write_json(outdir / "reference.json", ref, indent=None)
    write_expectations(outdir, llama_items(outdir), {
        "architecture": "llama",
        "converter": "llama.cpp convert_hf_to_gguf.py, class LlamaModel (MistralForCausalLM), re-implemented",
        "rules": LLAMA_RULES + [
            "One KV head: attn_k is permuted as one head of 16 rows, ne [64, 16].",
            "Every row length is 64: everything quantizes, no F16 fallback.",
        ],
        "unsure": [
            "llama.attention.sliding_window: llama.cpp's converter does not write it for MistralForCausalLM (its "
            "'llama' graph has no window); Swiftlet writes it under llama.cpp's key so the window can be applied.",
        ],
        # transformers 5 writes head_dim into config.json, so the key and value lengths are written too
        "expected_kv": llama_expected_kv(cfg, {"llama.attention.sliding_window": 5, "llama.rope.dimension_count": 16,
                                               "llama.attention.key_length": 16, "llama.attention.value_length": 16}),
    }, llama_spm_metadata(outdir, vocab), LLAMA_VOCAB_NOTES)


# ---------------------------------------------------------------------------------------------
# CTRL
# ---------------------------------------------------------------------------------------------
def ctrl_words(text: str) -> list[str]:
    return re.findall(r"\S+\n?", text)


def learn_ctrl_bpe(words: list[str], n_merges: int) -> list[tuple[str, str]]:
    """subword-nmt's learner (what CTRL's merges come from): words of characters, the last with "</w>"; merge the
    most frequent pair, ties broken by the pair itself so the result is deterministic."""
    words = [w.rstrip("\n") for w in words]   # merges.txt is line-based: no merge may hold a newline
    vocab = Counter(tuple(w[:-1]) + (w[-1] + "</w>",) for w in words)
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for word, c in vocab.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        merged = Counter()
        for word, c in vocab.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += c
        vocab = merged
    return merges


def make_ctrl_tokenizer(outdir: Path):
    from transformers import AutoTokenizer
    words = ctrl_words(CTRL_CORPUS * 3)
    merges = learn_ctrl_bpe(words, 150)
    (outdir / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")
    # vocabulary: every character as a continuation ("c@@") and a word end ("c"), then every merge's result in the
    # one form it can take (a "</w>" result ends a word, any other continues), then <unk>
    vocab: dict[str, int] = {}
    for ch in sorted(set("".join(words))):
        for piece in (ch + "@@", ch):
            vocab.setdefault(piece, len(vocab))
    for a, b in merges:
        merged = a + b
        vocab.setdefault(merged[:-4] if merged.endswith("</w>") else merged + "@@", len(vocab))
    vocab["<unk>"] = len(vocab)
    (outdir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0), encoding="utf-8")
    write_json(outdir / "tokenizer_config.json", {"tokenizer_class": "CTRLTokenizer", "unk_token": "<unk>",
                                                  "model_max_length": 48}, indent=2)
    tok = AutoTokenizer.from_pretrained(str(outdir))
    assert type(tok).__name__ == "CTRLTokenizer" and len(tok) == len(vocab), (type(tok), len(tok), len(vocab))
    return tok, vocab, merges


def init_ctrl(model) -> None:
    """The tied head reads the embedding that the √n_embd scale made dominant, so a plain init repeats the last
    token forever; small embeddings, strong blocks and a wide head bias give a varied greedy continuation."""
    import torch
    g = manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".layernorm" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=g))
            elif name == "lm_head.bias":
                p.copy_(torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name == "transformer.w.weight":
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            elif p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g) * (3.0 / p.shape[1] ** 0.5))
            else:
                raise RuntimeError(f"unexpected parameter {name}")


def ctrl_items(outdir: Path) -> list[tuple[str, str, np.ndarray, str, bool]]:
    names = {"transformer.w.weight": "token_embd.weight", "transformer.layernorm": "output_norm", "lm_head": "output"}
    per_layer = {"layernorm1": "attn_norm", "multi_head_attention.Wq": "attn_q", "multi_head_attention.Wk": "attn_k",
                 "multi_head_attention.Wv": "attn_v", "multi_head_attention.dense": "attn_output",
                 "layernorm2": "ffn_norm", "ffn.0": "ffn_up", "ffn.2": "ffn_down"}
    items = []
    for hname, data in load_tensors(outdir / "model.safetensors"):
        if hname in names:
            gname = names[hname]
        elif m := re.fullmatch(r"transformer\.h\.(\d+)\.(.+)\.(weight|bias)", hname):
            gname = f"blk.{m[1]}.{per_layer[m[2]]}.{m[3]}"
        else:
            base, part = hname.rsplit(".", 1)
            gname = f"{names[base]}.{part}"
        items.append((gname, hname, data, "none", False))
    return items


def make_ctrl() -> None:
    import torch
    from transformers import CTRLConfig, CTRLLMHeadModel, GenerationConfig
    outdir = fresh("ctrl-tiny")
    tok, vocab, merges = make_ctrl_tokenizer(outdir)
    cfg = CTRLConfig(vocab_size=len(vocab), n_positions=48, n_embd=64, dff=80, n_layer=2, n_head=4,
                     layer_norm_epsilon=1e-6, resid_pdrop=0.0, embd_pdrop=0.0, tie_word_embeddings=True, dtype="float32")
    torch.manual_seed(5152)
    model = CTRLLMHeadModel._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    init_ctrl(model)
    model.tie_weights()
    assert model.lm_head.weight.data_ptr() == model.transformer.w.weight.data_ptr()
    model.eval()
    ids = tok(CTRL_PROMPT).input_ids
    assert tok.unk_token_id not in ids, tok.convert_ids_to_tokens(ids)
    ref = causal_reference(model, "ctrl-tiny", CTRL_PROMPT, ids, [
        "prompt_ids: CTRLTokenizer's encoding (no special tokens); 'Wikipedia' plays the control code.",
        "CTRL scales token embeddings by sqrt(n_embd) = 8 and adds sinusoids: for position p and j < n_embd/2, "
        "dimension j is sin(p / 10000^(2j/n_embd)) and dimension n_embd/2 + j is cos of the same angle.",
        "The head is tied to transformer.w (not stored) and has its own bias lm_head.bias.",
    ])
    model.generation_config = GenerationConfig(do_sample=False)
    save(model, outdir)
    write_json(outdir / "reference.json", ref, indent=None)
    tokens = [None] * len(vocab)
    for t, i in vocab.items():
        tokens[i] = t
    write_expectations(outdir, ctrl_items(outdir), {
        "architecture": "ctrl",
        "converter": "Swiftlet's ctrl names (formats/TENSORS.md); llama.cpp has no CTRL",
        "rules": [
            "Linear weights (out, in) are stored as they are (ne [in, out]); biases and norms F32.",
            "n_embd 64 rows quantize; ffn_down has row length dff = 80, so it is F16 for q8_0/q4_0/q4_1.",
            "lm_head.weight is tied to transformer.w.weight and not stored; lm_head.bias -> output.bias.",
        ],
        "expected_kv": {
            "general.architecture": "ctrl", "ctrl.vocab_size": len(vocab), "ctrl.context_length": 48,
            "ctrl.embedding_length": 64, "ctrl.block_count": 2, "ctrl.feed_forward_length": 80,
            "ctrl.attention.head_count": 4, "ctrl.attention.layer_norm_epsilon": 1e-6,
        },
    }, {
        "tokenizer.ggml.model": "ctrl",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": [2 if t == "<unk>" else 1 for t in tokens],
        "tokenizer.ggml.merges": [f"{a} {b}" for a, b in merges],
        "tokenizer.ggml.unknown_token_id": vocab["<unk>"],
        "tokenizer.ggml.add_bos_token": False,
        "tokenizer.ggml.add_eos_token": False,
    }, ["Swiftlet's 'ctrl' tokenizer (formats/FORMAT.md): vocab.json by id, merges.txt without its first line, "
        "<unk> UNKNOWN (2), every other token NORMAL (1); no BOS or EOS is added."])


# ---------------------------------------------------------------------------------------------
# XLNet
# ---------------------------------------------------------------------------------------------
def make_xlnet_tokenizer(outdir: Path):
    from transformers import AutoTokenizer, XLNetTokenizer
    with tempfile.TemporaryDirectory() as t:
        rules = Path(t) / "rules.tsv"
        rules.write_text(XLNET_RULES)
        model = train_spm(Path(t) / "spiece", sentence_iterator=iter(XLNET_CORPUS.splitlines() * 20), vocab_size=100,
                          model_type="unigram", normalization_rule_tsv=str(rules),
                          control_symbols=["<cls>", "<sep>", "<pad>", "<mask>", "<eod>", "<eop>"])
        shutil.copyfile(model, outdir / "spiece.model")
    XLNetTokenizer.from_pretrained(str(outdir)).save_pretrained(str(outdir))   # tokenizer.json, tokenizer_config.json
    tok = AutoTokenizer.from_pretrained(str(outdir))
    assert type(tok).__name__ == "XLNetTokenizer" and tok.padding_side == "left"
    return tok


def init_xlnet(model) -> None:
    import torch
    g = manual_seed(20240704)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=g))
            elif name.endswith(("bias", "seg_embed")):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(("word_embedding.weight", "mask_emb")):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif name.endswith((".q", ".k", ".v", ".o", ".r")):   # (d_model, heads, head_dim)
                gain = 1.5 if name.endswith((".q", ".k", ".r")) else 1.0
                p.copy_(torch.randn(p.shape, generator=g) * (gain / p.shape[0] ** 0.5))
            elif p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)
            else:
                raise RuntimeError(f"unexpected parameter {name}")


def xlnet_items(outdir: Path) -> list[tuple[str, str, np.ndarray, str, bool]]:
    items = []
    for hname, data in load_tensors(outdir / "model.safetensors"):
        transform, force_f32 = "none", False
        if hname == "transformer.word_embedding.weight":
            gname = "token_embd.weight"
        elif hname == "transformer.mask_emb":
            gname, data, transform = "mask_embd.weight", data.reshape(-1), "reshape (1, 1, d) -> (d)"
        elif hname == "lm_loss.bias":
            gname = "output.bias"
        else:
            m = re.fullmatch(r"transformer\.layer\.(\d+)\.(.+)", hname)
            b, rest = f"blk.{m[1]}.", m[2]
            d = data.shape[0]
            if rest in ("rel_attn.q", "rel_attn.k", "rel_attn.v", "rel_attn.r"):
                gname = b + f"attn_{rest[-1]}.weight"
                data, transform = data.reshape(d, -1).T, "transpose (d_model, heads·head_dim) -> (heads·head_dim, d_model)"
            elif rest == "rel_attn.o":
                gname, data, transform = b + "attn_output.weight", data.reshape(d, -1), "reshape (d_model, heads·head_dim)"
            elif rest in ("rel_attn.r_w_bias", "rel_attn.r_r_bias", "rel_attn.r_s_bias"):
                gname, data, transform = b + f"attn_{rest[9:12]}.bias", data.reshape(-1), "reshape (heads·head_dim)"
            elif rest == "rel_attn.seg_embed":
                gname, data, force_f32 = b + "attn_seg_embd.weight", data.reshape(2, -1), True
                transform = "reshape (2, heads·head_dim); F32 at every type"
            else:
                gname = b + {"rel_attn.layer_norm.weight": "attn_output_norm.weight",
                             "rel_attn.layer_norm.bias": "attn_output_norm.bias",
                             "ff.layer_norm.weight": "layer_output_norm.weight",
                             "ff.layer_norm.bias": "layer_output_norm.bias",
                             "ff.layer_1.weight": "ffn_up.weight", "ff.layer_1.bias": "ffn_up.bias",
                             "ff.layer_2.weight": "ffn_down.weight", "ff.layer_2.bias": "ffn_down.bias"}[rest]
        items.append((gname, hname, np.ascontiguousarray(data), transform, force_f32))
    return items


def xlnet_next_logits(model, seq: list[int]):
    """XLNetLMHeadModel.prepare_inputs_for_generation without mems: append a dummy token that no position may see
    (perm_mask) and predict it through the query stream (target_mapping)."""
    import torch
    n = len(seq) + 1
    x = torch.tensor([seq + [0]])
    perm = torch.zeros(1, n, n)
    perm[:, :, -1] = 1.0
    target = torch.zeros(1, 1, n)
    target[0, 0, -1] = 1.0
    return model(x, perm_mask=perm, target_mapping=target, use_mems=False).logits[0, -1]


def make_xlnet() -> None:
    import torch
    from transformers import GenerationConfig, XLNetConfig, XLNetLMHeadModel
    outdir = fresh("xlnet-tiny")
    tok = make_xlnet_tokenizer(outdir)
    cfg = XLNetConfig(vocab_size=len(tok), d_model=64, n_layer=2, n_head=4, d_inner=80, ff_activation="gelu",
                      attn_type="bi", layer_norm_eps=1e-12, mem_len=32, clamp_len=-1, same_length=False,
                      bi_data=False, dropout=0.0, bos_token_id=1, eos_token_id=2, pad_token_id=5, dtype="float32")
    torch.manual_seed(5153)
    model = XLNetLMHeadModel._from_config(cfg, dtype=torch.float32)
    init_xlnet(model)
    model.tie_weights()
    model.eval()
    ids = tok(XLNET_PROMPT, add_special_tokens=False).input_ids
    assert tok.unk_token_id not in ids, tok.convert_ids_to_tokens(ids)
    x = torch.tensor([ids])
    with torch.no_grad():
        logits = model(x, use_mems=False).logits[0].numpy()
        cont, margin = greedy(lambda s: xlnet_next_logits(model, s), ids)
        out = model.generate(x, max_new_tokens=N_NEW, do_sample=False, pad_token_id=5, eos_token_id=None,
                             use_mems=False)
    generated = out[0, len(ids):].tolist()
    ref = reference("xlnet-tiny", XLNET_PROMPT, ids, logits, cont, margin, [
        "prompt_ids: the tokenizer's pieces without the '<sep> <cls>' it appends (add_special_tokens=False).",
        "logits[i] = model(prompt_ids).logits[0, i]: bidirectional (attn_type 'bi'), no perm_mask, no mems.",
        "greedy_new_tokens: XLNet's generation step repeated with full recomputes: input seq + [0]; perm_mask hides "
        "the last position from every query; target_mapping reads the query stream (mask_emb) at it; argmax.",
        "generate_new_tokens: transformers' model.generate(..., use_mems=False) on the same prompt.",
    ])
    ref["generate_new_tokens"] = generated
    if generated != cont:
        print(f"  note: generate() gives {generated}, the recompute loop {cont}")
    model.generation_config = GenerationConfig(do_sample=False, bos_token_id=1, eos_token_id=2, pad_token_id=5)
    save(model, outdir)
    write_json(outdir / "reference.json", ref, indent=None)

    n = cfg.vocab_size
    tokens, scores, types = spm_vocab(outdir / "spiece.model", n)
    from sentencepiece import sentencepiece_model_pb2 as pb
    proto = pb.ModelProto()
    proto.ParseFromString((outdir / "spiece.model").read_bytes())
    idx = {t: i for i, t in reversed(list(enumerate(tokens)))}
    write_expectations(outdir, xlnet_items(outdir), {
        "architecture": "xlnet",
        "converter": "Swiftlet's xlnet names (formats/TENSORS.md); llama.cpp has no XLNet",
        "rules": [
            "rel_attn.q/k/v/r (d_model, heads, head_dim) are applied as x·W: stored transposed as (heads·head_dim) rows "
            "of d_model, ne [64, 64]; rel_attn.o (d_model, heads, head_dim) maps heads·head_dim to d_model and is "
            "stored as it is, ne [64, 64].",
            "r_w_bias, r_r_bias, r_s_bias (heads, head_dim) flatten to 1-D F32; seg_embed (2, heads, head_dim) to "
            "ne [64, 2], F32 at every type; mask_emb (1, 1, d_model) to 1-D F32.",
            "ffn_down has row length d_inner = 80, so it is F16 for q8_0/q4_0/q4_1.",
            "lm_loss.weight is tied to transformer.word_embedding.weight and not stored; lm_loss.bias -> output.bias.",
        ],
        "expected_kv": {
            "general.architecture": "xlnet", "xlnet.vocab_size": n, "xlnet.embedding_length": 64,
            "xlnet.block_count": 2, "xlnet.feed_forward_length": 80, "xlnet.attention.head_count": 4,
            "xlnet.attention.key_length": 16, "xlnet.attention.value_length": 16,
            "xlnet.attention.layer_norm_epsilon": 1e-12, "xlnet.attention.causal": False,
            "xlnet.memory_length": 32, "xlnet.attention.clamp_length": -1, "xlnet.attention.same_length": False,
        },
    }, {
        "tokenizer.ggml.model": "t5",
        "tokenizer.ggml.pre": "default",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.scores": scores,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.add_space_prefix": proto.normalizer_spec.add_dummy_prefix,
        "tokenizer.ggml.remove_extra_whitespaces": proto.normalizer_spec.remove_extra_whitespaces,
        "tokenizer.ggml.precompiled_charsmap": list(proto.normalizer_spec.precompiled_charsmap),
        "tokenizer.ggml.bos_token_id": idx["<s>"], "tokenizer.ggml.eos_token_id": idx["</s>"],
        "tokenizer.ggml.unknown_token_id": idx["<unk>"], "tokenizer.ggml.seperator_token_id": idx["<sep>"],
        "tokenizer.ggml.padding_token_id": idx["<pad>"], "tokenizer.ggml.mask_token_id": idx["<mask>"],
        "tokenizer.swiftlet.cls_token_id": idx["<cls>"],
        "tokenizer.ggml.add_bos_token": False, "tokenizer.ggml.add_eos_token": False,
        "tokenizer.swiftlet.append_token_ids": [idx["<sep>"], idx["<cls>"]],
        "tokenizer.swiftlet.padding_side": "left",
        "tokenizer.ggml.normalizer.lowercase": False,
        "tokenizer.ggml.normalizer.strip_accents": True,
        # XLNetTokenizer.preprocess_text: `` and '' become ", then NFKD before the accents go (keep_accents False).
        "tokenizer.swiftlet.normalizer.replacements": ["``", '"', "''", '"'],
        "tokenizer.swiftlet.normalizer.unicode_form": "NFKD",
    }, ["The unigram vocabulary as llama.cpp's T5Model.set_vocab writes it (tokens, scores, types, add_space_prefix, "
        "remove_extra_whitespaces, precompiled_charsmap as uint8), special ids by content among the pieces, and "
        "Swiftlet's tokenizer.swiftlet.* keys for what XLNet's encoding adds (formats/FORMAT.md).",
        "precompiled_charsmap is listed as byte values."])


# ---------------------------------------------------------------------------------------------
# llama.cpp cross-check
# ---------------------------------------------------------------------------------------------
def check_with_llama_cpp(llama_cpp: Path, name: str) -> None:
    """Converts Tests/Fixtures/<name> with llama.cpp's own converter and asserts its tensors and tokenizer keys
    equal the expectations written here."""
    from gguf import GGUFReader
    outdir = FIX / name
    tables = json.loads((outdir / "expected_tensors.json").read_text())
    vocab = json.loads((outdir / "gguf_vocab.json").read_text())["metadata"]
    for outtype in ("f32", "f16", "q8_0"):
        with tempfile.TemporaryDirectory() as t:
            out = Path(t) / "out.gguf"
            subprocess.run([sys.executable, str(llama_cpp / "convert_hf_to_gguf.py"), str(outdir), "--outtype",
                            outtype, "--outfile", str(out)], check=True, capture_output=True)
            r = GGUFReader(out)
            got = {}
            for t_ in r.tensors:
                start = int(t_.data_offset)
                got[t_.name] = {"ggml_type": t_.tensor_type.name, "shape": [int(n) for n in t_.shape],
                                "fnv1a64": fnv1a64(r.data[start:start + int(t_.n_bytes)].tobytes())}
            want = {k: {f: v[f] for f in ("ggml_type", "shape", "fnv1a64")} for k, v in tables[outtype].items()}
            assert got == want, f"{name} {outtype}: tensors differ from llama.cpp's"
            for key, value in vocab.items():
                f = r.fields[key]
                v = f.contents()
                if isinstance(value, list) and value and isinstance(value[0], float):
                    assert np.array_equal(np.array(v, dtype=np.float32), np.array(value, dtype=np.float32)), key
                else:
                    assert v == value, (key, v if not isinstance(v, list) else v[:8])
            ours = {k for k in r.fields if k.startswith("tokenizer.")}
            assert ours == set(vocab), f"{name}: llama.cpp writes {ours ^ set(vocab)} differently"
        print(f"  llama.cpp {outtype}: {len(got)} tensors and {len(vocab)} tokenizer keys equal")


def deterministic_torch() -> None:
    """One thread, deterministic kernels and quiet transformers, so fixtures regenerate byte for byte."""
    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="mixtral,mistral,ctrl,xlnet", help="comma list of mixtral,mistral,ctrl,xlnet")
    ap.add_argument("--llama-cpp", type=Path, help="a llama.cpp checkout: cross-check mixtral and mistral with it")
    args = ap.parse_args()
    only = set(args.only.split(","))
    deterministic_torch()
    with tempfile.TemporaryDirectory() as t:
        spm_model = llama_spm(Path(t)) if only & {"mixtral", "mistral"} else None
        for name, make in (("mixtral", make_mixtral), ("mistral", make_mistral)):
            if name in only:
                print(f"{name}-tiny")
                make(spm_model)
                if args.llama_cpp:
                    check_with_llama_cpp(args.llama_cpp, f"{name}-tiny")
    if "ctrl" in only:
        print("ctrl-tiny")
        make_ctrl()
    if "xlnet" in only:
        print("xlnet-tiny")
        make_xlnet()
    print("done")


if __name__ == "__main__":
    main()
