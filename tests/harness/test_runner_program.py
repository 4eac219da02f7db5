"""The runner as a program, checked without running a sandbox: it speaks the judge's one protocol, its parts join
into one small stdlib-only program, and pieces of it (loaded in this process with `load_runner`) do what they say:
what a host empties or replaces among the keyrings, the cgroup v2 reads and writes. The live runner is tested in
test_sandbox.py and test_hostile*.py."""

from __future__ import annotations

import sys

import pytest

from harness.sandbox import jail as jail_mod


def test_runner_and_judge_speak_one_protocol():
    import ast

    from harness.sandbox import protocol
    from harness.sandbox.runner import runner_source

    tree = ast.parse(runner_source())
    consts = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
              and isinstance(node.value, ast.Constant) for t in node.targets if isinstance(t, ast.Name)}
    assert consts["PROTOCOL_VERSION"] == protocol.PROTOCOL_VERSION
    assert consts["BACKSTOP_STRETCH"] == protocol.BACKSTOP_STRETCH
    assert protocol.check_ready({"ready": True, "protocol": protocol.PROTOCOL_VERSION}) is None
    assert "protocol 1" in protocol.check_ready({"ready": True, "protocol": 1})
    frames = protocol.FrameBuffer()
    for part in protocol.encode({"status": "ok", "returned": True}, b"out", b"", b"[1]"):
        frames.feed(part)
    header, bodies = frames.next_frame()
    assert protocol.parse_run_reply(header, bodies).returned == "[1]" and frames.next_frame() is None


def test_the_runner_parts_join_into_one_small_stdlib_only_program():
    """The runner travels as ONE `-c` argument (Linux caps one argument at 131,072 bytes): its parts must join into
    a program that compiles, imports nothing but the stdlib, and whose parts define no name twice."""
    import ast
    from pathlib import Path

    from harness.sandbox import runner as runner_pkg

    source = runner_pkg.runner_source()
    assert len(source.encode()) < 120_000
    compile(source, "<runner>", "exec", dont_inherit=True)
    assert source.startswith("from __future__ import annotations\n") and source.count("from __future__") == 1
    folder = Path(runner_pkg.__file__).parent
    assert sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__") == sorted(runner_pkg.PARTS)
    defined: dict[str, str] = {}
    for name in runner_pkg.PARTS:
        tree = ast.parse((folder / f"{name}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] in sys.stdlib_module_names for a in node.names), (name, ast.dump(node))
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module.split(".")[0] in sys.stdlib_module_names | {"__future__"}, name
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Assign)):
                targets = [node.name] if not isinstance(node, ast.Assign) else [
                    n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
                for t in targets:
                    assert t not in defined, f"{t} defined in both {defined[t]} and {name}"
                    defined[t] = name
        nested = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and n not in tree.body]
        assert all(a.name.split(".")[0] in sys.stdlib_module_names for n in nested for a in n.names
                   if isinstance(n, ast.Import)), name
    assert {"main", "WarmRunner", "Sample", "PROTOCOL_VERSION"} <= set(defined)
    assert jail_mod.runner_command("python")[-1] == source


@pytest.mark.parametrize("shared,clear_ok,uid,expected", [
    (True, True, 1234, [(7, -3), (7, -4), (7, -5)]),  # the runner's own session keyring: emptied, not replaced
    (True, False, 1234, [(7, -3), (1, 0), (7, -4), (7, -5)]),  # revoked by a candidate: a new one
    (False, True, 1234, [(1, 0), (7, -4), (7, -5)]),  # the runner has none of its own: never empty the judge's
    (True, True, None, [(7, -3)]),  # no uid of our own: the user's own user keyrings are left alone
])
def test_keyrings_a_host_empties_or_replaces(shared, clear_ok, uid, expected):
    from harness.sandbox.runner import load_runner

    runner, calls = load_runner(), []

    def keyctl(*args):
        calls.append(args)
        return 0 if args[0] == 7 and (clear_ok or args[1] != -3) else 5

    runner._keyctl = keyctl
    runner._fresh_keyrings(uid, shared)
    assert calls == expected


def test_cgroup_v2_accounting_reads_and_writes_the_v2_files(tmp_path):
    # A FAKE cgroup v2 dir (plain files): this machine's kernel has v2 mounted without controllers, so the v2
    # path cannot run for real here; the v1 path runs for real in every other test of this file.
    from harness.sandbox.runner import load_runner

    runner = load_runner()
    d = tmp_path / "cg"
    d.mkdir()
    files = {"cpu.stat": "usage_usec 1000000\nuser_usec 1\n", "memory.events": "low 0\noom_kill 0\n",
             "memory.peak": "", "memory.current": "1048576\n", "memory.max": "", "pids.max": "",
             "memory.swap.max": "", "cgroup.procs": ""}  # written files start empty (no truncation)
    for name, text in files.items():
        (d / name).write_text(text)
    cg = runner._Cgroup({"version": 2, "dirs": {"unified": str(d)}, "procs": [str(d / "cgroup.procs")]})
    cg.limit(256 << 20, 35)
    assert (d / "memory.max").read_text() == str(256 << 20) and (d / "pids.max").read_text() == "35"
    assert (d / "memory.swap.max").read_text() == "0"
    cg.start()
    assert (d / "memory.peak").read_text() == "reset"  # the per-fd peak restarts (kernel >= 6.12)
    (d / "cpu.stat").write_text("usage_usec 3500000\n")
    (d / "memory.events").write_text("oom_kill 1\n")
    (d / "memory.peak").write_text(str(300 << 20))
    assert cg.cpu() == pytest.approx(2.5) and cg.oom() and cg.peak_mb() == pytest.approx(300)
