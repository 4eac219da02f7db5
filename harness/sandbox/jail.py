"""How the warm runner (harness/sandbox/runner/) is started on this machine: bubblewrap when it works, else an rlimits
fallback that takes every namespace the kernel grants. Both account with a cgroup per runner where we may make one.

The jail (isolation "bwrap"):
- bubblewrap with new PID, IPC, network, UTS and (where possible) cgroup namespaces, `--die-with-parent`,
  `--new-session`, `--clearenv` plus a minimal environment (PATH, LANG, thread caps for BLAS/OpenMP; no
  tokens).
- Mounted read-only: /usr (and the /bin, /lib*, /sbin links or dirs), /etc/ld.so.cache and /etc/localtime when
  present, the interpreter's prefix (sys.base_prefix, e.g. a pyenv version dir: exactly that dir, never
  /root), and the library dirs candidates may import from (default: the judge interpreter's site-packages
  dirs, bound alone: never the project or a venv root; dirs under /tmp or /dev/shm are bound after the jail's
  own tmpfs there, so a venv in /tmp stays visible). Fresh /proc and a minimal /dev. Private size-capped tmpfs on
  /tmp and /dev/shm (mode 1777). The root is remounted read-only. Nothing else exists inside: no dataset, no
  run directory, no project, no home folders.
- When the judge is root: no user namespace; the runner keeps only CAP_SETUID/SETGID/KILL/CHOWN/DAC_OVERRIDE/
  FOWNER/SYS_ADMIN (to drop privileges, kill, wipe /tmp, and give each sample fresh PID and IPC namespaces) and
  every candidate runs as a uid unique to this runner (UID_BASE + the runner's host pid), so RLIMIT_NPROC
  really applies. When the judge is not root: a user namespace, and the candidate shares the runner's uid (the
  runner is non-dumpable; the candidate can still kill it, which the judge scores as its runtime error).

The fallback (isolation "rlimits-fallback", used where bubblewrap is missing or refused, or on request): the
runner runs directly, in its own session, with a scrubbed environment; children get the same rlimits, their own
session, and the unique non-root uid when the judge is root. Where the kernel lets it (root; JailOptions.
namespaces), the runner adds a network namespace, a mount namespace with private size-capped tmpfs on /tmp,
/dev/shm, /var/tmp and /run/lock (the interpreter and library dirs bound back where those or a 0700 home would
hide them), and per sample fresh PID and IPC namespaces (as bubblewrap does). WHAT THE FALLBACK STILL LACKS,
in one place:
- no read-only root and no mount isolation: the candidate reads every world-readable file (the dataset if
  world-readable, the project) and may write into world-writable dirs other than the four above (their files
  outlive the sample);
- no private /proc: it sees every process of the host (it can signal none of another uid);
- without namespaces (not root): no network isolation, /tmp and /dev/shm are the host's and not size-capped (the
  candidate's files there and, when root, its SysV IPC objects are removed after each sample), and when the
  judge is not root the candidate runs as the judge's own uid (it could signal the judge or its runner, write
  into their pipes through /proc, and RLIMIT_NPROC counts all of that user's processes).
Run the judge as root, or where bubblewrap works, to close these.

Accounting (both): a cgroup per runner (cgroup.py: v2, or v1 memory+pids+cpuacct+freezer) when the judge may
make one: memory, CPU time and processes summed over the candidate's whole tree and limited by the kernel. The
runner joins it once at start, so candidates are born in it (moving a process per test cost an RCU grace period);
the runner's own small share while a test runs (its watch loop, the output buffers; memory within a 32 MB
headroom, 4 extra pids) is counted with the candidate's, and candidates are the OOM killer's first choice. Without
one ("rusage"): CPU is getrusage of the reaped tree plus a scan of the live one (complete, at /proc tick
granularity while running), but memory is per process only: RLIMIT_AS limits each process, and peak_rss_mb is
the largest single process; memory held by several processes, shared memory, memfds and tmpfs files is neither
summed nor limited as a whole, and there is no limit on the process count other than RLIMIT_NPROC per uid.

Both: rlimits on each candidate process (AS = memory limit, FSIZE, NOFILE, NPROC, CORE 0, MEMLOCK 0, MSGQUEUE 0;
no RLIMIT_CPU: the time limit is the tree's measured CPU), no_new_privs, every process a test leaves besides the
sample's host killed and reaped after it, and everything after every sample.

Kernel keyrings (both): the hosts of a runner share one session keyring (the runner's, joined at its start),
emptied before each host's candidate runs (replaced if a candidate revoked it); with a candidate uid of our own
(root), that uid's user keyrings are emptied too. Naming them creates them, and a uid's user keyrings live until
reboot: two small kernel keys per runner (per candidate uid). Without root the candidate runs as the judge's uid,
whose user keyrings belong to the user: they are neither emptied nor isolated.

Not covered here: the protocol with the runner (protocol.py, runner/, local.py), verdicts (judge.py).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import marshal
import os
import signal
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from harness.program import OFFICIAL_PRELUDE
from harness.sandbox import cgroup as cgroups
from harness.sandbox.runner import runner_source

_RUNNER_IDS = itertools.count()  # names this process's runner cgroups apart
UID_BASE = 1_900_000_000  # candidate uids are UID_BASE + runner host pid: unique while the runner lives
CANDIDATE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


class Isolation(StrEnum):
    BWRAP = "bwrap"
    RLIMITS = "rlimits-fallback"


@dataclass(frozen=True, slots=True)
class JailOptions:
    """How to build the jail. isolation: "auto" (bwrap if it works), "bwrap" (required) or "rlimits"."""

    isolation: str = "auto"
    python: str | None = None  # interpreter for the runner; default: the judge's, symlinks resolved
    library_paths: tuple[str, ...] | None = None  # default: the judge interpreter's site-packages dirs
    tmp_size_mb: int = 64
    max_processes: int = 128  # RLIMIT_NPROC for the candidate uid (threads count too)
    file_size_mb: int = 64
    open_files: int = 256
    extra_env: dict[str, str] = field(default_factory=dict)
    namespaces: bool = True  # the fallback takes the namespaces the kernel grants; per-sample PID+IPC namespaces
    cgroups: bool = True  # account and limit the candidate's whole tree with a cgroup where we may make one
    # Trusted preludes the runner runs once at its start: a RunSpec.prelude among them costs a sample nothing; any
    # other is run per sample, twice (by the sample process, and by its host forked before the sample arrived).
    preludes: tuple[str, ...] = (OFFICIAL_PRELUDE,)


class JailUnavailable(RuntimeError):
    """The requested isolation cannot be provided on this machine."""


def real_python(python: str | None = None) -> str:
    """The interpreter binary itself (not a venv link or a pyenv shim, which costs ~40 ms per start)."""
    return os.path.realpath(python or sys.executable)


def default_library_paths() -> tuple[str, ...]:
    paths = [p for p in site.getsitepackages() if os.path.isdir(p)]
    return tuple(os.path.realpath(p) for p in paths)


def _python_prefix(python: str) -> str:
    """The install prefix of `python` (bin/.. for a standalone build; /usr for a distro python)."""
    return str(Path(python).resolve().parent.parent)


def _under(path: str, dirs: tuple[str, ...]) -> bool:
    return any(path == d or path.startswith(d + "/") for d in dirs)


PRIVATE_TMP = ("/tmp", "/dev/shm")


def bwrap_argv(python: str, opts: JailOptions, library_paths: tuple[str, ...],
               cgroup_binds: list[tuple[str, str]] = ()) -> list[str]:
    argv = ["bwrap", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / name
        if p.is_symlink():
            argv += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            argv += ["--ro-bind", str(p), str(p)]
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(f):
            argv += ["--ro-bind", os.path.realpath(f), f]
    extra = {_python_prefix(python)} | set(library_paths)
    binds = sorted(p for p in extra if p != "/usr" and not p.startswith("/usr/"))  # /usr is bound already
    early, late = [p for p in binds if not _under(p, PRIVATE_TMP)], [p for p in binds if _under(p, PRIVATE_TMP)]
    argv += _binds(early)
    size = str(opts.tmp_size_mb << 20)
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    argv += ["--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]
    argv += _binds(late)  # after the tmpfs, which would hide them (a venv in /tmp)
    for host, inside in cgroup_binds:
        argv += ["--bind", host, inside]
    argv += ["--remount-ro", "/"]
    if os.geteuid() == 0:
        argv += ["--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        argv += ["--cap-drop", "ALL"]
        for cap in ("SETUID", "SETGID", "KILL", "CHOWN", "DAC_OVERRIDE", "FOWNER", "SYS_ADMIN"):
            argv += ["--cap-add", f"CAP_{cap}"]
    else:
        argv += ["--unshare-all"]
    argv += ["--die-with-parent", "--new-session", "--hostname", "sandbox", "--clearenv"]
    for k, v in {"PATH": CANDIDATE_ENV["PATH"], "LANG": "C.UTF-8"}.items():
        argv += ["--setenv", k, v]
    argv += ["--chdir", "/tmp"]
    return argv


def _binds(paths: list[str]) -> list[str]:
    """Read-only binds; bwrap would create the parents of a target 0700, hiding them from the candidate uid."""
    argv = []
    for d in sorted({str(a) for p in paths for a in Path(p).parents if str(a) != "/"}, key=len):
        argv += ["--perms", "0755", "--dir", d]
    for p in paths:
        argv += ["--ro-bind", p, p]
    return argv


def protected_stems(paths) -> list[str]:
    """The entries of the private tmp dirs that hold bound library dirs: never wiped."""
    return sorted({os.path.join(d, p[len(d) + 1:].split("/")[0]) for p in paths for d in PRIVATE_TMP
                   if p.startswith(d + "/")})


def runner_command(python: str, code_fd: int | None = None) -> list[str]:
    """Isolated interpreter (-I: no env vars, no user site, no cwd on sys.path; -S: no site, no .pth files;
    -B: no bytecode writes); nothing of the project is mounted. The runner travels on the command line as source,
    or, with `code_fd`, compiled (`runner_code`) in that inherited fd, read once by a one-line loader."""
    if code_fd is None:
        return [python, "-I", "-S", "-B", "-c", runner_source()]
    load = f"import marshal; exec(marshal.loads(open({code_fd}, 'rb').read()), {{'__name__': '__main__'}})"
    return [python, "-I", "-S", "-B", "-c", load]


@functools.cache
def runner_code() -> bytes:
    """The runner compiled by this interpreter and marshalled, for a runner on this very interpreter. Compiling its
    source in the runner leaves ~5 MB of the parser's memory in a heap that every sample process and host is
    forked from (13 MB of private memory instead of 8); each fork copies, and each exit unmaps, all of it."""
    return marshal.dumps(compile(runner_source(), "<runner>", "exec", dont_inherit=True))


def _code_fd() -> int:
    fd = os.memfd_create("lcb-runner-code", 0)
    os.write(fd, runner_code())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@functools.cache
def bwrap_works(python: str) -> tuple[bool, str]:
    """Probe once per process and interpreter whether bubblewrap can start the runner's interpreter here."""
    argv = bwrap_argv(python, JailOptions(), ()) + [python, "-I", "-S", "-c", "print('ok')"]
    try:
        r = subprocess.run(argv, capture_output=True, timeout=30, env={"PATH": CANDIDATE_ENV["PATH"]})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if r.returncode != 0 or r.stdout.strip() != b"ok":
        return False, (r.stderr.decode("utf-8", "replace").strip() or f"exit {r.returncode}")[:300]
    return True, ""


