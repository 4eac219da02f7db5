"""The trusted runner: a warm process INSIDE the jail that runs untrusted candidate code in forked children.

Started once per worker by jail.py (source via `python -I -S -B -c`, or as a script). Stdlib only, self-contained:
it speaks harness/sandbox/protocol.py's frames (PROTOCOL_VERSION below, announced in the ready frame) over stdin/
stdout. Three kinds of process, so that nothing of one sample reaches the next:
- the WARM runner reads only frame headers (exact-length unbuffered reads: never a byte of code, input or output),
  runs the judge's trusted prelude once, and per sample forks
- a SAMPLE process, after `unshare(CLONE_NEWPID | CLONE_NEWIPC)` where the kernel grants it: pid 1 of a fresh PID
  namespace with a fresh IPC namespace and session keyring. It reads the sample's code and inputs itself, compiles
  the code (compile errors are decided here, before any candidate code runs), runs every test and replies, kills
  everything after each test (kill(-1) as pid 1: atomic, nothing can freeze it) and exits at the sample's end,
  taking every process, SysV object and byte of the sample with it;
- CANDIDATE children: per test a fresh fork running a stdin program as `__main__` (fd 0 = the input bytes in a
  memfd, fds 1/2 = pipes drained while it runs); for a LeetCode problem ONE host per sample that loads the module
  once, makes one `Solution()` and calls the method once per test, as the official grader does.
Accounting covers the candidate's whole process tree: the judge's cgroup for this runner (v1 or v2; each candidate
joins it before dropping privileges), else getrusage of reaped children plus a scan of the live ones (the sample
process is their init or subreaper). Verdict classes come from the kernel and this process: CPU time from
accounting, compile status from compile(), setup failures from the first test only. What a candidate writes is
bytes, never a verdict. Not covered here: the jail (jail.py), the judge side of the protocol (protocol.py).
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import gc
import json
import os
import resource
import select
import signal
import struct
import sys
import time
from contextlib import suppress

PROTOCOL_VERSION = 2  # = harness/sandbox/protocol.PROTOCOL_VERSION
BACKSTOP_STRETCH = 4.0  # = protocol.BACKSTOP_STRETCH: a starved program may run up to this many wall backstops
WARM_MODULES = (
    "array atexit bisect builtins collections copy dataclasses datetime decimal enum fractions functools "
    "heapq io itertools json math operator random re shutil statistics string tempfile threading traceback "
    "types typing"
).split()
DYNAMIC_NAMES = frozenset("eval exec globals vars locals dir compile __import__ __dict__".split())
STDERR_KEEP = 8192  # bytes of stderr kept for diagnostics (stderr has its own cap, apart from stdout's)
HEAD_ON_LIMIT = 4096  # bytes of stdout sent back when the output limit is hit
STATUS_FD, GO_FD, INPUT_FD = 3, 4, 5  # candidate-side fds: status/results out; LeetCode host: go-pipe, input memfd
STARVED_SHARE = 0.05  # CPU share since the last look that counts as "still computing" (a sleeper gets ~0)
CHILD_SETUP_FAILED = 0xE7  # exit code of a child whose jail setup (not candidate code) failed
INT_DIGITS = 50_000  # sys.set_int_max_str_digits, as the official grader
SAMPLE_HEADROOM_MB = 32  # the cgroup's memory limit above the candidate's, for the runner's own processes in it
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 4, 36, 38
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWUSER = 0x20000, 0x08000000, 0x40000000, 0x20000000, \
    0x10000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
KEYCTL, CAPSET = {"x86_64": 250, "aarch64": 219}, {"x86_64": 126, "aarch64": 91}  # syscall numbers
WIPE_SHARED = ("/tmp", "/dev/shm", "/var/tmp", "/run/lock")


@functools.cache
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    if _libc().prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _unshare(flags: int) -> bool:
    return _libc().unshare(flags) == 0


def _fresh_pid_ipc(own_pidns: int | None) -> bool:
    """Make our next child pid 1 of a fresh PID namespace, in a fresh IPC namespace. The kernel refuses a second
    unshare(CLONE_NEWPID) while the children's namespace is not our own, so first setns() back to ours."""
    if own_pidns is None:
        return False
    return _libc().setns(own_pidns, CLONE_NEWPID) == 0 and _unshare(CLONE_NEWPID | CLONE_NEWIPC)


def _mount(src, target: str, fstype, flags: int, data=None) -> bool:
    enc = [s.encode() if isinstance(s, str) else s for s in (src, target, fstype, data)]
    return _libc().mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) == 0


def _keyctl(*args: int) -> int:
    nr = KEYCTL.get(os.uname().machine)
    return -1 if nr is None else _libc().syscall(nr, *[ctypes.c_long(a) for a in args])


# ------------------------------------------------------------------------------------------------- frames
def _read_exact(fd: int, n: int) -> bytes:
    """Exactly n bytes (never more: nothing past this frame is read into this process)."""
    parts, left = [], n
    while left:
        got = os.read(fd, min(left, 1 << 20))
        if not got:
            raise EOFError("judge closed the channel")
        parts.append(got)
        left -= len(got)
    return b"".join(parts)


def _recv_header(fd: int) -> dict:
    return json.loads(_read_exact(fd, struct.unpack(">I", _read_exact(fd, 4))[0]))


def _recv_bodies(fd: int, header: dict) -> list[bytes]:
    return [_read_exact(fd, int(n)) for n in header.get("lens", [])]


def _send(fd: int, header: dict, *bodies: bytes) -> None:
    header["lens"] = [len(b) for b in bodies]
    h = json.dumps(header).encode()
    _write_all(fd, struct.pack(">I", len(h)) + h)
    for body in bodies:
        _write_all(fd, body)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ------------------------------------------------------------------------------------------------- candidate side
def _std_streams() -> None:
    """Std streams over fds 0/1/2 as a normal program has them; stdin bytes arrive unchanged (no newline
    translation, as the official grader's StringIO). Made once in the runner; children inherit unused copies."""
    import io

    fd_in, fd_out, fd_err = (io.FileIO(fd, m, closefd=False) for fd, m in ((0, "r"), (1, "w"), (2, "w")))
    sys.stdin = io.TextIOWrapper(io.BufferedReader(fd_in), "utf-8", "surrogateescape", newline="\n")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(fd_out), "utf-8", "strict")
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(fd_err), "utf-8", "backslashreplace", line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr


