"""The NousCoder recipe on TRL: a GRPOTrainer subclass with the three objectives, dynamic sampling and overlong
filtering, and `build_trainer` that wires a ReproConfig stage into it.

Where it hooks into TRL 1.16 (read from trl/trainer/grpo_trainer.py):
  - `_calculate_rewards`: after TRL gathers the rewards, rollouts cut at max_completion_length get reward NaN
    (overlong_mode=zero_advantage), which TRL already treats as "unscorable": excluded from the group mean/std,
    advantage 0, kept in the batch. The rewards are kept for dynamic sampling.
  - `_generate_and_score_completions`: groups whose known rewards are all equal are found; fresh prompts are drawn
    from the training set and generated to refill them (bounded rounds); whatever cannot be refilled stays with a
    row mask of 0. The batch keeps its shape, so TRL's shuffle/split into micro-batches is unchanged.
  - `_compute_loss`: the loss of repro.objectives over the rows that remain, normalised by batch-wide token (DAPO,
    GSPO+) or sequence (GSPO) counts of the kept rows only. With nothing dropped it equals TRL's own loss for the
    same loss_type/importance_sampling_level (tests/repro/test_trainer.py checks it).
Per-step metrics: dynamic_sampling/{dropped_frac, refilled_groups, refill_rounds, kept_frac}, overlong/frac,
clip_ratio/{low,high}_mean, entropy.

Does not cover: KL penalties (beta must be 0, as in the recipe), multimodal or tool-calling rollouts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback
from trl import GRPOTrainer

from repro.config import ConfigError, OverlongMode, ReproConfig, Stage, to_grpo_config
from repro.objectives import clip_fractions, policy_loss
from repro.sampling import (
    concat_rollouts,
    group_has_signal,
    group_rows,
    plan_refill,
    row_mask_from_groups,
    take_rows,
    truncated_rows,
)


class ReproGRPOTrainer(GRPOTrainer):
    """GRPOTrainer running the recipe of a ReproConfig (pass it as `repro_config`)."""

    def __init__(self, *args: Any, repro_config: ReproConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.repro_config = repro_config
        if self.beta != 0.0:
            raise ConfigError("beta must be 0.0 for ReproGRPOTrainer (the recipe has no KL term)")
        seed = self.args.seed * 1_000_003 + 7919 * (self.accelerator.process_index + 1)
        self._refill_generator = torch.Generator().manual_seed(seed)
        self._last_rewards: torch.Tensor | None = None
        self._last_truncated: torch.Tensor | None = None
        self._no_gradient = False  # the current generation batch has no kept row on any process

    # -- rewards and overlong ------------------------------------------------------------------------------------
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        stop_ids = [*self.eos_token_ids, self._tokenizer.pad_token_id]
        local = torch.tensor(truncated_rows(completion_ids_list, stop_ids), device=rewards.device)
        self._last_truncated = local
        if self.repro_config.overlong_mode is OverlongMode.ZERO_ADVANTAGE:
            everywhere = self.accelerator.gather(local)
            rewards = rewards.clone()
            rewards[everywhere] = torch.nan  # unknown reward: out of the group baseline, advantage 0
        self._last_rewards = rewards
        return rewards

    def _local_signal(self, n_local: int) -> torch.Tensor:
        """Groups of the local rows (just scored) whose known rewards differ."""
        per_func = self._last_rewards
        weights = self.reward_weights.to(per_func.device)
        total = (per_func * weights).nansum(dim=1)
        total[torch.isnan(per_func).all(dim=1)] = torch.nan
        start = self.accelerator.process_index * n_local
        return group_has_signal(total[start : start + n_local].cpu(), self.num_generations)

    # -- pipelined verification (repro.pipelining) ----------------------------------------------------------------
    def _generate_scored(self, inputs):
        """TRL's generate-then-score, with each rollout sent to the judge as soon as it finishes on the transformers
        generate path; vLLM returns whole batches, so there the rewards are graded together after generation."""
        if not getattr(self, "pipeline_rewards", True) or self.use_vllm or self.rollout_func is not None:
            return super()._generate_and_score_completions(inputs)
        from trl.data_utils import is_conversational

        from repro.pipelining import RolloutPipeline, streaming

        pipe = RolloutPipeline(self.reward_funcs, self._tokenizer, inputs, is_conversational(inputs[0]))
        for reward in pipe.rewards:
            reward.begin_batch()
        model = self.accelerator.unwrap_model(self.model)
        with streaming(model, len(inputs), self.eos_token_ids, pipe.on_finished):
            return super()._generate_and_score_completions(inputs)

    # -- dynamic sampling ----------------------------------------------------------------------------------------
    def _draw_prompts(self, n_groups: int) -> list[dict]:
        idx = torch.randint(len(self.train_dataset), (n_groups,), generator=self._refill_generator).tolist()
        rows = [self.train_dataset[i] for i in idx]
        return [dict(row) for row in rows for _ in range(self.num_generations)]

    def _refill(self, batch: dict, keep: torch.Tensor) -> tuple[dict, torch.Tensor, int, int]:
        ds = self.repro_config.dynamic_sampling
        can_index = hasattr(self.train_dataset, "__getitem__") and hasattr(self.train_dataset, "__len__")
        refilled = rounds = 0
        for _ in range(ds.max_refill_rounds if can_index else 0):
            need = torch.tensor([int((~keep).sum())], device=self.accelerator.device)
            need_everywhere = int(self.accelerator.gather(need).max())  # every process generates the same count
            if need_everywhere == 0:
                break
            extra_inputs = self._draw_prompts(need_everywhere)
            extra = self._generate_scored(extra_inputs)
            keep_extra = self._local_signal(len(extra_inputs))
            merged = concat_rollouts(batch, extra, self._tokenizer.pad_token_id)
            order, n = plan_refill(keep, keep_extra)
            batch = take_rows(merged, group_rows(order, self.num_generations))
            keep = torch.cat([keep, keep_extra])[order]
            refilled, rounds = refilled + n, rounds + 1
        return batch, keep, refilled, rounds

    def _generate_and_score_completions(self, inputs):
        batch = self._generate_scored(inputs)
        mode = "train" if self.model.training else "eval"
        n_rows = len(inputs)
        truncated = self._last_truncated.float().mean().item()
        ds = self.repro_config.dynamic_sampling
        if mode == "train" and ds.enabled:
            keep = self._local_signal(n_rows)
            dropped = 1.0 - keep.float().mean().item()
            batch, keep, refilled, rounds = self._refill(batch, keep)
            row_mask = row_mask_from_groups(keep, self.num_generations)
            self._metrics[mode]["dynamic_sampling/dropped_frac"].append(dropped)
            self._metrics[mode]["dynamic_sampling/refilled_groups"].append(float(refilled))
            self._metrics[mode]["dynamic_sampling/refill_rounds"].append(float(rounds))
            self._metrics[mode]["dynamic_sampling/kept_frac"].append(keep.float().mean().item())
        else:
            row_mask = torch.ones(n_rows)
        self._metrics[mode]["overlong/frac"].append(truncated)
        device = self.accelerator.device
        row_mask = row_mask.to(device)
        batch["loss_row_mask"] = row_mask
        loss_mask = batch["completion_mask"] * row_mask.unsqueeze(1)
        if "tool_mask" in batch:
            loss_mask = loss_mask * batch["tool_mask"]
        batch["num_items_in_batch"] = self.accelerator.gather(loss_mask.sum()).sum()
        batch["num_seqs_in_batch"] = self.accelerator.gather((loss_mask.sum(-1) > 0).float().sum()).sum()
        if mode == "train":
            self._no_gradient = bool(batch["num_items_in_batch"].item() == 0)
            self._metrics[mode]["no_gradient_step"].append(float(self._no_gradient))
        return batch

    # -- steps with no gradient ----------------------------------------------------------------------------------
    def _skip_update_without_gradient(self) -> None:
        """A step whose batch kept no row (every group dropped, or every reward unknown) has a zero gradient;
        AdamW would still move the weights along its momentum, so the update is skipped: the learning rate is 0
        for this optimizer step (the scheduler sets it again after the step). Called from the loss, i.e. before
        the backward pass, because under DeepSpeed the optimizer steps inside backward. Logged as
        `no_gradient_step`."""
        if self._no_gradient and self.model.training and self.optimizer is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = 0.0

    # -- loss ----------------------------------------------------------------------------------------------------
    def _compute_loss(self, model, inputs):
        self._skip_update_without_gradient()
        prompt_ids, completion_ids = inputs["prompt_ids"], inputs["completion_ids"]
        completion_mask = inputs["completion_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([inputs["prompt_mask"], completion_mask], dim=1)
        logps, entropies, _ = self._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, completion_ids.size(1), compute_entropy=True
        )
        mask = completion_mask.to(logps.dtype)
        if "tool_mask" in inputs:
            mask = mask * inputs["tool_mask"]
        if "loss_row_mask" in inputs:
            mask = mask * inputs["loss_row_mask"].unsqueeze(1).to(mask.dtype)
        old = inputs.get("old_per_token_logps")
        old = logps.detach() if old is None else old
        is_weights = None
        if self.use_vllm and self.vllm_importance_sampling_correction:
            is_weights = inputs["importance_sampling_ratio"]
        mode = "train" if self.model.training else "eval"
        # The counts span the whole generation batch of every process; scale them to one micro-batch of one
        # process, as TRL does for its token-level losses, so the accumulated gradient is sum / batch total.
        scale = 1.0 / self.accelerator.num_processes
        if mode == "train":
            scale *= self.current_gradient_accumulation_steps / self.args.steps_per_generation
        num_tokens = inputs["num_items_in_batch"].clamp(min=1.0) * scale if "num_items_in_batch" in inputs else None
        num_seqs = inputs["num_seqs_in_batch"].clamp(min=1.0) * scale if "num_seqs_in_batch" in inputs else None
        cfg = self.repro_config
        loss = policy_loss(
            cfg.objective, logps, old, inputs["advantages"], mask, cfg.eps_low, cfg.eps_high,
            num_tokens=num_tokens, num_sequences=num_seqs, is_weights=is_weights,
        )
        clips = clip_fractions(cfg.objective, logps.detach(), old, inputs["advantages"], mask, cfg.eps_low, cfg.eps_high)
        metrics = self._metrics[mode]
        metrics["clip_ratio/low_mean"].append(clips["low"])
        metrics["clip_ratio/high_mean"].append(clips["high"])
        for key, value in _ratio_stats(cfg.objective, logps.detach(), old, mask).items():
            metrics[f"ratio/{key}"].append(value)  # off-policy drift: 1.0 everywhere when on-policy
        tokens = mask.sum().clamp(min=1.0)
        metrics["entropy"].append(float((entropies.detach() * mask).sum() / tokens))
        return loss


class ScheduleEvalCallback(TrainerCallback):
    """On the main process, append a `harness.eval` job (repro.evaluate_checkpoints) for every checkpoint-K TRL
    saves, so checkpoints are scored on other GPUs while training goes on."""

    def __init__(self, cfg: ReproConfig, run_dir: Path, step_offset: int = 0) -> None:
        self.cfg, self.run_dir, self.step_offset = cfg, Path(run_dir), step_offset

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            from repro.evaluate_checkpoints import schedule

            ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            stage = Path(args.output_dir).name
            schedule(self.cfg, self.run_dir, kind="select", model=str(ckpt), label=f"{stage}-checkpoint-"
                     f"{state.global_step}", stage=stage, step=self.step_offset + state.global_step)
        return control


def _ratio_stats(objective, logps: torch.Tensor, old: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    """min / mean / max of the ratio the objective clips: per token (DAPO) or per sequence (GSPO, GSPO+)."""
    from repro.config import Objective
    from repro.objectives import sequence_log_ratio

    if Objective(objective) is Objective.DAPO:
        ratio, keep = torch.exp(logps - old), mask > 0
    else:
        ratio, keep = torch.exp(sequence_log_ratio(logps, old, mask)), mask.sum(-1, keepdim=True) > 0
    values = ratio[keep]
    if values.numel() == 0:
        return {}
    return {"min": float(values.min()), "mean": float(values.mean()), "max": float(values.max())}


def build_train_dataset(cfg: ReproConfig, rows: list[dict], tokenizer: Any = None) -> Any:
    """A datasets.Dataset of training rows (repro.data schema; official LCB rows are converted with the config's
    prompt style), capped at data.max_rows. The prompts are chat messages, so a given tokenizer must have a chat
    template."""
    from repro.data import as_training_rows, to_trl_dataset

    if tokenizer is not None and not getattr(tokenizer, "chat_template", None):
        raise ConfigError("the tokenizer has no chat template; training prompts are chat messages")
    source = cfg.data.sources[0] if len(cfg.data.sources) == 1 else "local"
    converted = as_training_rows(rows, cfg.data.prompt_style, source=source)
    if tokenizer is not None:  # prompt + completion must fit the positions (repro.config.check_positions)
        converted = [r for r in converted if len(tokenizer.apply_chat_template(
            r["prompt"], add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"])
            <= cfg.max_prompt_length]
        if not converted:
            raise ConfigError(f"no training prompt fits max_prompt_length {cfg.max_prompt_length} tokens")
    return to_trl_dataset(converted[: cfg.data.max_rows] if cfg.data.max_rows else converted)


def build_trainer(
    cfg: ReproConfig,
    stage: int | str | Stage,
    model: Any,
    tokenizer: Any,
    train_dataset: Any,
    reward_funcs: Any,
    output_dir: str | Path,
    num_processes: int | None = None,
    callbacks: list | None = None,
    **grpo_overrides: Any,
) -> ReproGRPOTrainer:
    """A ReproGRPOTrainer for one context stage. `model` is a loaded model or a hub id/path TRL can load (a path
    is loaded in fp32: the master weights; bf16 is compute only); `grpo_overrides` replace GRPOConfig fields (e.g.
    max_steps for a short test); `num_processes` = training processes (default: accelerate's world size)."""
    args = to_grpo_config(cfg, stage, output_dir, num_processes, **grpo_overrides)
    return ReproGRPOTrainer(
        callbacks=callbacks,
        model=model,
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=train_dataset,
        processing_class=tokenizer,
        repro_config=cfg,
    )
