# Runner part 'child' (see __init__.py: the parts are concatenated, in PARTS order, into one program).
# The candidate side: what a forked child sets up (limits, fds, uid, capabilities) before candidate code runs,
# and the wrappers that run a stdin program as __main__ or host a LeetCode Solution and report on the status fd.

import ctypes
import json
import os
import resource
import struct
import sys
from contextlib import suppress


def _std_streams() -> list:
    """Std streams over fds 0/1/2 as a normal program has them; stdin bytes arrive unchanged (no newline
    translation, as the official grader's StringIO). Made in the runner (LeetCode hosts inherit them) and anew
    for each run of a stdin program. Returns the raw files under them."""
    import io

    raws = [io.FileIO(fd, m, closefd=False) for fd, m in ((0, "r"), (1, "w"), (2, "w"))]
    fd_in, fd_out, fd_err = raws
    sys.stdin = io.TextIOWrapper(io.BufferedReader(fd_in), "utf-8", "surrogateescape", newline="\n")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(fd_out), "utf-8", "strict")
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(fd_err), "utf-8", "backslashreplace", line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    return raws


def _child_setup(cfg: dict, fds: dict[int, int]) -> None:
    """In a fresh child, still trusted, what needs no sample: fds, session, rlimits but the address space, uid,
    keyrings. Fails -> CHILD_SETUP_FAILED."""
    os.setsid()
    for dst, src in sorted(fds.items()):
        os.dup2(src, dst)
    path_fds = cfg.get("path_fds") or []
    for i, fd in enumerate(path_fds):
        os.dup2(fd, max(fds) + 1 + i)
    os.closerange(max(fds) + 1 + len(path_fds), 1 << 16)
    # No RLIMIT_CPU: a host serves many runs, and the time limit is the tree's CPU as the sample process measures
    # it (a SIGXCPU, sent by the kernel or by the candidate itself, never decides anything).
    for res, soft, hard in ((resource.RLIMIT_FSIZE, cfg["file_size"], cfg["file_size"]),
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
    _fresh_keyrings(cfg.get("uid"), bool(cfg.get("session_keyring")))
    if path_fds:
        _import_via_fds(cfg["path_dirs"], [max(fds) + 1 + i for i in range(len(path_fds))])
    sys.set_int_max_str_digits(INT_DIGITS)
    import random

    random.seed()  # else every host would repeat the runner's state (a stdin host reseeds per run as well)


def _fresh_keyrings(uid: int | None, shared: bool) -> None:
    """As the candidate, before its code runs: nothing an earlier candidate put in a keyring reaches this one. The hosts
    of a runner share the session keyring the runner joined at its start (one per host would be a key made and freed
    per sample, and each freed key makes the kernel's key collector walk every key on the machine): it is cleared
    here, or replaced when an earlier candidate revoked it (or joined anew when the runner could not make one: what it
    would clear is then the judge's own). The candidate uid's user keyrings (@u, @us) outlive processes and samples:
    cleared. (Naming them creates them: two keys per runner uid that outlive the runner; jail.py lists this.) Without
    a uid of our own (no root) candidates run as the judge's uid, whose user keyrings are the user's own: left alone."""
    if not shared or _keyctl(KEYCTL_CLEAR, KEY_SPEC_SESSION) != 0:
        _keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0)  # a new, empty one (or none where keyctl is refused: no keys then)
    if uid is not None:
        for ring in (KEY_SPEC_USER, KEY_SPEC_USER_SESSION):
            _keyctl(KEYCTL_CLEAR, ring)


def _seed_main(cfg: dict, fds: dict[int, int], start_r: int, code_fd: int, prelude_of) -> None:
    """A host forked before its sample arrives. It waits, still the runner's (root where the runner is: no
    candidate of the sample before can signal it), for the sample process's start frame (memory limit, work dir,
    func_name, prelude) and the sample's compiled code (marshal, in a memfd); only then, the previous sample gone,
    it sets itself up (_child_setup: uid, keyrings...) and becomes a stdin or a LeetCode host. Everything up to that
    is trusted: any failure exits CHILD_SETUP_FAILED before b"R". Never returns."""
    import marshal

    try:
        start = json.loads(_read_exact(start_r, struct.unpack(">I", _read_exact(start_r, 4))[0]))
        parts, off = [], 0
        while off < start["code_len"] and (got := os.pread(code_fd, min(start["code_len"] - off, 1 << 20), off)):
            parts.append(got)
            off += len(got)
        code_obj = marshal.loads(b"".join(parts))
        mem = int(start["memory_limit_mb"]) << 20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        os.environ["TMPDIR"] = os.environ["HOME"] = start["workdir"]
        _child_setup(cfg, fds)  # closes start_r and code_fd with every other fd not in `fds`
        os.chdir(start["workdir"])
        prelude = _needed(prelude_of(start["prelude"]), code_obj)
        if start["func_name"]:
            os.dup2(os.memfd_create("stdin", 0), 0)  # a LeetCode program reads no input from stdin
    except BaseException:
        os._exit(CHILD_SETUP_FAILED)
    if start["func_name"]:
        _host_main(code_obj, start["func_name"], prelude)
    _stdin_host_main(code_obj, prelude)


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


def _main_module(prelude: tuple[dict, int, dict]) -> dict:
    import builtins
    import types

    main = types.ModuleType("__main__")
    main.__dict__.update(prelude[0])
    main.__dict__.update({name: getattr(sys, attr) for name, attr in prelude[2].items() if name in main.__dict__})
    main.__dict__["__builtins__"] = builtins
    sys.setrecursionlimit(prelude[1])
    sys.modules["__main__"] = main
    return main.__dict__


