"""Encoder fixtures (BERT, RoBERTa, DistilBERT, ALBERT) for make_fixtures.py: tiny random-weight Hugging Face
directories with their tokenizers, transformers' outputs, and what a GGUF conversion must contain.

Each directory under Tests/Fixtures/ holds config.json, model.safetensors (float32), tokenizer.json,
tokenizer_config.json and:
  reference.json         transformers outputs for a fixed input (ids, token types, hidden states of every
                         layer, and each head's logits: MLM, NSP/SOP, sequence/token classification, QA)
  expected_tensors.json  per output type (f32 f16 q8_0 q4_0 q4_1): every GGUF tensor's ggml type, shape (ne
                         order), byte count and FNV-1a 64 of its bytes (gguf.quants); "_meta" has the rules and
                         "expected_kv", the model metadata the GGUF must hold (no tokenizer.* keys except
                         token_type_count)
  gguf_vocab.json        the tokenizer.* metadata a conversion must write, derived the way llama.cpp's
                         convert_hf_to_gguf.py does (BertModel.set_vocab, _set_vocab_gpt2, the Unigram path of
                         _xlmroberta_set_vocab / T5Model.set_vocab, gguf-py SpecialVocab)

Names: the body of BERT, RoBERTa and DistilBERT is llama.cpp's "bert" (checked here against
gguf.get_tensor_name_map); the heads and ALBERT are Swiftlet's (formats/TENSORS-encoders.md).
"""
from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from gguf_listing import to_json_floats

PAIR = ("The quick brown fox jumps over the lazy dog.", "It was the best of times, it was the worst of times.")
MASKED_WORD = 3           # index (in the pair's ids) replaced by the mask token
MAX_TOKENS = 16           # the pair is cut to this many ids (special tokens kept at the ends)
WORDPIECE_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SEQ_LABELS = {0: "negative", 1: "neutral", 2: "positive"}
TOKEN_LABELS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}

# A few normalization rules for the Unigram tokenizer, so its precompiled_charsmap is small (about 1 KB)
# but real: fullwidth A and a -> A and a, the ligature fi -> f i, ideographic space -> space.
UNIGRAM_RULES = "FF21\t41\nFF41\t61\nFB01\t66 69\n3000\t20\n"


# ---------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------
def build_wordpiece(corpus: list[str], positions: int):
    """BERT WordPiece (uncased) wrapped as transformers' BertTokenizer. The vocabulary is counted here rather than
    trained (the tokenizers library's WordPieceTrainer breaks ties differently from run to run): the corpus through
    BertNormalizer and BertPreTokenizer, then the 90 most frequent characters, each also as '##c', the most
    frequent words and '##' word endings of 2 and 3 characters, ties broken by the text; 300 entries."""
    from collections import Counter
    from tokenizers import normalizers, pre_tokenizers
    from transformers import BertTokenizer

    norm, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    words = Counter(w for line in corpus for w, _ in pre.pre_tokenize_str(norm.normalize_str(line)))
    chars, endings = Counter(), Counter()
    for w, n in words.items():
        for c in w:
            chars[c] += n
        for k in (2, 3):
            if len(w) > k:
                endings["##" + w[-k:]] += n
    top = lambda counts: [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    alphabet = sorted(top(chars)[:90])
    vocab = WORDPIECE_SPECIALS + alphabet + ["##" + c for c in alphabet]
    whole = [w for w in top(words) if len(w) > 1][:80]
    vocab += whole + [e for e in top(endings) if e not in vocab][:300 - len(vocab) - len(whole)]
    assert len(vocab) == len(set(vocab)) == 300, len(vocab)
    return BertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=True, model_max_length=positions)


def build_roberta_bpe(corpus: list[str], positions: int):
    """RoBERTa byte-level BPE (GPT-2 pre-tokenizer, RobertaProcessing), <mask> added after the vocabulary."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import RobertaTokenizer

    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=300, min_frequency=2, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return RobertaTokenizer(vocab=model["vocab"], merges=merges, model_max_length=positions)


def build_unigram(corpus: list[str], positions: int):
    """ALBERT's SentencePiece Unigram: trained with sentencepiece (custom normalization rules, so the model
    has a precompiled_charsmap), then given to transformers' AlbertTokenizer as ALBERT's converter does."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb
    from transformers import AlbertTokenizer

    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(UNIGRAM_RULES)
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus), model_writer=buf, vocab_size=300, model_type="unigram",
            normalization_rule_tsv=str(rules), pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
            control_symbols=["[CLS]", "[SEP]", "[MASK]"], character_coverage=1.0, byte_fallback=False,
            num_threads=1, minloglevel=2, split_digits=False)
    proto = pb.ModelProto()
    proto.ParseFromString(buf.getvalue())
    charsmap = proto.normalizer_spec.precompiled_charsmap
    assert 0 < len(charsmap) < 4096, len(charsmap)
    vocab = [(p.piece, p.score) for p in proto.pieces]
    return AlbertTokenizer(vocab=vocab, _spm_precompiled_charsmap=charsmap, model_max_length=positions)


