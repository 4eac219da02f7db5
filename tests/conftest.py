"""Shared test fixtures: where the real data lives (../shared, next to the repo) and an offline Qwen3 tokenizer.

Tests that need the data skip with a printed reason when it is missing; nothing is copied into the repo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT / ".." / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a pytest skip naming what is missing."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found: {path.resolve()} (see REFERENCE.md section 8)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder (skips when absent)."""
    return shared_path()


@pytest.fixture(scope="session")
def qwen_tokenizer():
    """A real Qwen3 tokenizer built offline from ../shared/qwen (built once per session, a few seconds)."""
    from tests.helpers.tokenizers import QwenFilesMissing, build_qwen_tokenizer

    try:
        return build_qwen_tokenizer(shared_path("qwen"))
    except QwenFilesMissing as err:
        pytest.skip(f"cannot build the offline Qwen3 tokenizer: {err}")


@pytest.fixture(scope="session", autouse=True)
def _problem_cache_in_a_temp_folder(tmp_path_factory):
    """Hidden tests decoded by the tests (and their subprocesses) are cached in a session temp folder, never in the
    user's ~/.cache/lcb-harness (tests that check the cache set their own)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LCB_HARNESS_CACHE", str(tmp_path_factory.mktemp("lcb-harness-cache")))
        yield
