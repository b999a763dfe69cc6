#!/usr/bin/env python3
"""Independent reference for token ids: a small pure-Python byte-level BPE (GPT-2 style) reading a Hugging Face
tokenizer.json, used to derive expected ids for the Java tokenizer tests without the Rust tokenizers library.

Covers what MiniMind's tokenizers use: added tokens split out first (no lstrip/rstrip/single_word), the ByteLevel
pre-tokenizer with add_prefix_space=False and the GPT-2 split regex, then BPE merges by rank (no dropout, no
ignore_merges).

usage: bpe_reference.py TOKENIZER_JSON TEXT [TEXT ...]   -> one JSON id list per text
"""
import json
import sys

import regex

GPT2_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    visible = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = visible[:]
    n = 0
    for b in range(256):
        if b not in visible:
            visible.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(visible, chars)}


class ByteLevelBpe:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        self.vocab = spec["model"]["vocab"]
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in spec["model"]["merges"]]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.added = sorted(((t["content"], t["id"]) for t in spec["added_tokens"]), key=lambda t: -len(t[0]))
        self.byte_map = bytes_to_unicode()

    def bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get((a, b), float("inf")), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(ranked)
            if rank == float("inf"):
                break
            pair = (parts[i], parts[i + 1])
            merged, j = [], 0
            while j < len(parts):  # merge every occurrence of the best pair, left to right
                if j < len(parts) - 1 and (parts[j], parts[j + 1]) == pair:
                    merged.append(parts[j] + parts[j + 1])
                    j += 2
                else:
                    merged.append(parts[j])
                    j += 1
            parts = merged
        return [self.vocab[p] for p in parts]

    def encode_plain(self, text):
        ids = []
        for piece in GPT2_SPLIT.findall(text):
            ids += self.bpe("".join(self.byte_map[b] for b in piece.encode("utf-8")))
        return ids

    def encode(self, text):
        ids, start, i = [], 0, 0
        while i < len(text):
            for content, token_id in self.added:
                if text.startswith(content, i):
                    ids += self.encode_plain(text[start:i]) + [token_id]
                    i += len(content)
                    start = i
                    break
            else:
                i += 1
        return ids + self.encode_plain(text[start:])


if __name__ == "__main__":
    bpe = ByteLevelBpe(sys.argv[1])
    for text in sys.argv[2:]:
        print(json.dumps(bpe.encode(text)))