def save_tokenizer(tok, outdir: Path) -> None:
    tok.save_pretrained(str(outdir))
    for p in outdir.iterdir():   # keep tokenizer.json and tokenizer_config.json only
        if p.name not in ("tokenizer.json", "tokenizer_config.json", "config.json", "model.safetensors"):
            p.unlink()
    added = json.loads((outdir / "tokenizer.json").read_text())["added_tokens"]
    assert all(a["special"] for a in added), added


# ---------------------------------------------------------------------------------------------
# Tokenizer metadata as llama.cpp's converter writes it
# ---------------------------------------------------------------------------------------------
def special_vocab(tokdir: Path, n_vocab: int) -> tuple[dict, dict, dict]:
    """gguf-py SpecialVocab (llama.cpp gguf-py/gguf/vocab.py, 2025-26 version with normalizer parsing), for
    the cases these fixtures exercise: returns (special token ids, add_* flags, normalizer flags)."""
    tokenizer = json.loads((tokdir / "tokenizer.json").read_text())
    tc = json.loads((tokdir / "tokenizer_config.json").read_text())
    config = json.loads((tokdir / "config.json").read_text())
    ids: dict[str, int] = {}
    add: dict[str, bool] = {}
    norm: dict[str, bool] = {}

    def parse_normalizer(n: dict) -> None:
        t = n.get("type")
        if t == "Lowercase":
            norm["lowercase"] = True
        elif t == "StripAccents":
            norm["strip_accents"] = True
        elif t == "BertNormalizer":
            for k in ("lowercase", "strip_accents"):
                if n.get(k) is not None:
                    norm[k] = n[k]
        elif t == "Sequence":
            for m in n.get("normalizers", []):
                parse_normalizer(m)

    if tokenizer.get("normalizer"):
        parse_normalizer(tokenizer["normalizer"])
    special_bos, special_cls = tc.get("bos_token"), tc.get("cls_token")
    special_eos, special_sep = tc.get("eos_token"), tc.get("sep_token")
    if not special_bos and special_cls:
        tc["bos_token"] = special_bos = special_cls
    if not special_eos and special_sep:
        tc["eos_token"] = special_eos = special_sep
    post = tokenizer.get("post_processor") or {}
    for proc in post.get("processors", [post]) if post else []:
        kind = proc.get("type")
        if kind == "ByteLevel":
            add.setdefault("bos", False)
            add.setdefault("eos", False)
        elif kind == "RobertaProcessing":
            add.update(bos=True, eos=True, sep=True)
        elif kind == "TemplateProcessing":
            single, pair = proc.get("single", []), proc.get("pair", [])
            first = last = None
            if len(single) > 1:
                first = single[0].get("SpecialToken", {}).get("id")
                if first:
                    add["bos"] = first in (special_bos, special_cls)
                last = single[-1].get("SpecialToken", {}).get("id")
                if last:
                    assert last == special_eos, "EOS override (eot/eom) is not exercised by these fixtures"
                    add["eos"] = True
            if pair:
                start = 1 if first and pair[0].get("SpecialToken", {}).get("id") == first else 0
                stop = -1 if last and pair[-1].get("SpecialToken", {}).get("id") == last else None
                middle = pair[slice(start, stop)]
                a = middle[0].get("Sequence", {}).get("id") if middle else None
                b = middle[-1].get("Sequence", {}).get("id") if middle else None
                if a == "A" and b == "B" and (middle := middle[1:-1]):
                    add_sep = False
                    entry = middle[0].get("SpecialToken", {}).get("id")
                    if entry in (special_sep, special_eos) and not last:
                        add_sep = True
                    if len(middle) == 2 and middle[1].get("SpecialToken", {}).get("id") in (special_sep, special_eos):
                        add_sep = True
                    add["sep"] = add_sep
    added = tokenizer.get("added_tokens", [])
    for typ in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
        if isinstance(tc.get(f"add_{typ}_token"), bool) and typ not in add:
            add[typ] = tc[f"add_{typ}_token"]
        entry = tc.get(f"{typ}_token")
        content = entry if isinstance(entry, str) else (entry or {}).get("content") if isinstance(entry, dict) else None
        if not isinstance(content, str):
            continue
        tid = next((a["id"] for a in added if a["content"] == content), None)
        if isinstance(tid, int) and tid < n_vocab and typ not in ids:
            ids[typ] = tid
    for typ in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
        tid = config.get(f"{typ}_token_id")
        if isinstance(tid, int) and 0 <= tid < n_vocab and typ not in ids:
            ids[typ] = tid
    return ids, add, norm


