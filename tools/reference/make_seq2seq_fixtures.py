#!/usr/bin/env python3
"""Encoder-decoder fixtures for quantize's T5, FLAN-T5, BART and Marian conversions (deterministic, fixed seeds).

    /work/venv/bin/python tools/reference/make_seq2seq_fixtures.py                   # writes all four
    /work/venv/bin/python tools/reference/make_seq2seq_fixtures.py --only t5,bart
    /work/venv/bin/python tools/reference/make_seq2seq_fixtures.py --llama-cpp DIR   # and cross-check t5 with llama.cpp

Each Tests/Fixtures/<name>/ holds a Hugging Face directory (config.json, generation_config.json, model.safetensors,
tokenizer files) made from random weights, plus
  reference.json          encoder ids, the encoder's output, decoder ids and transformers' logits at every decoder
                          position, an argmax loop's output, generate()'s greedy output under the model's
                          generation_config, and beam-4 sequences with sequences_scores;
  expected_tensors.json   per output type (f32 f16 q8_0 q4_0 q4_1) every GGUF tensor's ggml type, shape (ne order),
                          byte count and FNV-1a 64 of its bytes (gguf.quants.quantize), llama-tiny's format; "_meta"
                          has the rules and the expected hyper-parameter keys;
  gguf_vocab.json         every tokenizer.* key the GGUF must hold.

  t5-tiny       T5ForConditionalGeneration as transformers 5 saves it (scale_decoder_outputs, no lm_head: tied),
                ReLU FFN, d_kv·heads = 36 ≠ d_model 32 (attn_o rows of 36: F16 for the block types), 2 encoder and
                3 decoder blocks, 8 relative buckets with max_distance 20; spiece.model is a unigram model trained
                here with T5's <pad> </s> <unk> at 0 1 2 and a small normalization rule set (a precompiled charsmap),
                8 <extra_id_N> sentinels, vocab_size padded 8 past the tokenizer (as t5-base's 32128 vs 32100).
  flan-t5-tiny  T5ForConditionalGeneration as the hub ships FLAN-T5 (config tie_word_embeddings false, a separate
                lm_head.weight, gated-gelu, n_positions given), 3 encoder and 2 decoder blocks, d_kv·heads 40,
                d_ff 48 (ffn_down falls back to F16), 16 buckets with max_distance 32; the same tokenizer, no padding.
  bart-tiny     BartForConditionalGeneration: 2 encoder blocks of 4 heads with FFN 48, 3 decoder blocks of 2 heads
                with FFN 64, learned positions (offset 2), layernorm_embedding, a non-zero final_logits_bias;
                byte-level BPE tokenizer.json trained here; generation_config as bart-large-cnn's (forced BOS/EOS,
                min_length, no_repeat_ngram_size, length_penalty 2, early stopping).
  marian-tiny   MarianMTModel: 3 encoder blocks (2 heads, FFN 64), 2 decoder blocks (4 heads, FFN 48), swish,
                scale_embedding, sinusoidal positions (not stored), a non-zero final_logits_bias; source.spm and
                target.spm are unigram models trained here on an English and a German text, vocab.json their joint
                vocabulary in Marian's order (</s> 0, <unk> 1, …, a >>de<< language code, <pad> last);
                generation_config as opus-mt's (bad_words_ids [[pad]], forced EOS, 4 beams).

The T5 expectations follow llama.cpp's convert_hf_to_gguf.py (conversion/t5.py T5Model: gguf-py's T5 tensor name
map, set_gguf_parameters, set_vocab + gguf.SpecialVocab) with Swiftlet's documented differences
(formats/TENSORS-seq2seq.md): attn_rel_b stays F32 at every type (llama.cpp's quantize keeps it so); the
tokenizer's sentinels are named where llama.cpp writes [PAD{i}]; Swiftlet's own keys. BART and Marian are
Swiftlet's names and keys (llama.cpp has neither). With --llama-cpp DIR (a llama.cpp checkout), t5-tiny and
flan-t5-tiny are also converted by DIR/convert_hf_to_gguf.py at f32 and every tensor and tokenizer key is compared.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gguf_listing import fnv1a64, to_json_floats  # noqa: E402
from make_decoder_fixtures import deterministic_torch, fresh, load_tensors, manual_seed, save, spm_vocab, train_spm  # noqa: E402
from make_fixtures import _expected_tables, write_json  # noqa: E402

FIX = HERE.parents[1] / "Tests" / "Fixtures"
N_NEW = 8   # generated tokens
BEAMS = 4

T5_CORPUS = """translate English to German: The house is wonderful. The quick brown fox jumps over the lazy dog.
Das Haus ist wunderbar. Der schnelle braune Fuchs springt über den faulen Hund.
summarize: the committee met on Tuesday to discuss the budget, the schedule and the new building plans.
cola sentence: the books was on the table. stsb sentence1: a man is playing a guitar. sentence2: a man plays music.
summarize: studies have shown that owning a dog is good for you, and cats are fine too.
Café naïve résumé ﬁne Ａ text … 123 456. question: what is a sentinel? answer: a placeholder span.
"""
T5_RULES = "FB01\t66 69\nFF21\t41\n2026\t2E 2E 2E\n"   # ﬁ → fi, Ａ → A, … → ...: a small precompiled charsmap
T5_PIECES, T5_EXTRA = 120, 8
T5_SOURCE = "translate English to German: The ﬁne fox <extra_id_0> over the dog…"
T5_TARGET = "Der schnelle Fuchs <extra_id_1> den Hund."

BART_CORPUS = ["The house is wonderful. The quick brown fox jumps over the lazy dog.",
               "The committee met on Tuesday to discuss the budget and the new building plans.",
               "Summaries are short: the fox jumped, the dog slept, and the committee decided nothing.",
               "Studies have shown that owning a dog is good for you; 42 of 50 owners agree!"]
BART_SOURCE = "The committee met the quick fox on Tuesday."
BART_TARGET = "The fox met the committee."

MARIAN_SOURCE_TEXT = """The house is wonderful. The quick brown fox jumps over the lazy dog.
The committee met on Tuesday to discuss the budget and the new building plans.
A man is playing a guitar. The weather is cold today, but tomorrow it will be warm.
"""
MARIAN_TARGET_TEXT = """Das Haus ist wunderbar. Der schnelle braune Fuchs springt über den faulen Hund.
Der Ausschuss traf sich am Dienstag, um den Haushalt und die neuen Baupläne zu besprechen.
Ein Mann spielt Gitarre. Das Wetter ist heute kalt, aber morgen wird es warm.
"""
MARIAN_RULES = "FB01\t66 69\n2026\t2E 2E 2E\n"
MARIAN_SOURCE = ">>de<< The quick fox is warm today…"
MARIAN_TARGET = "Der schnelle Fuchs ist heute warm."


# ---------------------------------------------------------------------------------------------
# references
# ---------------------------------------------------------------------------------------------
def argmax_loop(model, enc_ids: list[int], start: int, eos: int) -> tuple[list[int], float]:
    """N_NEW argmax steps over full recomputes of the decoder (no logits processors), stopping after EOS; also the
    smallest top-2 margin."""
    import torch
    x, seq, margins = torch.tensor([enc_ids]), [start], []
    for _ in range(N_NEW):
        logits = model(input_ids=x, decoder_input_ids=torch.tensor([seq])).logits[0, -1]
        top2 = torch.topk(logits, 2).values
        margins.append(float(top2[0] - top2[1]))
        seq.append(int(torch.argmax(logits)))
        if seq[-1] == eos:
            break
    return seq, min(margins)


def seq2seq_reference(model, tok, name: str, source: str, enc_ids: list[int], dec_ids: list[int],
                      notes: list[str]) -> dict:
    import tokenizers
    import torch
    import transformers
    gc = model.generation_config
    x = torch.tensor([enc_ids])
    with torch.no_grad():
        encoded = model.get_encoder()(input_ids=x).last_hidden_state[0].numpy()
        logits = model(input_ids=x, decoder_input_ids=torch.tensor([dec_ids])).logits[0].numpy()
        plain, margin = argmax_loop(model, enc_ids, gc.decoder_start_token_id, gc.eos_token_id)
        # use_cache=False: transformers 5.23 sizes T5's decoder cache by num_layers and fails when
        # num_decoder_layers is larger; recomputing gives the same tokens.
        greedy = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=1,
                                max_new_tokens=N_NEW, use_cache=False)[0].tolist()
        beam = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=BEAMS,
                              num_return_sequences=BEAMS, max_new_tokens=N_NEW, output_scores=True,
                              return_dict_in_generate=True, use_cache=False)
    print(f"  {name}: enc={enc_ids} dec={dec_ids}\n    argmax={plain} (min margin {margin:.4f}) greedy={greedy}\n"
          f"    beams={beam.sequences.tolist()} scores={[round(float(s), 4) for s in beam.sequences_scores]}")
    assert margin > 1e-2, "argmax loop is too close to a tie; change the seed"
    used = {k: v for k, v in gc.to_dict().items() if k in (
        "decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id", "forced_bos_token_id",
        "forced_eos_token_id", "bad_words_ids", "min_length", "max_length", "no_repeat_ngram_size",
        "length_penalty", "early_stopping", "num_beams") and v is not None}
    return {
        "model": name,
        "source_text": source,
        "encoder_ids": enc_ids,
        "encoder_output_shape": list(encoded.shape),
        "encoder_output": to_json_floats(encoded),
        "decoder_ids": dec_ids,
        "logits_shape": list(logits.shape),
        "logits": to_json_floats(logits),
        "argmax_ids": plain,
        "argmax_min_top2_margin": round(margin, 6),
        "greedy_ids": greedy,
        "greedy_text": tok.decode(greedy, skip_special_tokens=True),
        "beam_ids": beam.sequences.tolist(),
        "beam_scores": [float(f"{float(s):.9g}") for s in beam.sequences_scores],
        "generation_config": used,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
        "_notes": [
            "encoder_ids = tokenizer(source_text).input_ids (the tokenizer's special tokens included).",
            "encoder_output = model.get_encoder()(encoder_ids).last_hidden_state[0] (float32, [n_enc][d_model]).",
            "logits[i] = model(input_ids=encoder_ids, decoder_input_ids=decoder_ids).logits[0, i] "
            "(float32, [n_dec][vocab]); decoder_ids = [decoder_start_token_id] + tokenizer(text_target=target).",
            f"argmax_ids: decoder_start, then up to {N_NEW} argmax tokens over full recomputes, no logits "
            "processors, stopping after EOS.",
            f"greedy_ids = model.generate(encoder_ids, do_sample=False, num_beams=1, max_new_tokens={N_NEW}, use_cache=False) "
            "with the model's generation_config (listed in generation_config: its forced tokens, bad words, minimum "
            "length and n-gram rule apply).",
            f"beam_ids, beam_scores = model.generate(encoder_ids, do_sample=False, num_beams={BEAMS}, "
            f"num_return_sequences={BEAMS}, max_new_tokens={N_NEW}, output_scores=True, return_dict_in_generate=True, "
            "use_cache=False)"
            ".sequences / .sequences_scores (length-penalized sums of log-probabilities; finished beams are padded "
            "with pad_token_id).",
        ] + notes,
    }


def init_weights(model, seed: int, embed_scale: float = 1.0) -> None:
    """Random weights of useful size: norms 1 ± 0.25, biases ± 0.1, matrices N(0, 1/fan_in) (q and k ×1.5),
    embeddings N(0, embed_scale²), relative-attention buckets N(0, 1)."""
    import torch
    g = manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:   # Marian's sinusoidal positions
                continue
            if ("layer_norm" in name or "layernorm" in name) and name.endswith(".weight"):
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "relative_attention_bias" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            elif name.endswith(("shared.weight", "embed_tokens.weight")) or "embed_positions" in name:
                p.copy_(embed_scale * torch.randn(p.shape, generator=g))
            elif p.dim() == 2:
                gain = 1.5 if re.search(r"\.(q|k|q_proj|k_proj)\.weight$", name) else 1.0
                p.copy_(torch.randn(p.shape, generator=g) * (gain / p.shape[1] ** 0.5))
            else:
                raise RuntimeError(f"unexpected parameter {name}")


def write_expectations(outdir: Path, items, meta: dict, vocab: dict, vocab_notes: list[str]) -> None:
    tables = _expected_tables(items)
    tables["_meta"] = meta
    write_json(outdir / "expected_tensors.json", tables, depth=2)
    write_json(outdir / "gguf_vocab.json", {"_notes": vocab_notes, "metadata": vocab}, indent=None)


def special_vocab_metadata(outdir: Path, n_vocab: int) -> dict:
    """gguf.SpecialVocab's keys (ids, add_* flags), as convert_hf_to_gguf.py adds them."""
    import gguf
    sv = gguf.SpecialVocab(outdir, load_merges=False, n_vocab=n_vocab)
    names = {"unk": "unknown", "sep": "seperator", "pad": "padding"}
    md = {}
    for kind, i in sv.special_token_ids.items():
        if kind != "cls":   # gguf-py has no key for cls and skips it
            md[f"tokenizer.ggml.{names.get(kind, kind)}_token_id"] = i
    for kind, v in sv.add_special_token.items():
        if kind in ("bos", "eos", "sep"):
            md[f"tokenizer.ggml.add_{kind}_token"] = v
    if sv.chat_template is not None:
        md["tokenizer.chat_template"] = sv.chat_template
    return md


