"""Where a reproduction stands, on disk, so that a killed run resumes where it stopped; and which process decides.

RUN_DIR/state.json (written only by the main process, atomically) lists the finished stages. A stage is finished
once its checkpoint is saved in full (written to `<name>.partial`, then renamed) and recorded here; a resumed run
skips it and starts the next stage from that checkpoint. Inside an unfinished stage, TRL's own checkpoints
(RUN_DIR/train/STAGE/checkpoint-K, every `output.save_steps` optimizer steps: weights, optimizer, scheduler, RNG,
log history) let the stage continue from step K. RUN_DIR/events.jsonl says what each invocation did (trained a stage
from step K, skipped a finished one), so a resume can be audited.

`Dist` is the rank view the driver needs: only the main process writes the run folder, decides and evaluates;
the others train (every rank must join trainer.train and save_model under DeepSpeed) and wait at barriers.

Does not cover: the training itself (repro.trainer), scoring (repro.evaluate_checkpoints).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class StageRecord:
    """A finished stage: its checkpoint, the total optimizer step reached, and its per-step mean rewards
    (None for a step whose every reward was unknown)."""

    stage: str
    step: int
    path: str
    rewards: list[tuple[int, float | None]] = field(default_factory=list)
    no_gradient_steps: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Dist:
    """The driver's view of the processes: is this the main one, and a barrier (no-op in a single process)."""

    is_main: bool
    wait: Callable[[], None]
    num_processes: int = 1

    @classmethod
    def detect(cls) -> Dist:
        """From accelerate (set by `accelerate launch`); a plain `python -m` run is one main process."""
        from accelerate import PartialState

        state = PartialState()
        return cls(state.is_main_process, state.wait_for_everyone, state.num_processes)

    @classmethod
    def single(cls, is_main: bool = True) -> Dist:
        return cls(is_main, lambda: None, 1)


def write_json_atomic(path: Path, data: object) -> None:
    """Write then rename, so a kill never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_state(out: Path) -> list[StageRecord]:
    path = out / "state.json"
    if not path.is_file():
        return []
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [StageRecord(r["stage"], int(r["step"]), r["path"], [(int(s), v) for s, v in r.get("rewards", [])],
                        [int(s) for s in r.get("no_gradient_steps", [])]) for r in raw.get("stages", [])]


def record_stage(out: Path, record: StageRecord) -> None:
    stages = [r for r in read_state(out) if r.stage != record.stage] + [record]
    write_json_atomic(out / "state.json", {"stages": [asdict(r) for r in stages]})


def log_event(out: Path, event: str, **fields: object) -> None:
    out.mkdir(parents=True, exist_ok=True)
    row = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "event": event, **fields}
    with (out / "events.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, default=str) + "\n")


def read_events(out: Path) -> list[dict]:
    path = out / "events.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def last_trainer_checkpoint(stage_dir: Path) -> str | None:
    """TRL's latest complete `checkpoint-K` in a stage's training folder, or None."""
    if not stage_dir.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(stage_dir))


def history_rewards(log_history: list[dict], step_offset: int) -> list[tuple[int, float | None]]:
    """Mean reward per logged step. TRL logs `reward: None` when every reward of the step was unknown (a judge
    outage, or every rollout cut with overlong_mode zero_advantage): kept as None, never fatal."""
    out = []
    for h in log_history:
        if "reward" in h and "step" in h:
            value = h["reward"]
            out.append((step_offset + int(h["step"]), None if value is None else float(value)))
    return out


def history_no_gradient(log_history: list[dict], step_offset: int) -> list[int]:
    """Steps the trainer logged as having no gradient (every group dropped): their update was skipped."""
    return [step_offset + int(h["step"]) for h in log_history if h.get("no_gradient_step") and "step" in h]
