#!/usr/bin/env python3
"""Integration test of the graph engine on a live population.

Ten worker processes each listen on TCP (127.0.0.1 and, when the host has
IPv6, ::1) and bind a UDP socket; they then open a planned number of TCP
connections to each other (hundreds in all, some over IPv6, one worker to
itself) and some connected UDP sockets.  With the real collector serving
snapshots, `procnet-webd --dump` must show every client->server pair in the
right direction with its exact connection count; UDP edges only with
--udp; only process<->process edges with --p2p-only.  Everything started is
stopped by pid.  Python stdlib only.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("PROCNET_BUILD_ROOT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
COLLECTOR = os.path.join(BUILD, "collector-svc", "procnet-collector")
WEBD = os.path.join(BUILD, "webd", "procnet-webd")
K = 10
WAIT_S = 30

# A worker: reports its ports, reads a plan (one JSON line), connects,
# reports "ready", then holds everything until stdin closes or a signal.
WORKER = r"""
import json, os, socket, sys, select
v6 = sys.argv[1] == "1"
lv4 = socket.socket(); lv4.bind(("127.0.0.1", 0)); lv4.listen(512)
ports = {"tcp4": lv4.getsockname()[1]}
keep = [lv4]
if v6:
    lv6 = socket.socket(socket.AF_INET6); lv6.bind(("::1", 0)); lv6.listen(512)
    ports["tcp6"] = lv6.getsockname()[1]; keep.append(lv6)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
ports["udp"] = u.getsockname()[1]; keep.append(u)
print(json.dumps(ports), flush=True)
plan = json.loads(sys.stdin.readline())
listeners = [lv4] + ([lv6] if v6 else [])
for fam, port, n in plan["tcp"]:
    for _ in range(n):
        if fam == 6:
            c = socket.create_connection(("::1", port), timeout=10)
        else:
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
        keep.append(c)
        # accept what others (or we) connected to us, as it comes
        r, _, _ = select.select(listeners, [], [], 0)
        for l in r:
            keep.append(l.accept()[0])
for port, n in plan["udp"]:
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("127.0.0.1", port))
        keep.append(s)
print("connected", flush=True)
# keep accepting until told to stop
while True:
    r, _, _ = select.select(listeners + [sys.stdin], [], [], 1)
    for l in r:
        if l is sys.stdin:
            if not sys.stdin.readline():
                sys.exit(0)
            # drain the accept queues, so every connection is ours
            while True:
                q, _, _ = select.select(listeners, [], [], 0.2)
                if not q:
                    break
                for x in q:
                    keep.append(x.accept()[0])
            print("ready", flush=True)
        else:
            keep.append(l.accept()[0])