def generation_kv(arch: str, outdir: Path) -> dict:
    """Swiftlet's {arch}.generation.* keys from generation_config.json (formats/TENSORS-seq2seq.md)."""
    g = json.loads((outdir / "generation_config.json").read_text())
    kv = {}
    for key in ("forced_bos_token_id", "forced_eos_token_id", "num_beams", "max_length", "min_length",
                "no_repeat_ngram_size", "length_penalty", "early_stopping"):
        if g.get(key) is not None:
            kv[f"{arch}.generation.{key}"] = g[key]
    if g.get("bad_words_ids"):
        kv[f"{arch}.generation.suppress_token_ids"] = [w[0] for w in g["bad_words_ids"]]
    return kv


# ---------------------------------------------------------------------------------------------
# T5 and FLAN-T5
# ---------------------------------------------------------------------------------------------
def make_t5_tokenizer(outdir: Path):
    from transformers import AutoTokenizer, T5Tokenizer
    with tempfile.TemporaryDirectory() as t:
        rules = Path(t) / "rules.tsv"
        rules.write_text(T5_RULES)
        model = train_spm(Path(t) / "spiece", sentence_iterator=iter(T5_CORPUS.splitlines() * 20),
                          vocab_size=T5_PIECES, model_type="unigram", normalization_rule_tsv=str(rules),
                          pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
        shutil.copyfile(model, outdir / "spiece.model")
    T5Tokenizer.from_pretrained(str(outdir), extra_ids=T5_EXTRA).save_pretrained(str(outdir))
    tok = AutoTokenizer.from_pretrained(str(outdir))
    assert type(tok).__name__ == "T5Tokenizer" and len(tok) == T5_PIECES + T5_EXTRA
    assert tok.convert_tokens_to_ids("<extra_id_0>") == T5_PIECES + T5_EXTRA - 1
    return tok


def t5_items(outdir: Path, n_blocks: int) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """(GGUF name, HF name, data, transform, force F32) through gguf-py's T5 tensor name map, as T5Model converts."""
    import gguf
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.T5, n_blocks)
    items, embedding = [], False
    for hname, data in load_tensors(outdir / "model.safetensors"):
        if hname in ("decoder.embed_tokens.weight", "encoder.embed_tokens.weight", "shared.weight"):
            if embedding:
                continue
            hname, embedding = "shared.weight", True
        gname = tmap.get_name(hname, try_suffixes=(".weight", ".bias"))
        assert gname is not None, hname
        rel = gname.endswith("attn_rel_b.weight")
        items.append((gname, hname, np.ascontiguousarray(data), "F32 at every type" if rel else "none", rel))
    return items


