#!/usr/bin/env python3
"""`procnet-collector --once` against `ss -tuanp`, socket for socket, on a
live loopback population of a few hundred connections across ten processes
(TCP and UDP, IPv4 and IPv6): same sockets, same TCP states, and the
collector's owner pid is one of the pids ss lists; process names and
command lines right.  Only the population's sockets are compared: other
work on the machine opens and closes sockets meanwhile.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from it_collector import Child, collector_path, TIMEOUT  # noqa: E402

SERVERS = 3
CLIENTS = 7
V4_PER_SERVER = 12  # per client; every client also makes V6 ones
V6_PER_SERVER = 3

SS_STATE = {
    "ESTAB": "ESTABLISHED", "LISTEN": "LISTEN", "SYN-SENT": "SYN_SENT",
    "SYN-RECV": "SYN_RECV", "FIN-WAIT-1": "FIN_WAIT1",
    "FIN-WAIT-2": "FIN_WAIT2", "TIME-WAIT": "TIME_WAIT", "CLOSE": "CLOSE",
    "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK",
    "CLOSING": "CLOSING", "UNCONN": "", "UNKNOWN": "?",
}
USER_RE = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)')


def split_endpoint(text):
    """ss's "addr:port" (IPv6 in brackets, '*' for any) -> (addr, port)."""
    addr, _, port = text.rpartition(":")
    if addr.startswith("[") and addr.endswith("]"):
        addr = addr[1:-1]
    addr = addr.split("%")[0]  # a bound device, "127.0.0.1%lo"
    return addr, 0 if port == "*" else int(port)


def parse_ss(text):
    """One dict per socket: key, state, {pid: name}."""
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 6 or f[0] not in ("tcp", "udp"):
            continue
        laddr, lport = split_endpoint(f[4])
        raddr, rport = split_endpoint(f[5])
        users = {int(pid): name for name, pid in
                 USER_RE.findall(" ".join(f[6:]))}
        out.append({"key": (f[0], laddr, lport, raddr, rport),
                    "state": SS_STATE.get(f[1], f[1]) if f[0] == "tcp" else "",
                    "users": users})
    return out


def key_of(s):
    return (s["proto"], s["local_addr"], s["local_port"],
            s["remote_addr"], s["remote_port"])


def same_remote(a, b):
    # ss prints an unconnected peer as "*" or "0.0.0.0"/"::" with port "*".
    if a[4] == 0 and b[4] == 0:
        return a[:3] == b[:3]
    return a == b


def main():
    if shutil.which("ss") is None:
        print("ss (iproute2) is not installed: cannot compare")
        return 77  # meson's "skipped"
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL:", what)

    servers = [Child("pn-ss-srv%d" % i) for i in range(SERVERS)]
    clients = [Child("pn-ss-cli%d" % i) for i in range(CLIENTS)]
    everyone = servers + clients
    try:
        listen = []
        for s in servers:
            listen.append((s, s.call(op="listen", family=4)["port"],
                           s.call(op="listen", family=6)["port"]))
        expected_accepts = {s.pid: 0 for s in servers}
        for c in clients:
            for s, p4, p6 in listen:
                c.call(op="connect", family=4, port=p4, n=V4_PER_SERVER,
                       spread=True)
                c.call(op="connect", family=6, port=p6, n=V6_PER_SERVER)
                expected_accepts[s.pid] += V4_PER_SERVER + V6_PER_SERVER
        for w in everyone:
            w.call(op="udp", family=4)
            w.call(op="udp", family=6)
        # Connected UDP pairs across processes, both families.
        for i, c in enumerate(clients):
            s = servers[i % SERVERS]
            for fam in (4, 6):
                up = s.call(op="udp", family=fam)["port"]
                c.call(op="udp", family=fam, connect_port=up)
        for s in servers:
            s.wait_accepted(expected_accepts[s.pid])

        pids = {w.pid: w for w in everyone}
        r = subprocess.run(["ss", "-tuanpH"], capture_output=True,
                           text=True, timeout=TIMEOUT)
        check(r.returncode == 0, "ss exit %d: %s" % (r.returncode, r.stderr))
        ss = [s for s in parse_ss(r.stdout) if set(s["users"]) & set(pids)]
        doc = json.loads(subprocess.run(
            [collector_path(), "--once", "--format", "json"],
            capture_output=True, text=True, timeout=TIMEOUT,
            check=True).stdout)
        ours = [s for s in doc["sockets"] if s["pid"] in pids]

        n_conn = CLIENTS * SERVERS * (V4_PER_SERVER + V6_PER_SERVER)
        want = 2 * n_conn + 2 * SERVERS + 2 * len(everyone) + 4 * CLIENTS
        check(len(ss) == want, "ss sees %d population sockets, want %d" %
              (len(ss), want))
        check(len(ours) == want, "collector sees %d population sockets, "
              "want %d" % (len(ours), want))

        index = {}
        for s in ours:
            index.setdefault(key_of(s)[:3], []).append(s)
        matched = 0
        for e in ss:
            cands = [s for s in index.get(e["key"][:3], [])
                     if same_remote(key_of(s), e["key"])]
            if len(cands) != 1:
                check(False, "ss socket %r: %d collector matches" %
                      (e["key"], len(cands)))
                continue
            s = cands[0]
            matched += 1
            check(s["state"] == e["state"], "%r: state %r, ss %r" %
                  (e["key"], s["state"], e["state"]))
            check(s["pid"] in e["users"], "%r: pid %r, ss %r" %
                  (e["key"], s["pid"], sorted(e["users"])))
        check(matched == len(ours), "matched %d of %d collector sockets" %
              (matched, len(ours)))

        procs = {p["pid"]: p for p in doc["processes"]}
        names = {}
        for e in ss:
            names.update(e["users"])
        for pid, w in pids.items():
            p = procs.get(pid)
            check(p is not None, "process %d listed" % pid)
            if p is None:
                continue
            check(p["name"] == w.name == names.get(pid),
                  "name of %d: %r, ss %r, want %r" %
                  (pid, p["name"], names.get(pid), w.name))
            check(p["cmdline"] == " ".join(w.argv), "cmdline of %d: %r" %
                  (pid, p["cmdline"]))

        kinds = {(s["proto"], s["family"]) for s in ours}
        check(kinds == {("tcp", 4), ("tcp", 6), ("udp", 4), ("udp", 6)},
              "all of tcp/udp x v4/v6 present: %r" % sorted(kinds))
        print("compared %d sockets of %d processes with ss -tuanp" %
              (len(ss), len(pids)))
    finally:
        for w in everyone:
            w.stop()
    if failures:
        print("%d checks failed" % len(failures))
        return 1
    print("it_collector_ss: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
