"""The prepared GPU check (`python -m pytest -m gpu tests/repro/test_gpu.py`, a few minutes on one GPU): the hf
backend evaluating on CUDA, and a few GRPO steps of the repro trainer in bf16 compute with fp32 master weights.
Skipped, with the reason, where there is no CUDA device; CI never depends on it."""

from __future__ import annotations

import math

import pytest
import torch

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run with -m gpu on one)")]


def test_hf_backend_evaluates_on_the_gpu(tmp_path):
    from harness.eval import build_parser, config_from_args
    from harness.pipeline import run_eval
    from harness.records import RunDir
    from tests.helpers.tiny_models import save_tiny_qwen3

    model = save_tiny_qwen3(tmp_path / "tiny")
    out = tmp_path / "run"
    torch.cuda.reset_peak_memory_stats()
    run_eval(config_from_args(build_parser().parse_args([
        "--backend", "hf", "--model", str(model), "--dataset", "sample", "--n", "2", "--max-tokens", "16",
        "--device", "cuda", "--out", str(out), "--no-progress", "--workers", "2"])))
    assert torch.cuda.max_memory_allocated() > 0  # generation ran on the GPU
    records = list(RunDir(out).iter_samples())
    assert records and all(0 < r.completion_tokens <= 16 for r in records)
    assert (out / "summary.json").is_file()


def test_grpo_steps_in_bf16_with_fp32_masters_on_the_gpu(tmp_path):
    from repro import toy
    from tests.repro.test_precision import _delta, _step

    tok = toy.build_toy_tokenizer()
    toy.build_tiny_model(tok, seed=0).to(torch.bfloat16).save_pretrained(tmp_path / "ckpt")
    tok.save_pretrained(tmp_path / "ckpt")
    checkpoint = (tmp_path / "ckpt", tok)
    before, snaps, trainer = _step(checkpoint, tmp_path / "mixed", bf16=True, use_cpu=False, steps=3)
    params = list(trainer.model.parameters())
    assert all(p.is_cuda and p.dtype == torch.float32 for p in params)  # fp32 masters on the GPU
    assert trainer.accelerator.mixed_precision == "bf16"
    assert len(snaps) == 3 and all(math.isfinite(h["loss"]) for h in trainer.state.log_history if "loss" in h)
    ref_before, ref_snaps, _ = _step(checkpoint, tmp_path / "fp32", bf16=False, use_cpu=False, steps=1)
    ref, mix = _delta(ref_before, ref_snaps[0]), _delta(before, snaps[0])
    assert (ref != 0).float().mean().item() > 0.5
    assert (mix != 0).float().mean().item() > 0.95 * (ref != 0).float().mean().item()
    assert ((mix - ref).norm() / ref.norm()).item() < 0.25
