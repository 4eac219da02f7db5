"""One typed configuration for the NousCoder-14B RL reproduction, loaded from YAML, and its mapping onto TRL / vLLM.

`load_config(path)` reads a YAML file into `ReproConfig` (pydantic, unknown keys rejected); `to_grpo_config`
turns one context stage into a `trl.GRPOConfig`; `to_vllm_serve_args` gives the `trl vllm-serve` command line the
trainer talks to in server mode; `eval_args` / `yarn_hf_overrides` give the harness evaluation settings used to
pick and score checkpoints (40,960 to pick; 81,920 with YaRN 2.0 over 40,960 to score the best). At load, prompt +
completion is checked against the policy's positions at every stage (`check_positions`).

Sources cited in field descriptions:
  [Nous]    NousCoder-14B blog post (nousresearch.com/nouscoder-14b-a-competitive-olympiad-programming-model), 2025.
  [DAPO]    Yu et al., "DAPO: An Open-Source LLM Reinforcement Learning System at Scale", arXiv:2503.14476.
  [GSPO]    Zheng et al., "Group Sequence Policy Optimization", arXiv:2507.18071.
  [GRPO]    Shao et al., "DeepSeekMath", arXiv:2402.03300 (group-normalised advantage).
  [DeepCoder] Agentica x Together AI, DeepCoder-14B blog post, 2025 (dataset recipe, learning rate).
  [Qwen3]   Qwen3 technical report, model card and Qwen3-14B config.json (sampling settings; 40,960 positions;
            YaRN to extend the context; the architecture numbers of ModelShape).
  [TRL]     TRL 1.16 GRPOConfig / GRPOTrainer documentation and source.

Does not cover: building models or tokenizers (the caller resolves `model`), running training or evaluation.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.backends.common import checkpoint_rope_scaling
from harness.errors import UserError
from harness.verdicts import Limits

if TYPE_CHECKING:  # trl imports torch; keep `import repro.config` light
    from trl import GRPOConfig


EVAL_LIMITS = Limits()  # the judge's defaults: one home (harness/verdicts.py)


class ConfigError(UserError):
    """A config file that cannot be used; the message is one line saying what is wrong and what to do."""


class Objective(StrEnum):
    DAPO = "dapo"  # token-level ratio, clip-higher, token-level loss [DAPO]
    GSPO = "gspo"  # sequence-level ratio, each sequence weighs the same [GSPO]
    GSPO_PLUS = "gspo_plus"  # sequence-level ratio, each token weighs the same [Nous]


class OverlongMode(StrEnum):
    ZERO_ADVANTAGE = "zero_advantage"  # [Nous]: truncated rollout stays in the batch with advantage 0
    MASK = "mask"  # [DAPO]/[TRL] mask_truncated_completions: out of the loss and its normaliser
    NONE = "none"  # truncated rollouts are graded and trained on like any other


class VllmMode(StrEnum):
    SERVER = "server"
    COLOCATE = "colocate"
    NONE = "none"


class SandboxKind(StrEnum):
    LOCAL = "local"
    MODAL = "modal"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Strict):
    """One context stage of the schedule: train at this completion length for this many optimizer steps."""

    name: str = Field(description="Label used in checkpoint folder names, e.g. '32k'.")
    max_completion_length: int = Field(
        gt=0, description="Tokens a rollout may generate before it is cut (and counts as overlong). [Nous]: 32k then 40k."
    )
    steps: int = Field(gt=0, description="Optimizer steps in this stage. [Nous] does not publish per-stage counts.")


class RewardSettings(_Strict):
    """How a rollout is judged: the harness judge, the same verifier as the evaluation."""

    time_limit_s: float = Field(15.0, gt=0, description="CPU seconds per test before `time_limit` (-1). [Nous]: 15 s.")
    memory_limit_mb: int = Field(4096, gt=0, description="Memory per test before `memory_limit` (-1). [Nous]: 4 GB.")
    workers: int | None = Field(
        None, gt=0, description="Judge worker processes; None = the judge's default (cores). Local sandbox only."
    )
    extract_mode: str = Field(
        "robust", description="harness.extract mode that turns a completion into code ('robust', 'lcb', 'raw')."
    )
    sandbox: SandboxKind = Field(
        SandboxKind.LOCAL, description="Where rollouts run: the local jail pool or Modal sandboxes ([Nous] used Modal)."
    )


class DynamicSampling(_Strict):
    """[DAPO] dynamic sampling: groups whose rewards are all equal carry no signal and leave the batch."""

    enabled: bool = Field(True, description="Drop all-equal groups from the loss and its normaliser. [DAPO], [Nous].")
    max_refill_rounds: int = Field(
        2, ge=0, description="Extra generation rounds that over-sample fresh prompts to refill dropped groups "
        "([DAPO] samples until the batch is full; bounded here so a step cannot loop forever). 0 = mask only."
    )


class VllmSettings(_Strict):
    """vLLM generation during training ([TRL] use_vllm / vllm_mode)."""

    mode: VllmMode = Field(VllmMode.NONE, description="server: a separate `trl vllm-serve`; colocate: same GPUs.")
    server_host: str = Field("0.0.0.0", description="[TRL] vllm_server_host (server mode).")
    server_port: int = Field(8000, description="[TRL] vllm_server_port (server mode).")
    tensor_parallel_size: int = Field(1, ge=1, description="vLLM tensor parallel degree.")
    data_parallel_size: int = Field(1, ge=1, description="vLLM engine replicas on the server node ([TRL] vllm-serve "
                                    "--data-parallel-size); tensor x data parallel = GPUs the server uses.")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="Fraction of GPU memory vLLM may take.")


class YarnSettings(_Strict):
    """YaRN rope scaling used to evaluate beyond the policy's 40,960 positions (REFERENCE §6). The default is what
    NousCoder-14B's released config.json carries: factor 2.0 over 40,960 -> max_position_embeddings 81,920,
    rope_theta 1e6 [Nous]. A checkpoint whose config.json already carries rope scaling is evaluated as it is."""

    factor: float = Field(2.0, gt=1, description="81,920 / 40,960 = 2.0, as NousCoder-14B's config.json [Nous].")
    original_max_position_embeddings: int = Field(
        40960, description="Positions the rope was trained for: Qwen3-14B's max_position_embeddings 40,960 [Qwen3]."
    )
    rope_theta: float = Field(1_000_000.0, description="Carried because hf_overrides replaces the rope dict whole.")


class EvalSettings(_Strict):
    """How checkpoints are scored by the harness (the same judge, official v6 window)."""

    dataset: str = Field("livecodebench/code_generation_lite", description="harness --dataset SPEC.")
    release: str = Field("release_v6", description="LiveCodeBench release tag.")
    start_date: str = Field("2024-08-01", description="v6 window start (inclusive) [Nous].")
    end_date: str = Field("2025-05-01", description="v6 window end (inclusive) [Nous].")
    prompt_style: str = Field("lcb-generic", description="harness prompt style; [Nous] used the standard LCB prompt.")
    extract_mode: str = Field("robust", description="harness extraction mode.")
    n: int = Field(16, ge=1, description="Samples per problem; [Nous] evaluated 16.")
    temperature: float = Field(0.6, ge=0, description="[Qwen3] thinking-mode sampling, as [Nous] used.")
    top_p: float = Field(0.95, gt=0, le=1, description="[Qwen3] / [Nous].")
    top_k: int = Field(20, description="[Qwen3] recommended top_k (-1 disables).")
    max_model_len: int = Field(81920, gt=0, description="Final evaluation context [Nous]: 81,920 with YaRN.")
    select_max_model_len: int = Field(
        40960, gt=0, description="Context used to pick the best checkpoint [Nous]: best LCB score at 40k."
    )
    inline: bool = Field(
        True, description="Score checkpoints inside the driver (CPU toy). False: the driver writes one "
        "`python -m harness.eval` job per checkpoint (eval/jobs.jsonl) and `python -m repro.evaluate_checkpoints "
        "RUN_DIR` runs them on their own GPUs and picks the best at select_max_model_len (multi-GPU runs)."
    )
    yarn: YarnSettings | None = Field(
        default_factory=YarnSettings, description="YaRN for max_model_len; null to evaluate without rope scaling."
    )
    backend: str = Field("vllm", description="harness backend (vllm on GPU, hf on CPU).")
    time_limit_s: float = Field(
        EVAL_LIMITS.time_limit_s, gt=0, description="Eval time limit: the judge's default, the official 6 s."
    )
    memory_limit_mb: int = Field(
        EVAL_LIMITS.memory_limit_mb, gt=0, description="Eval memory limit: the judge's default."
    )
    workers: int | None = Field(None, gt=0, description="Judge workers for eval; None = cores.")


class DataSettings(_Strict):
    """The training set (repro.data): [DeepCoder]'s sources, decontaminated against the eval window."""

    sources: list[str] = Field(
        default_factory=lambda: ["taco_verified", "synthetic1", "lcb"],
        description="Training sources, [Nous]/[DeepCoder]: TACO-verified, SYNTHETIC-1, LCB before the cutoff.",
    )
    path: str | None = Field(None, description="A local JSONL in repro.data's schema instead of the hub sources.")
    lcb_cutoff: str = Field("2024-07-31", description="Keep LCB problems strictly before the eval window [Nous].")
    max_rows: int | None = Field(None, gt=0, description="Cap on training rows (debugging).")
    prompt_style: str = Field("lcb-generic", description="Prompt style that turns a training row into messages.")