def special_metadata(tokdir: Path, n_vocab: int) -> dict:
    """tokenizer.* keys SpecialVocab.add_to_gguf writes: ids (a 'cls' id has no GGUF key in current llama.cpp and
    is skipped), the add_* flags the post-processor or tokenizer_config.json determine, normalizer flags."""
    ids, add, norm = special_vocab(tokdir, n_vocab)
    key = {"bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "sep": "seperator_token_id",
           "pad": "padding_token_id", "mask": "mask_token_id"}
    md = {f"tokenizer.ggml.{key[t]}": i for t, i in ids.items() if t in key}
    md.update({f"tokenizer.ggml.add_{t}_token": v for t, v in add.items() if t in ("bos", "eos", "sep")})
    for k, v in norm.items():
        md[f"tokenizer.ggml.normalizer.{k}"] = v
    return md


def vocab_base(tokdir: Path, n_vocab: int) -> tuple[list[str], list[int]]:
    """TextModel.get_vocab_base: tokens by id, [PAD{i}] (UNUSED) for ids nobody names; added tokens CONTROL
    when special (or looking special), else USER_DEFINED; the rest NORMAL."""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(tokdir))
    reverse = {i: t for t, i in tok.get_vocab().items()}
    added, decoder = tok.get_added_vocab(), tok.added_tokens_decoder
    tokens, types = [], []
    for i in range(n_vocab):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(5)
            continue
        t = reverse[i]
        if t in added:
            looks = t in ("<pad>", "<mask>") or (t.startswith("<|") and t.endswith("|>"))
            types.append(3 if decoder[i].special or looks else 4)
        else:
            types.append(1)
        tokens.append(t)
    return tokens, types


def wordpiece_vocab_metadata(tokdir: Path, n_vocab: int) -> dict:
    """BertModel.set_vocab: get_vocab_base, then the 'phantom space' form llama.cpp's WPM tokenizer expects:
    a non-CONTROL token '##x' becomes 'x', any other non-CONTROL token gets a '\u2581' prefix."""
    tokens, types = vocab_base(tokdir, n_vocab)
    phantom = [t if ty == 3 else t[2:] if t.startswith("##") else "\u2581" + t for t, ty in zip(tokens, types)]
    tj = json.loads((tokdir / "tokenizer.json").read_text())
    norm = tj["normalizer"]
    md = {
        "tokenizer.ggml.model": "bert",
        "tokenizer.ggml.pre": "default",
        "tokenizer.ggml.tokens": phantom,
        "tokenizer.ggml.token_type": types,
        "tokenizer.swiftlet.normalizer.clean_text": norm["clean_text"],
        "tokenizer.swiftlet.normalizer.handle_chinese_chars": norm["handle_chinese_chars"],
        "tokenizer.swiftlet.wordpiece.max_input_chars_per_word": tj["model"]["max_input_chars_per_word"],
    }
    md.update(special_metadata(tokdir, n_vocab))
    return md


def bpe_vocab_metadata(tokdir: Path, n_vocab: int) -> dict:
    """_set_vocab_gpt2 (RobertaModel.set_vocab when tokenizer.json exists): get_vocab_base tokens as they are,
    merges 'a b'. tokenizer.ggml.pre: llama.cpp hashes a probe tokenization, which for this tiny tokenizer is
    in no table; 'gpt-2' names its pre-tokenizer (ByteLevel with GPT-2's regex), as for the other fixtures."""
    tokens, types = vocab_base(tokdir, n_vocab)
    tj = json.loads((tokdir / "tokenizer.json").read_text())
    merges = [" ".join(m) if isinstance(m, list) else m for m in tj["model"]["merges"]]
    md = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "gpt-2",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.merges": merges,
    }
    md.update(special_metadata(tokdir, n_vocab))
    return md