def t5_vocab(outdir: Path, vocab_size: int) -> tuple[dict, list[str]]:
    """T5Model.set_vocab (spm pieces, [PAD{i}] past them, added_tokens.json) and gguf.SpecialVocab, with the
    sentinels named: ids past the pieces that tokenizer.json's added_tokens names get that content, score -1000,
    CONTROL when special else USER_DEFINED (llama.cpp's T5 path leaves them [PAD{i}])."""
    import gguf
    from sentencepiece import sentencepiece_model_pb2 as pb
    tokens, scores, types = spm_vocab(outdir / "spiece.model", vocab_size)
    llama_cpp_tokens = list(tokens)
    proto = pb.ModelProto()
    proto.ParseFromString((outdir / "spiece.model").read_bytes())
    n_pieces = len(proto.pieces)
    for a in json.loads((outdir / "tokenizer.json").read_text())["added_tokens"]:
        if n_pieces <= a["id"] < vocab_size:
            tokens[a["id"]], scores[a["id"]] = a["content"], -1000.0
            types[a["id"]] = int(gguf.TokenType.CONTROL if a["special"] else gguf.TokenType.USER_DEFINED)
    md = {
        "tokenizer.ggml.model": "t5",
        "tokenizer.ggml.pre": "default",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.scores": scores,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.add_space_prefix": proto.normalizer_spec.add_dummy_prefix,
        "tokenizer.ggml.remove_extra_whitespaces": proto.normalizer_spec.remove_extra_whitespaces,
        "tokenizer.ggml.precompiled_charsmap": list(proto.normalizer_spec.precompiled_charsmap),
        **special_vocab_metadata(outdir, vocab_size),
    }
    renamed = [i for i in range(vocab_size) if tokens[i] != llama_cpp_tokens[i]]
    return md, [
        "llama.cpp's T5Model.set_vocab: spiece.model's pieces by id (user-defined pieces NORMAL), ids past them "
        "'[PAD{i}]' score -10000 UNUSED, add_space_prefix / remove_extra_whitespaces / precompiled_charsmap (as "
        "byte values) from its normalizer_spec; then gguf.SpecialVocab (ids by content from tokenizer.json's "
        "added_tokens and tokenizer_config.json, add_eos from tokenizer.json's TemplateProcessing '$A </s>').",
        f"Swiftlet's difference: ids {renamed[0]}..{renamed[-1]} are the <extra_id_N> sentinels tokenizer.json's "
        "added_tokens names (special: CONTROL, score -1000) where llama.cpp writes [PAD{i}]; the ids past them stay "
        "[PAD{i}] as llama.cpp pads.",
        "token_type: 1 NORMAL, 2 UNKNOWN, 3 CONTROL, 4 USER_DEFINED, 5 UNUSED, 6 BYTE.",
    ]


