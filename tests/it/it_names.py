#!/usr/bin/env python3
"""Names for addresses (issue 19), end to end: the real collector and webd,
a DNS server of the test's own on loopback, and a connection held to a
listener on 127.0.0.77.

- with --resolver pointing at the server, /api/graph names 127.0.0.77
  db.test.internal (source "ptr"), and the stream carries the name;
- with the server silent (it counts queries and answers none), webd's
  samples keep their pace: the number of samples in a fixed window is
  compared with a run without --resolver in the same test;
- --resolve off and --resolve local send the server no query at all, and
  off serves no names.
Everything is stopped by pid; loopback only; every wait is bounded.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (WEBD, WS, Daemons, get_json, log,  # noqa: E402
                      wait_for)

ADDR = "127.0.0.77"
NAME = "db.test.internal"
PACE_S = 6.0

checks = {"passed": 0, "failed": 0}


def check(ok, what):
    checks["passed" if ok else "failed"] += 1
    log("%s: %s" % ("ok" if ok else "FAIL", what))
    return ok


class FakeDNS(threading.Thread):
    """Answers PTR 77.0.0.127.in-addr.arpa with NAME, NXDOMAIN otherwise;
    when silent, counts and drops every query."""

    def __init__(self, silent=False):
        super().__init__(daemon=True)
        self.silent = silent
        self.queries = 0
        self.names = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopped = False

    @staticmethod
    def qname(msg):
        labels, i = [], 12
        while i < len(msg) and msg[i] != 0:
            n = msg[i]
            labels.append(msg[i + 1:i + 1 + n].decode(errors="replace"))
            i += 1 + n
        return ".".join(labels).lower(), i + 5

    def run(self):
        while not self.stopped:
            try:
                msg, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(msg) < 12:
                continue
            self.queries += 1
            name, qend = self.qname(msg)
            self.names.append(name)
            if self.silent:
                continue
            flags = 0x8180
            answers = b""
            if name == "77.0.0.127.in-addr.arpa":
                rdata = b"".join(bytes([len(p)]) + p.encode()
                                 for p in NAME.split(".")) + b"\0"
                answers = (b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 300,
                                                     len(rdata)) + rdata)
            else:
                flags = 0x8183
            head = msg[:2] + struct.pack("!HHHHH", flags, 1,
                                         1 if answers else 0, 0, 0)
            self.sock.sendto(head + msg[12:qend] + answers, peer)

    def stop(self):
        self.stopped = True
        self.join(2)
        self.sock.close()


# The server end and the client end live in two processes, so the graph
# has an edge between them; each holds its socket until stdin closes.
SERVER = r"""
import socket, sys
l = socket.socket(); l.bind((sys.argv[1], 0)); l.listen(8)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
sys.stdin.read()
"""
CLIENT = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print("ready", flush=True)
sys.stdin.read()
"""