def unigram_vocab_metadata(tokdir: Path, n_vocab: int) -> dict:
    """The tokenizer.json path of llama.cpp's _xlmroberta_set_vocab (T5Model.set_vocab writes the same keys
    from a .model file): pieces as they are, scores from model.vocab, UNKNOWN for model.unk_id, CONTROL for
    special added tokens, USER_DEFINED for other added tokens, [PAD{i}] / -10000 / UNUSED padding;
    tokenizer.ggml.model 't5' (llama.cpp's UGM), precompiled_charsmap from the Precompiled normalizer.
    Swiftlet adds the rest of ALBERT's normalizer, which llama.cpp's UGM runtime does not apply:
    unicode_form (NFKD), replacements (flat [from, to, ...] pairs); remove_extra_whitespaces is true when the
    pre-tokenizer splits on whitespace (WhitespaceSplit) as SentencePiece's remove_extra_whitespaces does."""
    import base64
    tj = json.loads((tokdir / "tokenizer.json").read_text())
    model = tj["model"]
    assert model["type"] == "Unigram" and not model.get("byte_fallback")
    added = {a["id"]: a for a in tj["added_tokens"]}
    tokens = [f"[PAD{i}]" for i in range(n_vocab)]
    scores = [-10000.0] * n_vocab
    types = [5] * n_vocab
    for i, (piece, score) in enumerate(model["vocab"]):
        tokens[i], scores[i] = piece, float(np.float32(score))
        types[i] = 2 if i == model["unk_id"] else (3 if added[i]["special"] else 4) if i in added else 1
    steps = tj["normalizer"]["normalizers"]
    pre = tj["pre_tokenizer"]["pretokenizers"]
    assert [p["type"] for p in pre] == ["WhitespaceSplit", "Metaspace"], pre
    replacements = [x for s in steps if s["type"] == "Replace" for x in (s["pattern"]["String"], s["content"])]
    charsmap = base64.b64decode(next(s["precompiled_charsmap"] for s in steps if s["type"] == "Precompiled"))
    md = {
        "tokenizer.ggml.model": "t5",
        "tokenizer.ggml.pre": "default",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.scores": scores,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.add_space_prefix": pre[1]["prepend_scheme"] != "never",
        "tokenizer.ggml.remove_extra_whitespaces": True,
        "tokenizer.ggml.precompiled_charsmap": list(charsmap),
        "tokenizer.swiftlet.normalizer.unicode_form": "NFKD",
        "tokenizer.swiftlet.normalizer.replacements": replacements,
    }
    assert [s["type"] for s in steps] == ["Replace", "Replace", "NFKD", "StripAccents", "Lowercase", "Precompiled"]
    md.update(special_metadata(tokdir, n_vocab))
    return md


