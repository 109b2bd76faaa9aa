#!/usr/bin/env python3
"""Line coverage of hw/arm/vsmmu by the fuzz corpus (llvm-cov).

    fuzz-coverage.py QEMU_SAN_BUILD CORPUS_ROOT [--check-order] [TARGET...]

Recompiles only the vsmmu's own objects of qemu-fuzz-aarch64 with
-fprofile-instr-generate -fcoverage-mapping (the compile commands of the
sanitizer build, output elsewhere), links build/qemu-san/fuzz-cov/
qemu-fuzz-aarch64 from the same link line with those objects swapped in,
replays every input of CORPUS_ROOT/<target> (default: every target)
through it once, and prints llvm-cov's per-file report of hw/arm/vsmmu
(lines, functions, regions). The rest of QEMU is not instrumented, so this
costs about fifteen compiles and one link.

--check-order replays each target's corpus a second time in the reverse
order, in a process of its own, and compares the two profiles counter by
counter: each input must do the same whatever ran before it (the
harness's reset between inputs). Exit status 1 if any counter differs
(but the branches of TIMED functions, which compare measured times).
"""
import glob
import os
import re
import shlex
import subprocess
import sys

LLVM = "/usr/lib/llvm-19/bin"
# Functions whose branches compare measured times (vsmmu_cmdq_kick(): the
# MAX() of the slice-time statistics): only their call counts must match
TIMED = ("vsmmu_cmdq_kick",)
FLAGS = ["-fprofile-instr-generate", "-fcoverage-mapping"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def replay(binary, target, files, profdir, env):
    """Each of @files once through @binary; the merged profile's path"""
    os.makedirs(profdir, exist_ok=True)
    for f in glob.glob(os.path.join(profdir, "*.profraw")):
        os.unlink(f)
    env = dict(env)
    env["LLVM_PROFILE_FILE"] = os.path.join(profdir, "%p.profraw")
    # -detect_leaks=0: libFuzzer would run again each input whose mallocs
    # and frees do not balance, to look for a leak (all but the first)
    subprocess.run([binary, "--fuzz-target=" + target, "-timeout=10",
                    "-detect_leaks=0"] + files, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = profdir + ".profdata"
    sh([os.path.join(LLVM, "llvm-profdata"), "merge", "-sparse", "-o", data] +
       glob.glob(os.path.join(profdir, "*.profraw")))
    return data


def counters(data):
    """Each function's counters, from llvm-profdata show (whose order of
    functions is its own): {function: [its count and block counts]}"""
    text = subprocess.run([os.path.join(LLVM, "llvm-profdata"), "show",
                           "--all-functions", "--counts", data],
                          check=True, capture_output=True, text=True).stdout
    funcs, name = {}, None
    for line in text.splitlines():
        if re.match(r"^  \S.*:$", line):
            name = line.strip()[:-1]
            funcs[name] = []
        elif name and re.match(r"^    (Function count|Block counts):", line):
            funcs[name].append(line.split(":", 1)[1].strip())
    return funcs


def main():
    build = os.path.abspath(sys.argv[1])
    corpus = os.path.abspath(sys.argv[2])
    args = sys.argv[3:]
    check_order = "--check-order" in args
    targets = [a for a in args if a != "--check-order"] or [
        "vsmmu-emu", "vsmmu-nested", "vsmmu-cmdqv", "vsmmu-cmdqv-host",
        "vsmmu-accel", "vsmmu-cmdqv-accel"]
    out = os.path.join(build, "fuzz-cov")
    os.makedirs(out, exist_ok=True)

    # 1. the vsmmu objects, instrumented for coverage
    cmds = subprocess.run(["ninja", "-C", build, "-t", "commands",
                           "qemu-fuzz-aarch64"], check=True,
                          capture_output=True, text=True).stdout
    swap = {}
    for line in cmds.splitlines():
        if not re.search(r" -c \S*/hw/arm/vsmmu/\S+\.c ", line + " "):
            continue
        argv = shlex.split(line)
        obj = argv[argv.index("-o") + 1]
        new = os.path.join(out, os.path.basename(obj))
        argv[argv.index("-o") + 1] = new
        for f in ("-MD", "-MQ", "-MF"):
            while f in argv:
                i = argv.index(f)
                del argv[i:i + (1 if f == "-MD" else 2)]
        sh(argv[:1] + [a for a in argv[1:] if a != "ccache"] + FLAGS,
           cwd=build)
        swap[obj] = new
    if not swap:
        sys.exit("fuzz-coverage: no hw/arm/vsmmu objects in the fuzz binary")

    # 2. the same link with those objects
    ninja = open(os.path.join(build, "build.ninja")).read()
    m = re.search(r"^build qemu-fuzz-aarch64: c_LINKER_RSP (.*?)(?: \| .*)?\n"
                  r"((?: .*\n)*)", ninja, re.M)
    ins = [swap.get(x, x) for x in m.group(1).split()]
    variables = dict(re.findall(r"^ (\w+) = (.*)$", m.group(2), re.M))
    binary = os.path.join(out, "qemu-fuzz-aarch64")
    rsp = os.path.join(out, "link.rsp")
    with open(rsp, "w") as f:
        f.write(" ".join([variables.get("ARGS", ""), "-o", binary] + ins +
                         [variables.get("LINK_ARGS", "")] + FLAGS))
    sh(["clang-19", "-m64", "@" + rsp], cwd=build)

    # 3. the corpus, each input once (and again in reverse: --check-order)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    env.setdefault("SIMHOST_LIB", os.path.join(build, "..", "simhost",
                                               "libsimhost.so"))
    profiles = []
    differ = False
    for t in targets:
        files = sorted(glob.glob(os.path.join(corpus, t, "**", "*"),
                                 recursive=True))
        files = [x for x in files if os.path.isfile(x)]
        data = replay(binary, t, files, os.path.join(out, t), env)
        profiles.append(data)
        if not check_order:
            continue
        rev = replay(binary, t, files[::-1], os.path.join(out, t + "-rev"),
                     env)
        a, b = counters(data), counters(rev)
        diff = ["%s: %s / %s" % (f, a.get(f), b.get(f))
                for f in sorted(set(a) | set(b))
                if (a.get(f) or [None])[:1 if f in TIMED else 2] !=
                   (b.get(f) or [None])[:1 if f in TIMED else 2]]
        if not diff:
            print("fuzz-coverage: %s: %d inputs, every counter of %d "
                  "functions the same in both orders" %
                  (t, len(files), len(a)))
        else:
            differ = True
            print("fuzz-coverage: %s: counters differ with the order of the "
                  "inputs (sorted / reversed):\n  %s" %
                  (t, "\n  ".join(diff[:40])))
    data = os.path.join(out, "corpus.profdata")
    sh([os.path.join(LLVM, "llvm-profdata"), "merge", "-sparse", "-o", data] +
       profiles)
    srcs = sorted(glob.glob(os.path.join(build, "..", "qemu-*", "hw", "arm",
                                         "vsmmu", "*.c")))
    sh([os.path.join(LLVM, "llvm-cov"), "report", binary,
        "-instr-profile=" + data] + srcs, cwd=build)
    if differ:
        sys.exit(1)


if __name__ == "__main__":
    main()
