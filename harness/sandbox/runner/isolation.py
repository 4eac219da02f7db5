# Runner part 'isolation' (see __init__.py: the parts are concatenated, in PARTS order, into one program).
# Killing, reaping and wiping what a sample left (processes, SysV IPC, files in the shared tmp dirs), and the
# namespaces the warm runner makes for itself in the fallback jail (user, net, mount) before serving.

import os
import select
import signal
from contextlib import suppress


def _stop(pid: int, why: str):
    """Kill the child unless it ended by itself; its wait4 result (pid, status, rusage)."""
    if why:
        _kill(pid)
    return os.wait4(pid, 0)


def _pidfd(pid: int):
    with suppress(AttributeError, OSError):
        return os.pidfd_open(pid)
    return None


def _exited(pid: int, pidfd) -> bool:
    """Has the child ended (not reaped yet)?"""
    if pidfd is not None:
        return bool(select.select([pidfd], [], [], 0)[0])
    return bool(os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT))


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
        with suppress(ValueError, IndexError):
            if name.isdigit() and int(_slurp(f"/proc/{name}/status").split(b"\nUid:")[1].split()[0]) == uid:
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