def t5_expected_kv(cfg, extra: dict) -> dict:
    return {
        "general.architecture": "t5",
        "t5.vocab_size": cfg.vocab_size,
        "t5.context_length": getattr(cfg, "n_positions", None) or 512,
        "t5.embedding_length": cfg.d_model,
        "t5.feed_forward_length": cfg.d_ff,
        "t5.block_count": cfg.num_layers,
        "t5.decoder_block_count": cfg.num_decoder_layers,
        "t5.attention.head_count": cfg.num_heads,
        "t5.attention.key_length": cfg.d_kv,
        "t5.attention.value_length": cfg.d_kv,
        "t5.attention.layer_norm_epsilon": cfg.layer_norm_epsilon,
        "t5.attention.layer_norm_rms_epsilon": cfg.layer_norm_epsilon,
        "t5.attention.relative_buckets_count": cfg.relative_attention_num_buckets,
        "t5.attention.relative_max_distance": cfg.relative_attention_max_distance,
        "t5.decoder_start_token_id": cfg.decoder_start_token_id,
        "t5.hidden_activation": cfg.dense_act_fn,
        "t5.logit_scale": cfg.d_model ** -0.5 if cfg.scale_decoder_outputs else 1.0,
        **extra,
    }


def make_t5(name: str, flan: bool) -> None:
    import torch
    from transformers import GenerationConfig, T5Config, T5ForConditionalGeneration
    from safetensors.torch import load_file, save_file
    outdir = fresh(name)
    tok = make_t5_tokenizer(outdir)
    n_tok = len(tok)
    if flan:
        kw = dict(vocab_size=n_tok, d_model=32, d_kv=10, num_heads=4, d_ff=48, num_layers=3, num_decoder_layers=2,
                  relative_attention_num_buckets=16, relative_attention_max_distance=32,
                  feed_forward_proj="gated-gelu", n_positions=64, tie_word_embeddings=False)
        seed = 12151
    else:
        kw = dict(vocab_size=n_tok + 8, d_model=32, d_kv=12, num_heads=3, d_ff=64, num_layers=2, num_decoder_layers=3,
                  relative_attention_num_buckets=8, relative_attention_max_distance=20, feed_forward_proj="relu")
        seed = 6101
    cfg = T5Config(**kw, layer_norm_epsilon=1e-6, dropout_rate=0.0, decoder_start_token_id=0, pad_token_id=0,
                   eos_token_id=1, dtype="float32")
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration._from_config(cfg, dtype=torch.float32)
    if flan:   # an lm_head of its own, as FLAN-T5 checkpoints carry
        model.lm_head.weight = torch.nn.Parameter(torch.empty(cfg.vocab_size, cfg.d_model))
    init_weights(model, seed)
    model.generation_config = GenerationConfig(decoder_start_token_id=0, eos_token_id=1, pad_token_id=0)
    save(model, outdir)
    if flan:
        # The hub's FLAN-T5 layout: lm_head.weight stored, config.json says tie_word_embeddings false (transformers 5
        # saves tie_word_embeddings true plus scale_decoder_outputs false and unties only on differing values).
        tensors = load_file(str(outdir / "model.safetensors"))
        tensors["lm_head.weight"] = model.lm_head.weight.detach().clone()
        save_file(tensors, str(outdir / "model.safetensors"), metadata={"format": "pt"})
        c = json.loads((outdir / "config.json").read_text())
        c["tie_word_embeddings"] = False
        c.pop("scale_decoder_outputs", None)
        write_json(outdir / "config.json", c, indent=2)
    model = T5ForConditionalGeneration.from_pretrained(str(outdir), dtype=torch.float32).eval()
    cfg = model.config
    assert cfg.scale_decoder_outputs == (not flan)
    assert (model.lm_head.weight is model.shared.weight) == (not flan)

    enc = tok(T5_SOURCE).input_ids
    dec = [cfg.decoder_start_token_id] + tok(text_target=T5_TARGET).input_ids
    ref = seq2seq_reference(model, tok, name, T5_SOURCE, enc, dec, [
        "T5: relative position buckets (bidirectional in the encoder, causal in the decoder) from block 0's "
        "relative_attention_bias, shared by every block; no score scaling; "
        + ("the decoder output is multiplied by d_model^-0.5 before the tied head (scale_decoder_outputs)."
           if not flan else "no output scaling (untied head).")])
    write_json(outdir / "reference.json", ref, indent=None)

    n_blocks = max(cfg.num_layers, cfg.num_decoder_layers)
    vocab, vocab_notes = t5_vocab(outdir, cfg.vocab_size)
    write_expectations(outdir, t5_items(outdir, n_blocks), {
        "architecture": "t5",
        "converter": "llama.cpp convert_hf_to_gguf.py, class T5Model (re-implemented; gguf-py's T5 tensor name map "
                     "and quantize used directly), with Swiftlet's keys and F32 relative buckets",
        "rules": [
            "Tensor names from gguf.get_tensor_name_map(MODEL_ARCH.T5, max(num_layers, num_decoder_layers)): "
            "shared -> token_embd, lm_head -> output, SelfAttention.q/k/v/o -> attn_q/k/v/o, EncDecAttention -> "
            "cross_attn_*, DenseReluDense.wi -> ffn_up (ReLU) or wi_0 -> ffn_gate and wi_1 -> ffn_up (gated), "
            "wo -> ffn_down, layer norms -> attn_norm / cross_attn_norm / ffn_norm, final_layer_norm -> "
            "enc.output_norm / dec.output_norm.",
            "Shapes are GGUF ne order; Linear weights are stored as they are (ne [in, out]).",
            "attn_rel_b (block 0 of each stack only; ne [heads, buckets]) is F32 at every type (llama.cpp's "
            "quantize keeps it; its converter would write F16 for --outtype f16/q8_0 since heads is not a multiple "
            "of 32). 1-D norms are F32.",
            "Any 2-D weight whose row length is not a multiple of 32 (attn_o: heads·d_kv; FLAN's ffn_down: d_ff 48) "
            "falls back to F16 for q8_0/q4_0/q4_1.",
            "q4_0 / q4_1 are not outtypes of convert_hf_to_gguf.py; every quantizable weight is quantized to that "
            "type with gguf.quants.quantize.",
            "output.weight: written when the head is untied (FLAN: config tie_word_embeddings false, lm_head.weight "
            "present); t5-tiny's head is token_embd and t5.logit_scale is d_model^-0.5.",
        ],
        "expected_kv": t5_expected_kv(cfg, generation_kv("t5", outdir)),
    }, vocab, vocab_notes)


