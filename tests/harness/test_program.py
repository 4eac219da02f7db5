"""harness/program.py: a stdin program's body runs inside a function (official speed) only when that keeps its
meaning. Each rule is checked by running the program both ways in a real interpreter (plain subprocesses, no jail:
the jail is tested in test_sandbox.py) and comparing what it prints; the jail end to end is in the last tests."""

from __future__ import annotations

import subprocess
import sys
import types
from datetime import datetime

import pytest

from harness.judge import OFFICIAL_PRELUDE, grade
from harness.problems import Difficulty, Platform, Problem
from harness.problems import TestCase as Case
from harness.problems import TestType as Kind
from harness.program import WRAPPER, prepare, with_prelude
from harness.verdicts import Verdict


def run(source: str, stdin: str = "") -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-c", source], check=False, input=stdin, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def both_ways(code: str, stdin: str = "") -> tuple[tuple, tuple, str]:
    """(module run, function-mode run, mode) of one program; errors compared by exception type (last line)."""
    prepared = prepare(code, None, OFFICIAL_PRELUDE)
    results = []
    for source in (with_prelude(code, OFFICIAL_PRELUDE), prepared.source):
        rc, out, err = run(source, stdin)
        kind = err.strip().splitlines()[-1].split(":")[0] if err.strip() else ""
        results.append((rc, out, kind.replace("UnboundLocalError", "NameError")))
    return results[0], results[1], prepared.mode


SAME_MEANING = {
    "builtin read before it is shadowed": "print(max(1, 2))\nmax = 7\nprint(max)\n",
    "prelude name read before it is shadowed": "print(round(e, 3))\ne = 5\nprint(e)\n",
    "class body reads and assigns a top-level name": "x = 1\nclass A:\n    x = x + 1\nprint(A.x, x)\n",
    "del then builtin": "len = 3\ndel len\nprint(len('ab'))\n",
    "except-as name unbound afterwards": "try:\n    1/0\nexcept ZeroDivisionError as e:\n    pass\n"
                                         "try:\n    print(e)\nexcept NameError:\n    print('unbound')\n",
    "global in a nested function": "cnt = 0\ndef inc():\n    global cnt\n    cnt += 1\n"
                                   "for _ in range(5):\n    inc()\nprint(cnt)\n",
    "constant defined after the function that reads it": "def f():\n    return MOD * 2\nMOD = 7\nprint(f())\n",
    "function called before the name it reads is bound": "def f():\n    return input('')\n"
                                                         "print(f())\ninput = lambda *a: 'shadow'\nprint(f())\n",
    "recursion and mutual recursion": "def ev(n):\n    return n == 0 or od(n - 1)\ndef od(n):\n"
                                      "    return n != 0 and ev(n - 1)\nprint(ev(10), od(7))\n",
    "multi-test-case loop": "t = int(input())\nfor _ in range(t):\n    n = int(input())\n    s = 0\n"
                            "    for x in range(n):\n        s += x\n    print(s)\n",
    "read before bound inside a loop": "for i in range(3):\n    if i:\n        print(prev)\n    prev = i\n",
    "loop variable after an empty loop": "for pos in []:\n    pass\nprint(pos)\n",
    "multi-line strings keep their indentation": 's = """a\n  b\n\tc"""\nt = f"""{s}\n   d"""\nu = "x\\\n  y"\n'
                                                  "print(repr(s), repr(t), repr(u))\n",
    "tab indentation": "for i in range(2):\n\tif i:\n\t\tprint('tab', i)\n",
    "CRLF line endings": "x = 1\r\nif x:\r\n    print('crlf')\r\n",
    "__name__ guard and docstring": '"""the doc"""\nimport sys\nif __name__ == "__main__":\n    print(__doc__)\n',
    "future import": "from __future__ import annotations\ndef f(x: Undefined) -> int:\n    return 1\nprint(f(0))\n",
    "decorator, lambda default, closure": "from functools import lru_cache\nk = 3\n@lru_cache(None)\n"
                                          "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
                                          "g = lambda y, k=k: y * k\nprint(fib(30), g(2))\n",
    "walrus at top level, try/finally, while/else": "i = 0\nwhile (i := i + 1) < 3:\n    pass\nelse:\n"
                                                    "    print('else', i)\ntry:\n    z = 1\nfinally:\n    print(z)\n",
    "match statement": "v = (1, 2)\nmatch v:\n    case (a, b):\n        print(a + b)\n",
    "thread target with a big stack": "import threading\nres = []\ndef main():\n    res.append(sum(range(10)))\n"
                                      "threading.stack_size(1 << 24)\nt = threading.Thread(target=main)\nt.start()\n"
                                      "t.join()\nprint(res)\n",
    "sys.exit midway": "import sys\nprint(1)\nsys.exit(0)\nprint(2)\n",
    "runtime error type": "a = [1]\nprint(a[3])\n",
    "name error": "print(undefined_name)\n",
    "top-level global statement": "global q\nq = 4\ndef f():\n    return q\nprint(f())\n",
    "generator expression over top-level names": "n = 4\nw = 2\nprint(sum(i * w for i in range(n)))\n",
}


