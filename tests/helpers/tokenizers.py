"""Build a real Qwen3 tokenizer offline, from the BPE ranks file and the chat template, with no hub download.

Inputs (a folder, e.g. ../shared/qwen): ``qwen.tiktoken`` (one ``base64(token_bytes) rank`` pair per line, the
151,643 byte-level BPE tokens) and ``Qwen-Qwen3-0.6B.jinja`` (the chat template). The result is a
``transformers`` fast tokenizer laid out like the hub's Qwen3 one: NFC normaliser, Qwen's pre-tokenizer regex
(single digits), byte-level BPE whose merges are recovered from the ranks (merging the pair whose joined token has
the lowest rank first is exactly tiktoken's algorithm), the added tokens at their Qwen ids from 151643, eos
``<|im_end|>``, pad ``<|endoftext|>``, no bos.

Used by tests that need a genuine Qwen3 tokenizer on a CPU machine (the harness itself never imports it). Not
covered: model weights, other model families, or checking the template's bytes against the hub copy (the file's
provenance is noted in REFERENCE.md section 8).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # transformers is heavy; import it only when a tokenizer is actually built
    from transformers import PreTrainedTokenizerFast

RANKS_FILE = "qwen.tiktoken"
TEMPLATE_FILE = "Qwen-Qwen3-0.6B.jinja"

# Qwen's pre-tokenizer: like cl100k's but digits split one by one.
QWEN_PRETOKENIZE_REGEX = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

# Added tokens in id order from FIRST_ADDED_ID; the flag says whether decoding with skip_special_tokens drops it
# (Qwen3 marks the tool, fim and think tags as non-special so they survive decoding).
FIRST_ADDED_ID = 151643
QWEN_ADDED_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
)
QWEN3_MODEL_MAX_LENGTH = 40960


class QwenFilesMissing(FileNotFoundError):
    """The folder lacks the ranks file or the chat template."""


def load_bpe_ranks(path: str | Path) -> dict[bytes, int]:
    """Token bytes -> rank from a tiktoken ranks file; ranks must be 0..n-1 with no gaps (ids are ranks)."""
    ranks: dict[bytes, int] = {}
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                token, rank = line.split()
                ranks[base64.b64decode(token, validate=True)] = int(rank)
            except ValueError as err:
                raise ValueError(f"{path}:{lineno}: expected 'base64_token rank', got {line[:60]!r}") from err
    if sorted(ranks.values()) != list(range(len(ranks))):
        raise ValueError(f"{path}: ranks are not a gapless 0..{len(ranks) - 1} sequence")
    return ranks


def bpe_merges_from_ranks(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """The merge list that makes a rank-ordered BPE reproduce tiktoken: for every multi-byte token, each split into
    two tokens that both exist, ordered by the joined token's rank (ties: by the parts' ranks)."""
    scored: list[tuple[int, int, int, bytes, bytes]] = []
    for token, rank in ranks.items():
        for cut in range(1, len(token)):
            left, right = token[:cut], token[cut:]
            left_rank, right_rank = ranks.get(left), ranks.get(right)
            if left_rank is not None and right_rank is not None:
                scored.append((rank, left_rank, right_rank, left, right))
    scored.sort()
    return [(left, right) for _, _, _, left, right in scored]


def build_qwen_tokenizer(qwen_dir: str | Path) -> PreTrainedTokenizerFast:
    """A Qwen3 fast tokenizer built offline from ``qwen_dir`` (see the module docstring)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    qwen_dir = Path(qwen_dir)
    ranks_path, template_path = qwen_dir / RANKS_FILE, qwen_dir / TEMPLATE_FILE
    missing = [p.name for p in (ranks_path, template_path) if not p.is_file()]
    if missing:
        raise QwenFilesMissing(
            f"{qwen_dir}: missing {', '.join(missing)} (need the Qwen BPE ranks and chat template)"
        )
    ranks = load_bpe_ranks(ranks_path)
    if len(ranks) != FIRST_ADDED_ID:
        raise ValueError(f"{ranks_path}: {len(ranks)} tokens, Qwen has {FIRST_ADDED_ID}")

    # str.translate on the Latin-1 view maps every byte to its byte-level symbol at C speed.
    to_unicode = dict(enumerate(_byte_to_unicode()))

    def as_str(token: bytes) -> str:
        return token.decode("latin-1").translate(to_unicode)

    vocab = {as_str(token): rank for token, rank in ranks.items()}
    merges = [(as_str(left), as_str(right)) for left, right in bpe_merges_from_ranks(ranks)]
    bpe = models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False)
    bpe.ignore_merges = True  # a whole pre-token already in the vocab maps to it directly, as tiktoken does
    backend = Tokenizer(bpe)
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    backend.add_tokens(
        [AddedToken(text, special=special, normalized=False) for text, special in QWEN_ADDED_TOKENS]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        additional_special_tokens=[text for text, special in QWEN_ADDED_TOKENS[1:] if special],
        chat_template=template_path.read_text(encoding="utf-8"),
        model_max_length=QWEN3_MODEL_MAX_LENGTH,
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )
    _check_added_ids(tokenizer)
    return tokenizer


def _check_added_ids(tokenizer: PreTrainedTokenizerFast) -> None:
    for offset, (text, _) in enumerate(QWEN_ADDED_TOKENS):
        got = tokenizer.convert_tokens_to_ids(text)
        if got != FIRST_ADDED_ID + offset:
            raise RuntimeError(f"added token {text!r} got id {got}, Qwen uses {FIRST_ADDED_ID + offset}")


def _byte_to_unicode() -> list[str]:
    """The byte-level BPE alphabet: printable Latin-1 bytes stand for themselves, the other 68 bytes map in order
    to code points from 256 up (the GPT-2 convention every byte-level BPE vocab file uses)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table: list[str] = [""] * 256
    extra = 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table
