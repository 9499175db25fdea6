#!/bin/bash
# The layout of lib/ is the architecture: each folder is a room, and a room
# includes only the rooms below it in ROOMS (core is the bottom). This test
# fails on an include that goes up, on a folder missing from ROOMS, on any
# include cycle between files, inside a room too, and on a cycle between
# units: a unit is a .cc with its .h, so two units that each include the
# other's header need each other even when no header includes a header.
set -euo pipefail
src=${PP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v python3 >/dev/null || { echo "python3 is needed"; exit 99; }
exec python3 - "$src" <<'PY'
import os, re, sys

src = sys.argv[1]
# Bottom first. connect/ is the client library: it may use core and runtime.
ROOMS = ["core", "runtime", "settings", "records", "api", "accept",
         "exec", "passing", "datagram", "interpose"]
CONNECT_MAY_USE = {"core", "runtime"}
rank = {room: i for i, room in enumerate(ROOMS)}
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

failures, checks = [], 0
files = {}  # path relative to the top -> its quoted includes, resolved
for top in ("lib", "connect"):
    for dirpath, _, names in os.walk(os.path.join(src, top)):
        for name in names:
            if name.endswith((".cc", ".h", ".c")):
                path = os.path.relpath(os.path.join(dirpath, name), src)
                with open(os.path.join(src, path)) as f:
                    files[path] = include.findall(f.read())

def resolve(path, target):
    # -I lib: "room/file.h"; also a file beside the includer.
    for cand in (os.path.join("lib", target),
                 os.path.normpath(os.path.join(os.path.dirname(path), target))):
        if cand in files:
            return cand
    return None  # a system, public (include/) or generated header

for room in sorted({p.split("/")[1] for p in files
                    if p.startswith("lib/") and p.count("/") >= 2}):
    checks += 1
    if room not in rank:
        failures.append(f"lib/{room}/ is not a room in tests/layout/rooms.sh")

def room_of(path):
    parts = path.split("/")
    if parts[0] == "connect":
        return "connect"
    return parts[1] if len(parts) >= 3 else None

graph = {}
for path, targets in sorted(files.items()):
    graph[path] = []
    own = room_of(path)
    for target in targets:
        dep = resolve(path, target)
        if dep is None:
            continue
        graph[path].append(dep)
        other = room_of(dep)
        checks += 1
        if own == "connect":
            ok = other in CONNECT_MAY_USE or other == "connect"
        elif own is None or other is None:
            ok = False
        else:
            ok = other in rank and own in rank and rank[other] <= rank[own]
        if not ok:
            failures.append(f"{path} ({own}) includes {dep} ({other})")

# Include cycles, by depth-first search.
kind = "include"
state, stack = {}, []
def visit(node):
    state[node] = 1
    stack.append(node)
    for nxt in graph.get(node, []):
        if state.get(nxt) == 1:
            cycle = stack[stack.index(nxt):] + [nxt]
            failures.append(kind + " cycle: " + " -> ".join(cycle))
        elif nxt not in state:
            visit(nxt)
    stack.pop()
    state[node] = 2
for node in sorted(graph):
    checks += 1
    if node not in state:
        visit(node)

# The same search over units: lib/x/y.cc and lib/x/y.h are the node lib/x/y.
def unit(path):
    return os.path.splitext(path)[0]
units = {}
for path, deps in graph.items():
    units.setdefault(unit(path), set()).update(
        unit(dep) for dep in deps if unit(dep) != unit(path))
graph = {node: sorted(deps) for node, deps in units.items()}
kind = "unit"
state, stack = {}, []
for node in sorted(graph):
    checks += 1
    if node not in state:
        visit(node)

for f in failures:
    print("FAIL:", f)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