# ---------------------------------------------------------------------------------------------
# BART
# ---------------------------------------------------------------------------------------------
def make_bart_tokenizer(outdir: Path):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import AutoTokenizer, BartTokenizer
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(BART_CORPUS * 10, vocab_size=300, min_frequency=2, show_progress=False,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    with tempfile.TemporaryDirectory() as t:
        bpe.save_model(t)
        tok = BartTokenizer(vocab=str(Path(t) / "vocab.json"), merges=str(Path(t) / "merges.txt"))
    tok.save_pretrained(str(outdir))
    tok = AutoTokenizer.from_pretrained(str(outdir))
    assert len(tok) == 301 and tok.mask_token_id == 300 and tok.bos_token_id == 0 and tok.eos_token_id == 2
    return tok


BART_LAYER = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.out_proj": "attn_o", "self_attn_layer_norm": "attn_output_norm",
    "encoder_attn.q_proj": "cross_attn_q", "encoder_attn.k_proj": "cross_attn_k", "encoder_attn.v_proj": "cross_attn_v",
    "encoder_attn.out_proj": "cross_attn_o", "encoder_attn_layer_norm": "cross_attn_output_norm",
    "fc1": "ffn_up", "fc2": "ffn_down", "final_layer_norm": "layer_output_norm",
}


def bart_items(outdir: Path, arch: str) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """Swiftlet's bart/marian names (formats/TENSORS-seq2seq.md)."""
    items = []
    for hname, data in load_tensors(outdir / "model.safetensors"):
        transform, force_f32 = "none", False
        if hname == "model.shared.weight":
            gname = "token_embd.weight"
        elif hname == "final_logits_bias":
            gname, data, transform = "output.bias", data.reshape(-1), "reshape (1, vocab) -> (vocab)"
        elif hname == "lm_head.weight":
            gname = "output.weight"
        elif m := re.fullmatch(r"model\.(encoder|decoder)\.embed_positions\.weight", hname):
            assert arch == "bart", hname
            gname, data, force_f32 = f"{m[1][:3]}.position_embd.weight", data[2:], True
            transform = "rows 0 and 1 dropped (BART's offset 2); F32 at every type"
        elif m := re.fullmatch(r"model\.(encoder|decoder)\.layernorm_embedding\.(weight|bias)", hname):
            gname = f"{m[1][:3]}.token_embd_norm.{m[2]}"
        elif m := re.fullmatch(r"model\.(encoder|decoder)\.layers\.(\d+)\.(.+)\.(weight|bias)", hname):
            gname = f"{m[1][:3]}.blk.{m[2]}.{BART_LAYER[m[3]]}.{m[4]}"
        else:
            raise RuntimeError(f"unexpected tensor {hname}")
        items.append((gname, hname, np.ascontiguousarray(data), transform, force_f32))
    return items


