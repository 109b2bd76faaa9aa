#!/usr/bin/env python3
"""Line coverage of hw/arm/vsmmu by the fuzz corpus (llvm-cov).

    fuzz-coverage.py QEMU_SAN_BUILD CORPUS_ROOT [TARGET...]

Recompiles only the vsmmu's own objects of qemu-fuzz-aarch64 with
-fprofile-instr-generate -fcoverage-mapping (the compile commands of the
sanitizer build, output elsewhere), links build/qemu-san/fuzz-cov/
qemu-fuzz-aarch64 from the same link line with those objects swapped in,
replays every input of CORPUS_ROOT/<target> (default: the four targets)
through it once, and prints llvm-cov's per-file report of hw/arm/vsmmu
(lines, functions, regions). The rest of QEMU is not instrumented, so this
costs about fifteen compiles and one link.
"""
import glob
import os
import re
import shlex
import subprocess
import sys

LLVM = "/usr/lib/llvm-19/bin"
FLAGS = ["-fprofile-instr-generate", "-fcoverage-mapping"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def main():
    build = os.path.abspath(sys.argv[1])
    corpus = os.path.abspath(sys.argv[2])
    targets = sys.argv[3:] or ["vsmmu-emu", "vsmmu-nested", "vsmmu-cmdqv",
                               "vsmmu-accel"]
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

    # 3. the corpus, each input once
    for f in glob.glob(os.path.join(out, "*.profraw")):
        os.unlink(f)
    env = dict(os.environ)
    env["LLVM_PROFILE_FILE"] = os.path.join(out, "%p.profraw")
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    env.setdefault("SIMHOST_LIB", os.path.join(build, "..", "simhost",
                                               "libsimhost.so"))
    for t in targets:
        files = sorted(glob.glob(os.path.join(corpus, t, "**", "*"),
                                 recursive=True))
        files = [x for x in files if os.path.isfile(x)]
        subprocess.run([binary, "--fuzz-target=" + t, "-timeout=10"] + files,
                       env=env, cwd=build, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    data = os.path.join(out, "corpus.profdata")
    sh([os.path.join(LLVM, "llvm-profdata"), "merge", "-sparse", "-o", data] +
       glob.glob(os.path.join(out, "*.profraw")))
    srcs = sorted(glob.glob(os.path.join(build, "..", "qemu-*", "hw", "arm",
                                         "vsmmu", "*.c")))
    sh([os.path.join(LLVM, "llvm-cov"), "report", binary,
        "-instr-profile=" + data] + srcs, cwd=build)


if __name__ == "__main__":
    main()
