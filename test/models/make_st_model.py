#!/usr/bin/python3
# Writes a random-weight BERT model directory in the sentence-transformers layout (config.json, model.safetensors,
# vocab.txt, tokenizer files, modules.json, pooling config) for the tests and benchmarks of load_model().
"""Random sentence-transformers BERT models: make_model(out_dir, ...) or `make_st_model.py OUT_DIR [options]`,
`make_st_model.py --minilm OUT_DIR` for all-MiniLM-L6-v2's shape (6 layers, 384 hidden, 30,522 tokens)."""

import argparse
import itertools
import json
import os
import string
import struct

import numpy as np

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
COMMON_WORDS = """the of and to a in is it you that he was for on are with as his they be at one have this from
or had by hot word but what some we can out other were all there when up use your how said an each she which do
their time if will way about many then them write would like so these her long make thing see him two has look
more day could go come did number sound no most people my over know water than call first who may down side been
now find any new work part take get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help low line differ turn cause much
mean before move right boy old too same tell does set three want air well also play small end put home read hand
port large spell add even land here must big high such follow act why ask men change went light kind off need
house picture try us again animal point mother world near build self earth father head stand own page should
country found answer school grow study still learn plant cover food sun four between state keep eye never last
let thought city tree cross farm hard start might story saw far sea draw left late run while press close night
real life few north open seem together next white children begin got walk example ease paper group always music
those both mark often letter until mile river car feet care second book carry took science eat room friend began
idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young
ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door product
black short numeral class wind question happen complete ship area half rock order fire south problem piece told
knew pass since top whole king space heard best hour better true during hundred five remember step early hold west
ground interest reach fast verb sing listen six table travel less morning ten simple several vowel toward war lay
against pattern slow center love person money serve appear road map rain rule govern pull cold notice voice unit
power town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct able
pound done beauty drive stood contain front teach week final gave green oh quick develop ocean warm free minute
strong special mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue
object decide surface deep moon island foot system busy test record boat common gold possible plane stead dry
wonder laugh thousand ago ran check game shape equate miss brought heat snow tire bring yes distant fill east paint
language among database vector search query index model embedding text data""".split()
SUFFIXES = ["##s", "##es", "##ed", "##ing", "##ly", "##er", "##est", "##tion", "##ness", "##ment", "##able", "##ful"]


def bert_like_vocab(size):
    """[PAD]=0, [unused0..98], [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103, [unused99..993], characters and their
    '##' forms, common English words and suffixes, then synthetic letter pieces up to `size` tokens."""
    toks = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    toks += [f"[unused{i}]" for i in range(99, 994)]
    chars = ([c for c in string.punctuation] + list(string.digits) + list(string.ascii_lowercase)
             + list("àáâäçèéêëìíîïñòóôöùúûü") + list("“”‘’…¿¡«»–—·") + list("中文日本人大小山"))
    seen = set(toks)
    for t in chars + ["##" + c for c in chars if c.isalnum()] + COMMON_WORDS + SUFFIXES:
        if t not in seen:
            seen.add(t)
            toks.append(t)
    letters = string.ascii_lowercase
    for n in itertools.count(2):
        for combo in itertools.product(letters, repeat=n):
            for t in ("".join(combo), "##" + "".join(combo)):
                if len(toks) >= size:
                    return toks
                if t not in seen:
                    seen.add(t)
                    toks.append(t)


def to_bf16(a):
    """float32 -> bfloat16 bits (round to nearest even)."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def random_weights(hidden, layers, intermediate, vocab_size, max_position, type_vocab, seed, std):
    """{name (no prefix): float32 array} in HF BertModel's layout, drawn in a fixed order."""
    rng = np.random.default_rng(seed)
    H, I = hidden, intermediate

    def n(shape, s):
        return rng.normal(0.0, s, shape).astype(np.float32)

    w = {"embeddings.word_embeddings.weight": n((vocab_size, H), std),
         "embeddings.position_embeddings.weight": n((max_position, H), std),
         "embeddings.token_type_embeddings.weight": n((type_vocab, H), std)}

    def ln(name):
        w[name + ".weight"] = 1 + n(H, 0.1)
        w[name + ".bias"] = n(H, 0.1)

    def lin(name, out, inp):
        w[name + ".weight"] = n((out, inp), std)
        w[name + ".bias"] = n(out, 0.02)

    ln("embeddings.LayerNorm")
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for s in ("query", "key", "value"):
            lin(p + "attention.self." + s, H, H)
        lin(p + "attention.output.dense", H, H)
        ln(p + "attention.output.LayerNorm")
        lin(p + "intermediate.dense", I, H)
        lin(p + "output.dense", H, I)
        ln(p + "output.LayerNorm")
    lin("pooler.dense", H, H)  # not used by sentence-transformers: the loader must skip it
    return w