def bart_expected_kv(arch: str, cfg, extra: dict) -> dict:
    return {
        "general.architecture": arch,
        f"{arch}.vocab_size": cfg.vocab_size,
        f"{arch}.context_length": cfg.max_position_embeddings,
        f"{arch}.embedding_length": cfg.d_model,
        f"{arch}.block_count": cfg.encoder_layers,
        f"{arch}.decoder_block_count": cfg.decoder_layers,
        f"{arch}.feed_forward_length": cfg.encoder_ffn_dim,
        f"{arch}.decoder_feed_forward_length": cfg.decoder_ffn_dim,
        f"{arch}.attention.head_count": cfg.encoder_attention_heads,
        f"{arch}.attention.decoder_head_count": cfg.decoder_attention_heads,
        f"{arch}.attention.layer_norm_epsilon": 1e-5,
        f"{arch}.hidden_activation": cfg.activation_function,
        f"{arch}.embedding_scale": math.sqrt(cfg.d_model) if cfg.scale_embedding else 1.0,
        f"{arch}.normalize_before": False,
        f"{arch}.decoder_start_token_id": cfg.decoder_start_token_id,
        **extra,
    }


def make_bart() -> None:
    import gguf
    import torch
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig
    outdir = fresh("bart-tiny")
    tok = make_bart_tokenizer(outdir)
    cfg = BartConfig(vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
                     decoder_attention_heads=2, encoder_ffn_dim=48, decoder_ffn_dim=64, max_position_embeddings=40,
                     activation_function="gelu", dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
                     scale_embedding=False, bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                     forced_bos_token_id=0, forced_eos_token_id=2, dtype="float32")
    torch.manual_seed(4077)
    model = BartForConditionalGeneration._from_config(cfg, dtype=torch.float32)
    init_weights(model, 4077)
    with torch.no_grad():
        model.final_logits_bias.copy_(0.5 * torch.randn(model.final_logits_bias.shape, generator=manual_seed(4078)))
    model.generation_config = GenerationConfig(
        bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=0,
        forced_eos_token_id=2, min_length=4, no_repeat_ngram_size=3, length_penalty=2.0, early_stopping=True,
        num_beams=4, max_length=20)
    save(model, outdir)
    model = BartForConditionalGeneration.from_pretrained(str(outdir), dtype=torch.float32).eval()

    enc = tok(BART_SOURCE).input_ids
    dec = [cfg.decoder_start_token_id] + tok(text_target=BART_TARGET).input_ids
    ref = seq2seq_reference(model, tok, "bart-tiny", BART_SOURCE, enc, dec, [
        "BART: learned positions with offset 2 (position p reads row p + 2 of embed_positions; the GGUF drops the "
        "first two rows), layernorm_embedding after token + position, post-LayerNorm blocks, GELU (erf), logits + "
        "final_logits_bias."])
    write_json(outdir / "reference.json", ref, indent=None)

    tj = json.loads((outdir / "tokenizer.json").read_text())
    n = cfg.vocab_size
    by_id = {i: t for t, i in tj["model"]["vocab"].items()}
    added = {a["id"]: a for a in tj["added_tokens"]}
    tokens = [added[i]["content"] if i in added else by_id.get(i, f"[PAD{i}]") for i in range(n)]
    types = [int(gguf.TokenType.CONTROL if added[i]["special"] else gguf.TokenType.USER_DEFINED) if i in added
             else int(gguf.TokenType.NORMAL if i in by_id else gguf.TokenType.UNUSED) for i in range(n)]
    vocab = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "gpt-2",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.merges": [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]],
        **special_vocab_metadata(outdir, n),
        # Swiftlet's: transformers cleans spaces in decode only when tokenizer_config.json asks (default false).
        "tokenizer.swiftlet.clean_spaces": bool(tok.clean_up_tokenization_spaces),
    }
    write_expectations(outdir, bart_items(outdir, "bart"), {
        "architecture": "bart",
        "converter": "Swiftlet's bart names (formats/TENSORS-seq2seq.md); llama.cpp has no BART",
        "rules": [
            "Linear weights (out, in) are stored as they are (ne [in, out]); biases, norms and final_logits_bias "
            "(reshaped to 1-D) F32.",
            "enc/dec.position_embd: embed_positions without its first two rows (row p is position p), F32 at every "
            "type, as llama.cpp keeps position tables.",
            "The encoder's ffn_down has row length encoder_ffn_dim 48: F16 for q8_0/q4_0/q4_1.",
            "lm_head.weight and the encoder/decoder embed_tokens are tied to model.shared.weight and not stored.",
        ],
        "expected_kv": bart_expected_kv("bart", cfg, generation_kv("bart", outdir)),
    }, vocab, [
        "What convert_hf_to_gguf.py's _set_vocab_gpt2 would write for this tokenizer.json (vocabulary by id, added "
        "tokens CONTROL when special, merges 'a b') plus gguf.SpecialVocab (RobertaProcessing: add BOS, EOS and "
        "SEP). tokenizer.ggml.pre 'gpt-2' names the ByteLevel pre-tokenizer's structure (llama.cpp's hash table "
        "does not know this tokenizer). tokenizer.swiftlet.clean_spaces is Swiftlet's (formats/TENSORS-seq2seq.md)."])


