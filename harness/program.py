"""How the judge prepares a candidate's code for the sandbox: run a stdin program's top level inside a function.

The official grader wraps a stdin program's top-level code into a function, so its variables are fast locals; run
as a plain `__main__` module, every top-level name is a dict lookup and loop-heavy programs take ~2x the CPU
(benchmarks/cpu_parity.py). `prepare` rewrites the source so the module body runs as the body of one function
called once, in a real `__main__` process with real fds 0/1/2, WHEN an AST analysis shows that keeps the program's
meaning; otherwise the code runs as it is (mode "module"). Function-call (LeetCode) code is mode "call".

How meaning is kept (each rule has a test in tests/harness/test_program.py):
- A top-level name stays a fast local only if every read of it provably comes after it is bound (definite
  assignment, in source order; a function's reads count when the function can first run). Every other top-level
  name that the code binds is declared `global` in the wrapper, so it behaves exactly as in a module: reads before
  binding still find the builtin or prelude name, `del`, `except ... as`, class bodies that read and assign it,
  and `global` statements in nested functions keep module semantics.
- Refused (mode "module"): dynamic namespace access (`globals()`, `locals()`, `vars()`/`dir()` without arguments,
  `exec`, `eval`, `__import__`, frames, `sys.modules`, `import __main__`/`inspect`/`importlib`), pickling and
  process pools (they look functions up by module-level name), `dataclass` and `__qualname__` (a wrapped class's
  qualified name changes, and dataclass reprs print it), star imports (not allowed in a function), `yield`/`await`
  at top level, `nonlocal` at top level, walrus inside a top-level comprehension, annotated names that would have
  to be global, and anything that does not parse or re-parse to the same statements.
- Kept at module level: a leading docstring and `from __future__` imports.
Lines: the wrapper's `def` line takes the place of today's prelude line, so line L of the candidate is line L+1
in tracebacks, as before (L+2 when a `global` line is needed and the first statement is compound). The call goes on
one last line, after the prelude when it is inlined. Official differences that follow (documented in README, "The
judge"): module-level `return` ends the program and `nonlocal` of a top-level name works, as officially.

Not covered: running the code (harness/sandbox/).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from harness.program_scope import Analysis, analyse, child_nodes

_STAR_MODULES = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics",
                 "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing")
_PLAIN_MODULES = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
                  "statistics", "itertools", "functools", "operator", "io", "sys", "json")
OFFICIAL_PRELUDE = "; ".join(
    [f"from {m} import *" for m in _STAR_MODULES] + [f"import {m}" for m in _PLAIN_MODULES]
    + ["sys.setrecursionlimit(50000)"]
)
"""The official grader's import prelude, on one line: what runs before every solution."""
WRAPPER = "__lcb_main__"
CALL_MODULE_NAME = "solution"  # a LeetCode file is imported as a module, never run as __main__ (as officially)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The source the sandbox compiles and how it runs: mode "function" | "module" | "call"."""

    source: str
    mode: str
    reason: str = ""  # why a stdin program runs as a module ("" in function mode)


def with_prelude(code: str, prelude: str) -> str:
    """The code with the prelude as one line in front, after any leading docstring and `from __future__` imports
    (the docstring stays the module's `__doc__`; the official grader's prelude breaks future imports)."""
    last = _hoisted_end(code)
    if last:
        lines = code.split("\n")
        return "\n".join(lines[:last] + [prelude] + lines[last:])
    return prelude + "\n" + code


def not_unicode(code: str) -> str | None:
    """Why the code cannot be compiled at all (a lone surrogate is not encodable source), or None."""
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"the code is not valid Unicode: lone surrogate {code[err.start]!r} at character {err.start}"
    return None


def prepare(code: str, func_name: str | None, prelude: str) -> Prepared:
    """The program as the sandbox should run it (see the module docstring). prelude "": the sandbox runs the
    prelude itself (RunSpec.prelude); its line stays, empty, so line numbers do not change."""
    if func_name is not None:
        return Prepared(with_prelude(code, _then(prelude, f"__name__ = {CALL_MODULE_NAME!r}")), "call")
    try:
        source, reason = wrap_in_function(code, prelude)
    except (RecursionError, MemoryError, ValueError) as err:  # never let one odd program stop a run
        source, reason = None, f"analysis failed ({type(err).__name__})"
    if source is None:
        return Prepared(with_prelude(code, prelude), "module", reason)
    return Prepared(source, "function")


