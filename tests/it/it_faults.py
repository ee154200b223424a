#!/usr/bin/env python3
"""Fault tests of the real collector and webd (issue 10, item 5).

Starts `procnet-collector --foreground --socket <tmp>` and `procnet-webd`
on a free loopback port from PROCNET_BUILD_ROOT, then:
  - 100 concurrent HTTP clients (threads) on /api/graph: all 200, valid JSON;
  - clients that never read (raw TCP, a whole request, a WebSocket) and one
    sending a never-ending header: the others are still served, and webd
    drops the never-ending header;
  - a raw subscriber on the collector socket that never reads: the other
    subscribers (webd, a raw reader) keep receiving;
  - the rules file replaced by garbage while webd runs: the old rules stay,
    /api/status reports file:line:column, a good file again clears it;
  - webd restarted (SIGTERM, then SIGKILL) under WebSocket clients: they
    reconnect and get the full graph again;
  - the collector killed with SIGKILL while a subscriber is in the middle
    of receiving a snapshot, and restarted: /api/status goes down then
    connected, and the stream resumes.
Everything it starts it stops, by pid.  Waits are bounded; nothing asserts
on how long anything took.
"""
import json
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
from faultlib import log, wait_for, status  # noqa: E402

failures = []


def own_node(port, pid):
    for n in fl.get_json(port, "/api/graph")["nodes"]:
        if n.get("kind") == "process" and n.get("pid") == pid:
            return n
    return None


# ---- webd under load and bad clients ----

def t_concurrent_100(d, webd):
    n = 100
    results = [None] * n
    go = threading.Barrier(n, timeout=60)

    def worker(i):
        try:
            go.wait()
            st, h, body = fl.http(webd.port, "/api/graph", timeout=60)
            g = json.loads(body)
            ok = (st == 200 and h.get("content-type") == "application/json"
                  and isinstance(g["nodes"], list) and isinstance(g["edges"], list)
                  and "meta" in g)
            results[i] = 200 if ok else (st, body[:80])
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = repr(e)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    bad = [(i, r) for i, r in enumerate(results) if r != 200]
    assert not bad, "%d of %d not answered 200 with JSON: %r" % (len(bad), n, bad[:5])
    assert webd.poll() is None, "webd died"
    log("     100 concurrent /api/graph: all 200 with valid JSON")


