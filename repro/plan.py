"""`python -m repro.plan --config CONFIG [--gpus N] [--gpu-memory-gb G]`: will one training GPU hold the recipe?

Prints the batch arithmetic (per-device micro-batch x gradient accumulation x N training GPUs = the recipe's
rollouts per step) and an estimate of one training GPU's memory at the longest stage, then refuses (exit 2, one line)
a config that does not fit or whose global batch cannot be split over N GPUs. N defaults to the config's
launch.train_gpus, G to launch.gpu_memory_gb. Estimates, in bytes, with P parameters (ModelShape.num_params), N
training GPUs, ZeRO stage z, b = per-device micro-batch (rollouts), s = max_prompt_length + the longest
max_completion_length, c = that completion length, h hidden, q = heads x head_dim, k = kv heads x head_dim,
I = MLP width, L layers, V vocabulary:

  weights      z = 0: 4P (fp32 weights are the masters; bf16 is autocast compute)
               z > 0: 2P / (N if z = 3 else 1)  (DeepSpeed's bf16 copy)
  master       z > 0: 4P / N  (fp32 master weights, sharded from ZeRO-1 on)
  gradients    4P / (N if z >= 2 else 1)  (fp32 accumulation, DeepSpeed's data_types.grad_accum_dtype)
  optimizer    8P / (N if z >= 1 else 1)  (AdamW exp_avg + exp_avg_sq in fp32)
  zero3 live   z = 3: 2 x (stage3_max_live_parameters + stage3_prefetch_bucket_size) = 2 x 1.5e9 (the values of
               repro/configs/deepspeed_zero3.json): gathered bf16 layers in flight
  activations  gradient checkpointing on: 2 b s h L (each layer's bf16 input kept) + 2 x b s (8h + 8q + 12k + 8I)
               (one layer recomputed in backward: the bf16 tensors autograd saves for norms, q/k/v, rope, attention
               with a flash kernel (no s^2 matrix), SwiGLU; x2 for their gradients in flight);
               off: L x that per-layer figure
  logits       6 b c V  (bf16 logits, TRL's per-row log-softmax kept for backward, and their gradient)
  overhead     4 GB (CUDA context, NCCL buffers) + 10% of the above (allocator fragmentation)

A config fits when the total is at most 90% of the GPU. The vLLM side (a separate node) is printed for information:
bf16 weights over tensor parallel ranks and the KV cache per full-length sequence, 4 L k bytes per token.
Does not cover: measuring anything (these are formulas; the GPU check in tests/repro/test_gpu.py measures a small
model), pipeline or tensor parallel training, CPU offload.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from repro.config import ConfigError, ModelShape, ReproConfig, load_config

GB = 1e9
ZERO3_LIVE_PARAMS = 1_000_000_000 + 500_000_000  # stage3_max_live_parameters + stage3_prefetch_bucket_size
FIXED_OVERHEAD = 4 * GB
FRAGMENTATION = 0.10
USABLE = 0.90


@dataclass(frozen=True)
class MemoryPlan:
    """Per-GPU bytes of each part for one training GPU, and the batch split that gives the global batch."""

    gpus: int
    micro_batch: int
    accumulation: int
    rollouts_per_step: int
    seq_len: int
    parts: dict[str, float]
    capacity: float

    @property
    def total(self) -> float:
        return sum(self.parts.values())

    @property
    def fits(self) -> bool:
        return self.total <= USABLE * self.capacity


def layer_activation_bytes(shape: ModelShape, tokens: int) -> float:
    """bf16 tensors autograd keeps for one decoder layer's backward, per the module docstring."""
    h, q = shape.hidden_size, shape.num_attention_heads * shape.head_dim
    k, inter = shape.num_key_value_heads * shape.head_dim, shape.intermediate_size
    return tokens * (8 * h + 8 * q + 12 * k + 8 * inter)


def state_bytes(params: int, zero_stage: int, gpus: int) -> dict[str, float]:
    """Weights, fp32 masters, gradients and AdamW state on one GPU for a ZeRO stage."""
    shard = lambda n, from_stage: n / gpus if zero_stage >= from_stage else n
    if zero_stage == 0:
        return {"weights": 4 * params, "gradients": 4 * params, "optimizer": 8 * params}
    return {"weights": shard(2 * params, 3), "master": 4 * params / gpus, "gradients": shard(4 * params, 2),
            "optimizer": 8 * params / gpus, "zero3 live": 2 * ZERO3_LIVE_PARAMS if zero_stage == 3 else 0}


