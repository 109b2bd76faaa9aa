#!/usr/bin/env python3
"""docs/design.md's Files table matches the tree.

  check-design.py [TOP]

Every source file (.c, .h) under hw/ must be named in the table, and every
file the table names must exist. A cell names files in backticks, by full
path or, after a full path, by a bare name in the same directory
("`include/hw/arm/vsmmu/cmdqv-regs.h`, `cmdqv.h`"); a directory ("`hw/vfio/`")
does not stand for the files in it. A directory's trace.h (QEMU's one-line
wrapper) counts as named with its trace-events.

Prints one line per problem and "check-design: ok (...)" or
"check-design: N problem(s)"; exit status 1 on problems.
"""
import os
import re
import sys

DESIGN = os.path.join("docs", "design.md")
CODE = re.compile(r"`([^`]+)`")


def table_rows(text):
    """The first cells of the table under the '## Files' heading."""
    m = re.search(r"^## Files\s*$", text, re.M)
    if not m:
        return None
    rows = []
    for line in text[m.end():].splitlines():
        if line.startswith("## "):
            break
        if line.startswith("|") and not re.match(r"^\|\s*-", line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells and cells[0] != "file":
                rows.append(cells[0])
    return rows


def named_files(rows):
    """Paths named by the table's first column."""
    names = []
    for cell in rows:
        last_dir = None
        for name in CODE.findall(cell):
            if "/" in name:
                last_dir = os.path.dirname(name.rstrip("/"))
                names.append(name)
            elif last_dir is not None:
                names.append(os.path.join(last_dir, name))
            else:
                names.append(name)
    return names


def main():
    top = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), ".."))
    with open(os.path.join(top, DESIGN), encoding="utf-8") as fh:
        rows = table_rows(fh.read())
    problems = []
    if rows is None:
        print("%s: no '## Files' section" % DESIGN)
        print("check-design: 1 problem(s)")
        return 1
    names = named_files(rows)
    listed = {n for n in names if not n.endswith("/")}
    for n in names:
        if not os.path.exists(os.path.join(top, n)):
            problems.append("%s: the Files table names %s, which does not "
                            "exist" % (DESIGN, n))
    nsrc = 0
    for dirpath, dirnames, filenames in os.walk(os.path.join(top, "hw")):
        dirnames.sort()
        for f in sorted(filenames):
            if not f.endswith((".c", ".h")):
                continue
            nsrc += 1
            rel = os.path.relpath(os.path.join(dirpath, f), top)
            if f == "trace.h" and os.path.join(os.path.dirname(rel),
                                               "trace-events") in listed:
                continue
            if rel not in listed:
                problems.append("%s: %s is missing from the Files table" %
                                (DESIGN, rel))
    for p in problems:
        print(p)
    if problems:
        print("check-design: %d problem(s)" % len(problems))
        return 1
    print("check-design: ok (%d source files under hw/, %d names in the "
          "table)" % (nsrc, len(names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