def _stdin_host_main(code_obj, prelude: tuple[dict, int, dict]) -> None:
    """A stdin sample's host: per go-frame, the program runs as `__main__` on the input in fd 0 as a fresh process
    would see it (fds 0/1/2 restored from the host's own copies, new std streams, cwd, argv, limits, random state
    and gc reset) and ends as interpreter shutdown ends it (_end_program); then b"D". SystemExit ends the run
    normally, whatever the code (as officially); a failure ends the host as it ends a process (b"E" or b"M",
    exit 1). Status fd: b"R" once (setup done), then b"D" per run (b"Q": done, and the host quits). Never
    returns."""
    import gc
    import random
    import threading

    read, dup2, lseek, chdir, cwd, path = os.read, os.dup2, os.lseek, os.chdir, os.getcwd(), list(sys.path)
    _report(b"R")
    while len(read(GO_FD, 8)) == 8:
        for fd, saved in ((0, INPUT_FD), (1, OUT_FD), (2, ERR_FD)):
            dup2(saved, fd)
        lseek(0, 0, os.SEEK_SET)
        raws = _std_streams()
        chdir(cwd)
        sys.argv[:], sys.path[:] = ["solution.py"], path
        sys.set_int_max_str_digits(INT_DIGITS)
        sys.settrace(None)
        sys.setprofile(None)
        threading.stack_size(0)
        gc.enable()
        random.seed()
        ns = _main_module(prelude)
        try:
            exec(code_obj, ns)
        except SystemExit as exc:
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        except MemoryError:
            _fail(b"M")
        except BaseException:
            _fail(b"E")
        if _end_program(ns, raws):
            _report(b"Q")  # done, and this host quits: the next run gets a new one
            os._exit(0)
        _report(b"D")
    _finish(0)


def _end_program(ns: dict, raws: list) -> bool:
    """What interpreter shutdown does for a program, short of exiting: threading's exit hooks, non-daemon threads
    joined, atexit run, interval timers stopped, streams flushed (a failed flush exits 1, as it would); then its
    namespace cleared (its memory freed now, not at a later collection) and our std streams closed, so nothing
    written after this reaches the next run. True when exit hooks ran: they may leave modules shut down (e.g.
    concurrent.futures refuses new work), so the host must not serve another run."""
    import atexit
    import signal
    import threading

    hooks = getattr(threading, "_threading_atexits", [])
    ran = bool(hooks) or atexit._ncallbacks() > 0
    for hook in reversed(hooks):  # before the joins, as threading._shutdown: they tell pool workers to stop
        with suppress(BaseException):
            hook()
    hooks.clear()
    main = threading.main_thread()
    while waiting := [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]:
        for t in waiting:
            with suppress(BaseException):
                t.join()
    with suppress(BaseException):
        atexit._run_exitfuncs()
    for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):  # die with a process, too
        with suppress(BaseException):
            signal.setitimer(timer, 0)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            _finish(1)
    with suppress(BaseException):
        ns.clear()
    for raw in raws:
        with suppress(BaseException):
            raw.close()
    return ran


def _host_main(code_obj, func_name: str, prelude: tuple[dict, int, dict]) -> None:
    """A LeetCode sample's host: load the module once, one Solution(), then per go-frame (input length) call the
    method on the input in the memfd and report b"V" + JSON. Load failures are b"C" (compile errors, as
    officially; the judge accepts them only before the first input). Never returns."""
    _report(b"R")
    try:
        ns = _main_module(prelude)
        exec(code_obj, ns)
        cls = ns.get("Solution")
        # Without a Solution class the official grader looks the name up in the module: a top-level function.
        method = getattr(cls(), func_name, None) if isinstance(cls, type) else ns.get(func_name)
    except MemoryError:
        _fail(b"M")
    except BaseException as exc:
        _fail(b"C", f"loading the module failed: {type(exc).__name__}: {exc}"[:2000].encode())
    if not isinstance(cls, type) and not callable(method):
        _fail(b"C", f"the code defines neither class Solution nor a function {func_name}".encode(), traceback=False)
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
        payload = json.dumps(result, default=_json_number).encode()
    except (TypeError, ValueError) as exc:
        print(f"return value is not JSON data: {exc}", file=sys.stderr)
        _fail(b"E", traceback=False)
    finally:
        sys.set_int_max_str_digits(INT_DIGITS)
    _report(b"V", payload)


def _json_number(value):
    """json.dumps' hook for the numbers JSON cannot write, as the official grader's `==` sees them: a numpy scalar
    as its Python value, an integral Fraction or Decimal as an int, another real number as a float when that float
    is exactly it, else its repr (a string: it then compares unequal, a wrong answer). Anything else is not data."""
    import numbers
    from decimal import Decimal

    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        return value.item()  # numpy scalars (numpy may not be importable here: duck-typed)
    if isinstance(value, (Decimal, numbers.Real)):
        with suppress(ValueError, OverflowError, ArithmeticError, TypeError):
            if value == int(value):
                return int(value)
        with suppress(ValueError, OverflowError, ArithmeticError, TypeError):
            if float(value) == value:
                return float(value)
        return repr(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _needed(prelude: tuple[dict, int, dict], code_obj) -> tuple[dict, int, dict]:
    """The part of the prelude namespace the code can reach: the names its code objects look up, or all of it
    when it may look names up dynamically (DYNAMIC_NAMES). Copying ~700 names into every test's namespace costs
    COW faults."""
    ns, limit, streams = prelude
    names, stack = set(), [code_obj]
    while stack:
        co = stack.pop()
        names.update(co.co_names)
        stack.extend(c for c in co.co_consts if hasattr(c, "co_names"))
    if names & DYNAMIC_NAMES or code_obj.co_flags & CO_FUTURE_ANNOTATIONS:
        return prelude
    return {k: ns[k] for k in names.intersection(ns)}, limit, streams
