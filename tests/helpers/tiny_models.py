"""Tiny random Qwen3 models (and a tiny byte-level tokenizer) built offline, for tests.

A random model almost never emits EOS, so every sample would run to the length cap. `build_tiny_qwen3` therefore
plants a fixed EOS preference in the weights (so it survives save/load and works in any generate loop): one
dimension of the residual stream is made large and constant (every embedding carries it, no layer writes to it),
which gives the final hidden state a steady component along it, and the EOS row of the tied embedding is raised
along that dimension so its logit sits `eos_bias` above where it would be, at every position. By default the lead
is calibrated on random contexts for a given sampling setup (temperature, top_k) so that a sample ends after about
`mean_length` tokens; other sampling settings give other lengths.

Not covered: anything about model quality; these models produce random text. torch/transformers are imported
inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# A plain ChatML template with Qwen3's enable_thinking switch (an empty think block when thinking is off).
TINY_CHAT_TEMPLATE = (
    "{%- for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
THINK_TOKENS = ("<think>", "</think>")


def build_tiny_tokenizer() -> Any:
    """A 261-token byte-level tokenizer (256 bytes, no merges, plus Qwen's chat and think tokens) with a ChatML
    chat template; eos = <|im_end|>, pad = <|endoftext|>. Round-trips any text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    core = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(alphabet)}, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=["<|im_start|>"])
    tokenizer.add_tokens(list(THINK_TOKENS))
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    return tokenizer


def build_tiny_qwen3(tokenizer: Any, *, hidden_size: int = 64, layers: int = 2, seed: int = 0,
                     eos_bias: float | None = None, mean_length: float = 24.0, temperature: float = 0.6,
                     top_k: int | None = 20, max_position_embeddings: int = 4096) -> Any:
    """A random Qwen3ForCausalLM (fp32, eval mode) over the tokenizer's full vocabulary, with tied embeddings.

    The EOS logit lead is eos_bias when given; by default it is calibrated so that, sampling at `temperature`
    with `top_k` (defaults: the harness's Qwen3 settings; pass temperature=1.0, top_k=None for plain sampling as
    in TRL), a sample ends after about `mean_length` tokens. eos/pad ids come from the tokenizer."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    heads = max(1, hidden_size // 16)
    eos_id, pad_id = tokenizer.eos_token_id, tokenizer.pad_token_id
    config = Qwen3Config(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                         head_dim=hidden_size // heads, max_position_embeddings=max_position_embeddings,
                         tie_word_embeddings=True, eos_token_id=eos_id, pad_token_id=pad_id, bos_token_id=None)
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config).eval()
    lead = _steady_eos_lead(model, eos_id, seed)
    lead.plant(eos_bias if eos_bias is not None else lead.calibrate(1 / mean_length, temperature, top_k))
    model.generation_config.eos_token_id = eos_id
    model.generation_config.pad_token_id = pad_id
    return model


class _EosLead:
    """The EOS logit lead planted along the constant dimension 0 (see the module docstring)."""

    def __init__(self, model: Any, eos_id: int, hidden: Any):
        self.embed = model.get_input_embeddings().weight
        self.eos_id = eos_id
        self.steady = hidden[:, 0]  # dimension 0 of the final hidden state at each probe position
        self.base = hidden @ self.embed.T  # logits before the lead (the output layer is tied to the embedding)

    def eos_probability(self, temperature: float, top_k: int | None) -> Callable[[float], float]:
        """lead -> mean EOS probability over the probe when sampling at `temperature` with `top_k`. The other
        tokens' logits do not move with the lead, so their part is computed once."""
        import torch

        scale = max(temperature, 1e-6)
        others = self.base.clone()
        others[:, self.eos_id] = float("-inf")
        others /= scale
        kth = None
        if top_k:
            top = others.topk(top_k, dim=-1).values
            kth, rest = top[:, -1], torch.logsumexp(top[:, :-1], dim=-1)  # EOS takes the k-th place when it enters
        else:
            rest = torch.logsumexp(others, dim=-1)
        eos_base = self.base[:, self.eos_id] / scale
        step = self.steady / self.steady.mean() / scale

        def probability(lead: float) -> float:
            eos = eos_base + lead * step
            prob = torch.sigmoid(eos - rest)
            if kth is not None:
                prob = torch.where(eos > kth, prob, torch.zeros_like(prob))
            return prob.mean().item()

        return probability

    def calibrate(self, target: float, temperature: float, top_k: int | None) -> float:
        """The lead whose mean EOS probability over the probe is `target` (bisection: it grows with the lead)."""
        probability = self.eos_probability(temperature, top_k)
        low, high = -10.0, 40.0
        for _ in range(40):
            mid = (low + high) / 2
            low, high = (mid, high) if probability(mid) < target else (low, mid)
        return (low + high) / 2

    def plant(self, lead: float) -> None:
        import torch

        with torch.no_grad():
            self.embed[self.eos_id, 0] += lead / self.steady.mean().item()


def _steady_eos_lead(model: Any, eos_id: int, seed: int) -> _EosLead:
    import torch

    embed = model.get_input_embeddings().weight
    if model.get_output_embeddings().weight is not embed:
        raise ValueError("the EOS lead assumes tied input/output embeddings")
    with torch.no_grad():
        # Dimension 0 of the residual stream holds the same large value at every position (no layer writes to
        # it), so after the final norm it is nearly the same everywhere, whatever the context or its length.
        embed[:, 0] = 1.0
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight[0, :] = 0.0
            layer.mlp.down_proj.weight[0, :] = 0.0
        probe = torch.randint(0, embed.shape[0], (2, 64), generator=torch.Generator().manual_seed(seed))
        probe[probe == eos_id] = 0  # EOS as an input would move with the lead being calibrated
        hidden = model.model(input_ids=probe).last_hidden_state.reshape(-1, embed.shape[1])
        return _EosLead(model, eos_id, hidden)


def save_tiny_qwen3(directory: str | Path, tokenizer: Any | None = None, **model_kwargs: Any) -> Path:
    """Write a tiny random Qwen3 checkpoint (model + tokenizer + generation config) that AutoModelForCausalLM and
    AutoTokenizer load offline. tokenizer defaults to build_tiny_tokenizer()."""
    directory = Path(directory)
    tokenizer = tokenizer if tokenizer is not None else build_tiny_tokenizer()
    model = build_tiny_qwen3(tokenizer, **model_kwargs)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