def hold_connection():
    srv = subprocess.Popen([sys.executable, "-c", SERVER, ADDR],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    port = int(srv.stdout.readline())
    cli = subprocess.Popen([sys.executable, "-c", CLIENT, ADDR, str(port)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    assert cli.stdout.readline().strip() == "ready"
    return srv, cli


def release(*procs):
    for p in procs:
        try:
            p.stdin.close()
        except OSError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def addr_in_graph(port):
    g = get_json(port, "/api/graph")
    for e in g["edges"]:
        for c in e.get("conns", []):
            ends = (c.get("client", ""), c.get("server", ""))
            if any(x.startswith(ADDR + ":") for x in ends):
                return g
    return None


def samples_in(port, seconds):
    """How many samples webd publishes in a window of `seconds`."""
    a = get_json(port, "/api/status")["sample"]["seq"]
    time.sleep(seconds)
    return get_json(port, "/api/status")["sample"]["seq"] - a


def test_answer(d):
    dns = FakeDNS()
    dns.start()
    try:
        w = d.webd(extra=["--resolver", "127.0.0.1:%d" % dns.port])
        ws = WS(w.port)
        check(ws.status == 101, "stream opened")
        first = ws.recv_json()
        check(first["type"] == "full", "stream starts with a full graph")
        wait_for(lambda: addr_in_graph(w.port), "the connection in the graph")
        t0 = time.monotonic()
        g = wait_for(lambda: (lambda g: g if g.get("names", {}).get(ADDR)
                              else None)(get_json(w.port, "/api/graph")),
                     "a name for %s" % ADDR)
        log("name arrived %.2f s after the connection was on the map"
            % (time.monotonic() - t0))
        check(g["names"][ADDR] == NAME, "names[%s] == %s" % (ADDR, NAME))
        check(g.get("names_source", {}).get(ADDR) == "ptr",
              "its source is ptr")
        check("127.0.0.1" not in dns.names and
              "1.0.0.127.in-addr.arpa" not in dns.names,
              "127.0.0.1 never asked of DNS (local knowledge)")
        # The stream carries it too, as a full graph or a delta.
        seen = first["graph"].get("names", {}).get(ADDR)
        deadline = time.monotonic() + 30
        while seen is None and time.monotonic() < deadline:
            m = ws.recv_json()
            if m["type"] == "full":
                seen = m["graph"].get("names", {}).get(ADDR)
            elif m["type"] == "delta":
                seen = m.get("names", {}).get("set", {}).get(ADDR)
        check(seen == NAME, "the stream carries the name")
        ws.close()
        st = get_json(w.port, "/api/status")["names"]
        check(st["mode"] == "on" and st["answers"] >= 1,
              "/api/status names: %s" % json.dumps(st))
        d.stop(w)
    finally:
        dns.stop()


def test_silent(d):
    base = d.webd()
    n_base = samples_in(base.port, PACE_S)
    d.stop(base)
    dns = FakeDNS(silent=True)
    dns.start()
    try:
        w = d.webd(extra=["--resolver", "127.0.0.1:%d" % dns.port])
        wait_for(lambda: dns.queries > 0, "a query at the silent server")
        n_silent = samples_in(w.port, PACE_S)
        log("samples in %.0f s: %d without --resolver, %d with a silent "
            "DNS server" % (PACE_S, n_base, n_silent))
        # Lookups blocking the pipeline would cost seconds per sample
        # (2 s timeouts, 2 tries): the count would collapse, not drift.
        check(n_silent * 2 >= n_base,
              "a silent DNS server does not slow the map")
        g = get_json(w.port, "/api/graph")
        check(ADDR not in g.get("names", {}), "no name without an answer")
        d.stop(w)
    finally:
        dns.stop()


def test_quiet_modes(d):
    for mode in ("off", "local"):
        dns = FakeDNS()
        dns.start()
        try:
            w = d.webd(extra=["--resolve", mode])
            wait_for(lambda: addr_in_graph(w.port), "the connection")
            samples_in(w.port, 2.0)
            g = get_json(w.port, "/api/graph")
            check(dns.queries == 0, "--resolve %s sends no query" % mode)
            if mode == "off":
                check(not g.get("names"), "--resolve off serves no names")
            else:
                check(g.get("names", {}).get("127.0.0.1") in
                      (None, "localhost"),
                      "--resolve local names loopback from local knowledge")
                check(ADDR not in g.get("names", {}),
                      "--resolve local asks no DNS for %s" % ADDR)
            d.stop(w)
        finally:
            dns.stop()
    # The system's resolver is never asked in mode off/local either; a
    # --resolver with them is a usage error.
    w = d.spawn([WEBD, "--resolve", "off", "--resolver",
                 "127.0.0.1"])
    w.wait(timeout=30)
    check(w.returncode == 2, "--resolver with --resolve off exits 2")


def main():
    d = Daemons("procnet-it-names-")
    srv = cli = None
    try:
        d.collector()
        srv, cli = hold_connection()
        test_answer(d)
        test_silent(d)
        test_quiet_modes(d)
    finally:
        if srv is not None:
            release(cli, srv)
        d.close(keep_logs=checks["failed"] > 0)
    print("%d passed, %d failed" % (checks["passed"], checks["failed"]))
    return 1 if checks["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