@pytest.mark.parametrize("name", list(SAME_MEANING))
def test_function_mode_prints_what_the_module_prints(name):
    module, function, mode = both_ways(SAME_MEANING[name], "2\n3\n4\n")
    assert mode == "function", name
    assert function == module


@pytest.mark.parametrize("code, why", [
    ("x = 1\nprint(globals()['x'])\n", "globals"),
    ("x = 1\nprint(locals()['x'])\n", "locals"),
    ("x = 1\nprint(vars()['x'])\n", "vars"),
    ("x = 1\nprint('x' in dir())\n", "dir"),
    ("x = 1\nexec('print(x)')\n", "exec"),
    ("x = 1\nprint(eval('x'))\n", "eval"),
    ("m = __import__('__main__')\n", "__import__"),
    ("import __main__\n", "module"),
    ("from math import *\nprint(floor(2.5))\n", "star import"),
    ("import pickle\ndef f():\n    pass\nprint(len(pickle.dumps(f)) > 0)\n", "module"),
    ("from multiprocessing import Pool\n", "module"),
    ("from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\nprint(P(1))\n", "module"),
    ("@dataclass\nclass P:\n    x: int\n", "dataclass"),
    ("import sys\nprint(sys._getframe().f_globals is not None)\n", "uses ."),
    ("import sys\nprint(len(sys.modules) > 0)\n", "modules"),
    ("yield 1\n", "yield"),
    ("nonlocal x\n", "nonlocal"),
    ("x: int\nprint(x)\nx = 1\n", "annotated"),
])
def test_programs_that_need_module_scope_run_as_modules(code, why):
    prepared = prepare(code, None, OFFICIAL_PRELUDE)
    assert prepared.mode == "module" and why in prepared.reason
    assert prepared.source == with_prelude(code, OFFICIAL_PRELUDE)


def test_unparsable_code_runs_as_it_is():
    prepared = prepare("def f(:\n", None, OFFICIAL_PRELUDE)
    assert prepared.mode == "module" and prepared.source == OFFICIAL_PRELUDE + "\ndef f(:\n"


def _wrapper_code(source: str) -> types.CodeType:
    module = compile(source, "<solution>", "exec")
    return next(c for c in module.co_consts if isinstance(c, types.CodeType) and c.co_name == WRAPPER)


def test_hot_names_become_fast_locals_and_only_risky_ones_global():
    code = "n = int(input())\ns = 0\nfor i in range(n):\n    s += i\nprint(s)\nprint(max(1, 2))\nmax = 1\n"
    prepared = prepare(code, None, OFFICIAL_PRELUDE)
    wrapper = _wrapper_code(prepared.source)
    assert {"n", "s", "i"} <= set(wrapper.co_varnames)  # LOAD_FAST/STORE_FAST, as in the official wrapper
    assert "max" in wrapper.co_names and "max" not in wrapper.co_varnames  # read before bound: a module global


def test_line_numbers_shift_by_one_as_with_the_prelude_line():
    code = "x = 1\ny = 2\nraise ValueError('here')\n"
    _, _, err = run(prepare(code, None, OFFICIAL_PRELUDE).source)
    assert 'line 4, in __lcb_main__' in err and "ValueError: here" in err