@functools.cache
def announce_fallback(reason: str) -> None:
    """Say once per process (and reason) that the weaker isolation is in use."""
    print(f"harness.sandbox: bubblewrap unavailable ({reason}); using the rlimits fallback "
          "(no read-only root or private /proc; namespaces only where the kernel grants them; see "
          "harness/sandbox/jail.py)", file=sys.stderr)


def choose_isolation(opts: JailOptions, python: str) -> tuple[Isolation, str]:
    """The isolation to use and, for the fallback, why."""
    if opts.isolation in ("rlimits", Isolation.RLIMITS):
        return Isolation.RLIMITS, "requested"
    if opts.isolation not in ("auto", "bwrap", Isolation.BWRAP):
        raise ValueError(f"unknown isolation {opts.isolation!r}: use auto, bwrap or rlimits")
    ok, why = bwrap_works(python)
    if ok:
        return Isolation.BWRAP, ""
    if opts.isolation != "auto":
        raise JailUnavailable(f"bubblewrap does not work here: {why}")
    announce_fallback(why)
    return Isolation.RLIMITS, why


@dataclass(slots=True)
class RunnerLaunch:
    """A started runner process and the config frame to send it first."""

    proc: subprocess.Popen
    isolation: Isolation
    config: dict
    candidate_uid: int | None
    scratch: str | None = None  # the fallback's dir for per-sample work dirs; removed with the runner
    cgroup: cgroups.RunnerCgroup | None = None  # killed and removed with the runner