# ---------------------------------------------------------------------------------------------
# Marian
# ---------------------------------------------------------------------------------------------
def make_marian_tokenizer(outdir: Path):
    from sentencepiece import SentencePieceProcessor
    from transformers import AutoTokenizer, MarianTokenizer
    with tempfile.TemporaryDirectory() as t:
        rules = Path(t) / "rules.tsv"
        rules.write_text(MARIAN_RULES)
        src = train_spm(Path(t) / "source", sentence_iterator=iter(MARIAN_SOURCE_TEXT.splitlines() * 20),
                        vocab_size=56, model_type="unigram", normalization_rule_tsv=str(rules))
        tgt = train_spm(Path(t) / "target", sentence_iterator=iter(MARIAN_TARGET_TEXT.splitlines() * 20),
                        vocab_size=56, model_type="unigram", normalization_rule_tsv=str(rules))
        # Marian's joint vocabulary: </s> and <unk> first, the pieces of both models, language codes, <pad> last.
        vocab = {"</s>": 0, "<unk>": 1}
        for path in (src, tgt):
            sp = SentencePieceProcessor(model_file=str(path))
            for i in range(sp.get_piece_size()):
                if not (sp.is_control(i) or sp.is_unknown(i)):
                    vocab.setdefault(sp.id_to_piece(i), len(vocab))
        vocab[">>de<<"] = len(vocab)
        vocab["<pad>"] = len(vocab)
        write_json(Path(t) / "vocab.json", vocab, indent=2)
        tok = MarianTokenizer(source_spm=str(src), target_spm=str(tgt), vocab=str(Path(t) / "vocab.json"))
        tok.save_pretrained(str(outdir))
    tok = AutoTokenizer.from_pretrained(str(outdir))
    assert type(tok).__name__ == "MarianTokenizer" and len(tok) == len(vocab)
    return tok


def marian_vocab(outdir: Path, vocab_size: int) -> tuple[dict, list[str]]:
    from sentencepiece import sentencepiece_model_pb2 as pb
    vocab = json.loads((outdir / "vocab.json").read_text())
    by_id = {i: t for t, i in vocab.items()}
    special = {"</s>": 3, "<pad>": 3, "<unk>": 2}
    tokens = [by_id.get(i, f"[PAD{i}]") for i in range(vocab_size)]
    types = [5 if i not in by_id else special.get(t, 4 if re.fullmatch(r">>.+<<", t) else 1)
             for i, t in enumerate(tokens)]
    proto = pb.ModelProto()
    proto.ParseFromString((outdir / "source.spm").read_bytes())
    s_tokens, s_scores, s_types = spm_vocab(outdir / "source.spm", len(proto.pieces))
    md = {
        "tokenizer.ggml.model": "marian",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.eos_token_id": vocab["</s>"],
        "tokenizer.ggml.unknown_token_id": vocab["<unk>"],
        "tokenizer.ggml.padding_token_id": vocab["<pad>"],
        "tokenizer.ggml.add_bos_token": False,
        "tokenizer.ggml.add_eos_token": True,
        "tokenizer.swiftlet.source.tokens": s_tokens,
        "tokenizer.swiftlet.source.scores": s_scores,
        "tokenizer.swiftlet.source.token_type": s_types,
        "tokenizer.swiftlet.source.add_space_prefix": proto.normalizer_spec.add_dummy_prefix,
        "tokenizer.swiftlet.source.remove_extra_whitespaces": proto.normalizer_spec.remove_extra_whitespaces,
        "tokenizer.swiftlet.source.precompiled_charsmap": list(proto.normalizer_spec.precompiled_charsmap),
    }
    return md, [
        "Swiftlet's 'marian' tokenizer (formats/TENSORS-seq2seq.md): tokens are vocab.json by id (the model's ids), "
        "[PAD{i}] UNUSED past it; </s> and <pad> CONTROL, <unk> UNKNOWN, >>xx<< language codes USER_DEFINED, the "
        "rest NORMAL; EOS is appended, nothing is prepended.",
        "tokenizer.swiftlet.source.*: source.spm's unigram pieces, scores and types (as llama.cpp's T5 vocabulary "
        "loop types them) and its normalizer, to split source text into pieces, each then looked up in tokens "
        "(<unk> when absent). Decoding needs no spm: pieces concatenate, '▁' becomes a space.",
    ]


