#!/usr/bin/env python3
"""Fail if the call graph between the device's .c files has a cycle.

    check-call-graph.py [TOP]

Every .c file under hw/ is a node. A file uses another when it names a
non-static function or object that the other defines (at file scope,
without `static`). The layers of docs/design.md only hold if these edges
form no cycle: the guest-visible model reaches a backend through its ops
table, never by name, and what a backend reuses from another goes through
backend.h in one direction only. Prints the graph's edges on failure and
one "call graph: N files, N edges, no cycle" line on success.
"""

import os
import re
import sys

IDENT = re.compile(r'\b[A-Za-z_]\w*\b')
# A file-scope definition: column 0, not static, a name then '(' or '='
DEF = re.compile(r'^(?!static\b|typedef\b|extern\b|struct\b|union\b|enum\b)'
                 r'[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*(\(|=|\[)')


def strip(text):
    """Comments, strings and character constants out; lines kept."""
    out = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'),
                 text, flags=re.S)
    out = re.sub(r'//[^\n]*', '', out)
    out = re.sub(r'"(\\.|[^"\\\n])*"', '""', out)
    return re.sub(r"'(\\.|[^'\\\n])*'", "''", out)


def definitions(text):
    names = set()
    for line in text.splitlines():
        m = DEF.match(line)
        if m and not line.rstrip().endswith(';') or \
           (m and m.group(2) == '='):
            names.add(m.group(1))
    return names


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    files = {}
    for root, _, names in os.walk(os.path.join(top, 'hw')):
        for n in names:
            if n.endswith('.c'):
                path = os.path.join(root, n)
                with open(path, encoding='utf-8') as f:
                    files[os.path.relpath(path, top)] = strip(f.read())
    owner = {}
    for path, text in files.items():
        for name in definitions(text):
            if name in owner and owner[name] != path:
                print(f'call graph: {name} defined in {owner[name]} and '
                      f'{path}')
                return 1
            owner[name] = path
    edges = {p: set() for p in files}
    for path, text in files.items():
        for name in set(IDENT.findall(text)):
            o = owner.get(name)
            if o and o != path:
                edges[path].add(o)

    # Depth-first search; a back edge is a cycle
    state, stack = {}, []

    def visit(p):
        state[p] = 1
        stack.append(p)
        for q in sorted(edges[p]):
            if state.get(q) == 1:
                return stack[stack.index(q):] + [q]
            if q not in state:
                c = visit(q)
                if c:
                    return c
        stack.pop()
        state[p] = 2
        return None

    for p in sorted(files):
        if p not in state:
            cycle = visit(p)
            if cycle:
                print('call graph: cycle: ' + ' -> '.join(
                    os.path.basename(c) for c in cycle))
                for q in cycle[:-1]:
                    nxt = cycle[cycle.index(q) + 1]
                    used = sorted(n for n in set(IDENT.findall(files[q]))
                                  if owner.get(n) == nxt)
                    print(f'  {os.path.basename(q)} uses '
                          f'{os.path.basename(nxt)}: {", ".join(used)}')
                return 1
    n_edges = sum(len(e) for e in edges.values())
    print(f'call graph: {len(files)} files, {n_edges} edges, no cycle')
    return 0


if __name__ == '__main__':
    sys.exit(main())