LINE_CASES = [("x = 1\ny = 2\nraise ValueError('here')\n", None),  # function mode
               ("x = 1\nprint(globals()['x'])\nraise ValueError('here')\n", None),  # module mode
               ('"""doc"""\nfrom __future__ import annotations\nraise ValueError(__doc__)\n', None),
               ("class Solution:\n    def f(self):\n        raise ValueError('here')\nSolution().f()\n", "f")]


@pytest.mark.parametrize("code,func_name", LINE_CASES)
def test_a_prelude_run_apart_leaves_the_same_lines_and_meaning(code, func_name):
    """prepare(..., "") is for a sandbox that runs the prelude itself (RunSpec.prelude) first: the source keeps
    an empty prelude line, so the program behaves and reports lines exactly as with the prelude inlined."""
    inline, apart = prepare(code, func_name, OFFICIAL_PRELUDE), prepare(code, func_name, "")
    assert OFFICIAL_PRELUDE not in apart.source and apart.mode == inline.mode
    assert len(apart.source.split("\n")) == len(inline.source.split("\n"))
    first = f"exec(compile({OFFICIAL_PRELUDE!r}, '<prelude>', 'exec'))\n"
    rc1, out1, err1 = run(inline.source)
    rc2, out2, err2 = run(first + f"exec(compile({apart.source!r}, '<string>', 'exec'))")
    assert (rc1, out1) == (rc2, out2) and rc1 != 0
    assert err1.splitlines()[-2:] == err2.splitlines()[-2:]  # the same line, the same error


def test_module_level_return_and_nonlocal_work_as_officially():
    code = "def bump():\n    nonlocal n\n    n += 1\nk = int('1')\nn = 0\nbump()\nprint(n)\n" \
           "if n:\n    return\nprint('not reached')\n"  # n is bound after a call could run bump: still local
    prepared = prepare(code, None, OFFICIAL_PRELUDE)
    assert prepared.mode == "function"
    assert run(prepared.source)[1] == "1\n"
    with pytest.raises(SyntaxError):  # as a module, both are SyntaxErrors
        compile(with_prelude(code, OFFICIAL_PRELUDE), "<m>", "exec")


def test_odd_programs_never_break_the_analysis():
    for code in ("x = " + "+".join(["1"] * 3000) + "\nprint(x)\n", "x = " + "(" * 150 + "1" + ")" * 150 + "\n",
                 "\ufeffprint(1)\n", "\x0cprint(1)\n", "", "# only a comment\n", '"""only a docstring"""\n'):
        prepared = prepare(code, None, OFFICIAL_PRELUDE)
        assert prepared.mode in ("function", "module")


def _problem(tests, func_name=None) -> Problem:
    kind = Kind.FUNCTIONAL if func_name else Kind.STDIN
    cases = tuple(Case(i, o, kind) for i, o in tests)
    return Problem("q", "t", "c", Platform.LEETCODE if func_name else Platform.ATCODER, "c", datetime(2024, 9, 1),
                   "", Difficulty.EASY, cases, (), {"func_name": func_name} if func_name else {})


def test_the_judge_records_how_each_sample_ran():
    stdin_problem = _problem([("3\n", "3")])
    loop = grade(stdin_problem, "n = int(input())\nt = 0\nfor i in range(n):\n    t += 1\nprint(t)\n")
    assert (loop.verdict, loop.exec_mode, loop.to_dict()["exec_mode"]) == (Verdict.PASSED, "function", "function")
    dynamic = grade(stdin_problem, "n = int(input())\nprint(globals()['n'])\n")
    assert (dynamic.verdict, dynamic.exec_mode) == (Verdict.PASSED, "module")
    fn = grade(_problem([("2", "4")], "double"), "class Solution:\n    def double(self, x):\n        return 2 * x\n"
               "if __name__ == '__main__':\n    raise SystemExit(3)\n")  # a LeetCode file is imported, not run
    assert (fn.verdict, fn.exec_mode) == (Verdict.PASSED, "call")
