"""Scope analysis behind harness/program.py: may a module body run as a function body, and which of its names
must then be declared `global` so that the program means exactly what it meant as a module?

`analyse(statements)` returns an `Analysis`: a refusal reason (the program must run as a module), or the set of
top-level names to declare global. A name stays a fast function local only when every read of it provably comes
after it is bound (a definite-assignment pass in source order; a nested function's reads count from the first
top-level statement after it that may run code). Over-approximating reads is always safe: a name declared global
behaves exactly as in a module.

Not covered: rewriting the text (harness/program.py).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = _FUNCS + (ast.ClassDef,) + _COMPS
# Reaching a namespace dynamically sees module globals, not the wrapper's locals.
_DYNAMIC = frozenset({"globals", "locals", "exec", "eval", "__import__", "breakpoint", "modules", "_getframe",
                      "dataclass", "__qualname__", "__annotations__"})
_NO_ARG_DYNAMIC = frozenset({"vars", "dir"})  # vars(obj) / dir(obj) are fine; vars() / dir() read the namespace
_ATTRS = frozenset({"_getframe", "f_globals", "f_locals", "f_back", "tb_frame", "gi_frame", "cr_frame", "modules",
                    "__qualname__", "__globals__"})
# Pickling and process pools find functions by module-level name; frames/importlib can reach __main__ directly.
_MODULES = frozenset({"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "multiprocessing", "concurrent",
                      "copyreg", "shelve", "inspect", "__main__", "importlib", "dataclasses", "joblib"})
_SAFE_CALLS = frozenset({"int", "float", "str", "bool", "complex", "tuple", "list", "set", "frozenset", "dict",
                         "range", "pow", "ord", "chr"})


@dataclass(frozen=True)
class Analysis:
    make_global: frozenset[str] = frozenset()
    refusal: str = ""


@dataclass
class _Own:
    """What one scope's own code does with names (nested scopes are listed in `children`, not entered)."""

    loads: set[str] = field(default_factory=set)
    stores: set[str] = field(default_factory=set)
    dels: set[str] = field(default_factory=set)
    globals_: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    handlers: set[str] = field(default_factory=set)
    annotated: set[str] = field(default_factory=set)
    imported: set[str] = field(default_factory=set)  # bound by `import x` (a module object)
    children: list[ast.AST] = field(default_factory=list)
    suspends: bool = False  # yield / await in this scope's own code


def _outer(node: ast.AST) -> list[ast.AST]:
    """The parts of a scope-creating node that run in the enclosing scope."""
    if isinstance(node, _COMPS):
        return [node.generators[0].iter]
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
    args = node.args
    parts = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    if not isinstance(node, ast.Lambda):
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        parts += [*node.decorator_list, *(a.annotation for a in every if a and a.annotation)]
        parts += [node.returns] if node.returns else []
    return parts


def _inner(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Lambda):
        return [node.body]
    if isinstance(node, _COMPS):
        parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for i, gen in enumerate(node.generators):
            parts += [gen.target, *gen.ifs] + ([gen.iter] if i else [])
        return parts
    return list(node.body)


_LEAVES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)  # markers without fields


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The child nodes, as `ast.iter_child_nodes` gives them, less the field-less markers (Load, Add, And, ...):
    a list, without generators (the analysis visits every node of every program the judge grades)."""
    out = []
    for name in node._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out += [v for v in value if isinstance(v, ast.AST)]
        elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
            out.append(value)
    return out


def _walk(node: ast.AST) -> list[ast.AST]:
    """The nodes under `node`, itself first, in `ast.walk`'s breadth-first order (markers left out)."""
    out, i = [node], 0
    while i < len(out):
        out += child_nodes(out[i])
        i += 1
    return out


def _params(fn: ast.AST) -> set[str]:
    a = fn.args
    return {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x is not None}


def _collect(nodes: list[ast.AST]) -> _Own:
    own, stack = _Own(), list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            own.children.append(node)
            stack.extend(_outer(node))
            if not isinstance(node, (ast.Lambda, *_COMPS)):
                own.stores.add(node.name)
            continue
        if isinstance(node, ast.Name):
            {ast.Load: own.loads, ast.Store: own.stores, ast.Del: own.dels}[type(node.ctx)].add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            own.loads.add(node.target.id)  # `x += 1` reads x first
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
            own.stores |= names
            own.imported |= names if isinstance(node, ast.Import) else set()
        elif isinstance(node, ast.Global):
            own.globals_.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            own.nonlocals.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            own.stores.add(node.name)
            own.handlers.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            own.stores.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            own.stores.add(node.rest)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            own.annotated.add(node.target.id)
        elif isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await)):
            own.suspends = True
        stack += child_nodes(node)
    return own


