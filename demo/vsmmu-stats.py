#!/usr/bin/python3
"""Wait for the demo guest to power off, then print the vsmmu's counters.

    vsmmu-stats.py [--marks CONSOLE_LOG] QMP_SOCKET DEVICE_ID DEADLINE_SECONDS
                   [STAT...]

QEMU runs with -action shutdown=pause, so after the guest's poweroff it
stays up until this script has read the x-stats-* QOM properties of the
vsmmu; then it sends "quit". Prints one line:
    VSMMU-STATS: commands=N batches=N syncs=N events=N ...
STAT names more counters to read after the usual ones (e.g. vcmdq-commands
for x-stats-vcmdq-commands); with any, the "info vsmmu" lines follow, each
as "VSMMU-INFO: <line>".

With --marks, the guest's console (the file QEMU writes it to) is
followed while the guest runs: for each "DEMO: mark NAME" line the
counters are read at once and printed as "VSMMU-MARK: NAME stat=N ...",
so that the difference between two marks is what happened in between
(the guest pauses after each mark to let this catch up, demo/init).
"""
import json
import socket
import sys
import time

STATS = ["commands", "batches", "syncs", "events", "events-lost",
         "translations", "utlb-hits", "atc-invs"]


class Qmp:
    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.file = self.sock.makefile("r")
        self.file.readline()                        # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name,
                                      "arguments": args}).encode())
        while True:
            msg = json.loads(self.file.readline())
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError(msg["error"]["desc"])


class Marks:
    """New "DEMO: mark NAME" lines of a growing console log."""

    def __init__(self, path):
        self.path, self.pos, self.part = path, 0, b""

    def new(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return []
        self.pos += len(data)
        lines = (self.part + data).split(b"\n")
        self.part = lines.pop()
        names = []
        for line in lines:
            text = line.decode(errors="replace").replace("\r", "")
            if "DEMO: mark " in text:
                names.append(text.split("DEMO: mark ", 1)[1].strip())
        return names


def stats(qmp, dev, names):
    return " ".join(f"{s}={qmp.cmd('qom-get', path='/machine/peripheral/' + dev, property='x-stats-' + s)}"
                    for s in names)


def main():
    args = sys.argv[1:]
    marks = None
    if args[:1] == ["--marks"]:
        marks = Marks(args[1])
        args = args[2:]
    path, dev, secs = args[0], args[1], float(args[2])
    extra = args[3:]
    deadline = time.monotonic() + secs
    qmp = Qmp(path, deadline)
    while qmp.cmd("query-status")["status"] != "shutdown":
        if time.monotonic() > deadline:
            print("VSMMU-STATS: error guest did not power off")
            return
        for name in marks.new() if marks else []:
            print(f"VSMMU-MARK: {name} {stats(qmp, dev, STATS + extra)}",
                  flush=True)
        time.sleep(0.02 if marks else 0.2)
    for name in marks.new() if marks else []:
        print(f"VSMMU-MARK: {name} {stats(qmp, dev, STATS + extra)}")
    vals = [stats(qmp, dev, STATS + extra)]
    print("VSMMU-STATS: " + " ".join(vals))
    if extra:
        info = qmp.cmd("human-monitor-command",
                       **{"command-line": "info vsmmu"})
        for line in info.splitlines():
            print("VSMMU-INFO: " + line)
    qmp.cmd("quit")


if __name__ == "__main__":
    try:
        main()
    except (OSError, RuntimeError, ValueError) as e:
        print(f"VSMMU-STATS: error {e}")
