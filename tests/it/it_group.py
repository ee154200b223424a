#!/usr/bin/env python3
"""Integration test of process grouping (issue 15) on a live population.

A server forks as PostgreSQL does: the parent holds the listener and each
accepted connection goes to a child of its own (the parent closes its
copy).  A client process opens N connections to it.  With the real
collector, `procnet-webd --dump --group program` must draw the server as one
node whose members are the parent and its N children, with one edge of
count N from the client; `--group process` must draw N+1 server nodes.  A
running webd must serve the same through /api/graph?group=..., refuse a bad
group with 400, and stream a grouped graph on /api/stream?group=user.

The server runs from a copy of the Python binary under another name, so its
tree is its own program even though this test (a Python too) started it.
Everything started is stopped by pid.  Python stdlib only, loopback only.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
from faultlib import WEBD, Daemons, WS, get_json, http, log, wait_for  # noqa: E402

N = 6

# The forking server: prints its port, then for each connection forks a
# child that holds it (and nothing else) until stdin closes.
SERVER = r"""
import os, socket, sys, signal
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(64)
print(l.getsockname()[1], flush=True)
n = int(sys.argv[1])
kids = []
for i in range(n):
    c, _ = l.accept()
    pid = os.fork()
    if pid == 0:
        l.close()
        os.read(0, 1)      # until the parent's stdin (ours too) closes
        os._exit(0)
    kids.append(pid)
    c.close()
print(" ".join(map(str, kids)), flush=True)
os.read(0, 1)
for k in kids:
    try:
        os.kill(k, signal.SIGTERM)
    except OSError:
        pass
"""

CLIENT = r"""
import socket, sys, os
port, n = int(sys.argv[1]), int(sys.argv[2])
keep = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
print("connected", flush=True)
os.read(0, 1)
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        log("FAIL: " + msg)


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


def dump(sock, *extra):
    out = subprocess.run([WEBD, "--dump", "--collector", sock] + list(extra),
                         capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("--dump %s failed: %s" % (extra, out.stderr.decode()))
    return json.loads(out.stdout)


def server_nodes(g, pids):
    return [n for n in g["nodes"] if n.get("kind") == "process" and
            (n.get("pid") in pids or
             any(m["pid"] in pids for m in n.get("members", [])))]


def check_program(g, where, server_pids, client_pid):
    nodes = server_nodes(g, server_pids)
    check(len(nodes) == 1, "%s: %d server nodes, want 1" % (where, len(nodes)))
    if len(nodes) != 1:
        return
    s = nodes[0]
    members = s.get("members", [])
    check(sorted(m["pid"] for m in members) == sorted(server_pids),
          "%s: members %r, want the parent and its %d children" %
          (where, [m["pid"] for m in members], N))
    check(all("start_ms" in m and "cmdline" in m for m in members),
          "%s: a member without start time or command line" % where)
    check(s["label"].endswith("\u00d7%d" % (N + 1)), "%s: label %r" % (where, s["label"]))
    by_id = {n["id"]: n for n in g["nodes"]}
    into = [e for e in g["edges"] if e["to"] == s["id"] and e["proto"] == "tcp"]
    check(len(into) == 1, "%s: %d edges into the server, want 1" % (where, len(into)))
    if into:
        e = into[0]
        cl = by_id[e["from"]]
        cpids = [cl.get("pid")] + [m["pid"] for m in cl.get("members", [])]
        check(client_pid in cpids, "%s: the edge is not from the client" % where)
        check(e["count"] == N, "%s: edge count %d, want %d" % (where, e["count"], N))
        check(e["reason"] == "pair", "%s: reason %s" % (where, e["reason"]))
    check(g["meta"]["options"]["group"] == "program", "%s: meta group" % where)


def main():
    d = Daemons("procnet-it-group-")
    procs = []
    exe = os.path.join(d.tmp, "pgsim")
    shutil.copy2(os.path.realpath(sys.executable), exe)
    try:
        d.collector()
        srv = subprocess.Popen([exe, "-c", SERVER, str(N)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
        procs.append(srv)
        port = int(readline(srv, "port"))
        cli = subprocess.Popen([sys.executable, "-c", CLIENT, str(port), str(N)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        procs.append(cli)
        check(readline(cli, "connected") == "connected", "client did not connect")
        kids = [int(x) for x in readline(srv, "children").split()]
        check(len(kids) == N, "server forked %d children" % len(kids))
        server_pids = [srv.pid] + kids
        log("server %d with children %s on port %d; client %d"
            % (srv.pid, kids, port, cli.pid))

        def settled():
            g = dump(d.sock, "--group", "process")
            nodes = server_nodes(g, server_pids)
            return g if len(nodes) == N + 1 else None
        g = wait_for(settled, "every server process in a sample")
        for n in server_nodes(g, server_pids):
            check("members" not in n, "process mode node with members")
            check(n["groups"]["program"] == "p:%d:%d" % (srv.pid, next(
                x["start_ms"] for x in g["nodes"] if x.get("pid") == srv.pid)),
                "pid %d: program group %s is not the parent's" % (n["pid"], n["groups"]["program"]))
        check(g["meta"]["options"]["group"] == "process", "process mode meta")
        log("--group process: %d server nodes" % len(server_nodes(g, server_pids)))

        check_program(dump(d.sock, "--group", "program"), "--dump --group program",
                      server_pids, cli.pid)
        check_program(dump(d.sock), "--dump (default)", server_pids, cli.pid)
        bad = subprocess.run([WEBD, "--dump", "--collector", d.sock, "--group", "pods"],
                             capture_output=True, timeout=60)
        check(bad.returncode == 2 and b"--group" in bad.stderr,
              "--group pods: rc %d %r" % (bad.returncode, bad.stderr))

        w = d.webd()
        check_program(get_json(w.port, "/api/graph?group=program"), "/api/graph?group=program",
                      server_pids, cli.pid)
        g = get_json(w.port, "/api/graph?group=process")
        check(len(server_nodes(g, server_pids)) == N + 1, "/api/graph?group=process: %d nodes"
              % len(server_nodes(g, server_pids)))
        g = get_json(w.port, "/api/graph?group=user")
        check(g["meta"]["options"]["group"] == "user", "/api/graph?group=user meta")
        check(any(n["id"].startswith("u:") for n in g["nodes"]), "no u: node by user")
        st, _, _ = http(w.port, "/api/graph?group=pods")
        check(st == 400, "/api/graph?group=pods gave %d, want 400" % st)
        ws = WS(w.port, path="/api/stream?group=bogus")
        check(ws.status == 400, "/api/stream?group=bogus gave %d, want 400" % ws.status)
        ws.sock.close()
        ws = WS(w.port, path="/api/stream?group=user")
        check(ws.status == 101, "/api/stream?group=user refused: %d" % ws.status)
        if ws.status == 101:
            m = json.loads(ws.recv())
            while m.get("type") != "full":
                m = json.loads(ws.recv())
            check(m["graph"]["meta"]["options"]["group"] == "user", "stream ?group=user meta")
        ws.sock.close()
    except AssertionError as e:
        failures.append(str(e))
        log("FAIL: %s" % e)
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
    log("it_group: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
