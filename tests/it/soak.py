#!/usr/bin/env python3
"""Churn soak of the real collector and webd (issue 10, item 5).

Starts `procnet-collector --foreground --socket <tmp>` and `procnet-webd` on
a free loopback port from PROCNET_BUILD_ROOT, three WebSocket stream clients
that apply every delta, and a churn pair of processes: a client opening
RATE loopback connections a second to a server, each held HOLD seconds and
then reset (SO_LINGER 0, so nothing lingers in TIME_WAIT).  Both daemons'
VmRSS is sampled every second after a warm-up.  When the churn stops:
  - /api/graph must show no churn edge within a few seconds;
  - every stream client's state, at a version seq, must equal /api/graph
    at that seq (nodes, edges and meta);
  - neither daemon's RSS may have grown by more than a quarter from the
    warm-up to the end (not judged in a sanitizer build: ASan holds freed
    memory in quarantine);
  - both daemons exit 0 on SIGTERM.
Prints the numbers.  `make soak SOAK_SECONDS=60`; `meson test soak_short`
runs it for 15 s.  Where `unshare -n` works (root) it runs in a network
namespace of its own, so that other sockets on the machine do not move the
daemons' memory.  Everything it starts it stops, by pid.
"""
import argparse
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
from faultlib import log, wait_for  # noqa: E402

HOLD = 0.5          # seconds each churn connection stays open
LIVE_S = 600        # the churn processes end by themselves after this
GROWTH = 1.25       # RSS at the end over RSS after the warm-up, at most


# ---- the churn processes (this file, run with --churn-server/-client) ----

def churn_server():
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(1024)
    l.setblocking(False)
    print("port %d" % l.getsockname()[1], flush=True)
    sel = selectors.DefaultSelector()
    sel.register(l, selectors.EVENT_READ)
    accepted = 0
    end = time.monotonic() + LIVE_S
    while time.monotonic() < end:
        for key, _ in sel.select(1.0):
            s = key.fileobj
            if s is l:
                try:
                    c, _ = l.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                accepted += 1
                continue
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
    return 0


def churn_client(port, rate, seconds):
    linger = struct.pack("ii", 1, 0)
    held = []           # (close at, socket), in opening order
    opened = failed = 0
    t0 = time.monotonic()
    while True:
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        while held and held[0][0] <= now:
            s = held.pop(0)[1]
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.close()
        # open what the schedule says by now; never a burst of more than 10
        due = int((now - t0) * rate)
        for _ in range(min(due - opened - failed, 10)):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"x")
                held.append((time.monotonic() + HOLD, s))
                opened += 1
            except OSError:
                failed += 1
        time.sleep(0.005)
    for _, s in held:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.close()
    print("churned %d failed %d seconds %.1f" % (opened, failed,
                                                  time.monotonic() - t0), flush=True)
    time.sleep(LIVE_S)
    return 0


# ---- the soak ----

def log_value(p, word, timeout=60):
    """The number after `word` on a line of p's log."""
    def find():
        if p.poll() is not None:
            raise SystemExit("%s exited: %s" % (p.args, fl.tail(p)))
        for line in fl.tail(p, 5).splitlines():
            w = line.split()
            if len(w) >= 2 and w[0] == word:
                return w
        return None
    return wait_for(find, "%r from %s" % (word, p.args[1:3]), timeout=timeout)


def machine_socket_fds():
    """Socket fds of every process on the machine, every namespace: the
    collector walks all of /proc, so its memory follows these too."""
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)).startswith("socket:"):
                    n += 1
            except OSError:
                pass
    return n


def churn_edges(port, churn_port):
    g = fl.get_json(port, "/api/graph")
    return [e["id"] for e in g["edges"] if e.get("server_port") == churn_port]