def write_vocab(outdir: Path, md: dict, notes: list[str]) -> None:
    from make_fixtures import write_json
    write_json(outdir / "gguf_vocab.json", {"_notes": notes, "metadata": md}, indent=None)


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------
def init_encoder(model, seed: int, torch) -> None:
    """Random weights with spread-out activations: norms around 1, biases around 0, Linear weights scaled by
    1/sqrt(fan in). Tied decoder weights are not separate parameters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name or name.endswith(("_norm.weight", "_norm.bias")):
                p.copy_((1.0 if name.endswith(("weight", "gamma")) else 0.0) + 0.2 * torch.randn(p.shape, generator=g))
            elif "embeddings" in name and p.dim() == 2:
                p.copy_(0.8 * torch.randn(p.shape, generator=g))
            elif p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g) * (1.2 / p.shape[1] ** 0.5))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                raise RuntimeError(f"unexpected parameter {name} {tuple(p.shape)}")


def pair_input(tok, torch, mask_id: int, types: bool = True) -> dict:
    enc = tok(PAIR[0], PAIR[1], truncation="longest_first", max_length=MAX_TOKENS, return_token_type_ids=True)
    ids = list(enc["input_ids"])
    assert ids[MASKED_WORD] != mask_id and len(ids) == MAX_TOKENS and (1 in enc["token_type_ids"]) == types, enc
    ids[MASKED_WORD] = mask_id
    out = {"input_ids": ids, "attention_mask": [1] * len(ids)}
    if "token_type_ids" in enc:
        out["token_type_ids"] = list(enc["token_type_ids"])
    return out


def run_model(model, inputs: dict, torch) -> dict:
    kw = {k: torch.tensor([v]) for k, v in inputs.items()}
    with torch.no_grad():
        out = model(**kw, output_hidden_states=True)
    res = {"hidden_states": [to_json_floats(h[0].numpy()) for h in out.hidden_states]}
    for field, key in (("prediction_logits", "mlm_logits"), ("seq_relationship_logits", "nsp_logits"),
                       ("sop_logits", "sop_logits"), ("start_logits", "start_logits"), ("end_logits", "end_logits")):
        if getattr(out, field, None) is not None:
            res[key] = to_json_floats(getattr(out, field)[0].numpy())
    if getattr(out, "logits", None) is not None:
        key = "mlm_logits" if type(model).__name__.endswith("ForMaskedLM") else "logits"
        res[key] = to_json_floats(out.logits[0].numpy())
    if getattr(out, "pooler_output", None) is not None:
        res["pooler_output"] = to_json_floats(out.pooler_output[0].numpy())
    return res


def save_model(model, outdir: Path) -> None:
    model.save_pretrained(str(outdir), safe_serialization=True)
    (outdir / "model.safetensors").chmod(0o644)
    for p in outdir.iterdir():
        if p.name == "generation_config.json":
            p.unlink()


def write_reference(outdir: Path, name: str, inputs: dict, outputs: dict, notes: list[str], torch) -> None:
    import tokenizers
    import transformers
    from make_fixtures import write_json
    ref = {"model": name, "text_pair": list(PAIR), **inputs, **outputs,
           "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                        "tokenizers": tokenizers.__version__},
           "_notes": [
               "input_ids: the text pair through the fixture's tokenizer (cut to "
               f"{MAX_TOKENS} ids), id {MASKED_WORD} replaced by the mask token; attention_mask all ones.",
               "hidden_states[0] is the embedding output (ALBERT: after embedding_hidden_mapping_in), "
               "hidden_states[i] the output of layer i; each [n_tokens][hidden] float32.",
               "mlm_logits [n_tokens][vocab]; nsp_logits / sop_logits [2] from the pooled first token; "
               "logits: sequence classification [labels] or token classification [n_tokens][labels]; "
               "start_logits / end_logits [n_tokens] (question answering).",
           ] + notes}
    write_json(outdir / "reference.json", ref, indent=None)


# ---------------------------------------------------------------------------------------------
# GGUF tensor names and expected tensors
# ---------------------------------------------------------------------------------------------
# Heads and the parts of the body llama.cpp has no names for. Keys: Hugging Face module path after the body
# prefix; values: GGUF name without .weight/.bias. "classifier" depends on the head (see head_names).
HEADS = {
    "bert": {"pooler.dense": "cls", "cls.predictions.transform.dense": "mlm.dense",
             "cls.predictions.transform.LayerNorm": "mlm.norm", "cls.seq_relationship": "cls.nsp",
             "qa_outputs": "cls.qa"},
    "roberta": {"pooler.dense": "cls", "classifier.dense": "cls", "classifier.out_proj": "cls.output",
                "lm_head.dense": "mlm.dense", "lm_head.layer_norm": "mlm.norm", "qa_outputs": "cls.qa"},
    "distilbert": {"pre_classifier": "cls", "vocab_transform": "mlm.dense", "vocab_layer_norm": "mlm.norm",
                   "qa_outputs": "cls.qa"},
    "albert": {"pooler": "cls", "predictions.dense": "mlm.dense", "predictions.LayerNorm": "mlm.norm",
               "sop_classifier.classifier": "cls.sop", "qa_outputs": "cls.qa",
               "embeddings.word_embeddings": "token_embd", "embeddings.token_type_embeddings": "token_types",
               "embeddings.position_embeddings": "position_embd", "embeddings.LayerNorm": "token_embd_norm",
               "encoder.embedding_hidden_mapping_in": "token_embd_proj"},
}
MLM_BIAS = {"bert": "cls.predictions.bias", "roberta": "lm_head.bias", "distilbert": "vocab_projector.bias",
            "albert": "predictions.bias"}
ALBERT_LAYER = {"attention.query": "attn_q", "attention.key": "attn_k", "attention.value": "attn_v",
                "attention.dense": "attn_output", "attention.LayerNorm": "attn_output_norm", "ffn": "ffn_up",
                "ffn_output": "ffn_down", "full_layer_layer_norm": "layer_output_norm"}


def gguf_items(outdir: Path, family: str) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """(gguf name, hf name, data, transform, force_f32) for every tensor of the fixture; all are used."""
    import gguf
    from make_fixtures import _load_safetensors
    cfg = json.loads((outdir / "config.json").read_text())
    arch = cfg["architectures"][0]
    layers = cfg.get("num_hidden_layers", cfg.get("n_layers"))
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, layers)
    heads = dict(HEADS[family])
    if arch.endswith("ForSequenceClassification") and family != "roberta":
        heads["classifier"] = "cls.output"
    if arch.endswith("ForTokenClassification"):
        heads["classifier"] = "cls.token"
    items = []
    for hname, data in _load_safetensors(outdir / "model.safetensors"):
        name = hname.removeprefix(f"{family}.")
        module, _, part = name.rpartition(".")
        transform = "none"
        if name == MLM_BIAS[family]:
            gname = "output.bias"
        elif module in heads:
            gname = f"{heads[module]}.{part}"
        elif family == "albert":
            _, _, g, _, j, sub = module.split(".", 5)   # encoder.albert_layer_groups.G.albert_layers.J.sub
            gname = f"blk.{int(g) * cfg['inner_group_num'] + int(j)}.{ALBERT_LAYER[sub]}.{part}"
        else:
            gname = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
            assert gname is not None, hname
        if family == "roberta" and gname == "position_embd.weight":
            offset = cfg["pad_token_id"] + 1
            data, transform = np.ascontiguousarray(data[offset:]), f"rows {offset}: dropped (pad_token_id + 1)"
        force_f32 = gname.startswith(("position_embd.", "token_types."))
        items.append((gname, hname, np.ascontiguousarray(data), transform, force_f32))
    return items


def write_expected(outdir: Path, family: str, kv: dict, notes: list[str]) -> None:
    from make_fixtures import _expected_tables, write_json
    items = gguf_items(outdir, family)
    if any(name == "cls.weight" for name, *_ in items):
        kv[f"{kv['general.architecture']}.classifier.activation"] = "relu" if family == "distilbert" else "tanh"
    tables = _expected_tables(items)
    tables["_meta"] = {
        "architecture": kv["general.architecture"],
        "converter": "llama.cpp convert_hf_to_gguf.py BertModel / RobertaModel / DistilBertModel conventions for "
                     "the body (gguf.get_tensor_name_map(MODEL_ARCH.BERT)), Swiftlet's names for heads and ALBERT "
                     "(formats/TENSORS-encoders.md)",
        "rules": [
            "Shapes are GGUF ne order: [row length, rows].",
            "1-D tensors and *_norm.weight are F32; position_embd and token_types are F32 at every type "
            "(prepare_tensors forces POS_EMBD and TOKEN_TYPES).",
            "Other 2-D weights take the requested type; a row length that is not a multiple of 32 falls back "
            "to F16 (gguf.QuantError). q4_0/q4_1 are not convert_hf_to_gguf outtypes: gguf.quants.quantize.",
            "Tied decoder weights (MLM head) are not stored: the head reads token_embd.",
            "classifier.activation is written when cls.weight (pooler or classification dense) exists: tanh, "
            "or relu for DistilBERT's pre_classifier.",
        ] + notes,
        "expected_kv": kv,
    }
    write_json(outdir / "expected_tensors.json", tables, depth=2)


def bert_kv(cfg, arch: str = "bert", eps: float | None = None, ctx: int | None = None) -> dict:
    d = cfg.to_dict()
    kv = {
        "general.architecture": arch,
        f"{arch}.vocab_size": cfg.vocab_size,
        f"{arch}.context_length": ctx if ctx is not None else cfg.max_position_embeddings,
        f"{arch}.embedding_length": d.get("hidden_size", d.get("dim")),
        f"{arch}.feed_forward_length": d.get("intermediate_size", d.get("hidden_dim")),
        f"{arch}.block_count": d.get("num_hidden_layers", d.get("n_layers")),
        f"{arch}.attention.head_count": d.get("num_attention_heads", d.get("n_heads")),
        f"{arch}.attention.layer_norm_epsilon": eps if eps is not None else cfg.layer_norm_eps,
        f"{arch}.attention.causal": False,
        f"{arch}.hidden_activation": d.get("hidden_act", d.get("activation")),
        "tokenizer.ggml.token_type_count": d.get("type_vocab_size", 1),
    }
    return kv


# ---------------------------------------------------------------------------------------------
# Fixture directories
# ---------------------------------------------------------------------------------------------
def fresh(name: str, fix: Path) -> Path:
    outdir = fix / name
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    return outdir


def make_bert(fix: Path, corpus: list[str]) -> None:
    """bert-tiny (BertForPreTraining: MLM + NSP), bert-seqcls-tiny, bert-tokcls-tiny, bert-qa-tiny (one body,
    three heads) and bert-st-tiny (BertModel as a sentence-transformers directory: mean pooling, Normalize)."""
    import torch
    from transformers import (BertConfig, BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification,
                              BertForTokenClassification, BertModel)
    positions = 48
    tok = build_wordpiece(corpus, positions)
    vocab = len(tok)
    wp_notes = ["WordPiece vocabulary counted from the corpus (vocab 300, uncased BertNormalizer; see "
                "build_wordpiece), wrapped as transformers' BertTokenizer.",
                "tokenizer.ggml.pre: llama.cpp hashes a probe tokenization to name it; this tiny tokenizer is in no "
                "table (the real converter stops there); llama.cpp ignores pre for its WPM tokenizer, and 'default' "
                "is what it writes for tokenizers it does not hash."]

    # Hidden 72 with 8 heads of 9: row length 72 is not a multiple of 32 (F16 fallback); ffn_down (64) quantizes.
    cfg = BertConfig(vocab_size=vocab, hidden_size=72, num_hidden_layers=2, num_attention_heads=8,
                     intermediate_size=64, max_position_embeddings=positions, type_vocab_size=2,
                     hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0, tie_word_embeddings=True)
    outdir = fresh("bert-tiny", fix)
    model = BertForPreTraining._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    init_encoder(model, 20250101, torch)
    model.eval()
    save_model(model, outdir)
    save_tokenizer(tok, outdir)
    inputs = pair_input(tok, torch, tok.mask_token_id)
    write_reference(outdir, "bert-tiny", inputs, run_model(model, inputs, torch), [
        "BertForPreTraining: MLM head tied to word_embeddings; NSP on the pooler output."], torch)
    write_expected(outdir, "bert", bert_kv(cfg), ["The pooler is cls (dense + tanh on the first token), NSP cls.nsp."])
    write_vocab(outdir, wordpiece_vocab_metadata(outdir, vocab), wp_notes)

    # Classification heads on one body: hidden 64 (Q8_0 rows), 4 heads of 16, one layer.
    small = BertConfig(vocab_size=vocab, hidden_size=64, num_hidden_layers=1, num_attention_heads=4,
                       intermediate_size=64, max_position_embeddings=positions, type_vocab_size=2, hidden_act="gelu",
                       layer_norm_eps=1e-12, pad_token_id=0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                       classifier_dropout=0.0)
    body = None
    for name, cls, labels in (("bert-seqcls-tiny", BertForSequenceClassification, SEQ_LABELS),
                              ("bert-tokcls-tiny", BertForTokenClassification, TOKEN_LABELS),
                              ("bert-qa-tiny", BertForQuestionAnswering, None)):
        c = BertConfig(**small.to_dict())
        if labels:
            c.id2label, c.label2id = dict(labels), {v: k for k, v in labels.items()}
        outdir = fresh(name, fix)
        model = cls._from_config(c, attn_implementation="eager", dtype=torch.float32)
        init_encoder(model, 20250102 + len(name), torch)
        if body is None:
            body = model.bert.state_dict()
        else:
            model.bert.load_state_dict({k: v for k, v in body.items() if not k.startswith("pooler.")}, strict=True)
        model.eval()
        save_model(model, outdir)
        save_tokenizer(tok, outdir)
        inputs = pair_input(tok, torch, tok.mask_token_id)
        kv = bert_kv(c)
        if labels:
            kv["bert.classifier.output_labels"] = [labels[i] for i in sorted(labels)]
        write_reference(outdir, name, inputs, run_model(model, inputs, torch), [
            f"{cls.__name__}; the three bert-*cls/qa fixtures share the body weights (bert-seqcls-tiny's)."], torch)
        write_expected(outdir, "bert", kv, ["Sequence classification: pooler -> cls, classifier -> cls.output; "
                                            "token classification: classifier -> cls.token; QA: qa_outputs -> cls.qa."])
        write_vocab(outdir, wordpiece_vocab_metadata(outdir, vocab), wp_notes)

    # A sentence-transformers directory around a BertModel: modules.json, 1_Pooling/config.json (mean),
    # sentence_bert_config.json (max_seq_length), a Normalize module.
    st = BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                    max_position_embeddings=positions, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
                    pad_token_id=0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    outdir = fresh("bert-st-tiny", fix)
    model = BertModel._from_config(st, attn_implementation="eager", dtype=torch.float32)
    init_encoder(model, 20250109, torch)
    model.eval()
    save_model(model, outdir)
    save_tokenizer(tok, outdir)
    from make_fixtures import write_json
    write_json(outdir / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}], indent=2)
    write_json(outdir / "1_Pooling" / "config.json", {
        "word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True}, indent=2)
    write_json(outdir / "sentence_bert_config.json", {"max_seq_length": 40, "do_lower_case": False}, indent=2)
    enc = tok(PAIR[0])
    inputs = {"input_ids": list(enc["input_ids"]), "token_type_ids": list(enc["token_type_ids"]),
              "attention_mask": [1] * len(enc["input_ids"])}
    outputs = run_model(model, inputs, torch)
    mean = np.asarray(outputs["hidden_states"][-1], dtype=np.float32).mean(axis=0)
    outputs["mean_pooled"] = to_json_floats(mean)
    outputs["sentence_embedding"] = to_json_floats(mean / np.linalg.norm(mean))
    write_reference(outdir, "bert-st-tiny", inputs, outputs, [
        "A single sentence (text_pair[0]) with [CLS] and [SEP]; mean_pooled is the mean of the last hidden states "
        "over all tokens (sentence-transformers Pooling, mean mode); sentence_embedding is it L2-normalized "
        "(the Normalize module)."], torch)
    kv = bert_kv(st)
    kv.update({"bert.pooling_type": 1, "bert.sentence_transformers.max_seq_length": 40,
               "bert.sentence_transformers.normalize": True})
    write_expected(outdir, "bert", kv, ["pooling_type 1 (MEAN) is llama.cpp's value for pooling_mode_mean_tokens."])
    write_vocab(outdir, wordpiece_vocab_metadata(outdir, vocab), wp_notes)


def make_roberta(fix: Path, corpus: list[str]) -> None:
    import torch
    from transformers import RobertaConfig, RobertaForMaskedLM
    positions = 40
    tok = build_roberta_bpe(corpus, positions)
    vocab = len(tok)
    # Hidden 80, 5 heads of 16, ff 48 (no row length is a multiple of 32: every matrix falls back to F16 when
    # quantized); HF position ids start at pad_token_id + 1 = 2, so the table has 42 rows.
    cfg = RobertaConfig(vocab_size=vocab, hidden_size=80, num_hidden_layers=2, num_attention_heads=5,
                        intermediate_size=48, max_position_embeddings=positions + 2, type_vocab_size=1,
                        hidden_act="gelu", layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, tie_word_embeddings=True)
    outdir = fresh("roberta-tiny", fix)
    model = RobertaForMaskedLM._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    init_encoder(model, 20250201, torch)
    model.eval()
    save_model(model, outdir)
    save_tokenizer(tok, outdir)
    inputs = pair_input(tok, torch, tok.mask_token_id, types=False)
    inputs.pop("token_type_ids")   # type_vocab_size 1: all zeros
    inputs["position_ids"] = [cfg.pad_token_id + 1 + i for i in range(len(inputs["input_ids"]))]
    write_reference(outdir, "roberta-tiny", inputs, run_model(model, inputs, torch), [
        "position_ids: what RoBERTa computes from input_ids (no padding): pad_token_id + 1 + i."], torch)
    kv = bert_kv(cfg, ctx=positions)
    write_expected(outdir, "roberta", kv, [
        "RoBERTa is llama.cpp's 'bert' (RobertaModel): position_embd drops the first pad_token_id + 1 rows, so "
        "position i reads row i, and context_length is max_position_embeddings - (pad_token_id + 1)."])
    write_vocab(outdir, bpe_vocab_metadata(outdir, vocab), [
        "Byte-level BPE trained with the tokenizers library (vocab 300) + <mask>, wrapped as RobertaTokenizer "
        "(RobertaProcessing post-processor: add_bos, add_eos and add_sep true)."])


def make_distilbert(fix: Path, corpus: list[str]) -> None:
    import torch
    from transformers import DistilBertConfig, DistilBertForMaskedLM
    positions = 48
    tok = build_wordpiece(corpus, positions)
    vocab = len(tok)
    # dim 64, 4 heads of 16; hidden_dim 100 is not a multiple of 32 (ffn_down falls back to F16).
    cfg = DistilBertConfig(vocab_size=vocab, dim=64, n_layers=2, n_heads=4, hidden_dim=100,
                           max_position_embeddings=positions, activation="gelu", dropout=0.0, attention_dropout=0.0,
                           pad_token_id=0, tie_word_embeddings=True)
    outdir = fresh("distilbert-tiny", fix)
    model = DistilBertForMaskedLM._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    init_encoder(model, 20250301, torch)
    model.eval()
    save_model(model, outdir)
    save_tokenizer(tok, outdir)
    inputs = pair_input(tok, torch, tok.mask_token_id)
    inputs.pop("token_type_ids")   # DistilBERT has no token types
    write_reference(outdir, "distilbert-tiny", inputs, run_model(model, inputs, torch), [
        "DistilBertForMaskedLM: no token types; MLM head vocab_transform -> gelu -> vocab_layer_norm -> "
        "vocab_projector (tied)."], torch)
    write_expected(outdir, "distilbert", bert_kv(cfg, eps=1e-12), [
        "DistilBERT is llama.cpp's 'bert' (DistilBertModel): no token_types tensor, layer_norm_epsilon 1e-12 "
        "(fixed in DistilBERT), token_type_count 1."])
    write_vocab(outdir, wordpiece_vocab_metadata(outdir, vocab), ["The WordPiece tokenizer of bert-tiny."])


def make_albert(fix: Path, corpus: list[str]) -> None:
    import torch
    from transformers import AlbertConfig, AlbertForPreTraining
    positions = 40
    tok = build_unigram(corpus, positions)
    vocab = len(tok)
    # embedding_size 32 != hidden 60; 4 heads of 15; 4 layers over 2 groups of 1 layer (layers 0,1 -> group 0).
    cfg = AlbertConfig(vocab_size=vocab, embedding_size=32, hidden_size=60, num_hidden_layers=4, num_hidden_groups=2,
                       inner_group_num=1, num_attention_heads=4, intermediate_size=96,
                       max_position_embeddings=positions, type_vocab_size=2, hidden_act="gelu_new",
                       layer_norm_eps=1e-12, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                       classifier_dropout_prob=0.0, pad_token_id=0, bos_token_id=2, eos_token_id=3,
                       tie_word_embeddings=True)
    outdir = fresh("albert-tiny", fix)
    model = AlbertForPreTraining._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    init_encoder(model, 20250401, torch)
    model.eval()
    save_model(model, outdir)
    save_tokenizer(tok, outdir)
    inputs = pair_input(tok, torch, tok.mask_token_id)
    write_reference(outdir, "albert-tiny", inputs, run_model(model, inputs, torch), [
        "AlbertForPreTraining: 4 layers sharing 2 layer groups of 1 layer (layer i runs group i * 2 // 4); "
        "MLM head predictions.dense (hidden -> embedding_size) -> gelu_new -> LayerNorm -> decoder tied to "
        "word_embeddings; SOP on the pooler output."], torch)
    kv = bert_kv(cfg, arch="albert")
    kv.update({"albert.token_embedding_length": 32, "albert.layer_group_count": 2, "albert.inner_group_count": 1})
    write_expected(outdir, "albert", kv, [
        "ALBERT has no llama.cpp architecture; its names are Swiftlet's 'albert': blk.N is layer J of group G with "
        "N = G * inner_group_num + J; embedding_hidden_mapping_in -> token_embd_proj."])
    write_vocab(outdir, unigram_vocab_metadata(outdir, vocab), [
        "SentencePiece Unigram trained with sentencepiece (vocab 300, custom normalization rules), given to "
        "transformers' AlbertTokenizer; the GGUF is read from tokenizer.json."])