def t_never_reads(d, webd):
    p = webd.port
    bad = []
    # connects and says nothing
    idle = socket.create_connection(("127.0.0.1", p))
    bad.append(idle)
    # asks for the graph and never reads the answer
    for _ in range(3):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", p))
        s.sendall(b"GET /api/graph HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % p)
        bad.append(s)
    # a stream client that never reads, with a tiny receive buffer
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", p))
    stuck.sendall(("GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:%d\r\n\r\n"
                   % (p, p)).encode())
    bad.append(stuck)
    # a header that never ends: a byte at a time
    drip = socket.create_connection(("127.0.0.1", p))
    drip.sendall(b"GET /api/graph HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % p)
    drip_done = threading.Event()
    drip_result = {}

    def dripper():
        deadline = time.monotonic() + 90
        sent = 0
        try:
            while time.monotonic() < deadline and not drip_done.is_set():
                drip.sendall(b"a")
                sent += 1
                time.sleep(0.2)
            drip_result["end"] = "still open after %d bytes" % sent
        except OSError as e:
            drip_result["end"] = "closed by webd after %d bytes (%s)" % (
                sent, type(e).__name__)
            drip_result["closed"] = True
    dt = threading.Thread(target=dripper, daemon=True)
    dt.start()
    try:
        # the others are served meanwhile, more than once over
        sc = fl.StreamClient(p, digests=False)
        sc.start()
        try:
            for i in range(3):
                for path in ("/api/graph", "/api/status", "/"):
                    st, _, _ = fl.http(p, path)
                    assert st == 200, (path, st)
            try:
                wait_for(lambda: sc.seq is not None, "the first stream message")
                seq0 = sc.seq
                wait_for(lambda: sc.seq >= seq0 + 3, "3 more stream messages")
            except AssertionError as e:
                raise AssertionError("%s; stream client: %s; webd stream stats %s"
                                     % (e, sc.describe(), status(p)["stream"]))
            assert not sc.errors, sc.errors
        finally:
            sc.stop()
        # webd's request timeout ends the never-ending header
        wait_for(lambda: drip_result.get("closed"),
                 "webd to drop the never-ending header", timeout=90, step=0.5)
        log("     never-ending header: %s" % drip_result["end"])
        assert webd.poll() is None, "webd died"
    finally:
        drip_done.set()
        dt.join(timeout=10)
        for s in bad + [drip]:
            s.close()
    st, _, _ = fl.http(p, "/api/status")
    assert st == 200, st


def t_collector_never_reads(d, webd):
    rogue = fl.collector_subscriber(d.sock, interval_ms=100, rcvbuf=4096,
                                    agent=b"it_faults-never-reads")
    reader = fl.collector_subscriber(d.sock, interval_ms=100, agent=b"it_faults-reader")
    try:
        got = 0
        deadline = time.monotonic() + fl.WAIT_S * 2
        while got < 10 and time.monotonic() < deadline:
            hdr = fl.read_header(reader)
            assert hdr is not None, "the collector closed a reading subscriber"
            assert hdr[0] == fl.SNAPSHOT, hdr
            fl.recv_exact(reader, hdr[1])
            got += 1
        assert got >= 10, "only %d snapshots beside a client that never reads" % got
        n0 = status(webd.port)["collector"]["snapshots"]
        wait_for(lambda: status(webd.port)["collector"]["snapshots"] >= n0 + 5,
                 "webd to keep receiving")
        log("     beside a subscriber that never reads: raw reader got %d, "
            "webd kept receiving" % got)
    finally:
        rogue.close()
        reader.close()


# ---- rules file replaced while running ----

GOOD_RULES = """- match_name: "/procnet-webd/"
  type: service
  label: "%s"
"""
GARBAGE = [
    ("yaml syntax", b"- match_name: [\"unclosed\n  type: {{{ :\n\t- ]]\n"),
    ("binary", bytes(range(256)) * 4),
    ("not rules", b"just: a mapping\nnot: a list\n"),
]


def replace(path, data):
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def t_rules_garbage(d, webd_unused):
    path = os.path.join(d.tmp, "rules.yaml")
    replace(path, (GOOD_RULES % "first").encode())
    w = d.webd(extra=["--rules", path])
    try:
        def labelled(label):
            n = own_node(w.port, w.pid)
            return n is not None and (n["type"], n["label"]) == ("service", label)
        wait_for(lambda: labelled("first"), "webd typed by the first rules")
        count = status(w.port)["rules"]["count"]
        for i, (what, data) in enumerate(GARBAGE):
            replace(path, data)
            err = wait_for(lambda: status(w.port)["rules"]["error"],
                           "a rules error for %s garbage" % what)
            assert re.match(r".*rules\.yaml:\d+:\d+: \S", err), (
                "%s garbage: no file:line:column in %r" % (what, err))
            log("     %s garbage: %s" % (what, err))
            s = status(w.port)
            assert s["rules"]["count"] == count, s["rules"]
            seq = s["sample"]["seq"]
            wait_for(lambda: status(w.port)["sample"]["seq"] > seq, "a new sample")
            label = "first" if i == 0 else "good %d" % (i - 1)
            assert labelled(label), "old rules not kept after %s garbage" % what
            # a good file clears the error and applies
            replace(path, (GOOD_RULES % ("good %d" % i)).encode())
            wait_for(lambda: status(w.port)["rules"]["error"] is None,
                     "the rules error to clear")
            wait_for(lambda: labelled("good %d" % i), "the good rules again")
        assert w.poll() is None, "webd died"
    finally:
        rc = d.stop(w)
    assert rc == 0, "webd exit status %s: %s" % (rc, fl.tail(w))


# ---- webd restarted under stream clients ----

def connect_stream(port):
    """Connects as the UI does after losing webd: retry until it answers."""
    return wait_for(lambda: fl.StreamClient(port, digests=False), "a stream reconnect")


def t_webd_restart(d, webd_unused):
    w = d.webd()
    port = w.port
    clients = [fl.StreamClient(port, digests=False) for _ in range(3)]
    for c in clients:
        c.start()
    try:
        wait_for(lambda: all(c.seq is not None for c in clients), "full graphs")
        for sig in (signal.SIGTERM, signal.SIGKILL):
            rc = d.stop(w, sig)
            if sig == signal.SIGTERM:
                assert rc == 0, "webd exit status %s: %s" % (rc, fl.tail(w))
            for c in clients:
                c.join(timeout=fl.WAIT_S)
                assert not c.is_alive(), "a stream client never saw webd go"
            # the same port again, as a restarted service would use
            w = d.webd(port=port)
            new = []
            for c in clients:
                c.stopping = True
                n = connect_stream(port)
                n.start()
                new.append(n)
            clients = new
            wait_for(lambda: all(c.fulls >= 1 and c.seq is not None for c in clients),
                     "every reconnected client to get the full graph")
            wait_for(lambda: all(c.deltas >= 2 for c in clients),
                     "deltas after the reconnect")
            for c in clients:
                assert not c.errors, c.errors
            log("     webd %s and restarted on port %d: 3 clients reconnected"
                % (signal.Signals(sig).name, port))
    finally:
        for c in clients:
            c.stop()
        rc = d.stop(w)
    assert rc == 0, "restarted webd exit status %s: %s" % (rc, fl.tail(w))


# ---- the collector killed mid-send ----

# Idle loopback connections held by children (POP_PROCS of POP_CONNS each,
# within a small per-process fd limit), so that a snapshot is larger than a
# Unix socket's send buffer and the collector is still writing one when it
# is killed.
POP_PROCS, POP_CONNS = 4, 1800
POPULATION = """
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE,
                   (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
n = int(sys.argv[1])
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1024)
keep = [l]
for _ in range(n):
    keep.append(socket.create_connection(l.getsockname()))
    keep.append(l.accept()[0])
print("ready", flush=True)
time.sleep(600)
"""


def wmem_default():
    try:
        with open("/proc/sys/net/core/wmem_default") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 212992


def t_collector_kill(d, webd):
    big = wmem_default() * 3 // 2
    pops = [d.spawn([sys.executable, "-c", POPULATION, str(POP_CONNS)],
                    name="population") for _ in range(POP_PROCS)]
    sc = fl.StreamClient(webd.port, digests=False)
    sc.start()
    raw = fl.collector_subscriber(d.sock, interval_ms=100, agent=b"it_faults-kill")
    try:
        for pop in pops:
            wait_for(lambda: "ready" in fl.tail(pop, 1) or pop.poll() is not None,
                     "a population of %d connections" % POP_CONNS, timeout=120)
            assert pop.poll() is None, "population: %s" % fl.tail(pop)
        wait_for(lambda: sc.seq is not None, "the full graph")
        # whole snapshots until one is larger than the socket can buffer
        deadline = time.monotonic() + fl.WAIT_S * 2
        while True:
            hdr = fl.read_header(raw)
            assert hdr is not None and hdr[0] == fl.SNAPSHOT, hdr
            if hdr[1] > big:
                break
            fl.recv_exact(raw, hdr[1])
            assert time.monotonic() < deadline, (
                "snapshots stay under %d bytes (last %d)" % (big, hdr[1]))
        # read a little of it, give the collector time to fill the socket
        # and block in the middle of the frame, then kill it there
        head = fl.recv_exact(raw, 4096)
        time.sleep(0.5)
        d.collector_proc.send_signal(signal.SIGKILL)
        d.collector_proc.wait()
        d.procs.remove(d.collector_proc)
        rest = fl.recv_exact(raw, hdr[1] - len(head))
        log("     SIGKILL with %d of a %d-byte snapshot read; %d more arrived"
            % (len(head), hdr[1], len(rest)))
        assert len(head) + len(rest) < hdr[1], (
            "a %d-byte snapshot arrived whole: not killed mid-send" % hdr[1])
        assert fl.read_header(raw) is None, "frames after SIGKILL"
        wait_for(lambda: status(webd.port)["collector"]["state"] != "connected",
                 "status to say the collector is gone")
        wait_for(lambda: any(s != "connected" for s in sc.collector_states),
                 "a stream status message about the lost collector")
        st, _, _ = fl.http(webd.port, "/api/graph")
        assert st == 200, "no graph while the collector is away: %d" % st
        s = status(webd.port)
        seq, snaps = s["sample"]["seq"], s["collector"]["snapshots"]
        # the stale socket is left in place: the collector replaces it
        assert os.path.exists(d.sock), "no stale socket after SIGKILL?"
        d.collector_proc = d.collector()
        wait_for(lambda: status(webd.port)["collector"]["state"] == "connected",
                 "webd to reconnect")
        wait_for(lambda: status(webd.port)["sample"]["seq"] > seq + 2,
                 "new samples after the restart")
        assert status(webd.port)["collector"]["snapshots"] > snaps
        wait_for(lambda: sc.collector_states and sc.collector_states[-1] == "connected",
                 "a stream status message about the reconnect")
        wait_for(lambda: sc.seq is not None and sc.seq > seq, "the stream to resume")
        assert not sc.errors, sc.errors
        log("     collector restarted: webd reconnected, stream at seq %d (was %d)"
            % (sc.seq, seq))
    finally:
        raw.close()
        sc.stop()
        for pop in pops:
            d.stop(pop)


TESTS = [t_concurrent_100, t_never_reads, t_collector_never_reads,
         t_rules_garbage, t_webd_restart, t_collector_kill]


def main():
    for exe in (fl.COLLECTOR, fl.WEBD):
        if not os.access(exe, os.X_OK):
            log("missing %s: build first" % exe)
            return 1
    if not os.path.isdir(fl.WEB_ROOT):
        log("missing %s: build the web-root target first" % fl.WEB_ROOT)
        return 1
    d = fl.Daemons("procnet-it-faults.")
    webd = None
    try:
        d.collector_proc = d.collector()
        webd = d.webd()
        for t in TESTS:
            try:
                t(d, webd)
                log("ok   %s" % t.__name__)
            except Exception as e:  # noqa: BLE001 - every test is reported
                failures.append(t.__name__)
                log("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e))
            if webd.poll() is not None:
                failures.append("webd exited (%s)" % webd.returncode)
                break
        # a clean stop of both (a sanitizer report at exit shows here)
        for name, p in (("webd", webd), ("collector", d.collector_proc)):
            if p.poll() is None:
                rc = d.stop(p)
                if rc != 0:
                    failures.append("%s exit status %d" % (name, rc))
    finally:
        if failures:
            shown = list(d.procs)
            for p in (webd, getattr(d, "collector_proc", None)):
                if p is not None and p not in shown:
                    shown.append(p)
            for p in shown:
                log("---- %s (pid %d) output, last 30 lines ----" % (p.args[0], p.pid))
                log(fl.tail(p, 30))
        d.close()
    log("%d/%d passed" % (len(TESTS) - len([f for f in failures if f.startswith("t_")]),
                          len(TESTS)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