class OutputSettings(_Strict):
    save_steps: int = Field(50, gt=0, description="Checkpoint every N optimizer steps ([TRL] save_steps).")
    logging_steps: int = Field(1, gt=0, description="[TRL] logging_steps.")
    report_to: str = Field("none", description="[TRL] report_to (none, wandb, tensorboard).")


class ModelShape(_Strict):
    """The policy's architecture, as its config.json gives it; the memory plan (repro.plan) counts with it.
    Qwen3-14B [Qwen3]: hidden 5,120, 40 layers, MLP 17,408, 40 query / 8 key-value heads of 128, vocab 151,936."""

    hidden_size: int = Field(gt=0, description="config.json hidden_size.")
    num_layers: int = Field(gt=0, description="config.json num_hidden_layers.")
    intermediate_size: int = Field(gt=0, description="config.json intermediate_size (SwiGLU MLP width).")
    num_attention_heads: int = Field(gt=0, description="config.json num_attention_heads.")
    num_key_value_heads: int = Field(gt=0, description="config.json num_key_value_heads (grouped-query attention).")
    head_dim: int = Field(gt=0, description="config.json head_dim.")
    vocab_size: int = Field(gt=0, description="config.json vocab_size.")
    tie_word_embeddings: bool = Field(False, description="config.json tie_word_embeddings (Qwen3-14B: false).")

    def num_params(self) -> int:
        """Embeddings + per layer (q,k,v,o projections, q/k norms, SwiGLU MLP, two RMSNorms) + final norm + head."""
        h, q, kv = self.hidden_size, self.num_attention_heads * self.head_dim, self.num_key_value_heads * self.head_dim
        attn = h * q + 2 * h * kv + q * h + 2 * self.head_dim
        mlp = 3 * h * self.intermediate_size
        layer = attn + mlp + 2 * h
        head = 0 if self.tie_word_embeddings else self.vocab_size * h
        return self.vocab_size * h + self.num_layers * layer + h + head