def plan(cfg: ReproConfig, gpus: int, gpu_memory_gb: float) -> MemoryPlan:
    """The plan for `gpus` training GPUs of `gpu_memory_gb`; ConfigError when the batch cannot be split."""
    shape = cfg.model_shape
    if shape is None:
        raise ConfigError("the config has no model_shape (the policy's architecture); add it to plan memory")
    if gpus < 1:
        raise ConfigError(f"--gpus must be at least 1, got {gpus}")
    micro, accumulation = cfg.micro_batch_size(), cfg.accumulation_steps(gpus)
    seq, completion = cfg.longest_sequence(), max(s.max_completion_length for s in cfg.stages)
    parts = state_bytes(shape.num_params(), cfg.launch.zero_stage, gpus)
    layer = layer_activation_bytes(shape, micro * seq)
    if cfg.gradient_checkpointing:
        parts["activations"] = 2 * micro * seq * shape.hidden_size * shape.num_layers + 2 * layer
    else:
        parts["activations"] = 2 * layer * shape.num_layers
    parts["logits"] = 6 * micro * completion * shape.vocab_size
    parts["overhead"] = FIXED_OVERHEAD + FRAGMENTATION * sum(parts.values())
    return MemoryPlan(gpus, micro, accumulation, micro * accumulation * gpus, seq, parts, gpu_memory_gb * GB)


def vllm_lines(cfg: ReproConfig, gpu_memory_gb: float) -> list[str]:
    shape = cfg.model_shape
    tp = cfg.vllm.tensor_parallel_size
    weights = 2 * shape.num_params() / tp
    kv_per_token = 4 * shape.num_layers * shape.num_key_value_heads * shape.head_dim / tp
    per_seq = kv_per_token * cfg.longest_sequence()
    free = cfg.vllm.gpu_memory_utilization * gpu_memory_gb * GB - weights
    return [(f"vllm (per GPU, tp {tp}): weights {weights / GB:.1f} GB, KV cache {per_seq / GB:.2f} GB per "
            f"{cfg.longest_sequence()}-token sequence -> about {max(int(free // per_seq), 0)} full-length sequences "
            f"in flight per engine")]


def render(cfg: ReproConfig, p: MemoryPlan) -> str:
    lines = [
        (f"{cfg.name}: {cfg.model_shape.num_params() / 1e9:.2f}B parameters, ZeRO stage {cfg.launch.zero_stage}, "
        f"{p.gpus} training GPUs of {p.capacity / GB:.0f} GB"),
        (f"batch: micro-batch {p.micro_batch} x accumulation {p.accumulation} x {p.gpus} GPUs = "
        f"{p.rollouts_per_step} rollouts per step = {p.rollouts_per_step // cfg.group_size} prompts x group "
        f"{cfg.group_size}"),
        (f"sequence: {cfg.max_prompt_length} prompt + {p.seq_len - cfg.max_prompt_length} completion = "
        f"{p.seq_len} tokens (gradient checkpointing {'on' if cfg.gradient_checkpointing else 'off'})"),
    ]
    lines += [f"  {name:<12} {value / GB:8.1f} GB" for name, value in p.parts.items()]
    lines.append(f"  {'total':<12} {p.total / GB:8.1f} GB of {USABLE * p.capacity / GB:.0f} GB usable "
                 f"({100 * p.total / p.capacity:.0f}% of the GPU)")
    if cfg.vllm.mode.value == "server":
        lines += vllm_lines(cfg, p.capacity / GB)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m repro.plan", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="repro/configs/<name>.yaml")
    ap.add_argument("--gpus", type=int, default=None, help="training GPUs (default: the config's launch.train_gpus)")
    ap.add_argument("--gpu-memory-gb", type=float, default=None, help="default: the config's launch.gpu_memory_gb")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config)
        gpus = args.gpus if args.gpus is not None else cfg.launch.train_gpus
        p = plan(cfg, gpus, args.gpu_memory_gb or cfg.launch.gpu_memory_gb)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(cfg, p))
    if not p.fits:
        print(f"error: {cfg.name} does not fit: {p.total / GB:.0f} GB per training GPU > {USABLE:.0%} of "
              f"{p.capacity / GB:.0f} GB; lower per_device_batch_size or the sequence length, or raise the ZeRO "
              "stage / GPU count", file=sys.stderr)
        return 2
    print("fits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
