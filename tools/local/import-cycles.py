#!/usr/bin/env python3
"""Import cycles between the files of one crate's src/.

Per file: every `use` tree and every path expression (`crate::a::b`, `super::x`, `self::m::y`,
or a path through a name the file bound with `use` / a child module) is resolved through the
module tree to the file that defines the item, following `use` / `pub use` re-exports (so
`crate::SyncError` is error.rs, not lib.rs). `mod x;` declarations are structure, not imports.
Prints the edges, then every strongly connected component of more than one file (a cycle).

A visibility path (`pub(in crate::x)`) is not an import. The crate root is `lib.rs`, else
`main.rs`. Exits 1 when a crate has a cycle. `make test` runs it on every workspace member
(issue #15: no import cycle between the files of a crate).

usage: import-cycles.py <crate>/src [--edges]
"""
import os
import re
import sys

SRC = os.path.abspath(sys.argv[1])
SHOW_EDGES = "--edges" in sys.argv


def strip(code):
    """Comments and string/char literals out (newlines kept)."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            i = n if j < 0 else j
        elif code.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if code.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif code.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if code[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == "r" and re.match(r'r#*"', code[i:i + 10]) and (i == 0 or not (code[i - 1].isalnum() or code[i - 1] == "_")):
            m = re.match(r'r(#*)"', code[i:])
            end = code.find('"' + m.group(1), i + len(m.group(0)))
            out.append('""' + "\n" * code[i:end].count("\n"))
            i = end + 1 + len(m.group(1))
        elif c == '"':
            j = i + 1
            while j < n and code[j] != '"':
                j += 2 if code[j] == "\\" else 1
            out.append('""' + "\n" * code[i:j].count("\n"))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", code[i:])
            if m:  # char literal (else a lifetime)
                out.append("' '")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


# ---- module tree -------------------------------------------------------------------------

class Module:
    def __init__(self, path, file, parent):
        self.path = path          # ("tasks", "access")
        self.file = file          # defining file (inline modules share their file)
        self.parent = parent
        self.children = {}        # name -> Module
        self.uses = {}            # bound name -> list of segments (absolute, from crate root)
        self.globs = []           # absolute module paths glob-imported
        self.paths = []           # (segments) path expressions used in the body


def mod_file(dir_, name, parent_is_root_or_modrs):
    base = dir_
    for cand in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
        if os.path.exists(cand):
            return cand
    return None


def child_dir(file):
    b = os.path.basename(file)
    d = os.path.dirname(file)
    if b in ("lib.rs", "main.rs", "mod.rs"):
        return d
    return os.path.join(d, b[:-3])


MODULES = {}


def parse_file(file, path, parent):
    code = strip(open(file, encoding="utf-8").read())
    code = re.sub(r"pub\s*\(\s*in\s+[^)]*\)", "pub", code)
    m = Module(path, file, parent)
    MODULES[path] = m
    parse_body(code, m, child_dir(file))
    return m


def parse_body(code, mod, dir_):
    """Top-level items of a module body: `mod x;`, `mod x { ... }`, `use ...;`, path exprs."""
    i, n = 0, len(code)
    body_chunks = []
    while i < n:
        mm = re.compile(r"(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])").search(code, i)
        um = re.compile(r"(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]*);").search(code, i)
        nxt = min([x for x in (mm, um) if x], key=lambda x: x.start(), default=None)
        if nxt is None:
            body_chunks.append(code[i:])
            break
        body_chunks.append(code[i:nxt.start()])
        if nxt is mm:
            name = mm.group(1)
            if mm.group(2) == ";":
                f = mod_file(dir_, name, True)
                if f:
                    mod.children[name] = parse_file(f, mod.path + (name,), mod)
                i = mm.end()
            else:  # inline module: find the matching brace
                depth, j = 1, mm.end()
                while j < n and depth:
                    depth += {"{": 1, "}": -1}.get(code[j], 0)
                    j += 1
                inner = Module(mod.path + (name,), mod.file, mod)
                MODULES[inner.path] = inner
                mod.children[name] = inner
                parse_body(code[mm.end():j - 1], inner, os.path.join(dir_, name))
                i = j
        else:
            for segs, alias in use_tree(um.group(1).replace("\n", " ")):
                if segs[-1] == "*":
                    mod.globs.append(segs[:-1])
                elif segs[-1] == "self":
                    mod.uses[alias or segs[-2]] = segs[:-1]
                else:
                    mod.uses[alias or segs[-1]] = segs
            i = um.end()
    body = "".join(body_chunks)
    for pm in re.finditer(r"(?<![\w:])((?:r#)?\w+(?:\s*::\s*\w+)+)", body):
        mod.paths.append([s.strip() for s in pm.group(1).split("::")])


def use_tree(text, prefix=()):
    """`a::{b, c::d as e, f::*}` -> [((a,b),None), ((a,c,d),'e'), ((a,f,*),None)]."""
    text = text.strip().lstrip(":")
    items, depth, cur = [], 0, ""
    if text.startswith("{") and text.endswith("}"):
        for ch in text[1:-1]:
            if ch == "," and depth == 0:
                items.append(cur)
                cur = ""
                continue
            depth += {"{": 1, "}": -1}.get(ch, 0)
            cur += ch
        items.append(cur)
        out = []
        for it in items:
            if it.strip():
                out += use_tree(it, prefix)
        return out
    if "::{" in text:
        head, rest = text.split("::{", 1)
        segs = tuple(s.strip() for s in head.split("::"))
        return use_tree("{" + rest, prefix + segs)
    alias = None
    m = re.match(r"(.*)\s+as\s+(\w+)$", text)
    if m:
        text, alias = m.group(1), m.group(2)
    segs = prefix + tuple(s.strip() for s in text.split("::"))
    return [(segs, alias)]


ROOT = None


def absolute(mod, segs, seen=None):
    """Resolve a path's leading segment (crate/super/self/child/use-bound name) to an absolute
    module path plus the remaining segments, or None (extern crate / std / local variable)."""
    segs = list(segs)
    if not segs:
        return None
    head = segs[0]
    if head == "crate":
        return (), segs[1:]
    if head in ("self", "super"):
        cur = mod
        while segs and segs[0] in ("self", "super"):
            if segs[0] == "super":
                cur = cur.parent
                if cur is None:
                    return None
            segs = segs[1:]
        return cur.path, segs
    if head in mod.children:
        return mod.path + (head,), segs[1:]
    if head in mod.uses:
        target = resolve_use(mod, head, seen if seen is not None else set())
        if target is None:
            return None
        return target[0], list(target[1]) + segs[1:]
    return None


def resolve_use(mod, name, seen):
    key = (mod.path, name)
    if key in seen:
        return None
    seen.add(key)
    segs = mod.uses[name]
    if segs[0] == name:  # `use async_trait::async_trait;`: the extern crate, not itself
        return None
    return absolute(mod, segs, seen)


def locate(modpath, rest, seen=None):
    """Walk `rest` from module `modpath`; return the file that defines what the path names."""
    seen = seen or set()
    mod = MODULES.get(modpath)
    if mod is None:
        return None
    if not rest:
        return mod.file
    name = rest[0]
    if name in mod.children:
        return locate(mod.children[name].path, rest[1:], seen)
    if name in mod.uses and (mod.path, name) not in seen:
        seen.add((mod.path, name))
        r = absolute(mod, mod.uses[name])
        if r is not None:
            return locate(r[0], list(r[1]) + rest[1:], seen)
        return mod.file  # re-export of an extern item: belongs to this module's file
    return mod.file       # an item (or variant/method path) defined here


def edges():
    out = {}
    for mod in MODULES.values():
        refs = [list(s) for s in mod.uses.values()] + mod.globs + mod.paths
        for segs in refs:
            r = absolute(mod, segs)
            if r is None:
                continue
            f = locate(r[0], r[1])
            if f and f != mod.file:
                out.setdefault(mod.file, set()).add(f)
    return out


def sccs(graph, nodes):
    index, low, stack, on, res, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            res.append(comp)

    for v in nodes:
        if v not in index:
            visit(v)
    return res


root_file = os.path.join(SRC, "lib.rs")
if not os.path.exists(root_file):
    root_file = os.path.join(SRC, "main.rs")
ROOT = parse_file(root_file, (), None)
graph = edges()
rel = lambda f: os.path.relpath(f, SRC)
files = sorted({m.file for m in MODULES.values()})
if SHOW_EDGES:
    for f in files:
        print(f"{rel(f)} -> {', '.join(sorted(rel(t) for t in graph.get(f, ()))) or '-'}")
cycles = [c for c in sccs(graph, files) if len(c) > 1]
mutual = sorted({tuple(sorted((rel(a), rel(b)))) for a in graph for b in graph[a] if a in graph.get(b, ())})
print(f"{len(files)} files, {sum(len(v) for v in graph.values())} import edges")
for a, b in mutual:
    print(f"mutual import: {a} <-> {b}")
for c in cycles:
    print("cycle (strongly connected):", ", ".join(sorted(rel(f) for f in c)))
if not cycles:
    print("no import cycles")
sys.exit(1 if cycles else 0)