def write_safetensors(path, tensors, dtype):
    """tensors: {name: float32 array or int64 array}; floats are stored as dtype (F32, F16 or BF16)."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, a in sorted(tensors.items(), key=lambda kv: (kv[1].dtype != np.int64, kv[0])):  # 8-byte first
        if a.dtype == np.int64:
            dt, raw = "I64", a.astype("<i8").tobytes()
        elif dtype == "F32":
            dt, raw = "F32", a.astype("<f4").tobytes()
        elif dtype == "F16":
            dt, raw = "F16", a.astype("<f2").tobytes()
        else:
            dt, raw = "BF16", to_bf16(a).astype("<u2").tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # as safetensors does: the data starts 8-aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def _dump(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def make_model(out_dir, hidden=32, layers=2, heads=4, intermediate=64, vocab=1000, max_position=64,
               max_seq_length=None, pooling="mean", normalize=True, lowercase=True, strip_accents=None,
               chinese=True, st_lowercase=False, dtype="F32", bert_prefix=False, tokenizer_json=True, seed=0,
               weight_std=0.02, layer_norm_eps=1e-12, type_vocab=2, tokenizer_config_extra=None):
    """Writes the model directory; returns out_dir. `vocab`: a token list or a size (bert_like_vocab).
    lowercase/strip_accents/chinese are the effective tokenizer settings (written to tokenizer_config.json and,
    when tokenizer_json, to tokenizer.json's BertNormalizer); tokenizer_config_extra overwrites keys of
    tokenizer_config.json afterwards (to test that tokenizer.json wins). st_lowercase: sentence_bert_config's
    do_lower_case."""
    toks = list(vocab) if not isinstance(vocab, int) else bert_like_vocab(vocab)
    assert len(set(toks)) == len(toks) and all(s in toks for s in ("[UNK]", "[CLS]", "[SEP]"))
    assert pooling in ("mean", "cls", "max") and dtype in ("F32", "F16", "BF16")
    max_seq_length = max_seq_length or max_position
    os.makedirs(os.path.join(out_dir, "1_Pooling"), exist_ok=True)
    w = random_weights(hidden, layers, intermediate, len(toks), max_position, type_vocab, seed, weight_std)
    w["embeddings.position_ids"] = np.arange(max_position, dtype=np.int64)[None, :]  # unused, as in old files
    if bert_prefix:
        w = {"bert." + k: v for k, v in w.items()}
    write_safetensors(os.path.join(out_dir, "model.safetensors"), w, dtype)
    with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(t + "\n" for t in toks))
    _dump(os.path.join(out_dir, "config.json"), {
        "architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": False,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": hidden, "initializer_range": 0.02,
        "intermediate_size": intermediate, "layer_norm_eps": layer_norm_eps,
        "max_position_embeddings": max_position, "model_type": "bert", "num_attention_heads": heads,
        "num_hidden_layers": layers, "pad_token_id": toks.index("[PAD]") if "[PAD]" in toks else 0,
        "position_embedding_type": "absolute", "torch_dtype": {"F32": "float32", "F16": "float16",
                                                               "BF16": "bfloat16"}[dtype],
        "transformers_version": "4.41.2", "type_vocab_size": type_vocab, "use_cache": True,
        "vocab_size": len(toks)})
    special = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
               "mask_token": "[MASK]"}
    tc = {"do_lower_case": lowercase, "do_basic_tokenize": True, "never_split": None,
          "model_max_length": max_position, "tokenizer_class": "BertTokenizer", **special}
    if strip_accents is not None:
        tc["strip_accents"] = strip_accents
    if not chinese:
        tc["tokenize_chinese_chars"] = False
    tc.update(tokenizer_config_extra or {})
    _dump(os.path.join(out_dir, "tokenizer_config.json"), tc)
    _dump(os.path.join(out_dir, "special_tokens_map.json"), special)
    if tokenizer_json:
        ids = {t: i for i, t in enumerate(toks)}
        specials = [t for t in SPECIALS if t in ids]
        _dump(os.path.join(out_dir, "tokenizer.json"), {
            "version": "1.0",
            "truncation": {"direction": "Right", "max_length": max_seq_length, "strategy": "LongestFirst",
                           "stride": 0},
            "padding": None,
            "added_tokens": [{"id": ids[t], "content": t, "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": True} for t in specials],
            "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": chinese,
                           "strip_accents": strip_accents, "lowercase": lowercase},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")}},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100, "vocab": ids}})
    _dump(os.path.join(out_dir, "sentence_bert_config.json"),
          {"max_seq_length": max_seq_length, "do_lower_case": st_lowercase})
    _dump(os.path.join(out_dir, "config_sentence_transformers.json"),
          {"__version__": {"sentence_transformers": "2.0.0", "transformers": "4.6.1", "pytorch": "1.8.1"}})
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        os.makedirs(os.path.join(out_dir, "2_Normalize"), exist_ok=True)
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
    _dump(os.path.join(out_dir, "modules.json"), modules)
    _dump(os.path.join(out_dir, "1_Pooling", "config.json"), {
        "word_embedding_dimension": hidden, "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean", "pooling_mode_max_tokens": pooling == "max",
        "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False, "include_prompt": True})
    make_readable(out_dir)
    return out_dir


def make_readable(top):
    """Directories 755, files 644: the database server's OS user reads them."""
    os.chmod(top, 0o755)
    for root, dirs, files in os.walk(top):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


MINILM = dict(hidden=384, layers=6, heads=12, intermediate=1536, vocab=30522, max_position=512, max_seq_length=256,
              pooling="mean", normalize=True, lowercase=True, dtype="F32", bert_prefix=False, tokenizer_json=True)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out_dir", nargs="?")
    p.add_argument("--minilm", metavar="OUT_DIR", help="all-MiniLM-L6-v2's shape (other options but --seed ignored)")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--intermediate", type=int, default=64)
    p.add_argument("--vocab", default="1000", help="a size, or a file of tokens (one a line)")
    p.add_argument("--max-position", type=int, default=64)
    p.add_argument("--max-seq-length", type=int)
    p.add_argument("--pooling", choices=("mean", "cls", "max"), default="mean")
    p.add_argument("--no-normalize", action="store_true")
    p.add_argument("--cased", action="store_true", help="do_lower_case false")
    p.add_argument("--strip-accents", choices=("true", "false"), help="default: null (follows lower-casing)")
    p.add_argument("--st-lowercase", action="store_true", help="sentence_bert_config.json do_lower_case true")
    p.add_argument("--dtype", choices=("F32", "F16", "BF16"), default="F32")
    p.add_argument("--bert-prefix", action="store_true")
    p.add_argument("--no-tokenizer-json", action="store_true")
    p.add_argument("--weight-std", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.minilm:
        print(make_model(a.minilm, seed=a.seed, **MINILM))
        return
    if not a.out_dir:
        p.error("OUT_DIR or --minilm OUT_DIR")
    if a.vocab.isdigit():
        vocab = int(a.vocab)
    else:
        with open(a.vocab, encoding="utf-8") as f:
            vocab = [line.rstrip("\n") for line in f]
    print(make_model(a.out_dir, hidden=a.hidden, layers=a.layers, heads=a.heads, intermediate=a.intermediate,
                     vocab=vocab, max_position=a.max_position, max_seq_length=a.max_seq_length,
                     pooling=a.pooling, normalize=not a.no_normalize, lowercase=not a.cased,
                     strip_accents=None if a.strip_accents is None else a.strip_accents == "true",
                     st_lowercase=a.st_lowercase, dtype=a.dtype, bert_prefix=a.bert_prefix,
                     tokenizer_json=not a.no_tokenizer_json, seed=a.seed, weight_std=a.weight_std))


if __name__ == "__main__":
    main()
