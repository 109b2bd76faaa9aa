#!/usr/bin/env python3
"""Invalidation cost of the accelerated vsmmu, batched vs x-batch=off.

Runs tests/qtest/vsmmu/vsmmu-accel-bench (a guest driver issuing batches of
64 TLBI_NH_VA + CMD_SYNC to an accel vsmmu in front of the simulated host)
with QEMU under valgrind's callgrind, collecting only inside the command
engine (vsmmu_cmdq_kick and what it calls). Instructions the simulated host
library executes there (it stands in for the kernel, whose instructions
callgrind would not see) are subtracted. Each mode runs with two stream
lengths and the difference is divided by the difference in commands, so
set-up costs cancel out. Counts are instructions, not time: repeatable.
With VSMMU_BENCH_SMOKE=1 in the environment the streams are 1 and 2
batches long (make check's smoke run: the code paths, not the figures).

usage: bench-inval.py QEMU_BUILD_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

SHORT, LONG = 10, 30
if os.environ.get("VSMMU_BENCH_SMOKE"):
    SHORT, LONG = 1, 2


def run(build, mode, batches, outdir, callgrind=True):
    qemu = os.path.join(build, "qemu-system-aarch64")
    cg = os.path.join(outdir, "callgrind.%s.%d" % (mode, batches))
    env = dict(os.environ)
    env["QTEST_QEMU_BINARY"] = (
        "valgrind --tool=callgrind --toggle-collect=vsmmu_cmdq_kick "
        "--callgrind-out-file=%s %s" % (cg, qemu)) if callgrind else qemu
    exe = os.path.join(build, "tests", "qtest", "vsmmu", "vsmmu-accel-bench")
    p = subprocess.run([exe, mode, str(batches)], env=env, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("bench-inval: %s %d failed (exit %d)" %
                         (mode, batches, p.returncode))
    m = re.search(r"inval: mode=\S+ batches=(\d+) cmds=(\d+) ioctls=(\d+)",
                  p.stdout)
    if not m:
        raise SystemExit("bench-inval: no result line from %s" % exe)
    if not callgrind:
        return {"cmds": int(m.group(2)), "ioctls": int(m.group(3))}
    total, host = callgrind_costs(cg)
    return {"cmds": int(m.group(2)), "ioctls": int(m.group(3)),
            "ir": total - host, "host_ir": host}


def callgrind_costs(path):
    """Total collected Ir, and the simulated host's share of it."""
    total = None
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    if total is None:
        raise SystemExit("bench-inval: no totals in %s" % path)
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                          "--threshold=100", path], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=True).stdout
    host = 0
    for line in out.splitlines():
        if "libsimhost" not in line:
            continue
        m = re.match(r"\s*([\d,]+)", line)
        if m:
            # the outermost library function holds all of the library's cost
            host = max(host, int(m.group(1).replace(",", "")))
    return total, host


def main():
    build = os.path.abspath(sys.argv[1])
    res = {}
    with tempfile.TemporaryDirectory(prefix="vsmmu-bench-") as outdir:
        for mode in ("batched", "unbatched"):
            a = run(build, mode, SHORT, outdir)
            b = run(build, mode, LONG, outdir)
            cmds = b["cmds"] - a["cmds"]
            res[mode] = {
                "ioctls_per_cmd": (b["ioctls"] - a["ioctls"]) / cmds,
                "ir_per_cmd": (b["ir"] - a["ir"]) / cmds,
                "ioctls_per_sync": (b["ioctls"] - a["ioctls"]) / (LONG - SHORT),
            }
        # With ATS: TLBI + ATC_INV per page; ioctls only (no callgrind)
        atc = run(build, "batched-atc", LONG, outdir, callgrind=False)
    bat, unb = res["batched"], res["unbatched"]
    print("bench: inval-ioctls-per-sync-batch: %.2f" % bat["ioctls_per_sync"])
    print("bench: inval-ioctl-reduction-vs-unbatched: %.1f" %
          (unb["ioctls_per_cmd"] / bat["ioctls_per_cmd"]))
    print("bench: inval-instructions-reduction-vs-unbatched: %.2f" %
          (unb["ir_per_cmd"] / bat["ir_per_cmd"]))
    print("bench: inval-instructions-per-cmd-batched: %.0f" % bat["ir_per_cmd"])
    print("bench: inval-instructions-per-cmd-unbatched: %.0f" %
          unb["ir_per_cmd"])
    print("bench: inval-ioctls-per-sync-batch-with-atc: %.2f" %
          (atc["ioctls"] / LONG))


if __name__ == "__main__":
    main()