class LaunchSettings(_Strict):
    """The hardware the run is planned for (repro.plan, repro/launch/*.sh). [Nous]: 48 B200 (6 nodes of 8)."""

    nodes: int = Field(1, ge=1, description="Machines. [Nous]: 6 x 8 B200 = 48 GPUs.")
    gpus_per_node: int = Field(8, ge=1, description="GPUs per machine.")
    vllm_nodes: int = Field(0, ge=0, description="Whole nodes that run `trl vllm-serve` (server mode); the rest train.")
    gpu_memory_gb: float = Field(180.0, gt=0, description="Memory of one GPU in GB (B200: 180; H100: 80).")
    zero_stage: int = Field(0, ge=0, le=3, description="DeepSpeed ZeRO stage that shards weights/gradients/optimizer "
                            "over the training GPUs (0 = none: single process or plain data parallel).")
    accelerate_config: str | None = Field(
        None, description="accelerate config file the launch scripts pass to `accelerate launch` (repo-relative)."
    )

    @property
    def train_gpus(self) -> int:
        return (self.nodes - self.vllm_nodes) * self.gpus_per_node


class ReproConfig(_Strict):
    """The whole recipe. Defaults are the [Nous] values where they were published."""

    name: str = Field(description="Run name.")
    model: str = Field(description="Hub id, local path, or a marker the caller resolves (e.g. 'toy:tiny-qwen3').")
    objective: Objective = Field(Objective.DAPO, description="[Nous] best: DAPO 67.87, GSPO 66.26, GSPO+ 66.52.")
    group_size: int = Field(8, ge=2, description="Rollouts per prompt; advantages normalise within it. [Nous]: 8.")
    eps_low: float = Field(0.2, gt=0, lt=1, description="Lower clip 1-eps_low. [DAPO]/[Nous]: 0.2.")
    eps_high: float = Field(0.28, gt=0, description="Upper clip 1+eps_high, 'clip-higher'. [DAPO]/[Nous]: 0.28.")
    beta: float = Field(0.0, ge=0, description="KL penalty; [DAPO] removes it (0.0), [TRL] default 0.0.")
    learning_rate: float = Field(1e-6, gt=0, description="AdamW learning rate; 1e-6 as [DeepCoder] (not in [Nous]).")
    per_device_prompts: int = Field(1, ge=1, description="Prompts per device per micro-batch (x group_size rollouts); "
                                    "used when per_device_batch_size is not set.")
    per_device_batch_size: int | None = Field(
        None, ge=1, description="Rollouts per device per micro-batch (one forward/backward); may be below the group "
        "size, because TRL groups rollouts over the whole generation batch. None = per_device_prompts x group_size."
    )
    prompts_per_step: int | None = Field(
        None, ge=1, description="Prompts per optimizer step over all training GPUs (x group_size rollouts). When set, "
        "gradient accumulation = prompts_per_step x group_size / (per-device micro-batch x training processes), so "
        "the global batch does not depend on the GPU count. None = use gradient_accumulation as given."
    )
    gradient_accumulation: int = Field(1, ge=1, description="Micro-batches per optimizer step ([TRL]); used when "
                                       "prompts_per_step is not set.")
    max_prompt_length: int = Field(
        2048, gt=0, description="Longest training prompt in tokens; longer rows are left out of the training set. "
        "Prompt + max_completion_length must fit model_max_positions at every stage."
    )
    model_max_positions: int | None = Field(
        None, gt=0, description="Positions the policy can attend over while training (config.json "
        "max_position_embeddings; Qwen3-14B: 40,960 [Qwen3]). None = checked against the loaded model at train time."
    )
    model_shape: ModelShape | None = Field(None, description="Architecture numbers for repro.plan.")
    launch: LaunchSettings = Field(default_factory=LaunchSettings)
    num_iterations: int = Field(1, ge=1, description="Optimisation passes per generation batch ([TRL] mu).")
    stages: list[Stage] = Field(min_length=1, description="Context schedule; [Nous]: 32k, then 40k.")
    temperature: float = Field(1.0, gt=0, description="Rollout sampling temperature ([DAPO]: 1.0).")
    top_p: float = Field(1.0, gt=0, le=1, description="Rollout nucleus sampling ([DAPO]: 1.0).")
    reward: RewardSettings = Field(default_factory=RewardSettings)
    dynamic_sampling: DynamicSampling = Field(default_factory=DynamicSampling)
    overlong_mode: OverlongMode = Field(OverlongMode.ZERO_ADVANTAGE, description="[Nous]: zero_advantage.")
    vllm: VllmSettings = Field(default_factory=VllmSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    seed: int = Field(0, description="Seed for sampling, data order and refill prompts.")
    output: OutputSettings = Field(default_factory=OutputSettings)
    bf16: bool = Field(True, description="bf16 training (False on CPU).")
    gradient_checkpointing: bool = Field(True, description="Trade compute for memory (False for tiny CPU runs).")
    use_cpu: bool = Field(False, description="Force CPU ([TRL]/transformers use_cpu).")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    warmup_steps: int = Field(0, ge=0, description="Linear warm-up steps.")

    @model_validator(mode="after")
    def _check(self) -> ReproConfig:
        if self.eps_high < self.eps_low:
            raise ValueError(f"eps_high ({self.eps_high}) < eps_low ({self.eps_low}): clip-higher needs eps_high >= eps_low")
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        if self.model_max_positions is not None:
            try:
                check_positions(self.stages, self.max_prompt_length, self.model_max_positions)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        if self.launch.vllm_nodes >= self.launch.nodes and self.launch.nodes > 1:
            raise ValueError(f"launch: vllm_nodes ({self.launch.vllm_nodes}) leaves no node to train on")
        return self

    def micro_batch_size(self) -> int:
        """Rollouts per device per forward/backward pass."""
        return self.per_device_batch_size or self.per_device_prompts * self.group_size

    def accumulation_steps(self, num_processes: int) -> int:
        """Micro-batches per optimizer step on `num_processes` training processes (see prompts_per_step)."""
        if self.prompts_per_step is None:
            return self.gradient_accumulation
        rollouts, per_pass = self.prompts_per_step * self.group_size, self.micro_batch_size() * num_processes
        if rollouts % per_pass:
            raise ConfigError(
                f"prompts_per_step {self.prompts_per_step} x group_size {self.group_size} = {rollouts} rollouts is not "
                f"a multiple of micro-batch {self.micro_batch_size()} x {num_processes} training processes; "
                "change the GPU count or per_device_batch_size")
        return rollouts // per_pass

    def longest_sequence(self) -> int:
        """Prompt + completion tokens of the longest stage: the context training and generation need."""
        return self.max_prompt_length + max(s.max_completion_length for s in self.stages)


def check_positions(stages: list[Stage], max_prompt_length: int, positions: int, source: str = "") -> None:
    """Refuse (one line) a stage whose prompt + completion exceeds the policy's positions."""
    for st in stages:
        total = max_prompt_length + st.max_completion_length
        if total > positions:
            raise ConfigError(
                f"stage {st.name}: max_prompt_length {max_prompt_length} + max_completion_length "
                f"{st.max_completion_length} = {total} > {positions} positions{source}; cap max_completion_length at "
                f"{positions - max_prompt_length} or shorten max_prompt_length")


def load_config(path: str | Path) -> ReproConfig:
    """Read a YAML config; raise ConfigError with a one-line message on a missing file or a bad field."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p} (pass --config repro/configs/<name>.yaml)")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a mapping of settings at the top level")
    try:
        return ReproConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "<root>"
        raise ConfigError(f"{p}: {where}: {first['msg']} ({exc.error_count()} error(s); fix the YAML)") from None


def trl_loss_settings(objective: Objective) -> tuple[str, str]:
    """(loss_type, importance_sampling_level) in TRL that compute the same objective (see repro.objectives)."""
    return {
        Objective.DAPO: ("dapo", "token"),
        Objective.GSPO: ("grpo", "sequence"),
        Objective.GSPO_PLUS: ("dapo", "sequence"),
    }[objective]


def resolve_stage(cfg: ReproConfig, stage: int | str | Stage) -> Stage:
    if isinstance(stage, Stage):
        return stage
    if isinstance(stage, int):
        return cfg.stages[stage]
    for s in cfg.stages:
        if s.name == stage:
            return s
    raise ConfigError(f"no stage named {stage!r}; stages are {[s.name for s in cfg.stages]}")


def grpo_config_kwargs(cfg: ReproConfig, stage: int | str | Stage, output_dir: str | Path,
                       num_processes: int = 1) -> dict[str, Any]:
    """The keyword arguments for trl.GRPOConfig (kept separate so they can be inspected without building it).
    `num_processes` = training processes (accelerate's world size); it sets gradient accumulation when the config
    fixes prompts_per_step. The policy is created by TRL from a path in fp32 (`model_init_kwargs`): fp32 master
    weights and optimizer state; `bf16` makes the compute bf16 (autocast, or DeepSpeed's bf16 mode with its fp32
    master copy when launched with repro/configs/accelerate_zero3.yaml)."""
    st = resolve_stage(cfg, stage)
    loss_type, is_level = trl_loss_settings(cfg.objective)
    use_vllm = cfg.vllm.mode is not VllmMode.NONE
    kwargs: dict[str, Any] = {
        "output_dir": str(output_dir),
        "loss_type": loss_type,
        "importance_sampling_level": is_level,
        "epsilon": cfg.eps_low,
        "epsilon_high": cfg.eps_high,
        "scale_rewards": "group",
        "beta": cfg.beta,
        "num_generations": cfg.group_size,
        "mask_truncated_completions": cfg.overlong_mode is OverlongMode.MASK,
        "max_completion_length": st.max_completion_length,
        "max_steps": st.steps,
        "learning_rate": cfg.learning_rate,
        "per_device_train_batch_size": cfg.micro_batch_size(),
        "gradient_accumulation_steps": cfg.accumulation_steps(num_processes),
        "model_init_kwargs": {"dtype": "float32"},
        "num_iterations": cfg.num_iterations,
        "temperature": cfg.temperature,
        "top_p": cfg.top_p,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "bf16": cfg.bf16,
        "activation_checkpointing": cfg.gradient_checkpointing,
        "use_cpu": cfg.use_cpu,
        "max_grad_norm": cfg.max_grad_norm,
        "weight_decay": cfg.weight_decay,
        "warmup_steps": cfg.warmup_steps,
        "lr_scheduler_type": "constant_with_warmup" if cfg.warmup_steps else "constant",
        "save_steps": cfg.output.save_steps,
        "logging_steps": cfg.output.logging_steps,
        "report_to": cfg.output.report_to,
        "run_name": f"{cfg.name}-{st.name}",
        "use_vllm": use_vllm,
        "log_completions": False,
    }
    if use_vllm:
        kwargs.update(vllm_mode=cfg.vllm.mode.value, vllm_tensor_parallel_size=cfg.vllm.tensor_parallel_size,
                      vllm_gpu_memory_utilization=cfg.vllm.gpu_memory_utilization,
                      vllm_max_model_length=cfg.longest_sequence())
        if cfg.vllm.mode is VllmMode.SERVER:
            kwargs.update(vllm_server_host=cfg.vllm.server_host, vllm_server_port=cfg.vllm.server_port)
    return kwargs


def to_grpo_config(
    cfg: ReproConfig, stage: int | str | Stage, output_dir: str | Path, num_processes: int | None = None,
    **overrides: Any
) -> GRPOConfig:
    """One stage of the recipe as a trl.GRPOConfig; `overrides` replace individual GRPOConfig fields (e.g. a test
    on a CPU machine passes bf16=False, which transformers refuses without a GPU). `num_processes` defaults to
    accelerate's world size."""
    from trl import GRPOConfig

    if num_processes is None:
        from accelerate import PartialState

        num_processes = PartialState().num_processes
    return GRPOConfig(**{**grpo_config_kwargs(cfg, stage, output_dir, num_processes), **overrides})


def to_vllm_serve_args(cfg: ReproConfig, model: str | None = None) -> list[str]:
    """`trl vllm-serve` command line for server mode: generation at the longest training context, prompt included.
    That length never exceeds the policy's positions (checked at config load), so vLLM accepts it without
    VLLM_ALLOW_LONG_MAX_MODEL_LEN."""
    return [
        "trl", "vllm-serve",
        "--model", model or cfg.model,
        "--tensor-parallel-size", str(cfg.vllm.tensor_parallel_size),
        "--data-parallel-size", str(cfg.vllm.data_parallel_size),
        "--gpu-memory-utilization", str(cfg.vllm.gpu_memory_utilization),
        "--max-model-len", str(cfg.longest_sequence()),
        "--host", cfg.vllm.server_host,
        "--port", str(cfg.vllm.server_port),
    ]


def yarn_hf_overrides(max_model_len: int, yarn: YarnSettings) -> dict[str, Any]:
    """vLLM `hf_overrides` for YaRN (REFERENCE §6): the rope dict is replaced whole and max positions raised."""
    return {
        "max_position_embeddings": max_model_len,
        "rope_parameters": {
            "rope_type": "yarn",
            "factor": yarn.factor,
            "original_max_position_embeddings": yarn.original_max_position_embeddings,
            "rope_theta": yarn.rope_theta,
        },
    }


def eval_args(cfg: ReproConfig, model: str, out: str | Path, *, select: bool, dataset: str | None = None,
              start_date: str | None = None, end_date: str | None = None, label: str | None = None) -> list[str]:
    """`python -m harness.eval` arguments scoring one checkpoint: the 40,960 context used to pick the best
    checkpoint (select=True, no rope scaling: within Qwen3-14B's own positions) or the final 81,920 one with YaRN
    (factor 2.0 over 40,960, as NousCoder-14B's released config.json; REFERENCE §6), unless the checkpoint's
    config.json already carries rope scaling, which is then used as it is. Selection and the final evaluation
    sample with different seeds, so the best checkpoint's final score is a fresh estimate rather than the lucky draw
    that got it picked. The same list drives the in-process evaluation (CPU toy) and the separate eval jobs."""
    ev = cfg.eval
    max_len = ev.select_max_model_len if select else ev.max_model_len
    args = [
        "--model", model, "--backend", ev.backend, "--dataset", dataset or ev.dataset, "--release", ev.release,
        "--start-date", start_date or ev.start_date, "--end-date", end_date or ev.end_date, "--n", str(ev.n),
        "--temperature", str(ev.temperature), "--top-p", str(ev.top_p), "--top-k", str(ev.top_k),
        "--seed", str(cfg.seed + (0 if select else 1)), "--max-model-len", str(max_len),
        "--prompt-style", ev.prompt_style, "--extract-mode", ev.extract_mode,
        "--time-limit", str(ev.time_limit_s), "--memory-limit-mb", str(ev.memory_limit_mb),
        "--sandbox", cfg.reward.sandbox.value, "--out", str(out), "--no-progress",
    ]
    needs_rope = ev.yarn is not None and max_len > ev.yarn.original_max_position_embeddings
    if needs_rope and checkpoint_rope_scaling(model) is None:
        args += ["--rope-scaling", "yarn", "--yarn-factor", str(ev.yarn.factor),
                 "--yarn-original-max", str(ev.yarn.original_max_position_embeddings)]
    elif ev.backend in ("vllm", "openai"):
        args += ["--rope-scaling", "none"]  # the checkpoint's own rope (or none needed): no harness default
    if ev.workers:
        args += ["--workers", str(ev.workers)]
    if label:
        args += ["--label", label]
    return args


def to_eval_args(cfg: ReproConfig, model: str, *, select: bool = False, out: str | Path = "EVAL_DIR") -> list[str]:
    """eval_args with the config's own dataset and window (kept for callers that only need the flags)."""
    return eval_args(cfg, model, out, select=select)


def to_eval_vllm_serve_args(cfg: ReproConfig, model: str) -> list[str]:
    """`vllm serve` command line for the final evaluation at max_model_len with YaRN hf_overrides."""
    ev = cfg.eval
    args = ["vllm", "serve", model, "--max-model-len", str(ev.max_model_len),
            "--tensor-parallel-size", str(cfg.vllm.tensor_parallel_size)]
    if (ev.yarn is not None and ev.max_model_len > ev.yarn.original_max_position_embeddings
            and checkpoint_rope_scaling(model) is None):
        args += ["--hf-overrides", json.dumps(yarn_hf_overrides(ev.max_model_len, ev.yarn))]
    return args
