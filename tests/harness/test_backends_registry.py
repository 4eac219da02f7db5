"""The backend registry: lazy imports, unknown names, and one-line errors for bad models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.backends import BACKENDS, BackendError, UnknownBackendError, create_backend
from harness.backends.base import BackendOptions
from harness.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "vllm", "openai", "httpx", "transformers", "modal")


def test_registry_names_and_targets_are_fixed():
    assert set(BACKENDS) == {"vllm", "openai", "hf", "replay"}
    with pytest.raises(TypeError):
        BACKENDS["mine"] = "x:y"  # immutable


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(UnknownBackendError) as err:
        create_backend("vllm2", "m")
    assert str(err.value) == "unknown backend 'vllm2'; known backends: hf, openai, replay, vllm"
    assert isinstance(err.value, UserError)  # entry points print it on one line and exit 2


def test_importing_the_backends_imports_no_heavy_package():
    code = ("import sys, json; import harness.backends, harness.backends.vllm, harness.backends.openai, "
            "harness.backends.hf, harness.backends.replay, harness.backends.fleet; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                         check=False)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []


def test_model_path_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(BackendError, match=f"model path does not exist: {missing}"):
        create_backend("hf", str(missing), BackendOptions(device="cpu"))
    with pytest.raises(BackendError, match="replay file does not exist"):
        create_backend("replay", str(tmp_path / "missing.jsonl"))