def compare_with_graph(port, clients):
    """Finds a seq with /api/graph known at it and compares each client's
    state there.  Returns None when equal, else what differs."""
    def attempt():
        s1 = fl.status(port)["sample"]["seq"]
        g = fl.get_json(port, "/api/graph")
        if fl.status(port)["sample"]["seq"] != s1:
            return None         # a sample came in between: again
        want = fl.graph_digest(g)
        wait_for(lambda: all(c.seq is not None and c.seq >= s1 for c in clients),
                 "every stream client at seq %d" % s1)
        got = [c.digest_at(s1)[1] for c in clients]
        if any(x is None for x in got):
            return None         # a client resynced past s1: again
        return (s1, want, got, g)
    s1, want, got, g = wait_for(attempt, "a graph version to compare at")
    bad = [i for i, x in enumerate(got) if x != want]
    if not bad:
        return s1, None
    c = clients[bad[0]]
    nodes = {n["id"] for n in g["nodes"]}
    edges = {e["id"] for e in g["edges"]}
    return s1, ("stream clients %s differ from /api/graph at seq %d (client %d now "
                "at %d): graph %d nodes %d edges, client %d nodes %d edges"
                % (bad, s1, bad[0], c.seq, len(nodes), len(edges),
                   len(c.nodes), len(c.edges)))