def launch_runner(opts: JailOptions, isolation: Isolation, stderr) -> RunnerLaunch:
    python = real_python(opts.python)
    libs = opts.library_paths if opts.library_paths is not None else default_library_paths()
    host = cgroups.detect() if opts.cgroups else None
    cg = cgroups.create(host, f"lcb-runner-{os.getpid()}-{next(_RUNNER_IDS)}") if host is not None else None
    code_fd = _code_fd() if python == real_python() else None  # marshal is per interpreter version
    cmd = runner_command(python, code_fd)
    if isolation is Isolation.BWRAP:
        cmd = bwrap_argv(python, opts, libs, cg.binds() if cg else []) + cmd
        env = {"PATH": CANDIDATE_ENV["PATH"]}
    else:
        env = {"PATH": CANDIDATE_ENV["PATH"], "LANG": "C.UTF-8"}
    passed = () if code_fd is None else (code_fd,)
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env,
                                cwd="/", start_new_session=True, bufsize=0, pass_fds=passed)
    except BaseException:
        if cg is not None:
            cg.remove()
        raise
    finally:
        if code_fd is not None:
            os.close(code_fd)
    uid = UID_BASE + proc.pid if os.geteuid() == 0 else None
    bwrap = isolation is Isolation.BWRAP
    scratch = None
    if not bwrap:  # per-sample work dirs (unless the runner gets its private /tmp): judge-owned, traversable only
        scratch = tempfile.mkdtemp(prefix="lcb-jail-")
        os.chmod(scratch, 0o711)
    keep = sorted({_python_prefix(python), *libs})
    config = {
        "op": "config",
        "uid": uid,
        "library_paths": list(libs),
        "workdir": "/tmp" if bwrap else None,  # None: a fresh dir in `scratch` per sample
        "wipe": list(PRIVATE_TMP) if bwrap else [],
        "protected": protected_stems(keep) if bwrap else [],
        "scratch": scratch,
        "namespaces": opts.namespaces,
        "fallback_ns": None if bwrap or not opts.namespaces else {"tmp_size": opts.tmp_size_mb << 20,
                                                                  "keep_visible": keep},
        "cgroup": None if cg is None else cg.spec(cgroups.INSIDE if bwrap else None),
        "file_size": opts.file_size_mb << 20,
        "open_files": opts.open_files,
        "max_processes": opts.max_processes,
        "env": {**CANDIDATE_ENV, **opts.extra_env},
        "preludes": list(opts.preludes),
    }
    return RunnerLaunch(proc=proc, isolation=isolation, config=config, candidate_uid=uid, scratch=scratch,
                        cgroup=cg)


def accounting(opts: JailOptions) -> str:
    """How a runner started with `opts` accounts: "cgroup-v1", "cgroup-v2" or "rusage" (see the docstring)."""
    host = cgroups.detect() if opts.cgroups else None
    return host.accounting if host is not None else "rusage"


def uid_processes(uid: int) -> list[int]:
    """Live processes (not zombies) whose real uid is `uid`."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/status") as f:
                    status = f.read()
            except OSError:
                continue
            if "\nState:\tZ" not in status and int(status.split("\nUid:")[1].split()[0]) == uid:
                out.append(int(name))
    return out


def kill_candidate_uid(uid: int, deadline_s: float = 5.0) -> bool:
    """After a runner was killed from outside (fallback, root): SIGKILL what its candidate uid left running, from
    this (root) process, until none is left or the deadline passes. Nothing of the candidate's can stop it (the
    old helper running as that uid could be frozen by the candidate). True when none is left."""
    end = time.monotonic() + deadline_s
    while pids := uid_processes(uid):
        if time.monotonic() > end:
            return False
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)
    return True