def _child_setup(cfg: dict, limits: dict, fds: dict[int, int], cpu_rlimit: int | None) -> None:
    """In a fresh child, still trusted: fds, session, rlimits, cgroup, uid, cwd. Fails -> CHILD_SETUP_FAILED."""
    os.setsid()
    for dst, src in sorted(fds.items()):
        os.dup2(src, dst)
    path_fds = cfg.get("path_fds") or []
    for i, fd in enumerate(path_fds):
        os.dup2(fd, max(fds) + 1 + i)
    os.closerange(max(fds) + 1 + len(path_fds), 1 << 16)
    mem = int(limits["memory_limit_mb"]) << 20
    cpu = resource.RLIM_INFINITY if cpu_rlimit is None else cpu_rlimit
    hard_cpu = cpu if cpu_rlimit is None else cpu + 1  # SIGXCPU at the soft limit, SIGKILL a second later
    for res, soft, hard in ((resource.RLIMIT_AS, mem, mem), (resource.RLIMIT_CPU, cpu, hard_cpu),
                            (resource.RLIMIT_FSIZE, cfg["file_size"], cfg["file_size"]),
                            (resource.RLIMIT_NOFILE, cfg["open_files"], cfg["open_files"]),
                            (resource.RLIMIT_NPROC, cfg["max_processes"], cfg["max_processes"]),
                            (resource.RLIMIT_CORE, 0, 0), (resource.RLIMIT_MEMLOCK, 0, 0),
                            (resource.RLIMIT_MSGQUEUE, 0, 0)):  # no POSIX message queues (they outlive us)
        resource.setrlimit(res, (soft, hard))
    with suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:  # a cgroup OOM kill picks a candidate
        f.write("1000")  # (raising needs no privilege; lowering the runner's own may be refused, e.g. here)
    if cfg.get("uid") is not None:
        _become(cfg["uid"])
    elif cfg.get("userns"):
        _drop_caps()
    _keyctl(7, -4)  # KEYCTL_CLEAR of the uid's user keyrings (@u, @us), which outlive processes and samples:
    _keyctl(7, -5)  # as the candidate uid, before its code runs, so nothing planted earlier reaches it
    if path_fds:
        _import_via_fds(cfg["path_dirs"], [max(fds) + 1 + i for i in range(len(path_fds))])
    os.chdir(cfg["workdir_now"])
    sys.set_int_max_str_digits(INT_DIGITS)
    import random

    random.seed()  # else every test would repeat the runner's random state


def _import_via_fds(dirs: list[str], fds: list[int]) -> None:
    """The root fallback without a mount namespace, with the interpreter under a dir the candidate uid cannot
    traverse (a 0700 home): import through the runner's open dir fds in our own /proc/self/fd (no search
    permission needed on their parents). sys.path AND the __path__ of every imported package are remapped, so
    submodules (importlib.util) and codecs looked up later (encodings.idna) load too."""
    _prctl(PR_SET_DUMPABLE, 1)  # our own /proc/self/fd must be ours to open
    remap = sorted(zip(dirs, (f"/proc/self/fd/{fd}" for fd in fds)), key=lambda d: -len(d[0]))

    def moved(path: str) -> str:
        return next((new + path[len(old):] for old, new in remap if path == old or path.startswith(old + "/")),
                    path)

    sys.path[:] = [moved(p) for p in sys.path]
    for module in list(sys.modules.values()):
        if isinstance(getattr(module, "__path__", None), list):
            module.__path__[:] = [moved(p) for p in module.__path__]
    sys.path_importer_cache.clear()