"""

procs = []
failures = []


def log(msg):
    print(msg, flush=True)


def has_v6():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def readline(p, what):
    # bounded: select on the pipe
    import select
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            line = p.stdout.readline()
            if not line:
                raise AssertionError("%s: worker %d exited" % (what, p.pid))
            return line.decode()
    raise AssertionError("timed out waiting for %s from %d" % (what, p.pid))


def dump(sock, *extra):
    out = subprocess.run([WEBD, "--dump", "--collector", sock] + list(extra),
                         capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("--dump %s failed: %s" % (extra, out.stderr.decode()))
    return json.loads(out.stdout)


def check(cond, msg):
    if not cond:
        failures.append(msg)
        log("FAIL: " + msg)


def main():
    for exe in (COLLECTOR, WEBD):
        if not os.access(exe, os.X_OK):
            log("missing %s" % exe)
            return 1
    v6 = has_v6()
    tmp = tempfile.mkdtemp(prefix="procnet-it-graph-")
    sock = os.path.join(tmp, "collector.sock")
    collog = open(os.path.join(tmp, "collector.log"), "wb")
    col = subprocess.Popen([COLLECTOR, "--foreground", "--socket", sock],
                           stdout=collog, stderr=subprocess.STDOUT)
    procs.append(col)
    try:
        deadline = time.monotonic() + WAIT_S
        while not os.path.exists(sock):
            if time.monotonic() > deadline or col.poll() is not None:
                raise AssertionError("collector did not start")
            time.sleep(0.1)

        workers, ports = [], []
        for _ in range(K):
            p = subprocess.Popen([sys.executable, "-c", WORKER, "1" if v6 else "0"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            procs.append(p)
            workers.append(p)
        for p in workers:
            ports.append(json.loads(readline(p, "ports")))

        # The plan: worker i opens tcp[i][j] connections to j (v4), some
        # v6; worker 0 also to itself; connected UDP from i to i+1.
        rnd = random.Random(4242)
        tcp4 = {}
        tcp6 = {}
        udp = {}
        for i in range(K):
            for j in rnd.sample([x for x in range(K) if x != i], 3):
                tcp4[(i, j)] = rnd.randint(5, 25)
                if v6 and rnd.random() < 0.5:
                    tcp6[(i, j)] = rnd.randint(1, 5)
            udp[(i, (i + 1) % K)] = 1 + i % 3
        tcp4[(0, 0)] = 4
        total = sum(tcp4.values()) + sum(tcp6.values())
        log("population: %d workers, %d TCP connections, %d connected UDP sockets, v6 %s"
            % (K, total, sum(udp.values()), v6))
        for i, p in enumerate(workers):
            plan = {"tcp": [[4, ports[j]["tcp4"], n] for (a, j), n in tcp4.items() if a == i] +
                           [[6, ports[j]["tcp6"], n] for (a, j), n in tcp6.items() if a == i],
                    "udp": [[ports[j]["udp"], n] for (a, j), n in udp.items() if a == i]}
            p.stdin.write((json.dumps(plan) + "\n").encode())
            p.stdin.flush()
        for p in workers:
            assert readline(p, "connected").strip() == "connected"
        # one more round trip: every worker has accepted what was queued
        for p in workers:
            p.stdin.write(b"sync\n")
            p.stdin.flush()
        for p in workers:
            assert readline(p, "ready").strip() == "ready"

        pid_of = {p.pid: i for i, p in enumerate(workers)}

        def edges_by_pair(g, proto):
            node_pid = {n["id"]: n.get("pid") for n in g["nodes"]}
            got = {}
            for e in g["edges"]:
                if e["proto"] != proto:
                    continue
                a, b = node_pid.get(e["from"]), node_pid.get(e["to"])
                if a in pid_of and b in pid_of:
                    got[(pid_of[a], pid_of[b], e["server_port"])] = e
            return got

        want_tcp = {}
        for (i, j), n in tcp4.items():
            want_tcp[(i, j, ports[j]["tcp4"])] = n
        for (i, j), n in tcp6.items():
            want_tcp[(i, j, ports[j]["tcp6"])] = n
        want_udp = {(i, j, ports[j]["udp"]): n for (i, j), n in udp.items()}

        # The collector samples on its own clock: retry until a sample has
        # caught up with the whole population (bounded).
        deadline = time.monotonic() + WAIT_S
        while True:
            g = dump(sock)
            got = edges_by_pair(g, "tcp")
            counts = {k: e["count"] for k, e in got.items()}
            if counts == want_tcp or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for k, n in want_tcp.items():
            e = got.get(k)
            check(e is not None, "no edge %d->%d port %d" % k)
            if e is not None:
                check(e["count"] == n, "edge %d->%d:%d count %d, want %d" % (k + (e["count"], n)))
                check(e["reason"] == "pair", "edge %d->%d:%d reason %s" % (k + (e["reason"],)))
                check(sum(e["states"].values()) == n, "edge %d->%d:%d states %r" % (k + (e["states"],)))
        for k in got:
            check(k in want_tcp, "unexpected edge %d->%d port %d (wrong direction?)" % k)
        check(not any(e["proto"] == "udp" for e in g["edges"]), "UDP edge without --udp")
        self_edge = got.get((0, 0, ports[0]["tcp4"]))
        check(self_edge is not None and self_edge["from"] == self_edge["to"],
              "worker 0's connections to itself are not one self-loop")
        log("default: %d worker edges, %d edges in all" % (len(got), len(g["edges"])))

        g = dump(sock, "--udp")
        got_u = edges_by_pair(g, "udp")
        for k, n in want_udp.items():
            e = got_u.get(k)
            check(e is not None, "no UDP edge %d->%d port %d" % k)
            if e is not None:
                check(e["count"] == n, "UDP edge %d->%d:%d count %d, want %d" % (k + (e["count"], n)))
                check(e["reason"] == "listener", "UDP edge reason %s" % e["reason"])
        for k in got_u:
            check(k in want_udp, "unexpected UDP edge %d->%d port %d" % k)
        check(edges_by_pair(g, "tcp").keys() == want_tcp.keys(), "--udp changed the TCP edges")
        log("--udp: %d UDP worker edges" % len(got_u))

        g = dump(sock, "--p2p-only")
        kinds = {n["id"]: n["kind"] for n in g["nodes"]}
        check(all(kinds[e["from"]] == "process" and kinds[e["to"]] == "process"
                  for e in g["edges"]), "--p2p-only left a non-process edge")
        check(all(n["kind"] == "process" for n in g["nodes"]), "--p2p-only left a non-process node")
        check(edges_by_pair(g, "tcp").keys() == want_tcp.keys(), "--p2p-only lost worker edges")
        log("--p2p-only: %d edges" % len(g["edges"]))
    except AssertionError as e:
        failures.append(str(e))
        log("FAIL: %s" % e)
    finally:
        for p in procs:
            if p is not col:
                try:
                    p.stdin.close()
                except (OSError, AttributeError):
                    pass
            stop(p)
        collog.close()
        if failures:
            with open(os.path.join(tmp, "collector.log"), "rb") as f:
                log(f.read().decode(errors="replace")[-2000:])
        for name in os.listdir(tmp):
            try:
                os.unlink(os.path.join(tmp, name))
            except OSError:
                pass
        os.rmdir(tmp)
    log("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
