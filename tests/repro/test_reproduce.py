"""`python -m repro.reproduce` end to end on the toy task, shortened: the real GRPO trainer, the real judge as reward,
checkpoints scored by the harness eval pipeline (hf backend on CPU), two optimizer steps per generation batch as in
tiny-cpu.yaml. Asserts that held-out pass@1 rises, that the second step of each batch is off-policy (the clip fires)
and that reproduce.json holds what the README promises; plus the CLI's one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repro.config import Stage, load_config
from repro.reproduce import main, reproduce

CONFIG = Path(__file__).resolve().parents[2] / "repro" / "configs" / "tiny-cpu.yaml"


@pytest.fixture(scope="module")
def short_run(tmp_path_factory) -> tuple[Path, dict]:
    cfg = load_config(CONFIG)
    cfg = cfg.model_copy(update={
        "stages": [Stage(name="len8", max_completion_length=8, steps=14),
                   Stage(name="len12", max_completion_length=12, steps=10)],
        "eval": cfg.eval.model_copy(update={"n": 1}),
    })
    out = tmp_path_factory.mktemp("reproduce")
    return out, reproduce(cfg, out)


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~26 s of CPU; the wall clock stretches on a shared machine
def test_heldout_pass_rate_rises_with_the_judge_as_reward(short_run):
    _, result = short_run
    steps = [r["step"] for r in result["reward_per_step"]]
    assert steps == list(range(1, 25, 2))  # a reward per generation batch: num_iterations 2 reuses each once
    rewards = [r["reward"] for r in result["reward_per_step"]]
    assert sum(rewards[:3]) / 3 < -0.85, rewards  # a random policy almost never writes the right program
    assert result["final_pass@1"] >= result["initial_pass@1"] + 0.1, result  # measured: 0.063 -> 0.229


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_second_update_of_each_batch_is_off_policy_and_clipped(short_run):
    out, _ = short_run
    states = sorted((out / "train").glob("*/checkpoint-*/trainer_state.json"))
    assert states, "no trainer_state.json saved for a stage"
    history = [h for p in states for h in json.loads(p.read_text())["log_history"] if "clip_ratio/low_mean" in h]
    off_policy = [h for h in history if "ratio/min" in h and (h["ratio/min"] < 0.999 or h["ratio/max"] > 1.001)]
    assert len(off_policy) >= 5, history  # measured: every second step, ratios 0.40..4.6
    assert max(h["clip_ratio/low_mean"] + h["clip_ratio/high_mean"] for h in off_policy) > 0.01


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~70 s of CPU; the wall clock stretches on a shared machine
def test_reproduce_json_and_artifacts(short_run):
    out, result = short_run
    saved = json.loads((out / "reproduce.json").read_text())
    assert saved == json.loads(json.dumps(result))
    for key in ("initial_pass@1", "final_pass@1", "checkpoints", "best", "baseline", "leaderboard", "plot"):
        assert key in saved, key
    assert [c["step"] for c in saved["checkpoints"]] == [14, 24]
    for ckpt in saved["checkpoints"]:
        assert 0.0 <= ckpt["pass@1"] <= 1.0
        assert (Path(ckpt["path"]) / "config.json").is_file() and (Path(ckpt["path"]) / "tokenizer.json").is_file()
        assert json.loads((Path(ckpt["eval_dir"]) / "summary.json").read_text())["pass@1"] == ckpt["pass@1"]
    assert saved["best"]["pass@1"] == max(c["pass@1"] for c in saved["checkpoints"])
    final = json.loads((out / "eval" / "final" / "summary.json").read_text())
    assert final["pass@1"] == saved["final_pass@1"] and final["n_problems"] == 48
    assert "60.79" in (out / "leaderboard.md").read_text()
    assert (out / "reward_per_step.png").read_bytes()[:4] == b"\x89PNG"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["model"] == "toy:tiny-qwen3" and "trl" in manifest["versions"]


def test_cli_refuses_a_non_empty_out_dir(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("precious")
    assert main(["--config", str(CONFIG), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "not empty" in err and "\n" not in err
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_cli_reports_a_bad_config_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: toy:tiny-qwen3\nstages: []\n")
    assert main(["--config", str(bad), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "stages" in err and "\n" not in err
    assert main(["--config", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "run")]) == 2
    assert not (tmp_path / "run").exists()


def test_toy_markers_must_come_together(tmp_path, capsys):
    cfg = load_config(CONFIG)
    mixed = cfg.model_copy(update={"eval": cfg.eval.model_copy(update={"dataset": "livecodebench/code_generation_lite"})})
    from repro.config import ConfigError
    from repro.reproduce import resolve_inputs

    with pytest.raises(ConfigError, match="toy"):
        resolve_inputs(mixed, tmp_path)