def _drop_caps() -> None:
    """In the runner's own user namespace a forked child keeps every capability the runner has there: none."""
    nr = CAPSET.get(os.uname().machine)
    header, data = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()  # v3 header; all sets empty
    if nr is None or _libc().syscall(nr, header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _become(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _finish(code: int) -> None:
    """What interpreter shutdown does for a normal program: join non-daemon threads, atexit, flush; exit."""
    import atexit
    import threading

    for step in (threading._shutdown, atexit._run_exitfuncs):  # type: ignore[attr-defined]
        with suppress(BaseException):
            step()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or 1
    os._exit(code)


def _report(kind: bytes, payload: bytes | None = None) -> None:
    frame = kind if payload is None else kind + struct.pack(">Q", len(payload)) + payload
    with suppress(OSError):
        _write_all(STATUS_FD, frame)


def _fail(kind: bytes, payload: bytes | None = None, traceback: bool = True) -> None:
    _report(kind, payload)
    if traceback:
        with suppress(BaseException):
            __import__("traceback").print_exc()
    _finish(1)


def _main_module(prelude: tuple[dict, int]) -> dict:
    import builtins
    import types

    main = types.ModuleType("__main__")
    main.__dict__.update(prelude[0])
    main.__dict__["__builtins__"] = builtins
    sys.setrecursionlimit(prelude[1])
    sys.modules["__main__"] = main
    return main.__dict__


def _program_main(code_obj, prelude: tuple[dict, int]) -> None:
    """A stdin program as `__main__`; never returns. Status fd: b"R" (setup done), b"M" (MemoryError)."""
    _report(b"R")
    try:
        exec(code_obj, _main_module(prelude))
    except SystemExit as exc:
        code = exc.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
        _finish(0 if code is None else code & 0xFF if isinstance(code, int) else 1)
    except MemoryError:
        _fail(b"M")
    except BaseException:
        _fail(b"E")
    _finish(0)


def _host_main(code_obj, func_name: str, prelude: tuple[dict, int]) -> None:
    """A LeetCode sample's host: load the module once, one Solution(), then per go-frame (input length) call the
    method on the input in the memfd and report b"V" + JSON. Load failures are b"C" (compile errors, as
    officially; the judge accepts them only before the first input). Never returns."""
    _report(b"R")
    try:
        ns = _main_module(prelude)
        exec(code_obj, ns)
        cls = ns.get("Solution")
        method = getattr(cls(), func_name, None) if isinstance(cls, type) else None
    except MemoryError:
        _fail(b"M")
    except BaseException as exc:
        _fail(b"C", f"loading the module failed: {type(exc).__name__}: {exc}"[:2000].encode())
    if not isinstance(cls, type):
        _fail(b"C", b"the code does not define class Solution", traceback=False)
    if not callable(method):
        _fail(b"C", f"class Solution has no method {func_name}".encode(), traceback=False)
    _report(b"L")
    try:
        while len(go := os.read(GO_FD, 8)) == 8:
            _host_call(method, struct.unpack(">Q", go)[0])
    except SystemExit as exc:
        _finish(exc.code if isinstance(exc.code, int) else 1)
    except MemoryError:
        _fail(b"M")
    except BaseException:
        _fail(b"E")
    _finish(0)


def _host_call(method, n: int) -> None:
    parts, off = [], 0
    while off < n and (got := os.pread(INPUT_FD, min(n - off, 1 << 20), off)):
        parts.append(got)
        off += len(got)
    args = [json.loads(line) for line in b"".join(parts).decode("utf-8", "surrogateescape").split("\n")]
    result = method(*args)
    sys.set_int_max_str_digits(0)  # a huge exact integer answer is still an answer
    try:
        payload = json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        print(f"return value is not JSON data: {exc}", file=sys.stderr)
        _fail(b"E", traceback=False)
    finally:
        sys.set_int_max_str_digits(INT_DIGITS)
    _report(b"V", payload)


def _needed(prelude: tuple[dict, int], code_obj) -> tuple[dict, int]:
    """The part of the prelude namespace the code can reach: the names its code objects look up, or all of it
    when it looks names up dynamically. Copying ~700 names into every test's namespace costs COW faults."""
    ns, limit = prelude
    names, stack = set(), [code_obj]
    while stack:
        co = stack.pop()
        names.update(co.co_names)
        stack.extend(c for c in co.co_consts if hasattr(c, "co_names"))
    if names & DYNAMIC_NAMES:
        return ns, limit
    return {k: ns[k] for k in names.intersection(ns)}, limit


# ------------------------------------------------------------------------------------------------- accounting
class _Cgroup:
    """The cgroup the judge made for this runner (config "cgroup": version, dirs {controller or "unified": dir},
    procs [cgroup.procs files a candidate writes "0" to]). Candidates join it; the runner and sample processes
    never do, so it holds exactly the candidate's tree. Per test: a peak reset and CPU / OOM-kill baselines."""

    def __init__(self, spec: dict) -> None:
        self.v, self.dirs = int(spec["version"]), spec["dirs"]
        self.peak_fd: int | None = None
        self.cpu0 = self.oom0 = 0.0

    def _path(self, ctrl: str, name: str) -> str:
        return os.path.join(self.dirs["unified"] if self.v == 2 else self.dirs[ctrl], name)

    def _write(self, ctrl: str, name: str, value) -> bool:
        with suppress(OSError):
            fd = os.open(self._path(ctrl, name), os.O_WRONLY)
            try:
                return os.write(fd, str(value).encode()) > 0
            finally:
                os.close(fd)
        return False

    def _read(self, ctrl: str, name: str) -> str:
        with suppress(OSError), open(self._path(ctrl, name)) as f:
            return f.read()
        return ""

    def _field(self, ctrl: str, name: str, key: str) -> int:
        for line in self._read(ctrl, name).splitlines():
            k, _, v = line.partition(" ")
            if k == key:
                return int(v)
        return 0

    def limit(self, mem: int, pids: int) -> None:
        if self.v == 2:
            self._write("memory", "memory.max", mem)
            self._write("memory", "memory.swap.max", 0)
        else:  # memsw >= memory at every step: try both orders
            for name in ("memory.memsw.limit_in_bytes", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
                self._write("memory", name, mem)
        self._write("pids", "pids.max", pids)

    def start(self) -> None:
        if self.v == 2:
            if self.peak_fd is None:
                with suppress(OSError):
                    self.peak_fd = os.open(self._path("memory", "memory.peak"), os.O_RDWR)
            if self.peak_fd is not None:
                with suppress(OSError):
                    os.write(self.peak_fd, b"reset")  # kernel >= 6.12: this fd's peak restarts now
            self.oom0 = self._field("memory", "memory.events", "oom_kill")
        else:
            self._write("memory", "memory.max_usage_in_bytes", 0)
            self.oom0 = self._field("memory", "memory.oom_control", "oom_kill")
        self.cpu0 = self._cpu_total()

    def _cpu_total(self) -> float:
        if self.v == 2:
            return self._field("cpu", "cpu.stat", "usage_usec") / 1e6
        return int(self._read("cpuacct", "cpuacct.usage") or 0) / 1e9

    def cpu(self) -> float:
        return self._cpu_total() - self.cpu0

    def peak_mb(self) -> float:
        if self.v == 1:
            return int(self._read("memory", "memory.max_usage_in_bytes") or 0) / (1 << 20)
        raw = b""
        if self.peak_fd is not None:
            with suppress(OSError):
                raw = os.pread(self.peak_fd, 64, 0)
        return int(raw or self._read("memory", "memory.current") or 0) / (1 << 20)

    def oom(self) -> bool:
        name, key = ("memory.events", "oom_kill") if self.v == 2 else ("memory.oom_control", "oom_kill")
        return self._field("memory", name, key) > self.oom0


class _Meter:
    """CPU of the candidate's whole tree since start(): the cgroup's counter, or (no cgroup) getrusage of our
    reaped children plus the user+system times (own and reaped) of every live descendant."""

    def __init__(self, cg: _Cgroup | None, outer: int) -> None:
        self.cg, self.outer, self.base = cg, outer, 0.0

    def start(self) -> None:
        if self.cg is not None:
            self.cg.start()
        else:
            self.base = self._tree()

    def cpu(self) -> float:
        return self.cg.cpu() if self.cg is not None else self._tree() - self.base

    def _tree(self) -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime + sum(_proc_cpu(p) for p in _descendants(self.outer))


def _proc_cpu(pid: int) -> float:
    with suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/stat", "rb") as f:
        return sum(int(x) for x in f.read().rsplit(b")", 1)[1].split()[11:15]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _proc_hwm_mb(pid: int) -> float:
    with suppress(OSError, ValueError, StopIteration), open(f"/proc/{pid}/status") as f:
        return int(next(ln for ln in f if ln.startswith("VmHWM:")).split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for task in _listdir(f"/proc/{pid}/task"):
        with suppress(OSError, ValueError), open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(x) for x in f.read().split()]
    return out


def _descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (pids as /proc names them), from the kernel's per-thread children lists."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        for task in _listdir(f"/proc/{p}/task"):
            with suppress(OSError, ValueError), open(f"/proc/{p}/task/{task}/children") as f:
                kids = [int(x) for x in f.read().split()]
                out += kids
                stack += kids
    return out


class _Io:
    """A candidate's stdout, stderr and status pipes: drained as they fill, each with its own cap. Counts are
    exactly the bytes the candidate wrote; stdout is kept up to its cap, stderr only its head."""

    def __init__(self, out_r: int, err_r: int, st_r: int, cap: int, status_keep: int) -> None:
        self.out_r, self.err_r, self.st_r, self.cap, self.status_keep = out_r, err_r, st_r, cap, status_keep
        self.open = [out_r, err_r, st_r]
        for fd in self.open:
            os.set_blocking(fd, False)
        self.reset()

    def reset(self) -> None:
        self.bufs = {fd: bytearray() for fd in (self.out_r, self.err_r, self.st_r)}
        self.totals = dict.fromkeys(self.bufs, 0)

    def read(self, fd: int) -> int:
        """Bytes read from fd, 0 at EOF (fd is closed for reading), -1 when nothing was there."""
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return -1
        if not data:
            self.open.remove(fd)
            return 0
        keep = {self.out_r: self.cap, self.err_r: STDERR_KEEP, self.st_r: self.status_keep}[fd] - len(self.bufs[fd])
        self.bufs[fd] += data[:max(0, keep)]
        self.totals[fd] += len(data)
        return len(data)

    def over(self) -> str:
        for fd, why in ((self.out_r, "output"), (self.err_r, "stderr"), (self.st_r, "result")):
            if self.totals[fd] > self.cap + (9 if fd == self.st_r else 0):  # a result frame's own 9 bytes
                return why
        return ""

    def drain(self) -> None:
        for fd in list(self.open):
            while not self.over() and self.read(fd) > 0:
                pass

    def close(self) -> None:
        for fd in (self.out_r, self.err_r, self.st_r):
            with suppress(OSError):
                os.close(fd)


def _calls(buf: bytes) -> list[tuple[bytes, bytes]]:
    """A call's outcome events (b"C" counts only before the first input), or [garbage] for a malformed byte."""
    events, bad = _events(buf)
    return [(b"?", b"")] if bad else [e for e in events if e[0] in (b"V", b"E", b"M")]


def _events(buf: bytes) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The complete status events in buf (kind, payload), and whether a malformed byte was seen."""
    out, i = [], 0
    while i < len(buf):
        kind = bytes(buf[i:i + 1])
        if kind in (b"R", b"L", b"E", b"M"):
            out.append((kind, b""))
            i += 1
        elif kind in (b"C", b"V"):
            if len(buf) < i + 9 or len(buf) < i + 9 + (n := struct.unpack(">Q", buf[i + 1:i + 9])[0]):
                break
            out.append((kind, bytes(buf[i + 9:i + 9 + n])))
            i += 9 + n
        else:
            return out, True
    return out, False


# ------------------------------------------------------------------------------------------------- the sample process
class Sample:
    """One sample, in its own process (pid 1 of a fresh PID + IPC namespace when granted): reads its frames from
    the channel, runs every test, cleans up after each, replies, and exits at the sample's end."""

    def __init__(self, rx: int, tx: int, cfg: dict, header: dict, prelude, error: str, pid1: bool,
                 release) -> None:
        self.rx, self.tx, self.cfg, self.header, self.pid1, self.release = rx, tx, cfg, header, pid1, release
        self.func_name, self.limits = header.get("func_name"), header["limits"]
        self.tl = float(self.limits["time_limit_s"])
        # The limit is enforced on the tree's measured CPU (_supervise); RLIMIT_CPU is only a backstop well above
        # it, so that a SIGXCPU never decides anything (the kernel's tick-based count runs ~10% ahead of it).
        self.cpu_rlimit = -int(-1.25 * self.tl // 1) + 1
        self.cap = int(self.limits["output_limit_mb"]) << 20
        self.prelude, self.error = prelude, error
        self.error_status = "infra_error" if error else ""  # the judge's prelude failed: not the candidate's doing
        self.outer = int(os.readlink("/proc/self"))  # our pid as /proc (of the runner's namespace) names it
        self.cg = _Cgroup(cfg["cgroup"]) if cfg.get("cgroup") else None
        self.meter = _Meter(self.cg, self.outer)
        self.ncpu = max(1, len(os.sched_getaffinity(0)))
        self.tests, self.code_obj, self.host, self.load_cpu = 0, None, None, 0.0

    def serve(self) -> int:
        self.prepare(_recv_bodies(self.rx, self.header)[0])
        while True:
            try:
                header = _recv_header(self.rx)
                bodies = _recv_bodies(self.rx, header)
            except EOFError:
                header, bodies = {"op": "exit"}, []
            op = header.get("op")
            if op == "run":
                _send(self.tx, *self.run(bodies[0] if bodies else b""))
            elif op == "end":
                self.release()  # our last frame is read: the next sample process may wait on the channel
                _send(self.tx, {"clean": self.end()})
                return 0
            elif op == "exit":
                self.end()
                self.release(stop=True)  # the warm runner stops
                return 0
            else:
                _send(self.tx, {"status": "infra_error", "detail": f"unknown op {op!r}"})

    def prepare(self, code: bytes) -> None:
        if not self.pid1:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans come back to us, to be killed, reaped and accounted
        _keyctl(1, 0)  # KEYCTL_JOIN_SESSION_KEYRING(NULL): a fresh session keyring, dying with the sample
        if self.cg is not None:  # headroom for the runner's own processes, members too (warm, spare, active, old)
            self.cg.limit((int(self.limits["memory_limit_mb"]) + SAMPLE_HEADROOM_MB) << 20,
                          self.cfg["max_processes"] + 4)
        workdir = self.cfg["workdir_now"] = self.cfg.get("workdir") or self._new_workdir()
        os.environ["TMPDIR"] = os.environ["HOME"] = workdir  # inherited by every child
        if self.error:
            return
        try:  # compile errors are decided here, before any candidate code runs
            self.code_obj = compile(code.decode("utf-8", "surrogateescape"), "<solution>", "exec",
                                    dont_inherit=True)
            self.prelude = _needed(self.prelude, self.code_obj)
        except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
            self.error, self.error_status = f"{type(exc).__name__}: {exc}"[:2000], "compile_error"

    def _new_workdir(self) -> str:
        """Judge-owned (root, mode 1777 when the candidate has its own uid): it cannot chmod or replace it."""
        import tempfile

        path = tempfile.mkdtemp(prefix="lcb-sample-", dir=self.cfg["scratch"])
        if self.cfg.get("uid") is not None:
            os.chmod(path, 0o1777)
        return path

    def run(self, data: bytes) -> tuple:
        if self.error_status:
            return {"status": self.error_status, "detail": self.error}, b"", b""
        self.tests += 1
        return self._run_call(data) if self.func_name else self._run_program(data)

    # ---- a stdin program: a fresh child per test
    def _run_program(self, data: bytes) -> tuple:
        in_fd = os.memfd_create("input", 0)
        _write_all(in_fd, data)
        os.lseek(in_fd, 0, os.SEEK_SET)
        (out_r, out_w), (err_r, err_w), (st_r, st_w) = os.pipe(), os.pipe(), os.pipe()
        self.meter.start()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                _child_setup(self.cfg, self.limits, {0: in_fd, 1: out_w, 2: err_w, STATUS_FD: st_w},
                             self.cpu_rlimit)
            except BaseException:
                os._exit(CHILD_SETUP_FAILED)
            _program_main(self.code_obj, self.prelude)
        for fd in (in_fd, out_w, err_w, st_w):
            os.close(fd)
        io = _Io(out_r, err_r, st_r, self.cap, 2)
        try:
            why, pidfd = "", _pidfd(pid)
            try:
                why = self._supervise(pid, pidfd, io, t0, lambda: False)
            finally:
                if pidfd is not None:
                    os.close(pidfd)
            ru = _stop(pid, why)
            wall, clean = time.monotonic() - t0, all([self.sweep(), self.wipe()])
            io.drain()  # every writer is dead now: what is left, within the caps
            st = bytes(io.bufs[st_r])
            events = [(b"R", b"")] if st[:1] == b"R" else []
            events += [(b"M", b"")] if st[1:2] == b"M" else []  # stdin programs report nothing else
            return self._decide(why or io.over(), ru, wall, io, events, clean, rss=ru[2].ru_maxrss / 1024)
        finally:
            io.close()

    # ---- a LeetCode problem: one host per sample, one call per test
    def _run_call(self, data: bytes) -> tuple:
        if self.host is None and (failed := self._start_host()) is not None:
            return failed
        pid, pidfd, io, go_w, in_fd = self.host
        os.ftruncate(in_fd, 0)
        view, off = memoryview(data), 0
        while off < len(view):
            off += os.pwrite(in_fd, view[off:], off)
        io.reset()
        self.meter.start()
        t0 = time.monotonic()
        with suppress(OSError):
            os.write(go_w, struct.pack(">Q", len(data)))
        why = self._supervise(pid, pidfd, io, t0, lambda: _calls(io.bufs[io.st_r]))
        calls, bad = _calls(io.bufs[io.st_r]), _events(io.bufs[io.st_r])[1]
        extra, self.load_cpu = self.load_cpu, 0.0
        if not why and not bad and calls and calls[0][0] == b"V":
            wall = time.monotonic() - t0
            rss = 0.0 if self.cg else max([_proc_hwm_mb(p) for p in _descendants(self.outer)] or [0.0])
            return self._decide("", None, wall, io, [(b"R", b"")] + calls[:1], True, extra, rss)
        return self._stop_host(why or ("garbage" if bad else ""), t0, [(b"R", b"")] + calls, extra)

    def _start_host(self):
        in_fd, stdin_fd = os.memfd_create("input", 0), os.memfd_create("stdin", 0)
        (go_r, go_w), (out_r, out_w), (err_r, err_w), (st_r, st_w) = os.pipe(), os.pipe(), os.pipe(), os.pipe()
        self.meter.start()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                _child_setup(self.cfg, self.limits, {0: stdin_fd, 1: out_w, 2: err_w, STATUS_FD: st_w,
                                                     GO_FD: go_r, INPUT_FD: in_fd}, None)
            except BaseException:
                os._exit(CHILD_SETUP_FAILED)
            _host_main(self.code_obj, self.func_name, self.prelude)
        for fd in (stdin_fd, go_r, out_w, err_w, st_w):
            os.close(fd)
        io = _Io(out_r, err_r, st_r, self.cap, self.cap + 9)
        os.set_blocking(go_w, False)
        self.host = (pid, _pidfd(pid), io, go_w, in_fd)
        loaded = lambda: _events(io.bufs[st_r])[1] or any(k != b"R" for k, _ in _events(io.bufs[st_r])[0])
        why = self._supervise(pid, self.host[1], io, t0, loaded)
        events, bad = _events(io.bufs[st_r])
        if not why and not bad and (b"L", b"") in events:
            self.load_cpu = self.meter.cpu()  # the module's load counts, with its own budget, in the first test
            return None
        return self._stop_host(why or ("garbage" if bad else ""), t0, events, 0.0)

    def _stop_host(self, why: str, t0: float, events: list, extra: float) -> tuple:
        pid, pidfd, io, go_w, in_fd = self.host
        self.host = None
        if not why and pidfd is not None:  # it reported a failure or died: give it a moment to exit by itself
            select.select([pidfd], [], [], 1.0)
        ru = _stop(pid, "kill")  # the host never ends by itself while it is healthy
        wall, clean = time.monotonic() - t0, all([self.sweep(), self.wipe()])
        io.drain()
        try:
            return self._decide(why, ru, wall, io, events, clean, extra, ru[2].ru_maxrss / 1024)
        finally:
            io.close()
            for fd in (pidfd, go_w, in_fd):
                with suppress(OSError, TypeError):
                    os.close(fd)

    # ---- watching, deciding, cleaning
    def _supervise(self, pid: int, pidfd, io: _Io, t0: float, done) -> str:
        """Drain the pipes until the child exits or `done()`; "" then, else why it must be stopped: output/
        stderr/result over its cap, cpu (the tree's CPU over the limit) or wall (the backstop)."""
        wall = float(self.limits["wall_backstop_s"])
        deadline, hard, mark = t0 + wall, t0 + BACKSTOP_STRETCH * wall, (t0, 0.0)
        next_cpu = t0 + self.tl / self.ncpu  # the tree cannot have used tl CPU seconds before this
        poller = select.poll()
        for fd in io.open:
            poller.register(fd, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        while True:
            if done():
                return ""
            if why := io.over():
                return why
            now = time.monotonic()
            if now >= next_cpu:
                if (cpu := self.meter.cpu()) > self.tl:
                    return "cpu"
                next_cpu = now + max(0.002, (self.tl - cpu) / self.ncpu)
            if now >= deadline:
                deadline, mark = self._stretch(deadline, hard, mark, wall)
                if deadline <= now:
                    return "wall"
                continue
            left = min(deadline, next_cpu) - now
            exited = False
            for fd, _ev in poller.poll(max(0.0, left if pidfd is not None else min(left, 0.002)) * 1000):
                if fd == pidfd:
                    exited = True
                elif io.read(fd) == 0:
                    poller.unregister(fd)
            if exited or (pidfd is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)):
                io.drain()
                return ""

    def _stretch(self, deadline: float, hard: float, mark: tuple[float, float], wall: float):
        """At the wall backstop: a tree still computing (>= STARVED_SHARE of a CPU since the last look) and under
        its CPU limit is starved by a loaded machine, not hanging: another slice, up to `hard`. A sleeper gets
        none; helpers burning CPU count toward the limit, so they cannot buy time."""
        now, cpu = time.monotonic(), self.meter.cpu()
        if cpu - mark[1] >= STARVED_SHARE * (now - mark[0]) and cpu < self.tl and now < hard:
            return min(hard, now + max(0.5, wall / 2)), (now, cpu)
        return deadline, mark

    def _decide(self, why, ru, wall, io: _Io, events, clean, extra=0.0, rss=0.0) -> tuple:
        cpu = self.meter.cpu()
        wstatus = ru[1] if ru else None
        sig = os.WTERMSIG(wstatus) if wstatus is not None and os.WIFSIGNALED(wstatus) else None
        code = os.WEXITSTATUS(wstatus) if wstatus is not None and os.WIFEXITED(wstatus) else None
        kinds = dict(events)
        res = {"exit_code": code, "signal": sig, "cpu_s": cpu + extra, "wall_s": wall,
               "peak_rss_mb": self.cg.peak_mb() if self.cg is not None else rss}
        out = bytes(io.bufs[io.out_r])
        failed = sig is not None or (code is not None and code != 0) or (self.func_name and b"V" not in kinds)
        if why in ("output", "stderr", "result"):
            what = {"output": "output", "stderr": "stderr", "result": "return value"}[why]
            verdict, out = "output_limit", out[:HEAD_ON_LIMIT]
            detail = f"{what} over {self.limits['output_limit_mb']} MB"
        elif why == "wall":
            verdict, detail = "time_limit", f"wall clock over {wall:.2f} s (backstop)"
        elif why == "cpu" or cpu > self.tl:  # the kernel's count for the whole tree, never a signal's name
            verdict, detail = "time_limit", f"cpu {cpu:.3f} s (limit {self.tl:g} s)"
        elif b"R" not in kinds and code == CHILD_SETUP_FAILED:  # a first test's setup is the judge's; a later
            verdict = "infra_error" if self.tests <= 1 else "runtime_error"  # one's, damage done by the sample
            detail = "the jail could not set up the child" + ("" if self.tests <= 1 else " (after earlier tests)")
        elif self.cg is not None and self.cg.oom():  # the kernel killed a process of the tree at the limit
            verdict, detail = "memory_limit", "out of memory (the whole process tree is limited)"
        elif failed and b"M" in kinds:
            verdict, detail = "memory_limit", "MemoryError"
        elif b"C" in kinds:  # a LeetCode module that failed to load, before any input
            verdict, detail = "compile_error", kinds[b"C"][:2000].decode("utf-8", "replace")
        elif why == "garbage":
            verdict, detail = "runtime_error", "unreadable status from the program"
        elif sig is not None:
            verdict, detail = "runtime_error", f"killed by signal {sig} ({signal.strsignal(sig)})"
        elif code:
            verdict, detail = "runtime_error", f"exit code {code}"
        elif self.func_name and b"V" not in kinds:
            verdict, detail = "runtime_error", "no return value reported"
        else:
            verdict, detail = "ok", ""
        res["status"], res["unclean"] = verdict, not clean
        res["detail"] = detail if clean else f"cleanup after the test failed (fresh jail next); {detail}"
        bodies = [out, bytes(io.bufs[io.err_r][:STDERR_KEEP])]
        if verdict == "ok" and self.func_name:
            res["returned"] = True
            bodies.append(kinds[b"V"])
        return (res, *bodies)

    def sweep(self, deadline_s: float = 5.0) -> bool:
        """Kill every candidate process and reap it: as pid 1 of the sample's namespace, kill(-1) (atomic, and
        nothing in the namespace can stop us); else every descendant (we are their subreaper), until none."""
        if _reap_all():
            return True
        end, uid = time.monotonic() + deadline_s, self.cfg.get("uid")
        while time.monotonic() < end:  # (where /proc has no children lists, e.g. gVisor: by uid, as root)
            for pid in [-1] if self.pid1 else _descendants(self.outer) + (_uid_pids(uid) if uid else []):
                _kill(pid)
            # kill(-1) as pid 1 races no fork: wait for them all; else look again for late forks now and then
            if _wait_all(max(0.001, end - time.monotonic()) if self.pid1 else 0.05):
                return True
        return _reap_all()

    def wipe(self) -> bool:
        """Empty what the candidate may write: our private mounts, or the fallback's work dir."""
        dirs = self.cfg.get("wipe") or [self.cfg["workdir_now"]]
        keep = set(self.cfg.get("protected") or ())
        return all([_remove(p) for d in dirs for p in (os.path.join(d, e) for e in _listdir(d)) if p not in keep])

    def end(self) -> bool:
        """After the last test: kill and wipe; in the fallback without namespaces also the candidate's SysV IPC
        and its files in the shared tmp dirs. (Its uid's keyrings are cleared as each candidate process starts.)"""
        self.host = None
        clean = all([self.sweep(), self.wipe()])
        uid = self.cfg.get("uid")
        if not self.pid1 and (uid is not None or self.cfg.get("wipe")) and (ipc := _sysv_ipc(uid)):
            for kind, ident in ipc:
                _ipc_rmid(kind, ident)
            clean = not _sysv_ipc(uid) and clean
        if not self.cfg.get("workdir"):
            shared = [p for d in WIPE_SHARED for p in _owned_by(d, uid)]
            clean = all([_remove(p) for p in [self.cfg["workdir_now"], *shared]]) and clean
        return clean


def _stop(pid: int, why: str):
    """Kill the child unless it ended by itself; its wait4 result (pid, status, rusage)."""
    if why:
        _kill(pid)
    return os.wait4(pid, 0)


def _pidfd(pid: int):
    with suppress(AttributeError, OSError):
        return os.pidfd_open(pid)
    return None


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _reap_all() -> bool:
    """Reap every exited child; True when no child is left at all."""
    with suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] != 0:
            pass
        return False
    return True


def _uid_pids(uid: int) -> list[int]:
    out = []
    for name in _listdir("/proc"):
        with suppress(OSError, ValueError, IndexError), open(f"/proc/{name}/status") as f:
            if name.isdigit() and int(f.read().split("\nUid:")[1].split()[0]) == uid:
                out.append(int(name))
    return out


def _wait_all(timeout_s: float) -> bool:
    """Reap children, blocking (they were all sent SIGKILL), until none is left (True) or the timeout passes."""
    def expire(*_args) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        while True:
            os.waitpid(-1, 0)
    except ChildProcessError:
        return True
    except TimeoutError:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _sysv_ipc(uid: int | None) -> list[tuple[str, int]]:
    """SysV IPC objects (of `uid`, or all when None) in our IPC namespace."""
    found = []
    for kind, uid_col in (("shm", 7), ("msg", 7), ("sem", 4)):
        with suppress(OSError), open(f"/proc/sysvipc/{kind}") as f:
            rows = [line.split() for line in f.read().splitlines()[1:]]
            found += [(kind, int(r[1])) for r in rows if uid is None or int(r[uid_col]) == uid]
    return found


def _ipc_rmid(kind: str, ident: int) -> None:
    if kind == "sem":
        _libc().semctl(ident, 0, 0)  # IPC_RMID = 0
    else:
        getattr(_libc(), f"{kind}ctl")(ident, 0, None)


def _listdir(path: str) -> list[str]:
    with suppress(OSError):
        return os.listdir(path)
    return []


def _owned_by(d: str, uid: int | None) -> list[str]:
    out = []
    for path in [os.path.join(d, e) for e in _listdir(d)] if uid is not None else []:
        with suppress(OSError):
            if os.lstat(path).st_uid == uid:
                out.append(path)
    return out


def _remove(path: str) -> bool:
    """Remove a file or tree the candidate made; on failure the run is reported unclean (fresh jail next)."""
    with suppress(OSError, RecursionError):
        if os.path.isdir(path) and not os.path.islink(path):
            __import__("shutil").rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    return not os.path.lexists(path)


# ------------------------------------------------------------------------------------------------- the warm runner
class WarmRunner:
    """Keeps the next sample's process forked ahead (in fresh PID + IPC namespaces when granted). One baton byte
    says which sample process may read the channel: the active one passes it on the moment it has read its last
    frame ("end"), so the spare is already waiting when the next sample arrives; forking and tearing down stay
    off the judge's critical path. The warm runner reads nothing from the channel after the config, so it never
    holds a byte of candidate code, input or output."""

    def __init__(self, rx: int, tx: int, cfg: dict) -> None:
        self.rx, self.tx, self.cfg = rx, tx, cfg
        self.preludes: dict[str, tuple[dict, int]] = {}
        self.live: set[int] = set()  # sample processes not reaped yet
        self.exited: dict[int, int] = {}  # wait status of reaped sample processes
        (self.baton_r, self.baton_w), (self.spawn_r, self.spawn_w) = os.pipe(), os.pipe()

    def serve(self) -> None:
        for text in ["", *self.cfg.get("preludes", [])]:  # computed here once; any other prelude per sample
            with suppress(BaseException):
                self._prelude(text)
        os.write(self.baton_w, b"g")
        active = None
        while True:
            spare = self._spawn()
            if self._next(active) != b"n":  # b"n": the spare took the baton, fork the next one
                _kill(spare)
                return  # "exit", or the active sample process died mid-protocol: the channel is lost
            active = spare

    def _next(self, active: int | None) -> bytes:
        """What the spawn pipe says next, or b"" when the active sample process dies abnormally first."""
        poller, pidfd = select.poll(), _pidfd(active) if active is not None else None
        poller.register(self.spawn_r, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        try:
            while True:
                ready = {fd for fd, _ev in poller.poll()}
                if self.spawn_r in ready:
                    took = os.read(self.spawn_r, 1)
                    self._reap()
                    return took
                self._reap()
                status = self.exited.get(active)
                if status is not None and (not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0):
                    return b""
                poller.unregister(pidfd)  # it ended well (after passing the baton on)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _spawn(self) -> int:
        pid1 = _fresh_pid_ipc(self.cfg.get("pidns"))
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.read(self.baton_r, 1)
                code = self._sample_process(pid1)
            except BaseException:
                with suppress(BaseException):
                    __import__("traceback").print_exc()
            finally:
                os._exit(code)
        self.live.add(pid)
        return pid

    def _reap(self) -> None:
        """Reap finished sample processes; without PID namespaces also kill what their candidates left (it came
        to us, the subreaper): every child of ours that is not a sample process, with its descendants."""
        with suppress(ChildProcessError):
            while (got := os.waitpid(-1, os.WNOHANG))[0] != 0:
                self.live.discard(got[0])
                self.exited[got[0]] = got[1]
        if self.cfg.get("pidns") is None:
            me = int(os.readlink("/proc/self"))
            for child in set(_children(me)) - self.live:
                for p in [child, *_descendants(child)]:
                    _kill(p)

    def _sample_process(self, pid1: bool) -> int:
        try:
            header = _recv_header(self.rx)
        except EOFError:
            header = {}
        if header.get("op") != "sample":  # "exit", EOF, or a frame that cannot come outside a sample
            os.write(self.spawn_w, b"x")
            return 0
        os.write(self.spawn_w, b"n")
        prelude, error = None, ""
        try:
            prelude = self._prelude(header.get("prelude") or "")
        except BaseException as exc:  # the judge's own code failed: not the candidate's doing
            error = f"prelude failed: {type(exc).__name__}: {exc}"[:2000]

        def release(stop: bool = False) -> None:  # the next sample process may read now, or everyone stops
            os.write(self.spawn_w if stop else self.baton_w, b"x" if stop else b"g")

        return Sample(self.rx, self.tx, self.cfg, header, prelude, error, pid1, release).serve()

    def _prelude(self, text: str) -> tuple[dict, int]:
        """The namespace and recursion limit the judge's trusted prelude leaves (cached in this process)."""
        if text not in self.preludes:
            import builtins

            ns, before = {"__name__": "__main__", "__builtins__": builtins}, sys.getrecursionlimit()
            if text:
                exec(compile(text, "<prelude>", "exec", dont_inherit=True), ns)
            self.preludes[text] = (ns, sys.getrecursionlimit())
            sys.setrecursionlimit(before)
            if len(self.preludes) > 8:
                self.preludes.pop(next(iter(self.preludes)))
        return self.preludes[text]


def _own_userns() -> bool:
    """Not root: a user namespace that maps only our own uid and gid, in which we may make the other namespaces."""
    uid, gid = os.getuid(), os.getgid()
    if not _unshare(CLONE_NEWUSER):
        return False
    for path, text in (("/proc/self/setgroups", "deny"), ("/proc/self/uid_map", f"{uid} {uid} 1"),
                       ("/proc/self/gid_map", f"{gid} {gid} 1")):
        with suppress(OSError), open(path, "w") as f:
            f.write(text)
    # Per-sample PID namespaces need setns() back into a PID namespace this user namespace owns: become pid 1
    # of one. The original process only waits and passes the exit status on.
    if _unshare(CLONE_NEWPID) and (pid := os.fork()) != 0:
        os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) & 0xFF)
    return True


def _join_cgroup(cfg: dict) -> None:
    """The warm runner joins its cgroup once, at start, so that every sample process and candidate is born there:
    moving a process takes a global lock that waits for an RCU grace period and stalls every fork meanwhile
    (measured: ~10 ms per test when each candidate moved itself). The runner's and sample processes' own small
    share (forking, the watch loop, output buffers) is then accounted with the candidate's, within a headroom;
    a cgroup OOM kill picks a candidate first (candidates raise their oom_score_adj to 1000)."""
    for path in (cfg.get("cgroup") or {}).get("procs", []):
        with open(path, "w") as f:
            f.write("0")


def _fallback_namespaces(cfg: dict) -> list[str]:
    """The fallback (no bubblewrap), where the kernel grants it: a network namespace, and a mount namespace with
    private size-capped tmpfs on the shared tmp dirs and the library dirs the candidate may import from bound
    back where our own mounts or an untraversable parent (a 0700 home) would hide them. Returns what it got."""
    spec, granted = cfg["fallback_ns"], []
    if _unshare(CLONE_NEWNET):
        granted.append("net")
    if not (_unshare(CLONE_NEWNS) and _mount(None, "/", None, MS_REC | MS_PRIVATE)):
        return granted
    os.umask(0o022)
    keep = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in spec["keep_visible"] if os.path.isdir(p)}
    tmps = [d for d in WIPE_SHARED if os.path.isdir(d) and not os.path.islink(d)
            and _mount("tmpfs", d, "tmpfs", 0, f"mode=1777,size={spec['tmp_size']}")]
    hidden: list[str] = []
    for root in sorted({r for p in keep if (r := _blocked_root(p))}, key=len):
        if not any(root.startswith(h + "/") for h in hidden) and _mount("tmpfs", root, "tmpfs", 0, "mode=755,size=1m"):
            hidden.append(root)
    protected = set()
    for p, fd in keep.items():
        under = [d for d in tmps + hidden if p.startswith(d + "/")]
        if under:
            os.makedirs(p, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
            _mount(None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            protected |= {os.path.join(d, p[len(d) + 1:].split("/")[0]) for d in under if d in tmps}
        os.close(fd)
    cfg["wipe"], cfg["protected"] = tmps, sorted(protected)
    cfg["workdir"] = "/tmp" if "/tmp" in tmps else None
    return [*granted, "mount"]


def _blocked_root(path: str) -> str | None:
    """The topmost dir on the way to `path` that others cannot traverse (a 0700 home), or None."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        d = "/" + "/".join(parts[:i])
        with suppress(OSError):
            if not os.stat(d).st_mode & 0o001:
                return d
    return None


def main() -> None:
    # The channel moves to private fds; 0/1 become /dev/null so nothing else can write into it by accident.
    rx, tx = os.dup(0), os.dup(1)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    cfg = _recv_header(rx)
    cfg["userns"] = bool(cfg.get("fallback_ns")) and os.geteuid() != 0 and _own_userns()
    granted = (["user"] if cfg["userns"] else []) + (_fallback_namespaces(cfg) if cfg.get("fallback_ns") else [])
    sys.path.extend(cfg.get("library_paths", []))
    if cfg.get("uid") is not None and "mount" not in granted and not cfg.get("workdir"):  # root fallback, no ns
        dirs = [p for p in dict.fromkeys(sys.path) if p and os.path.isdir(p) and _blocked_root(p)]
        cfg["path_dirs"] = dirs
        cfg["path_fds"] = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 200) for fd in
                           [os.open(p, os.O_PATH | os.O_DIRECTORY) for p in dirs]]  # far from fds children use
    own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY)  # to return to before each sample's unshare
    cfg["pidns"] = own_pidns if cfg.get("namespaces", True) and _fresh_pid_ipc(own_pidns) else None
    granted += ["pid+ipc per sample"] if cfg["pidns"] is not None else []
    _join_cgroup(cfg)
    _prctl(PR_SET_DUMPABLE, 0)  # a same-uid candidate cannot open /proc/<runner>/fd or ptrace us
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # inherited, irreversible: no execve gains privileges (the runner never execs)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a non-namespaced sample come back to us to be killed
    # What every candidate sees, set once here rather than in each child: environment, streams, argv, limit.
    cfg["scratch"] = cfg.get("scratch") or __import__("tempfile").gettempdir()  # the launcher's TMPDIR
    os.environ.clear()
    os.environ.update(cfg["env"])
    sys.argv = ["solution.py"]
    sys.setrecursionlimit(1000)
    _std_streams()
    for name in WARM_MODULES:
        with suppress(ImportError):
            __import__(name)
    gc.collect()
    gc.freeze()  # forked children need not touch (and copy) the runner's objects when they collect
    accounting = f"cgroup-v{cfg['cgroup']['version']}" if cfg.get("cgroup") else "rusage"
    _send(tx, {"ready": True, "protocol": PROTOCOL_VERSION, "pid": os.getpid(), "uid": os.getuid(),
               "python": sys.version.split()[0], "namespaces": granted, "accounting": accounting})
    WarmRunner(rx, tx, cfg).serve()


if __name__ == "__main__":
    main()