def refusal_of(statements: list[ast.stmt]) -> str:
    """Why these statements must run as a module (dynamic namespace access, pickling, ...), or ""."""
    called_with_args = set()
    for node in (n for s in statements for n in _walk(s)):
        if isinstance(node, ast.Call) and (node.args or node.keywords):
            called_with_args.add(id(node.func))
        if isinstance(node, ast.Name) and node.id in _DYNAMIC:
            return f"uses {node.id}"
        if isinstance(node, ast.Name) and node.id in _NO_ARG_DYNAMIC and id(node) not in called_with_args:
            return f"uses {node.id}() without arguments"
        if isinstance(node, ast.Attribute) and node.attr in _ATTRS:
            return f"uses .{node.attr}"
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in _MODULES for a in node.names):
            return "imports a module that reaches module-level names (pickle, multiprocessing, inspect, ...)"
        if isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in _MODULES or any(a.name in _DYNAMIC | _ATTRS for a in node.names):
                return "imports a module that reaches module-level names (pickle, multiprocessing, inspect, ...)"
            if any(a.name == "*" for a in node.names):
                return "star import (not allowed inside a function)"
        if isinstance(node, _COMPS) and any(isinstance(n, ast.NamedExpr) for n in _walk(node)):
            return "assignment expression inside a comprehension"
    return ""