def wrap_in_function(code: str, prelude: str) -> tuple[str | None, str]:
    """(wrapped source, "") when the body can run as a function body without changing meaning, else (None, why)."""
    text = code.replace("\r\n", "\n").replace("\r", "\n")  # what the tokenizer does; keeps line numbers
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as err:
        return None, f"does not parse ({type(err).__name__})"
    body = tree.body
    n_hoisted = _n_hoisted(body)
    rest = body[n_hoisted:]
    if not rest:
        return None, "no statements to run"
    head_end = body[n_hoisted - 1].end_lineno or 0 if n_hoisted else 0
    if rest[0].lineno <= head_end:
        return None, "a statement shares a line with a `from __future__` import"
    try:
        analysis = analyse(rest)
    except RecursionError:
        return None, "nested too deeply to analyse"
    if analysis.refusal:
        return None, analysis.refusal
    lines = text.split("\n")
    source = _assemble(lines, head_end, rest, analysis, _lines_inside_strings(rest), prelude)
    return (source, "") if _same_statements(source, rest, bool(analysis.make_global)) else \
        (None, "rewrite check failed")


def _n_hoisted(body: list[ast.stmt]) -> int:
    """How many leading statements stay at module level: a docstring, then `from __future__` imports."""
    n = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        n = 1
    while n < len(body) and isinstance(body[n], ast.ImportFrom) and body[n].module == "__future__":
        n += 1
    return n if any(isinstance(s, ast.ImportFrom) for s in body[:n]) or n == 1 else 0


def _hoisted_end(code: str) -> int:
    """Last line of the leading docstring / `from __future__` block (0 when there is none): they must stay first."""
    try:
        body = ast.parse(code).body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return 0
    n = _n_hoisted(body)
    return body[n - 1].end_lineno or 0 if n else 0


def _lines_inside_strings(statements: list[ast.stmt]) -> set[int]:
    """1-based numbers of the lines after the first that a string literal or f-string spans: those that begin
    inside a string (indenting them would change it) and continuation lines of the same logical line (whose
    indentation means nothing), so they stay as they are. From the AST: the tokenizer costs ~0.4 ms a program."""
    protected: set[int] = set()
    stack: list[ast.AST] = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Constant, ast.JoinedStr)):  # not inside an f-string: positions there vary by version
            if node.end_lineno is not None and node.end_lineno > node.lineno:
                protected.update(range(node.lineno + 1, node.end_lineno + 1))
            continue
        stack += child_nodes(node)
    return protected


def _assemble(lines: list[str], head_end: int, rest: list[ast.stmt], analysis: Analysis, protected: set[int],
              prelude: str) -> str:
    out = lines[:head_end] + [f"def {WRAPPER}():"]
    declare = f"global {', '.join(sorted(analysis.make_global))}" if analysis.make_global else ""
    first = rest[0]
    join_declaration = declare and not isinstance(first, _COMPOUND) and first.col_offset == 0
    if declare and not join_declaration:
        out.append("\t" + declare)
    for number in range(head_end + 1, len(lines) + 1):
        line = lines[number - 1]
        if join_declaration and number == first.lineno:
            line = f"{declare}; {line}"
        out.append(line if number in protected else "\t" + line)
    out.append(_then(prelude, f"{WRAPPER}()"))
    return "\n".join(out)


def _then(prelude: str, statement: str) -> str:
    return f"{prelude}; {statement}" if prelude else statement


_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
             ast.With, ast.AsyncWith, ast.Try, ast.Match) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def _same_statements(source: str, rest: list[ast.stmt], declared: bool) -> bool:
    """The safety net: the result compiles and the wrapper's body re-parses to exactly the original statements
    (no string literal changed by the indentation)."""
    try:
        tree = ast.parse(source)
        compile(tree, "<solution>", "exec", dont_inherit=True)  # the tree's own checks (symbols, scopes)
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError):
        return False
    wrapper = next((s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == WRAPPER), None)
    if wrapper is None:
        return False
    got = wrapper.body[1:] if declared else wrapper.body
    return len(got) == len(rest) and _same_trees(got, rest)


def _same_trees(a: list[ast.stmt], b: list[ast.stmt]) -> bool:
    """Node types and fields equal (what `ast.dump` compares, positions aside), without building the dumps."""
    stack: list[tuple[object, object]] = list(zip(a, b))
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, ast.AST):
            stack += [(getattr(x, f, None), getattr(y, f, None)) for f in x._fields]
        elif isinstance(x, list):
            if len(x) != len(y):  # type: ignore[arg-type]
                return False
            stack.extend(zip(x, y))  # type: ignore[call-overload]
        elif x != y and not (x is y):
            return False
    return True
