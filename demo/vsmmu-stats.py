#!/usr/bin/python3
"""Wait for the demo guest to power off, then print the vsmmu's counters.

    vsmmu-stats.py QMP_SOCKET DEVICE_ID DEADLINE_SECONDS [STAT...]

QEMU runs with -action shutdown=pause, so after the guest's poweroff it
stays up until this script has read the x-stats-* QOM properties of the
vsmmu; then it sends "quit". Prints one line:
    VSMMU-STATS: commands=N batches=N syncs=N events=N ...
STAT names more counters to read after the usual ones (e.g. vcmdq-commands
for x-stats-vcmdq-commands); with any, the "info vsmmu" lines follow, each
as "VSMMU-INFO: <line>".
"""
import json
import socket
import sys
import time

STATS = ["commands", "batches", "syncs", "events", "events-lost",
         "translations", "utlb-hits"]


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


def main():
    path, dev, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    extra = sys.argv[4:]
    deadline = time.monotonic() + secs
    qmp = Qmp(path, deadline)
    while qmp.cmd("query-status")["status"] != "shutdown":
        if time.monotonic() > deadline:
            print("VSMMU-STATS: error guest did not power off")
            return
        time.sleep(0.2)
    vals = [f"{s}={qmp.cmd('qom-get', path='/machine/peripheral/' + dev, property='x-stats-' + s)}"
            for s in STATS + extra]
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
