#!/usr/bin/env python3
"""Publishing to NATS (issue 17, the publishing half), end to end: the real
collector and webd, Debian's nats-server on a loopback port, and a NATS
subscriber of the test's own.

- webd --publish sends a full graph first, then deltas with consecutive
  seqs, on procnet.v1.<host>.graph, each wrapped with the host's identity;
  the graph rebuilt from NATS equals the local stream's at the same seq;
- a full graph comes again every --publish-full-every seconds;
- nats-server killed: the local map keeps serving; started again on the
  same port: a full graph arrives within 10 s;
- wrong credentials: the server refuses the publisher, nothing of it
  reaches a subscriber, and /api/status says why;
- a fleet view (--fleet) started before its NATS server serves at once,
  connects when the server comes, and stops on SIGTERM.
Everything is stopped by pid; loopback only; every wait is bounded.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (Daemons, StreamClient, canonical, digest,  # noqa: E402
                      get_json, log, wait_for)
from natslib import NatsServer, Subscriber  # noqa: E402

HOST = "host-a.example"
SUBJECT = "procnet.v1.host-a_example.graph"

checks = {"passed": 0, "failed": 0}


def check(ok, what):
    checks["passed" if ok else "failed"] += 1
    log("%s: %s" % ("ok" if ok else "FAIL", what))
    return ok


class NatsGraph(StreamClient):
    """The stream client's bookkeeping, fed from NATS messages."""

    def __init__(self):  # noqa: super().__init__ would open a WebSocket
        self._init_state()

    def feed(self, m):
        self._apply({k: v for k, v in m.items() if k != "host"})

    def digest_now(self):
        return digest(canonical(self.nodes, self.edges, self.meta))


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def test_publish(d, nats):
    sub = Subscriber(nats.port, "procnet.v1.*.graph")
    sub.connected.wait(10)
    w = d.webd(extra=["--publish", nats.url(), "--host-name", HOST,
                      "--publish-full-every", "3"])
    # NATS carries the process-level graph (each host's map is merged
    # before any grouping); the local stream's default is by program
    stream = StreamClient(w.port, path="/api/stream?group=process")
    stream.start()
    msgs = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sum(
            1 for _, m in msgs if m["type"] == "full") < 3:
        msgs += sub.take()
        time.sleep(0.2)
    check(len(msgs) > 3, "%d messages published in the first seconds"
          % len(msgs))
    check(all(s == SUBJECT for s, _ in msgs), "on subject %s" % SUBJECT)
    first = msgs[0][1]
    check(first["type"] == "full", "the first message is a full graph")
    h = first.get("host", {})
    check(h.get("name") == HOST and h.get("boot_id") == boot_id() and
          h.get("os") == "linux" and "127.0.0.1" in h.get("addrs", []),
          "the host's identity: %s" % {k: h.get(k) for k in
                                       ("name", "boot_id", "os")})
    fulls = [m for _, m in msgs if m["type"] == "full"]
    check(len(fulls) >= 3, "a full graph every few seconds (%d fulls)"
          % len(fulls))
    g = NatsGraph()
    same = compared = 0
    for _, m in msgs:
        g.feed(m)
        with stream.lock:
            want = stream.digests.get(m["seq"])
        if want is not None:
            compared += 1
            same += want == g.digest_now()
    check(not g.errors, "deltas apply cleanly (%s)" % g.errors[:3])
    check(compared > 0 and same == compared,
          "the graph from NATS equals the local stream's at %d of %d seqs"
          % (same, compared))
    st = get_json(w.port, "/api/status")["publish"]
    check(st["connected"] and st["sent_full"] >= 3 and st["sent_delta"] >= 1,
          "/api/status publish: %s" % st)

    # NATS away: the local map goes on; back: a full graph within 10 s.
    nats.stop()
    seq0 = get_json(w.port, "/api/status")["sample"]["seq"]
    wait_for(lambda: get_json(w.port, "/api/status")["sample"]["seq"] >=
             seq0 + 3, "local samples while NATS is down", timeout=20)
    check(True, "the local map keeps serving without NATS")
    sub.take()
    nats.start()
    t0 = time.monotonic()
    got = wait_for(lambda: [m for _, m in sub.take() if m["type"] == "full"],
                   "a full graph after NATS is back", timeout=30)
    took = time.monotonic() - t0
    log("full graph %.1f s after nats-server restarted" % took)
    check(bool(got), "publishing resumed with a full graph (%.1f s)" % took)
    st = get_json(w.port, "/api/status")["publish"]
    check(st["reconnects"] >= 1 and st["skipped"] >= 1,
          "reconnects and skipped samples counted: %s" % st)
    stream.stop()
    sub.close()
    d.stop(w)


def test_wrong_credentials(d):
    nats = NatsServer(users={"procnet": "right"}).start()
    try:
        sub = Subscriber(nats.port, "procnet.v1.*.graph", "procnet", "right")
        sub.connected.wait(10)
        w = d.webd(extra=["--publish", nats.url("procnet", "wrong"),
                          "--host-name", "intruder"])
        st = wait_for(lambda: (lambda s: s if s["error"] else None)(
            get_json(w.port, "/api/status")["publish"]),
            "the publisher's error in /api/status", timeout=20)
        check(not st["connected"] and st["sent_full"] == 0,
              "a publisher with wrong credentials is refused: %s"
              % st["error"])
        time.sleep(2)
        check(not sub.take(), "nothing of it reaches a subscriber")
        d.stop(w)
        # The right password is let in (the refusal was the credentials).
        w = d.webd(extra=["--publish", nats.url("procnet", "right"),
                          "--host-name", "friend"])
        got = wait_for(lambda: sub.take(), "the friend's graph", timeout=20)
        check(got[0][0] == "procnet.v1.friend.graph",
              "the right credentials publish")
        sub.close()
        d.stop(w)
    finally:
        nats.close()


def test_fleet_without_server(d):
    """A fleet view whose NATS server is not up yet serves at once, says
    so, connects when the server comes, and stops on SIGTERM."""
    nats = NatsServer()
    w = d.webd(extra=["--fleet", nats.url()], wait=False)
    st = wait_for(lambda: get_json(w.port, "/api/status")["fleet"],
                  "the fleet view's status without a server", timeout=30)
    check(not st["connected"] and st["error"],
          "fleet view serves without a NATS server: %s" % st)
    try:
        nats.start()
        st = wait_for(lambda: (lambda f: f if f["connected"] else None)(
            get_json(w.port, "/api/status")["fleet"]),
            "the fleet view connected once the server is up", timeout=20)
        check(st["connected"], "fleet view connects when the server comes")
    finally:
        nats.close()
    t0 = time.monotonic()
    rc = d.stop(w)
    check(rc == 0, "fleet view stops on SIGTERM (exit %s, %.1f s)"
          % (rc, time.monotonic() - t0))


def main():
    d = Daemons("procnet-it-publish-")
    nats = NatsServer()
    try:
        nats.start()
        d.collector()
        test_publish(d, nats)
        test_wrong_credentials(d)
        test_fleet_without_server(d)
    finally:
        nats.close()
        d.close(keep_logs=checks["failed"] > 0)
    print("%d passed, %d failed" % (checks["passed"], checks["failed"]))
    return 1 if checks["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
