"""Per-runner cgroups, judge side: find a hierarchy we may write, make one cgroup per warm runner, kill
everything in it, remove it.

Why: rlimits are per process. A cgroup holds the candidate's whole process tree, so memory (anonymous, shared,
memfd and tmpfs pages), CPU time and the process count are summed and limited over all of it, by the kernel.
Candidates join their runner's cgroup before they drop privileges (runner/warm.py writes "0" to `cgroup.procs`); the
runner itself never joins, so the cgroup holds exactly the candidate's processes. Per test the runner sets the
limits and reads the counters (runner/accounting.py `_Cgroup`); this module only creates, hands over, kills and removes.

Supported: cgroup v2 (`memory.max`, `memory.peak`, `cpu.stat`, `pids.max`, `cgroup.kill`) where the judge's own
cgroup can delegate memory and pids to a child, and cgroup v1 (memory, pids, cpuacct, and freezer for an
unfreezable kill: freeze, SIGKILL every task, thaw, until empty). Used when the judge is root or owns a delegated
subtree; otherwise `detect()` returns None and the runner accounts with getrusage (jail.py lists what that
misses). Not covered here: reading the counters (runner/accounting.py), the jail (jail.py).
"""

from __future__ import annotations

import functools
import os
import signal
import time
from contextlib import suppress
from dataclasses import dataclass, field

V1_REQUIRED = ("memory", "pids", "cpuacct")
V1_OPTIONAL = ("freezer",)
INSIDE = "/run/lcb-cgroup"  # where the jail sees its runner's cgroup dirs


@dataclass(frozen=True, slots=True)
class CgroupHost:
    """Where this process may make cgroups: version and parent dir per controller ("unified" for v2)."""

    version: int
    parents: dict[str, str]

    @property
    def accounting(self) -> str:
        return f"cgroup-v{self.version}"


@dataclass(slots=True)
class RunnerCgroup:
    """One runner's cgroup: a dir per controller (v1) or one dir (v2)."""

    version: int
    dirs: dict[str, str]
    removed: bool = field(default=False)

    def spec(self, inside: str | None = None) -> dict:
        """The runner's config entry; `inside` = where the jail mounts the dirs (None: the host paths)."""
        seen = {c: (os.path.join(inside, c) if inside else d) for c, d in self.dirs.items()}
        return {"version": self.version, "dirs": seen, "procs": [os.path.join(d, "cgroup.procs") for d in seen.values()]}

    def binds(self) -> list[tuple[str, str]]:
        return [(d, os.path.join(INSIDE, c)) for c, d in self.dirs.items()]

    def pids(self) -> set[int]:
        out: set[int] = set()
        for d in self.dirs.values():
            with suppress(OSError, ValueError), open(os.path.join(d, "cgroup.procs")) as f:
                out |= {int(x) for x in f.read().split()}
        return out

    def kill(self, deadline_s: float = 5.0) -> bool:
        """SIGKILL every process in the cgroup until it is empty (bounded); True when it is. A frozen or stopped
        process dies too: SIGKILL needs no cooperation, and v1's freezer stops forks while we kill."""
        end = time.monotonic() + deadline_s
        while self.pids():
            if time.monotonic() > end:
                return False
            if self.version == 2 and _write(os.path.join(self.dirs["unified"], "cgroup.kill"), "1"):
                time.sleep(0.002)
                continue
            freezer = self.dirs.get("freezer")
            if freezer:
                _write(os.path.join(freezer, "freezer.state"), "FROZEN")
            for pid in self.pids():
                with suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if freezer:
                _write(os.path.join(freezer, "freezer.state"), "THAWED")
            time.sleep(0.002)
        return True

    def remove(self) -> bool:
        """Kill what is left, then remove the dirs (retried while the kernel lets go of the dead)."""
        if self.removed:
            return True
        self.kill()
        end = time.monotonic() + 5
        left = list(self.dirs.values())
        while left and time.monotonic() < end:
            for d in list(left):
                with suppress(FileNotFoundError):
                    try:
                        os.rmdir(d)
                    except OSError:
                        continue
                left.remove(d)
            if left:
                time.sleep(0.01)
        self.removed = not left
        return self.removed


def _write(path: str, value: str) -> bool:
    try:
        with open(path, "w") as f:
            f.write(value)
        return True
    except OSError:
        return False


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, options) of the cgroup mounts."""
    out = []
    with suppress(OSError), open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
                out.append((parts[1], parts[2], set(parts[3].split(","))))
    return out


def _own_paths() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path."""
    out = {}
    with suppress(OSError), open("/proc/self/cgroup") as f:
        for line in f:
            _hier, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in ctrls.split(",") if ctrls else [""]:
                out[c] = path
    return out


def _probe(parent: str) -> bool:
    probe = os.path.join(parent, f"lcb-probe-{os.getpid()}")
    try:
        os.mkdir(probe)
        os.rmdir(probe)
        return True
    except OSError:
        return False


def _v2(mounts, own) -> CgroupHost | None:
    for point, kind, _opts in mounts:
        if kind != "cgroup2" or "" not in own:
            continue
        parent = os.path.join(point, own[""].lstrip("/"))
        try:
            with open(os.path.join(parent, "cgroup.subtree_control")) as f:
                enabled = set(f.read().split())
            if not {"memory", "pids"} <= enabled:
                _write(os.path.join(parent, "cgroup.subtree_control"), "+memory +pids")
                with open(os.path.join(parent, "cgroup.subtree_control")) as f:
                    enabled = set(f.read().split())
        except OSError:
            continue
        if {"memory", "pids"} <= enabled and _probe(parent):
            return CgroupHost(2, {"unified": parent})
    return None


def _v1(mounts, own) -> CgroupHost | None:
    parents = {}
    for ctrl in V1_REQUIRED + V1_OPTIONAL:
        point = next((p for p, kind, opts in mounts if kind == "cgroup" and ctrl in opts), None)
        if point is not None and ctrl in own:
            parent = os.path.join(point, own[ctrl].lstrip("/"))
            if _probe(parent):
                parents[ctrl] = parent
    if all(c in parents for c in V1_REQUIRED):
        return CgroupHost(1, parents)
    return None


@functools.cache
def detect() -> CgroupHost | None:
    """The hierarchy to use (v2 preferred), or None where this process may not make cgroups. Cached."""
    mounts, own = _mounts(), _own_paths()
    host = _v2(mounts, own) or _v1(mounts, own)
    if host is not None:
        remove_stale(host)
    return host


def remove_stale(host: CgroupHost, prefix: str = "lcb-runner-") -> None:
    """Remove the empty cgroups that judges which died without closing left (named prefix + their pid)."""
    for parent in host.parents.values():
        for name in os.listdir(parent) if os.path.isdir(parent) else []:
            pid = name[len(prefix):].split("-")[0]
            if name.startswith(prefix) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                with suppress(OSError):
                    os.rmdir(os.path.join(parent, name))


def create(host: CgroupHost, name: str) -> RunnerCgroup | None:
    """A fresh cgroup `name` under each parent; None (nothing left behind) when that fails."""
    made: dict[str, str] = {}
    for ctrl, parent in host.parents.items():
        path = os.path.join(parent, name)
        try:
            os.mkdir(path)
        except OSError:
            RunnerCgroup(host.version, made).remove()
            return None
        made[ctrl] = path
    return RunnerCgroup(host.version, made)
