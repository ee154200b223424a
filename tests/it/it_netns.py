#!/usr/bin/env python3
"""Integration test of network namespaces (issue 15).  Needs root: it FAILS,
loudly, without.

Two network namespaces joined by a veth pair (unique names from this pid,
deleted at the end whatever happens), a TCP server in one and a client in
the other.  The real collector, in the host's namespace, must report both
sockets with their owners' pids and each socket's namespace inode, and
both processes with theirs; `procnet-webd --dump` must draw one
client->server edge with reason "pair" (the 4-tuple pairs across the two
namespaces through the addresses the veth pair shares).  With
--max-netns 1 only the collector's own namespace is dumped.

Everything started is stopped by pid.  Python stdlib and iproute2.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
from faultlib import COLLECTOR, WEBD, Daemons, log, wait_for  # noqa: E402

TAG = os.getpid() % 100000
NS_A, NS_B = "pnt%da" % TAG, "pnt%db" % TAG
VETH_A, VETH_B = "pv%da" % TAG, "pv%db" % TAG
NET = "10.%d.%d" % (200 + TAG % 50, TAG % 250)
ADDR_A, ADDR_B = NET + ".1", NET + ".2"

SERVER = r"""
import socket, sys, os
l = socket.socket(); l.bind((sys.argv[1], 0)); l.listen(8)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
print("accepted", flush=True)
os.read(0, 1)
"""
CLIENT = r"""
import socket, sys, os
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print(c.getsockname()[1], flush=True)
os.read(0, 1)
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        log("FAIL: " + msg)


def ip(*args):
    r = subprocess.run(["ip"] + list(args), capture_output=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("ip %s: %s" % (" ".join(args), r.stderr.decode().strip()))


def ns_inode(name):
    return os.stat("/run/netns/" + name).st_ino


def readline(p, what):
    deadline = time.monotonic() + faultlib.WAIT_S
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            line = p.stdout.readline()
            if not line:
                raise AssertionError("%s: process %d exited" % (what, p.pid))
            return line.decode().strip()
    raise AssertionError("timed out waiting for %s" % what)


def once(*extra):
    r = subprocess.run([COLLECTOR, "--once"] + list(extra), capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError("collector --once: %s" % r.stderr.decode()[-500:])
    return json.loads(r.stdout)


def find_sock(snap, local, lport, remote, rport):
    for s in snap["sockets"]:
        if (s.get("local_addr") == local and s.get("local_port") == lport and
                s.get("remote_addr") == remote and s.get("remote_port") == rport):
            return s
    return None


def main():
    if os.geteuid() != 0:
        log("FAIL: it_netns needs root (network namespaces); make test runs as root")
        return 1
    procs = []
    made = []
    d = Daemons("procnet-it-netns-")
    try:
        for ns in (NS_A, NS_B):
            ip("netns", "add", ns)
            made.append(ns)
        ip("link", "add", VETH_A, "type", "veth", "peer", "name", VETH_B)
        ip("link", "set", VETH_A, "netns", NS_A)
        ip("link", "set", VETH_B, "netns", NS_B)
        for ns, dev, addr in ((NS_A, VETH_A, ADDR_A), (NS_B, VETH_B, ADDR_B)):
            ip("-n", ns, "addr", "add", addr + "/24", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        ino_a, ino_b = ns_inode(NS_A), ns_inode(NS_B)
        log("namespaces %s (%d) and %s (%d), veth %s <-> %s"
            % (NS_A, ino_a, NS_B, ino_b, ADDR_A, ADDR_B))

        # ip netns exec execs: the pid is the server's / the client's
        srv = subprocess.Popen(["ip", "netns", "exec", NS_A, sys.executable, "-c", SERVER,
                                ADDR_A], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        procs.append(srv)
        port = int(readline(srv, "server port"))
        cli = subprocess.Popen(["ip", "netns", "exec", NS_B, sys.executable, "-c", CLIENT,
                                ADDR_A, str(port)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
        procs.append(cli)
        cport = int(readline(cli, "client port"))
        check(readline(srv, "accept") == "accepted", "server did not accept")

        snap = once()
        cs = find_sock(snap, ADDR_B, cport, ADDR_A, port)
        ss = find_sock(snap, ADDR_A, port, ADDR_B, cport)
        check(cs is not None, "client socket %s:%d -> %s:%d not in the snapshot"
              % (ADDR_B, cport, ADDR_A, port))
        check(ss is not None, "server's accepted socket not in the snapshot")
        if cs:
            check(cs.get("pid") == cli.pid, "client socket pid %r, want %d" % (cs.get("pid"), cli.pid))
            check(cs.get("netns") == ino_b, "client socket netns %r, want %d" % (cs.get("netns"), ino_b))
        if ss:
            check(ss.get("pid") == srv.pid, "server socket pid %r, want %d" % (ss.get("pid"), srv.pid))
            check(ss.get("netns") == ino_a, "server socket netns %r, want %d" % (ss.get("netns"), ino_a))
        procs_by_pid = {p["pid"]: p for p in snap["processes"]}
        check(procs_by_pid.get(srv.pid, {}).get("netns") == ino_a, "server process netns")
        check(procs_by_pid.get(cli.pid, {}).get("netns") == ino_b, "client process netns")
        own = os.stat("/proc/self/ns/net").st_ino
        check(any(s.get("netns") == own for s in snap["sockets"]) or not snap["sockets"],
              "no socket of the collector's own namespace")

        # the cap: only our own namespace
        capped = once("--max-netns", "1")
        check(find_sock(capped, ADDR_B, cport, ADDR_A, port) is None,
              "--max-netns 1 still dumped another namespace")

        d.collector()

        def graph():
            r = subprocess.run([WEBD, "--dump", "--group", "process", "--collector", d.sock],
                               capture_output=True, timeout=60)
            if r.returncode != 0:
                raise AssertionError("--dump: %s" % r.stderr.decode())
            g = json.loads(r.stdout)
            ids = {n["id"]: n for n in g["nodes"]}
            es = [e for e in g["edges"] if ids[e["from"]].get("pid") == cli.pid and
                  ids[e["to"]].get("pid") == srv.pid]
            return (g, es) if es else None
        g, es = wait_for(graph, "the client->server edge")
        check(len(es) == 1, "%d client->server edges, want 1" % len(es))
        e = es[0]
        check(e["reason"] == "pair", "edge reason %s, want pair" % e["reason"])
        check(e["count"] == 1 and e["server_port"] == port, "edge %r" % e)
        back = [x for x in g["edges"] if x["from"] == e["to"] and x["to"] == e["from"]]
        check(not back, "an edge the wrong way too")
        srv_node = next(n for n in g["nodes"] if n.get("pid") == srv.pid)
        check(srv_node.get("netns") == ino_a, "server node netns %r" % srv_node.get("netns"))
        log("edge %s reason %s" % (e["id"], e["reason"]))
    except AssertionError as ex:
        failures.append(str(ex))
        log("FAIL: %s" % ex)
    finally:
        for p in procs:
            try:
                p.stdin.close()
            except OSError:
                pass
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        d.close(keep_logs=bool(failures))
        for ns in made:
            r = subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            if r.returncode != 0:
                failures.append("cannot delete namespace %s: %s" % (ns, r.stderr.decode()))
        # a veth left in the host namespace by a failed move
        subprocess.run(["ip", "link", "del", VETH_A], capture_output=True)
    log("it_netns: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