class _Analyser:
    def __init__(self, imported: set[str], wrapper_stores: set[str]) -> None:
        self.unsafe: set[str] = set()  # read where it may not be bound yet
        self.declared: set[str] = set()  # `global` anywhere
        self.class_rebound: set[str] = set()  # read and assigned in one class body (looked up in globals)
        # `nonlocal` of a top-level name: a SyntaxError as a module, a wrapper local officially: stays local
        self.wrapper_nonlocals: set[str] = set()
        self.imported, self.wrapper_stores = imported, wrapper_stores

    def free(self, node: ast.AST) -> tuple[set[str], set[str], set[str]]:
        """Names a nested scope reads from outside: (read when the statement runs, read later when called,
        declared `nonlocal` and not bound on the way up)."""
        inner = _collect(_inner(node))
        self.declared |= inner.globals_
        now, later, nonlocal_ = set(), set(), set(inner.nonlocals)
        for child in inner.children:
            n, lt, nl = self.free(child)
            now, later, nonlocal_ = now | n, later | lt, nonlocal_ | nl
        if isinstance(node, _FUNCS):
            local = (_params(node) | inner.stores) - inner.globals_ - inner.nonlocals
            return set(), (inner.loads | now | later | inner.nonlocals) - local - inner.globals_, nonlocal_ - local
        if isinstance(node, ast.ClassDef):
            self.class_rebound |= inner.loads & inner.stores
            return (inner.loads - inner.stores - inner.globals_) | now | inner.nonlocals, later, nonlocal_
        return (inner.loads | now) - inner.stores, later - inner.stores, nonlocal_

    def expr(self, node: ast.AST, bound: frozenset[str]) -> set[str]:
        """Check the reads of an expression (or assignment target) evaluated now; returns the names it binds."""
        own = _collect([node])
        self.unsafe |= own.loads - bound
        for child in own.children:
            n, lt, nl = self.free(child)
            self.unsafe |= (n | lt) - bound
            self.wrapper_nonlocals |= nl
        return own.stores

    def block(self, stmts: list[ast.stmt], bound: frozenset[str]) -> frozenset[str]:
        for s in stmts:
            bound, later = self.stmt(s, bound)
            self.unsafe |= later - bound
        return bound

    def top(self, stmts: list[ast.stmt]) -> None:
        """The wrapper's own block: a function defined here may first run at the next statement that runs code."""
        bound, pending = frozenset(), set()
        for s in stmts:
            if pending and not self.inert(s):
                self.unsafe |= pending - bound
                pending = set()
            bound, later = self.stmt(s, bound)
            pending |= later
        self.unsafe |= pending - bound

    def stmt(self, s: ast.stmt, bound: frozenset[str]) -> tuple[frozenset[str], set[str]]:
        if isinstance(s, ast.If):
            bound |= self.expr(s.test, bound)
            return self.block(s.body, bound) & self.block(s.orelse, bound), set()
        if isinstance(s, (ast.For, ast.AsyncFor)):
            self.expr(s.iter, bound)
            self.block(s.body, bound | self.expr(s.target, bound))
            self.block(s.orelse, bound)
            return bound, set()
        if isinstance(s, ast.While):
            self.block(s.body, bound | self.expr(s.test, bound))
            self.block(s.orelse, bound)
            return bound, set()
        if isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                bound |= self.expr(item.context_expr, bound)
                bound |= self.expr(item.optional_vars, bound) if item.optional_vars else set()
            self.block(s.body, bound)  # a context manager may swallow an exception: the body may not finish
            return bound, set()
        if isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            outs = [self.block(s.orelse, self.block(s.body, bound))]
            for h in s.handlers:
                if h.type is not None:
                    self.expr(h.type, bound)
                outs.append(self.block(h.body, bound | ({h.name} if h.name else set())) - {h.name})
            return frozenset.intersection(*outs) | self.block(s.finalbody, bound), set()
        if isinstance(s, ast.Match):
            self.expr(s.subject, bound)
            for case in s.cases:
                captured = bound | _collect([case.pattern]).stores
                if case.guard is not None:
                    self.expr(case.guard, captured)
                self.block(case.body, captured)
            return bound, set()
        return self.simple(s, bound)

    def simple(self, s: ast.stmt, bound: frozenset[str]) -> tuple[frozenset[str], set[str]]:
        own = _collect([s])
        self.declared |= own.globals_
        self.unsafe |= own.loads - bound
        later: set[str] = set()
        for child in own.children:
            n, lt, nl = self.free(child)
            self.unsafe |= n - bound
            self.wrapper_nonlocals |= nl
            later |= lt
        stores = own.stores - ({s.target.id} if isinstance(s, ast.AnnAssign) and s.value is None else set())
        return (bound | stores) - own.dels, later

    def inert(self, s: ast.stmt) -> bool:
        """Runs no code that could call a function defined above (defs, imports, constant assignments)."""
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return not s.decorator_list and all(self.inert_expr(e) for e in _outer(s))
        if isinstance(s, (ast.Import, ast.Pass)) or (isinstance(s, ast.ImportFrom) and s.module != "__main__"):
            return True
        if isinstance(s, ast.Assign):
            return all(isinstance(t, ast.Name) for t in s.targets) and self.inert_expr(s.value)
        if isinstance(s, ast.Expr):
            return isinstance(s.value, ast.Constant)
        return False

    def inert_expr(self, e: ast.AST, constant_only: bool = False) -> bool:
        if isinstance(e, ast.Constant):
            return True
        if isinstance(e, (ast.BinOp, ast.UnaryOp)):
            parts = [e.left, e.right] if isinstance(e, ast.BinOp) else [e.operand]
            return all(self.inert_expr(p, constant_only=True) for p in parts)
        if constant_only:
            return False
        if isinstance(e, (ast.Name, ast.Lambda)):
            return True
        if isinstance(e, (ast.Tuple, ast.List)):
            return all(self.inert_expr(x) for x in e.elts)
        if isinstance(e, ast.Attribute):  # sys.stdin.readline: attributes of an imported module
            root = e
            while isinstance(root, ast.Attribute):
                root = root.value
            return isinstance(root, ast.Name) and root.id in self.imported
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in _SAFE_CALLS:
            return e.func.id not in self.wrapper_stores and not e.keywords and \
                all(self.inert_expr(a, constant_only=True) for a in e.args)
        return False


def analyse(statements: list[ast.stmt]) -> Analysis:
    """May `statements` (a module body without its docstring and future imports) run as a function body?"""
    reason = refusal_of(statements)
    if reason:
        return Analysis(refusal=reason)
    top = _collect(statements)
    if top.suspends:
        return Analysis(refusal="yield or await at top level")
    if top.nonlocals:
        return Analysis(refusal="nonlocal at top level")
    analyser = _Analyser(top.imported, top.stores)
    analyser.top(statements)
    risky = analyser.unsafe | top.dels | top.handlers | analyser.class_rebound | analyser.declared | top.globals_
    make_global = frozenset((risky & top.stores) - analyser.wrapper_nonlocals)
    if make_global & top.annotated:
        return Analysis(refusal="an annotated top-level name would have to be global")
    return Analysis(make_global=make_global)
