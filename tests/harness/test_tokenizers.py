"""The offline Qwen3 tokenizer: known Qwen ids, agreement with tiktoken on the same ranks, round trips, added
tokens, the chat template with thinking on and off, and clear errors for bad inputs."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.helpers.tokenizers import (
    FIRST_ADDED_ID,
    QWEN_ADDED_TOKENS,
    QWEN_PRETOKENIZE_REGEX,
    QwenFilesMissing,
    bpe_merges_from_ranks,
    build_qwen_tokenizer,
    load_bpe_ranks,
)
from tests.conftest import shared_path

SAMPLES = [
    "Hello world",
    "def solve():\n    n = int(input())\n    print(n * 2)\n\nsolve()\n",
    "    \t  indented\r\n\r\nwindows lines",
    "Numbers 1234567890 and 3.14159e-10, -42",
    "Unicode: naïve café — 你好，世界 🙂 Ω≈ç√",
    "It's they'll we'd I'M YOU'RE",
    "```python\nprint('x')\n```\n",
    "",
]


def test_is_a_fast_tokenizer_with_qwen_special_tokens(qwen_tokenizer):
    from transformers import PreTrainedTokenizerFast

    assert isinstance(qwen_tokenizer, PreTrainedTokenizerFast)
    assert qwen_tokenizer.eos_token == "<|im_end|>" and qwen_tokenizer.eos_token_id == 151645
    assert qwen_tokenizer.pad_token == "<|endoftext|>" and qwen_tokenizer.pad_token_id == 151643
    assert qwen_tokenizer.bos_token is None
    assert len(qwen_tokenizer) == FIRST_ADDED_ID + len(QWEN_ADDED_TOKENS)
    for offset, (text, _) in enumerate(QWEN_ADDED_TOKENS):
        assert qwen_tokenizer.convert_tokens_to_ids(text) == FIRST_ADDED_ID + offset
    assert qwen_tokenizer.convert_tokens_to_ids("<think>") == 151667
    assert qwen_tokenizer.convert_tokens_to_ids("</think>") == 151668


def test_known_qwen_ids(qwen_tokenizer):
    # Ids as the hub's Qwen2/Qwen3 tokenizer gives them: digits are split one by one.
    assert qwen_tokenizer("Hello world").input_ids == [9707, 1879]
    assert qwen_tokenizer("123").input_ids == [16, 17, 18]
    assert qwen_tokenizer("<|im_start|>user\n").input_ids == [151644, 872, 198]


@pytest.mark.parametrize("text", SAMPLES)
def test_round_trip(qwen_tokenizer, text):
    ids = qwen_tokenizer(text).input_ids
    assert qwen_tokenizer.decode(ids) == unicodedata.normalize("NFC", text)


def test_agrees_with_tiktoken_on_the_same_ranks(qwen_tokenizer):
    tiktoken = pytest.importorskip("tiktoken", reason="tiktoken (dev extra) is needed for the cross-check")
    ranks = load_bpe_ranks(shared_path("qwen", "qwen.tiktoken"))
    reference = tiktoken.Encoding(
        name="qwen-offline-check", pat_str=QWEN_PRETOKENIZE_REGEX, mergeable_ranks=ranks, special_tokens={}
    )
    texts = list(SAMPLES)
    problems = shared_path("lcb", "release_v6_problems.jsonl")
    with open(problems, encoding="utf-8") as f:
        for _, line in zip(range(25), f):
            row = json.loads(line)
            texts += [row["question_content"], row["starter_code"]]
    for text in texts:
        text = unicodedata.normalize("NFC", text)
        assert qwen_tokenizer(text).input_ids == reference.encode_ordinary(text), text[:80]


def test_added_tokens_are_single_ids_and_only_special_ones_are_skipped(qwen_tokenizer):
    text = "<think>\nplan\n</think>\n\nanswer<|im_end|>"
    ids = qwen_tokenizer(text).input_ids
    assert ids[0] == 151667 and 151668 in ids and ids[-1] == 151645
    assert qwen_tokenizer.decode(ids, skip_special_tokens=True) == "<think>\nplan\n</think>\n\nanswer"


def test_chat_template_thinking_on_and_off(qwen_tokenizer):
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    on = qwen_tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    off = qwen_tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=False, enable_thinking=False
    )
    assert on == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    assert off == on + "<think>\n\n</think>\n\n"
    history = messages + [{"role": "assistant", "content": "<think>\nr\n</think>\n\nA"}]
    rendered = qwen_tokenizer.apply_chat_template(history, tokenize=False)
    assert rendered.endswith("<|im_start|>assistant\n<think>\nr\n</think>\n\nA<|im_end|>\n")


def test_merges_follow_the_joined_tokens_rank():
    ranks = {b"a": 0, b"b": 1, b"c": 2, b"ab": 3, b"bc": 4, b"abc": 5}
    assert bpe_merges_from_ranks(ranks) == [(b"a", b"b"), (b"b", b"c"), (b"a", b"bc"), (b"ab", b"c")]


def test_missing_files_raise_a_clear_error(tmp_path):
    with pytest.raises(QwenFilesMissing, match="qwen.tiktoken, Qwen-Qwen3-0.6B.jinja"):
        build_qwen_tokenizer(tmp_path)


def test_bad_ranks_file_names_the_line(tmp_path):
    bad = tmp_path / "qwen.tiktoken"
    bad.write_text("IQ== 0\nnot-base64!! 1\n")
    with pytest.raises(ValueError, match=r"qwen.tiktoken:2: expected 'base64_token rank'"):
        load_bpe_ranks(bad)
    gap = tmp_path / "gap.tiktoken"
    gap.write_text("IQ== 0\nIg== 2\n")
    with pytest.raises(ValueError, match="not a gapless"):
        load_bpe_ranks(gap)
