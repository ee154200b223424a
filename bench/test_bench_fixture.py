#!/usr/bin/env python3
"""The bench fixture builds the population it promises and cleans up.

Starts procnet-bench-fixture small (5 workers, 300 connections, 20 UDP
sockets), reads /proc to check every socket and which worker owns it, then
checks that SIGTERM, the time limit and the death of its parent each end it
with every worker gone.  Loopback only; every process is ours, by pid.
"""
import os
import selectors
import signal
import subprocess
import sys
import time

BUILD = os.environ.get("PROCNET_BUILD_ROOT", "build")
FIXTURE = os.path.join(BUILD, "bench", "procnet-bench-fixture")
K, N, U = 5, 300, 20
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def read_lines(proc, count, timeout=60):
    """count lines from proc's stdout, unbuffered; None on EOF/timeout."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    while buf.count(b"\n") < count:
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(left):
            return None
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            return None
        buf += chunk
    sel.close()
    return buf.decode().splitlines()


def parse_ready(line):
    words = line.split() if line else []
    if not words or words[0] != "ready":
        return None
    return dict(w.split("=", 1) for w in words[1:])


def read_ready(proc):
    lines = read_lines(proc, 1)
    return parse_ready(lines[0]) if lines else None


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def alive(pid):
    # A zombie is gone for our purposes: it holds no sockets.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def socket_inodes(pid):
    out = set()
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            t = os.readlink(os.path.join(d, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            out.add(int(t[8:-1]))
    return out


def proc_net(name):
    rows = []
    with open("/proc/net/" + name) as f:
        next(f)
        for ln in f:
            p = ln.split()
            rows.append({"local": p[1], "remote": p[2], "state": p[3],
                         "inode": int(p[9])})
    return rows


def check_population(info, fx_pid):
    workers = children(fx_pid)
    check(len(workers) == K, "%d workers, expected %d" % (len(workers), K))
    check(int(info.get("tcp_conns", -1)) == N, "ready line: tcp_conns")
    owner = {}
    for w in workers:
        for ino in socket_inodes(w):
            owner[ino] = w
    est, lis, v6_est = {}, 0, 0
    for table in ("tcp", "tcp6"):
        for r in proc_net(table):
            if r["inode"] not in owner:
                continue
            if r["state"] == "0A":
                lis += 1
            elif r["state"] == "01":
                est[(r["local"], r["remote"])] = owner[r["inode"]]
                v6_est += table == "tcp6"
            else:
                check(False, "fixture socket in state %s" % r["state"])
    check(len(est) == 2 * N, "%d established ends, expected %d"
          % (len(est), 2 * N))
    check(lis == 2 * K, "%d listeners, expected %d" % (lis, 2 * K))
    check(v6_est == 2 * (N // 10), "%d ::1 ends, expected %d"
          % (v6_est, 2 * (N // 10)))
    same = sum(1 for (l, r), w in est.items() if est.get((r, l)) == w)
    unpaired = sum(1 for (l, r) in est if (r, l) not in est)
    check(same == 0, "%d connections with both ends in one worker" % same)
    check(unpaired == 0, "%d connections whose peer end is missing"
          % unpaired)
    # IPv4 ends: servers on 127.0.0.1, clients on a bound 127.1.x.y
    v4 = {l.split(":")[0] for (l, r) in est if len(l) == 13}
    check(v4 == {"0100007F", "0100017F"},
          "IPv4 local addresses %s" % sorted(v4))
    udp = conn_udp = v6_udp = 0
    for table in ("udp", "udp6"):
        for r in proc_net(table):
            if r["inode"] in owner:
                udp += 1
                conn_udp += not r["remote"].endswith(":0000")
                v6_udp += table == "udp6"
    check(udp == U, "%d UDP sockets, expected %d" % (udp, U))
    check(conn_udp == U // 2, "%d connected UDP, expected %d"
          % (conn_udp, U // 2))
    check(v6_udp == U // 5, "%d UDP on ::1, expected %d" % (v6_udp, U // 5))
    return workers


def start(extra=()):
    return subprocess.Popen([FIXTURE, "-k", str(K), "-n", str(N), "-u",
                             str(U)] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def main():
    if not os.access(FIXTURE, os.X_OK):
        print("FAIL: %s not built" % FIXTURE, file=sys.stderr)
        return 1

    # 1. population, then SIGTERM
    p = start(["-t", "60"])
    info = read_ready(p)
    check(info is not None, "fixture never said ready")
    if info is None:
        p.kill()
        p.wait()
        return 1
    workers = check_population(info, p.pid)
    p.send_signal(signal.SIGTERM)
    check(p.wait(timeout=30) == 0, "exit code after SIGTERM")
    check(wait_gone(workers), "workers alive after SIGTERM")

    # 2. hard time limit: ends by itself, exit code 3
    p = start(["-t", "2"])
    info = read_ready(p)
    workers = children(p.pid)
    check(info is not None and len(workers) == K, "ready with -t 2")
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    check(rc == 3, "exit code %d at the time limit, expected 3" % rc)
    check(wait_gone(workers), "workers alive after the time limit")

    # 3. its parent dies: the fixture and its workers go too
    sh = subprocess.Popen(["/bin/sh", "-c", '"$0" -k %d -n %d -u %d -t 60 '
                           '& echo $!; wait' % (K, N, U), FIXTURE],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = read_lines(sh, 2) or ["0", ""]
    fx_pid = int(lines[0])
    info = parse_ready(lines[1])
    workers = children(fx_pid)
    check(info is not None and len(workers) == K, "ready under sh")
    sh.kill()
    sh.wait()
    check(wait_gone([fx_pid] + workers), "fixture alive after parent died")

    # 4. bad options are refused
    r = subprocess.run([FIXTURE, "-n", "0"], capture_output=True)
    check(r.returncode != 0 and b"-n" in r.stderr, "-n 0 refused")
    r = subprocess.run([FIXTURE, "-k", "1"], capture_output=True)
    check(r.returncode != 0, "-k 1 refused")

    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