def make_marian() -> None:
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel
    outdir = fresh("marian-tiny")
    tok = make_marian_tokenizer(outdir)
    pad = tok.pad_token_id
    cfg = MarianConfig(vocab_size=len(tok), d_model=32, encoder_layers=3, decoder_layers=2, encoder_attention_heads=2,
                       decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=48, max_position_embeddings=64,
                       activation_function="swish", dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
                       scale_embedding=True, pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad,
                       forced_eos_token_id=0, dtype="float32")
    torch.manual_seed(10919)
    model = MarianMTModel._from_config(cfg, dtype=torch.float32)
    init_weights(model, 10919, embed_scale=1.0 / math.sqrt(cfg.d_model))
    with torch.no_grad():
        model.final_logits_bias.copy_(0.5 * torch.randn(model.final_logits_bias.shape, generator=manual_seed(7920)))
    model.generation_config = GenerationConfig(
        bad_words_ids=[[pad]], decoder_start_token_id=pad, eos_token_id=0, forced_eos_token_id=0, pad_token_id=pad,
        max_length=64, num_beams=4)
    save(model, outdir)
    model = MarianMTModel.from_pretrained(str(outdir), dtype=torch.float32).eval()

    enc = tok(MARIAN_SOURCE).input_ids
    dec = [cfg.decoder_start_token_id] + tok(text_target=MARIAN_TARGET).input_ids
    assert enc[0] == tok.convert_tokens_to_ids(">>de<<") and tok.unk_token_id not in enc, enc
    ref = seq2seq_reference(model, tok, "marian-tiny", MARIAN_SOURCE, enc, dec, [
        "Marian: token embeddings × sqrt(d_model) (scale_embedding) plus sinusoidal positions from 0 (dimension "
        "j < d/2 is sin(p·10000^(−2j/d)), dimension d/2 + j its cos), no embedding norm, post-LayerNorm blocks, "
        "swish (SiLU), logits + final_logits_bias.",
        "The source text starts with a language code: MarianTokenizer splits '>>de<<' off as its token before "
        "running source.spm on the rest."])
    write_json(outdir / "reference.json", ref, indent=None)

    vocab, vocab_notes = marian_vocab(outdir, cfg.vocab_size)
    write_expectations(outdir, bart_items(outdir, "marian"), {
        "architecture": "marian",
        "converter": "Swiftlet's marian names (formats/TENSORS-seq2seq.md); llama.cpp has no Marian",
        "rules": [
            "As bart-tiny's, without position tables (sinusoidal, computed at load) and embedding norms.",
            "model.shared.weight is the encoder's and decoder's embedding and the head: stored once as token_embd.",
            "The decoder's ffn_down has row length decoder_ffn_dim 48: F16 for q8_0/q4_0/q4_1.",
        ],
        "expected_kv": bart_expected_kv("marian", cfg, generation_kv("marian", outdir)),
    }, vocab, vocab_notes)


# ---------------------------------------------------------------------------------------------
# llama.cpp cross-check
# ---------------------------------------------------------------------------------------------
def check_with_llama_cpp(llama_cpp: Path, name: str) -> None:
    """Converts Tests/Fixtures/<name> with llama.cpp's own converter at f32 and compares its tensors and keys with
    the expectations written here; prints the differences (Swiftlet's documented ones are expected)."""
    from gguf import GGUFReader
    outdir = FIX / name
    tables = json.loads((outdir / "expected_tensors.json").read_text())
    vocab = json.loads((outdir / "gguf_vocab.json").read_text())["metadata"]
    kv = tables["_meta"]["expected_kv"]
    with tempfile.TemporaryDirectory() as t:
        out = Path(t) / "out.gguf"
        run = subprocess.run([sys.executable, str(llama_cpp / "convert_hf_to_gguf.py"), str(outdir), "--outtype",
                              "f32", "--outfile", str(out)], capture_output=True, text=True)
        if run.returncode != 0:   # t5-tiny: its tensor map stops at num_layers, short of num_decoder_layers
            print(f"  llama.cpp cannot convert {name}: {run.stderr.strip().splitlines()[-1]}")
            return
        r = GGUFReader(out)
        got = {}
        for t_ in r.tensors:
            start = int(t_.data_offset)
            got[t_.name] = {"ggml_type": t_.tensor_type.name, "shape": [int(n) for n in t_.shape],
                            "fnv1a64": fnv1a64(r.data[start:start + int(t_.n_bytes)].tobytes())}
        want = {k: {f: v[f] for f in ("ggml_type", "shape", "fnv1a64")} for k, v in tables["f32"].items()}
        assert got == want, f"{name}: tensors differ from llama.cpp's: {set(got) ^ set(want)}"
        print(f"  llama.cpp f32: {len(got)} tensors equal")
        fields = {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.")}
        for key, value in {**kv, **vocab}.items():
            if key not in fields:
                print(f"    llama.cpp does not write {key}")
            elif isinstance(value, list) and value and isinstance(value[0], float):
                if not np.array_equal(np.array(fields[key], dtype=np.float32), np.array(value, dtype=np.float32)):
                    print(f"    {key}: differs at ids {[i for i, (a, b) in enumerate(zip(fields[key], value)) if np.float32(a) != np.float32(b)]}")
            elif isinstance(value, float):
                assert np.float32(fields[key]) == np.float32(value), key
            elif fields[key] != value:
                diff = [i for i, (a, b) in enumerate(zip(fields[key], value)) if a != b] if isinstance(value, list) else ""
                print(f"    {key}: differs {diff}")
        extra = {k for k in fields if k.startswith(("t5.", "tokenizer.")) and k not in kv and k not in vocab}
        if extra:
            print(f"    llama.cpp also writes {sorted(extra)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="t5,flan,bart,marian", help="comma list of t5,flan,bart,marian")
    ap.add_argument("--llama-cpp", type=Path, help="a llama.cpp checkout: cross-check t5 and flan with it")
    args = ap.parse_args()
    only = set(args.only.split(","))
    deterministic_torch()
    for key, name, make in (("t5", "t5-tiny", lambda: make_t5("t5-tiny", flan=False)),
                            ("flan", "flan-t5-tiny", lambda: make_t5("flan-t5-tiny", flan=True)),
                            ("bart", "bart-tiny", make_bart), ("marian", "marian-tiny", make_marian)):
        if key in only:
            print(name)
            make()
            if args.llama_cpp and key in ("t5", "flan"):
                check_with_llama_cpp(args.llama_cpp, name)
    print("done")


if __name__ == "__main__":
    main()
