"""Sandboxes that run untrusted code: a tiny registry over the implementations of base.py's protocol.

`create_sandbox("local", **kw)` returns a LocalSandbox (a warm bubblewrap-jailed runner, or the rlimits
fallback; kw: `isolation="auto"|"bwrap"|"rlimits"`, `options=JailOptions(...)`); `create_sandbox("modal",
**kw)` a ModalSandbox (one Modal Sandbox per sample; kw: `options=ModalOptions(...)`, `client=` for tests;
UserError without a Modal token). Implementations are imported lazily, so importing this package starts
nothing and imports no optional SDK. Each sandbox instance serves one thread at a time.
"""

from __future__ import annotations

from typing import Any

SANDBOXES = ("local", "modal")


def create_sandbox(name: str = "local", **kwargs: Any):
    """A new sandbox instance by registry name (one per worker thread)."""
    if name == "local":
        from harness.sandbox.local import LocalSandbox

        return LocalSandbox(**kwargs)
    if name == "modal":
        from harness.sandbox.modal import ModalSandbox

        return ModalSandbox(**kwargs)
    raise ValueError(f"unknown sandbox {name!r}; choose one of: {', '.join(SANDBOXES)}")


def describe(name: str) -> dict[str, str]:
    """What a sandbox of this registry name isolates and accounts with, for the run manifest: `isolation`
    ("bwrap", "rlimits-fallback" = graded WITHOUT the jail, "modal-gvisor") and `accounting` ("cgroup-v1",
    "cgroup-v2", "rusage"; harness/sandbox/jail.py says what each sees). Cheap: probes bubblewrap once, starts no
    runner."""
    if name == "local":
        from harness.sandbox.jail import JailOptions, accounting, choose_isolation, real_python

        opts = JailOptions()
        return {"isolation": str(choose_isolation(opts, real_python())[0]), "accounting": accounting(opts)}
    if name == "modal":
        return {"isolation": "modal-gvisor", "accounting": "rusage"}
    return {"isolation": str(name), "accounting": "unknown"}  # a caller's own sandbox: it says nothing more


def preflight(name: str) -> None:
    """Fail at once, with a UserError saying what to set, when sandbox `name` cannot work from here (Modal without
    credentials), before any generation or grading starts. Cheap: starts no runner and no container."""
    if name == "modal":
        from harness.sandbox.modal import ModalOptions, require_credentials

        require_credentials()
        ModalOptions.from_env()  # a malformed LCB_MODAL_* variable fails here too
