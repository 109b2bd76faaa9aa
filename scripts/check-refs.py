#!/usr/bin/env python3
"""The project stands on its own: check its references.

  check-refs.py [TOP]

1. Every kernel rule a source cites ("KC:" and a rule ID such as INV-7, or
   an area such as INV), and every rule a case of
   tests/simhost/simhost-selftest.c is named after (CASE("INV-7", ...)),
   exists in docs/kernel-contract.md,
   whose rule IDs are unique.
2. No old-style citation into a file outside the repository is left
   ("(AI:314)", "T:1123", "IF/viommu.c", ...).
3. Nothing names a file outside the repository: no absolute path into a
   machine's home or work directories, no "shared/reference", and no
   relative path that climbs out of the repository.

Prints one line per problem and "check-refs: ok (...)" or
"check-refs: N problem(s)"; exit status 1 on problems.
"""
import os
import re
import sys

CONTRACT = os.path.join("docs", "kernel-contract.md")
SKIP_DIRS = {".git", "build"}

RULE_DEF = re.compile(r"^- \*\*([A-Z][A-Z0-9]*-[0-9]+)\*\*", re.M)
AREA_DEF = re.compile(r"^## ([A-Z][A-Z0-9]*) \u2014 ", re.M)
CITE = re.compile(r"\bKC:([A-Z][A-Z0-9]*(?:-[0-9]+)?)\b")
CASE = re.compile(r'\bCASE\("([^"]*)"')
# Citations by file and line of a kernel tree, as the sources once had
OLD_CITE = re.compile(r"\((?:[^()]*[ ,])?(?:AI|AH|A|T|U):[0-9]+|"
                      r"\b(?:AI|AH|T):[0-9]+(?:-[0-9]+)?\b|\bIF/[a-z_]+\.[ch]\b")
OUTSIDE = [
    (re.compile(r"(?<![\w.$}/-])/(?:work|home|root|mnt|srv)/"),
     "absolute path into a machine's directories"),
    (re.compile(r"shared/reference"), "the build machine's reference files"),
]
RELATIVE = re.compile(r"(?<![\w.$}/-])((?:\.\./)+[\w.-][\w./-]*)")


def text_files(top):
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        dirnames[:] = sorted(d for d in dirnames
                             if not (rel == "." and d in SKIP_DIRS)
                             and d != ".git")
        for f in sorted(filenames):
            if f == ".git":
                continue
            path = os.path.join(dirpath, f)
            try:
                with open(path, encoding="utf-8") as fh:
                    yield os.path.relpath(path, top), fh.read()
            except (UnicodeDecodeError, OSError):
                continue


def main():
    top = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), ".."))
    problems = []
    with open(os.path.join(top, CONTRACT), encoding="utf-8") as fh:
        contract = fh.read()
    rules = RULE_DEF.findall(contract)
    areas = set(AREA_DEF.findall(contract))
    seen = set()
    for r in rules:
        if r in seen:
            problems.append("%s: rule %s defined twice" % (CONTRACT, r))
        seen.add(r)
        if r.rsplit("-", 1)[0] not in areas:
            problems.append("%s: rule %s outside its area's section" %
                            (CONTRACT, r))
    known = seen | areas

    ncites = ncases = 0
    for rel, text in text_files(top):
        for n, line in enumerate(text.splitlines(), 1):
            where = "%s:%d" % (rel, n)
            for ref in CITE.findall(line):
                ncites += 1
                if ref not in known:
                    problems.append("%s: cites KC:%s, which %s does not "
                                    "define" % (where, ref, CONTRACT))
            if rel.endswith("simhost-selftest.c"):
                for ref in CASE.findall(line):
                    ncases += 1
                    if ref not in seen:
                        problems.append("%s: case named after %s, which %s "
                                        "does not define" %
                                        (where, ref, CONTRACT))
            if rel != os.path.join("scripts", "check-refs.py"):
                m = OLD_CITE.search(line)
                if m:
                    problems.append("%s: old-style citation '%s' into a "
                                    "file outside the repository; cite "
                                    "KC:<rule>" % (where, m.group(0)))
                for pat, why in OUTSIDE:
                    m = pat.search(line)
                    if m:
                        problems.append("%s: '%s': %s" %
                                        (where, m.group(0), why))
            for m in RELATIVE.finditer(line):
                dest = os.path.normpath(os.path.join(
                    top, os.path.dirname(rel), m.group(1)))
                if os.path.relpath(dest, top).startswith(".."):
                    problems.append("%s: '%s' leaves the repository" %
                                    (where, m.group(1)))

    for p in problems:
        print(p)
    if problems:
        print("check-refs: %d problem(s)" % len(problems))
        return 1
    print("check-refs: ok (%d rules, %d citations, %d selftest cases)" %
          (len(seen), ncites, ncases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
