"""Statement text keys shared by deduplication and decontamination: the normalised statement, its hash, word n-grams.

Does not cover: which rows are dropped (repro.datasets.curation, repro.datasets.decontamination).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata


def normalize_statement(text: str) -> str:
    """Lower-cased NFKC text reduced to its alphanumeric words, so formatting, LaTeX markers and commands (\\ldots,
    \\le) and punctuation do not hide a copied statement."""
    folded = unicodedata.normalize("NFKC", re.sub(r"\\[A-Za-z]+", " ", text)).lower()
    return " ".join(re.findall(r"[^\W_]+", folded))


def statement_hash(text: str) -> str:
    return hashlib.sha256(normalize_statement(text).encode("utf-8")).hexdigest()[:32]


def word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """The set of n-word shingles of the normalised statement (one shingle of all words when shorter than n)."""
    words = normalize_statement(text).split()
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
