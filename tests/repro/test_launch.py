"""Launching on many GPUs: the accelerate and DeepSpeed files validate with those libraries' own classes, the launch
scripts are valid bash whose commands (dry run) give every node the same, plan-checked world, the driver writes
nothing on a non-main rank, and checkpoint evaluation is a job of its own that picks the best at 40k."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from repro.config import load_config, to_grpo_config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "repro" / "configs"
NOUS = CONFIGS / "nouscoder-14b.yaml"
LAUNCH = ROOT / "repro" / "launch"


def test_accelerate_config_loads_with_accelerate_and_points_at_zero3():
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DeepSpeedPlugin, DistributedType

    cfg = load_config(NOUS)
    acc = load_config_from_file(str(ROOT / cfg.launch.accelerate_config))
    assert acc.distributed_type == DistributedType.DEEPSPEED
    ds_file = ROOT / acc.deepspeed_config["deepspeed_config_file"]
    plugin = DeepSpeedPlugin(hf_ds_config=str(ds_file), zero3_init_flag=acc.deepspeed_config["zero3_init_flag"])
    assert plugin.zero_stage == cfg.launch.zero_stage == 3 and plugin.hf_ds_config.is_zero3()


def test_deepspeed_config_filled_from_the_14b_grpo_config_validates_with_deepspeed(tmp_path):
    import types

    deepspeed_config = pytest.importorskip("deepspeed.runtime.config", reason="deepspeed is the `train` extra")
    from transformers import Qwen3Config
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    from repro.plan import ZERO3_LIVE_PARAMS

    cfg = load_config(NOUS)
    args = to_grpo_config(cfg, "40k", tmp_path, num_processes=1, use_cpu=True)  # bf16 on CPU needs use_cpu
    hf = HfTrainerDeepSpeedConfig(str(CONFIGS / "deepspeed_zero3.json"))
    hf.trainer_config_process(args)  # transformers fills the "auto" values from the training arguments
    hf.trainer_config_finalize(args, types.SimpleNamespace(config=Qwen3Config(hidden_size=5120)), 300)
    ds = deepspeed_config.DeepSpeedConfig(hf.config)  # DeepSpeed's own validation (batch arithmetic included)
    assert ds.zero_optimization_stage == 3 and ds.bfloat16_config.enabled  # bf16 compute, fp32 master copy
    assert str(ds.grad_accum_dtype).endswith("float32") or ds.grad_accum_dtype == "fp32"
    assert ds.train_batch_size == 80 * 8 and ds.train_micro_batch_size_per_gpu == 1  # the recipe's global batch
    assert ds.gradient_clipping == cfg.max_grad_norm
    assert ds.zero_config.max_live_parameters + ds.zero_config.prefetch_bucket_size == ZERO3_LIVE_PARAMS


def _script(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "DRY_RUN": "1", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", **env}
    return subprocess.run(["bash", str(LAUNCH / script), *args], capture_output=True, text=True, env=full, check=False,
                          cwd=ROOT, timeout=300)


def _dry_run(script: str, *args: str, **env: str) -> list[list[str]]:
    done = _script(script, *args, **env)
    assert done.returncode == 0, done.stderr
    return [shlex.split(line.rstrip(" &")) for line in done.stdout.splitlines() if line.strip()]


def _accelerate(cmd: list[str]):
    from accelerate.commands.launch import launch_command_parser

    start = cmd.index("accelerate")
    return launch_command_parser().parse_args(cmd[start + 2:])  # accelerate's own parser


def _serve(cmd: list[str]):
    from trl.scripts.vllm_serve import make_parser

    start = cmd.index("trl")
    return make_parser().parse_args_and_config(cmd[start + 2:])[0]


def test_launch_scripts_are_valid_bash():
    for script in ("single_node.sh", "multi_node.sh"):
        assert subprocess.run(["bash", "-n", str(LAUNCH / script)], check=False).returncode == 0


def test_single_node_commands_split_the_gpus_consistently(tmp_path):
    serve, train, evaluate = _dry_run("single_node.sh", str(NOUS), str(tmp_path / "run"), GPUS="8", VLLM_GPUS="3")
    assert serve[0] == "CUDA_VISIBLE_DEVICES=0,1,2" and train[0] == "CUDA_VISIBLE_DEVICES=3,4,5,6,7"
    s, t = _serve(serve), _accelerate(train)
    assert s.data_parallel_size * s.tensor_parallel_size == 3 and s.max_model_len == 40960
    assert (t.num_processes, t.num_machines, t.module, t.training_script) == (5, 1, True, "repro.reproduce")
    assert t.config_file == "repro/configs/accelerate_zero3.yaml"
    assert t.training_script_args[t.training_script_args.index("--out") + 1] == str(tmp_path / "run")
    assert evaluate[-2:] == ["repro.evaluate_checkpoints", str(tmp_path / "run")]
    refused = _script("single_node.sh", str(NOUS), str(tmp_path / "run"), GPUS="8", VLLM_GPUS="2")
    assert refused.returncode == 2 and "640 rollouts" in refused.stderr and not refused.stdout  # 640 / 6 GPUs


def test_multi_node_commands_give_every_node_the_same_world(tmp_path):
    out = str(tmp_path / "run")
    env = {"MASTER_ADDR": "10.0.0.2", "VLLM_HOST": "10.0.0.1"}
    (serve,) = _dry_run("multi_node.sh", str(NOUS), out, NODE_RANK="0", **env)
    s = _serve(serve)
    assert s.data_parallel_size * s.tensor_parallel_size == 8  # node 0: one engine per GPU
    trains = [_accelerate(_dry_run("multi_node.sh", str(NOUS), out, NODE_RANK=str(r), **env)[0]) for r in (1, 3, 5)]
    for rank, t in zip((1, 3, 5), trains, strict=True):
        assert (t.num_processes, t.num_machines, t.machine_rank) == (40, 5, rank - 1)  # 5 nodes x 8 = 40 trainers
        assert (t.main_process_ip, t.main_process_port) == ("10.0.0.2", 29500)
        assert t.training_script_args[t.training_script_args.index("--vllm-host") + 1] == "10.0.0.1"
    assert load_config(NOUS).accumulation_steps(40) * 40 == 80 * 8
    (evaluate,) = _dry_run("multi_node.sh", str(NOUS), out, ROLE="eval")
    assert evaluate[-2:] == ["repro.evaluate_checkpoints", out]


def test_a_non_main_rank_writes_none_of_the_drivers_files(tmp_path):
    """The main process prepared the folder (toy files); a non-main rank trains and saves its part of the model
    (TRL/transformers decide that for themselves) but writes no state, event, eval job, checkpoint or report."""
    from repro.config import Stage
    from repro.progress import Dist
    from repro.reproduce import reproduce, resolve_inputs

    cfg = load_config(CONFIGS / "tiny-cpu.yaml")
    cfg = cfg.model_copy(update={"stages": [Stage(name="len8", max_completion_length=8, steps=1)]})
    resolve_inputs(cfg, tmp_path)  # what the main process writes before the barrier
    before = {p for p in tmp_path.rglob("*")}
    assert reproduce(cfg, tmp_path, dist=Dist.single(is_main=False)) is None
    written = {p.relative_to(tmp_path).parts[0] for p in set(tmp_path.rglob("*")) - before}
    assert written <= {"train", "checkpoints"}, written
    for name in ("manifest.json", "state.json", "events.jsonl", "reproduce.json", "eval"):
        assert not (tmp_path / name).exists(), name
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["len8-step1.partial"]  # not promoted


def test_checkpoint_jobs_pick_the_best_at_40k_and_print_harness_commands(tmp_path, capsys):
    from harness.eval import build_parser
    from repro import evaluate_checkpoints as ev

    cfg = load_config(NOUS)
    (tmp_path / "manifest.json").write_text(json.dumps({"config": cfg.model_dump(mode="json")}))
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "target.json").write_text(json.dumps(
        {"dataset": cfg.eval.dataset, "start_date": cfg.eval.start_date, "end_date": cfg.eval.end_date}))
    ev.schedule(cfg, tmp_path, kind="initial", model="Qwen/Qwen3-14B", label="initial")
    for step, score in ((50, 0.61), (100, 0.64), (600, 0.64), (900, 0.62)):
        job = ev.schedule(cfg, tmp_path, kind="select", model=f"ckpt{step}", label=f"s{step}", stage="x", step=step)
        Path(job["out"]).mkdir(parents=True)
        if step != 900:
            (Path(job["out"]) / "summary.json").write_text(json.dumps({"pass@1": score}))
        else:  # a harness run killed before its summary
            (Path(job["out"]) / "manifest.json").write_text("{}")
    ev.schedule(cfg, tmp_path, kind="select", model="ckpt50", label="s50", stage="x", step=50)  # no duplicate
    rows, best = ev.pick_best(tmp_path)
    assert [r["step"] for r in rows] == [50, 100, 600] and best["step"] == 600  # ties: the later checkpoint
    assert ev.main([str(tmp_path), "--print"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # the initial model and the unscored checkpoint
    args = build_parser().parse_args(shlex.split(lines[1])[3:])
    assert (args.model, args.max_model_len, args.rope_scaling, args.n) == ("ckpt900", 40960, "none", 16)
    assert "--resume" in lines[1]  # its run folder exists: the job continues it