def soak(args):
    failures = []
    d = fl.Daemons("procnet-soak.")
    clients = []
    try:
        coll = d.collector()
        # a short recent window, so closed churn connections leave the map
        # (checked below) well within the wait
        webd = d.webd(interval=args.interval, extra=["--window", "3"])
        me = os.path.abspath(__file__)
        server = d.spawn([sys.executable, me, "--churn-server"], name="churn-server")
        churn_port = int(log_value(server, "port")[1])
        clients = [fl.StreamClient(webd.port, watch_port=churn_port) for _ in range(3)]
        for c in clients:
            c.start()
        wait_for(lambda: all(c.seq is not None for c in clients), "full graphs")
        client = d.spawn([sys.executable, me, "--churn-client", str(churn_port),
                          str(args.rate), str(args.seconds)], name="churn-client")
        t0 = time.monotonic()
        rss = {"collector": [], "webd": []}
        pids = {"collector": coll.pid, "webd": webd.pid}
        socks0 = None       # the sockets in the snapshot after the warm-up
        fds0 = None         # socket fds of every process on the machine
        while time.monotonic() - t0 < args.seconds:
            time.sleep(1.0)
            for name, p in (("collector", coll), ("webd", webd)):
                if p.poll() is not None:
                    raise AssertionError("%s exited (%s): %s"
                                         % (name, p.returncode, fl.tail(p)))
            if time.monotonic() - t0 >= args.warmup:
                if socks0 is None:
                    socks0 = fl.status(webd.port)["counts"]["sockets"]
                    fds0 = machine_socket_fds()
                for name, pid in pids.items():
                    v = fl.rss_kb(pid)
                    if v is not None:
                        rss[name].append(v)
        w = log_value(client, "churned", timeout=60)
        churned, failed = int(w[1]), int(w[3])
        # the map empties of churn edges once the churn stops and the
        # recent window has let the closed ones go
        wait_for(lambda: not churn_edges(webd.port, churn_port),
                 "no churn edges left in /api/graph", timeout=20)
        # and every stream client holds what /api/graph holds
        s1, diff = compare_with_graph(webd.port, clients)
        st = fl.status(webd.port)
        for name in pids:
            v = fl.rss_kb(pids[name])
            if v is not None:
                rss[name].append(v)

        log("soak: %.0f s at %d connections/s (hold %.1f s), webd interval %s s"
            % (args.seconds, args.rate, HOLD, args.interval))
        log("  churned %d connections (%d failed to connect), churn server port %d"
            % (churned, failed, churn_port))
        log("  collector snapshots to webd %d, graph seq %d, stream clients %d"
            % (st["collector"]["snapshots"], st["sample"]["seq"],
               st["stream"]["clients"]))
        for i, c in enumerate(clients):
            log("  stream client %d: %d full, %d deltas, %d status; churn edges "
                "seen in %d versions; seq %s" % (i, c.fulls, c.deltas, c.statuses,
                                                 c.watch_seen, c.seq))
        # Both daemons hold the whole machine's sockets: when the machine's
        # own population grew meanwhile, their memory may follow it.
        socks1 = st["counts"]["sockets"]
        fds1 = machine_socket_fds()
        log("  sockets in the snapshots after the warm-up %s, at the end %d; socket "
            "fds on the whole machine %s, %d" % (socks0, socks1, fds0, fds1))
        why_not = None
        if fl.sanitized():
            why_not = "sanitizer build"
        elif socks0 is None or socks1 > socks0 * GROWTH + 100:
            why_not = "the snapshot's sockets grew from %s to %d" % (socks0, socks1)
        elif fds1 > fds0 * GROWTH + 100:
            why_not = "the machine's socket fds grew from %s to %d" % (fds0, fds1)
        judged = why_not is None
        for name, v in rss.items():
            if not v:
                failures.append("no RSS samples for %s" % name)
                continue
            growth = v[-1] / v[0]
            step = max(1, len(v) // 10)
            log("  %-9s RSS KiB every %d s: %s" % (name, step, " ".join(
                str(x) for x in v[::step])))
            log("  %-9s RSS KiB: start %d end %d max %d (%d samples from %.0f s on): "
                "end/start %.3f%s" % (name, v[0], v[-1], max(v), len(v), args.warmup,
                                      growth, "" if judged else " (not judged: %s)" % why_not))
            if judged and growth > GROWTH:
                failures.append("%s RSS grew from %d to %d KiB (> x%.2f)"
                                % (name, v[0], v[-1], GROWTH))
        if churned < args.rate * args.seconds / 2:
            failures.append("only %d connections churned" % churned)
        for i, c in enumerate(clients):
            if c.errors:
                failures.append("stream client %d: %s" % (i, c.errors[:3]))
            if c.deltas < 3:
                failures.append("stream client %d: only %d deltas" % (i, c.deltas))
            if c.watch_seen == 0:
                failures.append("stream client %d never saw a churn edge" % i)
        if diff:
            failures.append(diff)
        else:
            log("  stream state == /api/graph at seq %d for all %d clients"
                % (s1, len(clients)))
        for c in clients:
            c.stop()
        clients = []
        for name, p in (("webd", webd), ("collector", coll)):
            rc = d.stop(p)
            if rc != 0:
                failures.append("%s exit status %s: %s" % (name, rc, fl.tail(p, 20)))
    except (AssertionError, SystemExit) as e:
        failures.append("%s: %s" % (type(e).__name__, e))
    finally:
        for c in clients:
            c.stop()
        if failures:
            for p in d.procs:
                log("---- %s (pid %d), last 20 lines ----" % (" ".join(p.args[:2]), p.pid))
                log(fl.tail(p, 20))
        d.close()
    for f in failures:
        log("FAIL " + f)
    log("soak: %s" % ("FAILED" if failures else "passed"))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="churn duration")
    ap.add_argument("--rate", type=int, default=100, help="connections a second")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds before RSS sampling starts (default: a sixth, 3..10)")
    ap.add_argument("--interval", default="0.5", help="webd --interval")
    ap.add_argument("--netns", choices=("auto", "yes", "no"), default="auto",
                    help="run in a network namespace of its own, so the rest of "
                    "the machine's sockets do not move the numbers (auto: when "
                    "unshare -n works)")
    ap.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--churn-server", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--churn-client", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.churn_server:
        return churn_server()
    if args.churn_client:
        port, rate, secs = args.churn_client
        return churn_client(int(port), int(rate), float(secs))
    if not 1 <= args.seconds <= 3600 or not 1 <= args.rate <= 1000:
        ap.error("--seconds must be 1..3600 and --rate 1..1000")
    if args.warmup is None:
        args.warmup = min(10.0, max(3.0, args.seconds / 6))
    for exe in (fl.COLLECTOR, fl.WEBD):
        if not os.access(exe, os.X_OK):
            log("missing %s: build first" % exe)
            return 1
    if args.in_netns:
        # a new network namespace has only lo, and it is down
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        log("soak: in a network namespace of its own")
    elif args.netns == "yes" or (args.netns == "auto" and netns_works()):
        return in_netns()
    elif args.netns == "auto":
        log("soak: unshare -n not available; sharing the machine's network "
            "namespace (its other sockets are in the numbers)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    return soak(args)


def netns_works():
    try:
        return subprocess.run(["unshare", "-n", "--", "ip", "link", "set", "lo", "up"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def in_netns():
    """This script again, under unshare -n; SIGTERM is passed on."""
    argv = ["unshare", "-n", "--", sys.executable, os.path.abspath(__file__),
            "--in-netns"] + sys.argv[1:]
    p = subprocess.Popen(argv)
    signal.signal(signal.SIGTERM, lambda *_: p.terminate())
    return p.wait()


if __name__ == "__main__":
    sys.exit(main())
