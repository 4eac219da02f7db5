"""repro.reproduce survives what a long run meets: steps whose every reward is unknown (TRL logs `reward: None`:
a judge outage, or every rollout cut with overlong_mode zero_advantage) and a kill in the middle of training.
Both run the real toy task (tiny model, real judge, harness eval), shortened to a few steps and n=1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from repro.config import OverlongMode, Stage, load_config
from repro.evaluate_checkpoints import read_jobs
from repro.progress import read_events, read_state

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "repro" / "configs" / "tiny-cpu.yaml"


def _short(stages: list[Stage], **update):
    """The toy, shortened; one optimizer step per generation batch, so every step logs its reward (with
    num_iterations > 1 a resumed stage regenerates the batch whose second pass the kill interrupted)."""
    cfg = load_config(TOY)
    return cfg.model_copy(update={"stages": stages, "eval": cfg.eval.model_copy(update={"n": 1}),
                                  "num_iterations": 1, **update})


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_run_whose_every_reward_is_unknown_finishes_and_saves_every_stage(tmp_path, monkeypatch):
    """On main this crashed in the driver (float(None)) after stage 1 and stage 1's checkpoint was never scored."""
    import repro.rewards
    from repro.reproduce import reproduce

    monkeypatch.setattr(repro.rewards, "reward_from_result", lambda result: None)  # the judge decides nothing
    cfg = _short([Stage(name="len8", max_completion_length=8, steps=1),
                  Stage(name="len12", max_completion_length=12, steps=1)], overlong_mode=OverlongMode.ZERO_ADVANTAGE)
    result = reproduce(cfg, tmp_path)
    assert [c["step"] for c in result["checkpoints"]] == [1, 2]
    assert result["reward_per_step"] == [{"step": 1, "reward": None}, {"step": 2, "reward": None}]
    assert result["no_gradient_steps"] == [1, 2]
    for ckpt in result["checkpoints"]:
        assert (Path(ckpt["path"]) / "config.json").is_file() and 0.0 <= ckpt["pass@1"] <= 1.0
    assert json.loads((tmp_path / "reproduce.json").read_text())["final_pass@1"] == result["final_pass@1"]


def _run(config: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "repro.reproduce", "--config", str(config), "--out", str(out),
                             *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_run_resumes_without_redoing_saved_work(tmp_path):
    """Kill the process once stage 1 is recorded and stage 2 has saved its first TRL checkpoint; --resume then
    skips stage 1, continues stage 2 from its last checkpoint-K and finishes with the same step numbering.
    Evaluation is left as jobs (eval.inline false, as in the 14B config), so this test trains only."""
    cfg = _short([Stage(name="len8", max_completion_length=8, steps=1),
                  Stage(name="len12", max_completion_length=12, steps=4)])
    cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"save_steps": 1}),
                                 "eval": cfg.eval.model_copy(update={"inline": False})})
    config = tmp_path / "short.yaml"
    config.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    out = tmp_path / "run"
    first = _run(config, out)
    stage2 = out / "train" / "len12"
    deadline = time.monotonic() + 900
    while not (stage2 / "checkpoint-1" / "trainer_state.json").is_file():
        assert first.poll() is None, first.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert [r.stage for r in read_state(out)] == ["len8"]
    saved = sorted(int(p.name.split("-")[1]) for p in stage2.glob("checkpoint-*"))
    assert not (out / "reproduce.json").exists()
    assert _run(config, out).wait() != 0  # without --resume the folder is refused, untouched
    second = _run(config, out, "--resume")
    log, _ = second.communicate(timeout=900)
    assert second.returncode == 0, log
    events = read_events(out)
    starts = [i for i, e in enumerate(events) if e["event"] == "start"]
    assert len(starts) == 2 and events[starts[1]]["finished_stages"] == ["len8"]
    after = events[starts[1]:]
    assert not [e for e in after if e["event"] == "train_stage" and e["stage"] == "len8"]  # stage 1 not redone
    resumed = [e for e in after if e["event"] == "train_stage" and e["stage"] == "len12"]
    assert resumed[0]["resume_from"].endswith(f"checkpoint-{max(saved)}")  # stage 2 continued, not restarted
    state = read_state(out)
    assert [(r.stage, r.step) for r in state] == [("len8", 1), ("len12", 5)]
    assert [s for r in state for s, _ in r.rewards] == [1, 2, 3, 4, 5]
    assert (Path(state[1].path) / "tokenizer.json").is_file() and not list(out.glob("checkpoints/*.partial"))
    jobs = read_jobs(out)  # one harness.eval job per saved checkpoint, each once, for evaluate_checkpoints
    labels = [j["label"] for j in jobs]
    assert len(labels) == len(set(labels)) and labels[0] == "initial"
    assert {"len8-step1", "len12-step5"} <= set(labels)
    assert {f"len12-checkpoint-{k}" for k in range(1, 5)} <= set(labels)
    assert {j["step"] for j in jobs if j["label"].startswith("len12-checkpoint-")} == {2, 3, 4, 5}
