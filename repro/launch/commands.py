"""`python -m repro.launch.commands serve|train|eval ...`: the command lines repro/launch/*.sh run, made from the config.

One source for the launch: the shell scripts only decide which node does what; every command comes from here.
  serve  `trl vllm-serve` for the generation node(s): --data-parallel-size = GPUs / tensor_parallel_size, the
         context = the longest training sequence (repro.config.to_vllm_serve_args).
  train  `accelerate launch --config_file <launch.accelerate_config> --num_processes N --num_machines M
         --machine_rank R --main_process_ip IP --main_process_port P -m repro.reproduce --config C --out D
         --vllm-host H [--resume]`: N = training GPUs over all M machines (the world the plan checked).
  eval   `python -m repro.evaluate_checkpoints D`: the checkpoint evaluations, on GPUs of their own.
Each prints one shell-quoted line. Does not cover: starting anything (the scripts do), SLURM/Kubernetes wrappers.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from repro.config import ConfigError, ReproConfig, load_config, to_vllm_serve_args


def serve_command(cfg: ReproConfig, gpus: int) -> list[str]:
    tp = cfg.vllm.tensor_parallel_size
    if gpus < tp or gpus % tp:
        raise ConfigError(f"{gpus} generation GPUs cannot hold engines of tensor_parallel_size {tp}")
    args = to_vllm_serve_args(cfg)
    args[args.index("--data-parallel-size") + 1] = str(gpus // tp)
    args[args.index("--host") + 1] = "0.0.0.0"  # the server listens on every interface; trainers dial --vllm-host
    return args


def train_command(cfg: ReproConfig, config: str, out: str, *, num_processes: int, num_machines: int,
                  machine_rank: int, main_ip: str, main_port: int, vllm_host: str, resume: bool) -> list[str]:
    if cfg.launch.accelerate_config is None:
        raise ConfigError("launch.accelerate_config is not set; the launch scripts need an accelerate config file")
    if num_processes % num_machines:
        raise ConfigError(f"{num_processes} training processes cannot be split evenly over {num_machines} machines")
    cfg.accumulation_steps(num_processes)  # refuses a world the global batch cannot be split over
    cmd = ["accelerate", "launch", "--config_file", cfg.launch.accelerate_config,
           "--num_processes", str(num_processes), "--num_machines", str(num_machines),
           "--machine_rank", str(machine_rank), "--main_process_ip", main_ip, "--main_process_port", str(main_port),
           "-m", "repro.reproduce", "--config", config, "--out", out]
    if cfg.vllm.mode.value == "server":
        cmd += ["--vllm-host", vllm_host]
    return cmd + (["--resume"] if resume else [])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m repro.launch.commands", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--config", required=True)
    s.add_argument("--gpus", type=int, required=True, help="GPUs of the generation server")
    t = sub.add_parser("train")
    t.add_argument("--config", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--num-processes", type=int, required=True, help="training GPUs over all machines")
    t.add_argument("--num-machines", type=int, default=1)
    t.add_argument("--machine-rank", type=int, default=0)
    t.add_argument("--main-ip", default="127.0.0.1")
    t.add_argument("--main-port", type=int, default=29500)
    t.add_argument("--vllm-host", default="127.0.0.1")
    e = sub.add_parser("eval")
    e.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        if args.what == "eval":
            cmd = [sys.executable, "-m", "repro.evaluate_checkpoints", args.out]
        else:
            cfg = load_config(args.config)
            if args.what == "serve":
                cmd = serve_command(cfg, args.gpus)
            else:
                resume = (Path(args.out) / "manifest.json").is_file()  # a relaunch continues the run
                cmd = train_command(cfg, args.config, args.out, num_processes=args.num_processes,
                                    num_machines=args.num_machines, machine_rank=args.machine_rank,
                                    main_ip=args.main_ip, main_port=args.main_port, vllm_host=args.vllm_host,
                                    resume=resume)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(shlex.join(cmd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
