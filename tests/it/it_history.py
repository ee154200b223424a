#!/usr/bin/env python3
"""History in webd, end to end against the real collector and webd:

- restart: A connects to B and holds it two minutes; webd is restarted;
  /api/graph?at= the middle minute shows A->B, a recorded minute before it
  does not; /api/history/edges, /summary and /series see it too.
- faults (run while the connection is held): the file deleted, then
  overwritten, while webd runs -> webd keeps serving live data and
  /api/status says what happened; a file that cannot be created -> state
  "error" with the reason; a file over a smaller cap -> cut to the cap.
- bad options and bad requests -> clear errors.

Takes about two and a half minutes (the issue's two-minute connection).
Loopback only; every process is stopped by pid."""
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

PASSED = 0
FAILED = 0


def check(cond, what):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        fl.log("ok   %s" % what)
    else:
        FAILED += 1
        fl.log("FAIL %s" % what)


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + \
        ".%03dZ" % (ms % 1000)


def hist(port):
    return fl.status(port)["history"]


def graph_ok(port):
    st, _, body = fl.http(port, "/api/graph")
    return st == 200 and b'"nodes"' in body


def q(port, path, **params):
    st, _, body = fl.http(port, path + "?" + urllib.parse.urlencode(params))
    return st, body.decode("utf-8", "replace")


def wait_status(port, pred, what, timeout=30):
    fl.wait_for(lambda: pred(hist(port)), what, timeout=timeout)


SERVER = r"""
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
while True:
    d = c.recv(65536)
    if not d:
        break
"""


def faults(d, tmp):
    """Deleted, overwritten, uncreatable, over a smaller cap."""
    path = os.path.join(tmp, "faults.sqlite")
    w = d.webd(extra=["--history", path])
    wait_status(w.port, lambda h: h["state"] == "ok", "history ok")
    check(os.path.exists(path), "the history file is created")

    os.unlink(path)
    wait_status(w.port, lambda h: h["last_problem"] is not None and
                "deleted" in h["last_problem"]["text"],
                "status reports the deleted file")
    h = hist(w.port)
    check("deleted" in h["last_problem"]["text"] and h["state"] == "ok",
          "deleted file: reported (%s), state %s" %
          (h["last_problem"]["text"], h["state"]))
    check(os.path.exists(path), "deleted file: a new one is started")
    check(graph_ok(w.port), "deleted file: live graph still served")

    with open(path, "r+b") as f:
        f.write(b"this is not an SQLite file at all" * 4)
    # noticed by the check every 5 s ("overwritten"), or by SQLite when
    # the write landed while webd was opening the new file ("not a
    # database"): either way the file is moved aside
    wait_status(w.port, lambda h: h["last_problem"] is not None and
                ".corrupt" in h["last_problem"]["text"],
                "status reports the overwritten file")
    h = hist(w.port)
    check("not an SQLite file" in h["last_problem"]["text"] or
          "not a database" in h["last_problem"]["text"],
          "overwritten file: reported (%s)" % h["last_problem"]["text"])
    check(os.path.exists(path + ".corrupt"),
          "overwritten file: kept aside as .corrupt")
    check(h["recovered"] >= 2, "recoveries counted (%d)" % h["recovered"])
    check(graph_ok(w.port), "overwritten file: live graph still served")
    d.stop(w)

    # a directory that cannot be made: a regular file in the way
    blocker = os.path.join(tmp, "blocker")
    open(blocker, "w").close()
    bad = os.path.join(blocker, "sub", "h.sqlite")
    w = d.webd(extra=["--history", bad])
    wait_status(w.port, lambda h: h["state"] == "error", "history error")
    h = hist(w.port)
    check(h["state"] == "error" and "cannot create the directory" in
          h["error"] and bad in h["error"],
          "uncreatable file: state error, says why (%s)" % h["error"])
    check(graph_ok(w.port), "uncreatable file: live graph still served")
    st, body = q(w.port, "/api/history/summary")
    check(st == 503 and "cannot open" in body,
          "uncreatable file: history API 503 (%d %s)" % (st, body[:80]))
    d.stop(w)

    # --history none: off, said so
    w = d.webd(extra=["--history", "none"])
    check(hist(w.port)["state"] == "off", "--history none: state off")
    st, body = q(w.port, "/api/graph", at="0")
    check(st == 404 and "history is off" in body,
          "--history none: at= is 404 (%d)" % st)
    d.stop(w)

    # a file far over a smaller cap is cut to it when opened
    big = os.path.join(tmp, "big.sqlite")
    w = d.webd(extra=["--history", big])
    wait_status(w.port, lambda h: h["state"] == "ok", "history ok")
    d.stop(w)
    db = sqlite3.connect(big)
    minute = int(time.time()) // 60 - 2000
    db.execute("INSERT INTO nodes(id, key, kind, first_ms, last_ms) "
               "VALUES(1000000, 'p:1:1', 0, 0, 0)")
    rows = []
    for m in range(minute, minute + 1500):
        for e in range(40):
            rows.append((m, 1000000, 1000000, 1, 10000 + e, 1, 1, 1,
                         123456, 654321))
    db.executemany("INSERT INTO edge_minutes VALUES(?,?,?,?,?,?,?,?,?,?)",
                   rows)
    db.commit()
    db.close()
    before = os.path.getsize(big)
    check(before > 2 << 20, "prefilled file is %d bytes" % before)
    w = d.webd(extra=["--history", big, "--history-max-size", "1M"])
    # cutting 5 MB down (and a VACUUM) before the first write: "starting"
    wait_status(w.port, lambda h: h["state"] == "ok", "history ok",
                timeout=120)
    size = os.path.getsize(big) + (os.path.getsize(big + "-wal")
                                   if os.path.exists(big + "-wal") else 0)
    check(size <= 1 << 20, "over the cap: cut to %d bytes (cap 1 MiB)" % size)
    check(hist(w.port)["size_bytes"] <= 1 << 20, "status size under the cap")
    return w, big


def bad_options():
    for args, want in ((["--history-retention", "7x"], "unknown unit"),
                       (["--history-retention", "30s"], "shorter than a "
                        "minute"),
                       (["--history-max-size", "10K"], "below 1M"),
                       (["--history-max-size", "lots"], "not a size"),
                       (["--history", ""], "empty path")):
        p = subprocess.run([fl.WEBD] + args, capture_output=True, text=True,
                           timeout=30)
        check(p.returncode == 2 and want in p.stderr,
              "%s: exit %d, %s" % (" ".join(args), p.returncode,
                                   p.stderr.strip()))


def bad_requests(port):
    for path, params, want in (
            ("/api/graph", {"at": "yesterday"}, "at:"),
            ("/api/graph", {"at": "2999-01-01T00:00:00Z"}, "future"),
            ("/api/history/edges", {"from": "2000", "to": "1000",
                                    "node": "x"}, "before"),
            ("/api/history/edges", {"from": "0", "node": "x"},
             "longer than"),
            ("/api/history/edges", {"node": "x", "limit": "5000"}, "limit"),
            ("/api/history/summary", {"bogus": "1"}, "unknown parameter"),
            ("/api/history/series", {}, "node or edge")):
        st, body = q(port, path, **params)
        check(st == 400 and want in body,
              "%s %s: 400 '%s' (%d %s)" % (path, params, want, st,
                                            body[:100]))


def main():
    d = fl.Daemons("it_history.")
    server = bg_server = bg = None
    try:
        bad_options()
        d.collector()
        hpath = os.path.join(d.tmp, "history.sqlite")
        w = d.webd(extra=["--history", hpath])
        wait_status(w.port, lambda h: h["state"] == "ok", "history ok")

        # a minute recorded before the connection: an edge of our own in
        # it (a fresh machine may have no other), and several samples of
        # it before the boundary
        bg_server = subprocess.Popen([sys.executable, "-c", SERVER],
                                     stdout=subprocess.PIPE, text=True)
        bg_port = int(bg_server.stdout.readline())
        bg = socket.create_connection(("127.0.0.1", bg_port))
        now = time.time()
        wait = 60 - now % 60 + 1.5
        time.sleep(wait if wait >= 8 else wait + 60)
        before_ms = int(time.time() * 1000) - 30000

        server = subprocess.Popen([sys.executable, "-c", SERVER],
                                  stdout=subprocess.PIPE, text=True)
        port = int(server.stdout.readline())
        a = socket.create_connection(("127.0.0.1", port))
        opened = time.time()
        a.sendall(b"x" * 65536)
        fl.log("A (pid %d) -> B (pid %d) on port %d at %s" %
               (os.getpid(), server.pid, port, rfc3339(int(opened * 1000))))

        w_faults, big = faults(d, d.tmp)
        bad_requests(w.port)

        left = 120 - (time.time() - opened)
        if left > 0:
            time.sleep(left)
        a.close()
        closed = time.time()
        server.wait(timeout=30)
        time.sleep(2)
        # the restart: webd writes the minute so far on its way out
        d.stop(w)
        w = d.webd(extra=["--history", hpath])

        middle = int((opened + closed) / 2 * 1000)
        st, body = q(w.port, "/api/graph", at=rfc3339(middle))
        check(st == 200, "at= middle minute: 200")
        g = fl.json.loads(body)
        pids = {n["id"]: n.get("pid") for n in g["nodes"]}
        hits = [e for e in g["edges"] if pids.get(e["from"]) == os.getpid()
                and pids.get(e["to"]) == server.pid and
                e["server_port"] == port and e["proto"] == "tcp"]
        check(len(hits) == 1 and hits[0]["count"] >= 1,
              "at=%s (middle) shows A->B: %s" % (rfc3339(middle), hits))
        check(g["meta"]["history"]["recorded"], "middle minute recorded")

        st, body = q(w.port, "/api/graph", at=str(before_ms))
        g = fl.json.loads(body)
        pids = {n["id"]: n.get("pid") for n in g["nodes"]}
        check(g["meta"]["history"]["recorded"] and
              [e for e in g["edges"] if pids.get(e["to"]) == bg_server.pid
               and e["server_port"] == bg_port],
              "the minute before was recorded, with the edge open then")
        check(not [e for e in g["edges"] if pids.get(e["to"]) == server.pid
                   and e["server_port"] == port],
              "at=%s (before) does not show A->B" % before_ms)

        rng = dict(frm=str(before_ms), to=str(int(closed * 1000) + 60000))
        st, body = q(w.port, "/api/history/edges", node=":%d" % port,
                     **{"from": rng["frm"], "to": rng["to"]})
        e = fl.json.loads(body)["edges"] if st == 200 else []
        # A->B's own edge; a sample between the client's close and the
        # server's may also hold B's socket with its peer ownerless (an
        # edge from the local endpoint), which is right and not asked here
        e = [x for x in e if x["from"].startswith("p:%d:" % os.getpid())]
        check(len(e) == 1 and e[0]["minutes"] >= 2 and e[0]["opened"] >= 1,
              "history/edges node=:%d, from A: %s" % (port, e))
        if e:
            st, body = q(w.port, "/api/history/series", edge=e[0]["id"],
                         **{"from": rng["frm"], "to": rng["to"]})
            pts = fl.json.loads(body)["points"] if st == 200 else []
            check(len(pts) >= 2 and all(p[1] >= 1 for p in pts),
                  "history/series for the edge: %d points" % len(pts))
        st, body = q(w.port, "/api/history/summary", limit="1000",
                     **{"from": rng["frm"], "to": rng["to"]})
        talkers = fl.json.loads(body)["talkers"] if st == 200 else []
        check(any(t.get("pid") == server.pid for t in talkers),
              "history/summary lists B among %d talkers" % len(talkers))

        # the over-cap file, after its writer wrote minutes of its own
        d.stop(w_faults)
        size = os.path.getsize(big)
        check(size <= 1 << 20, "capped file after writing: %d bytes" % size)
    finally:
        for p in (server, bg_server):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if bg is not None:
            bg.close()
        d.close(keep_logs=FAILED > 0)
        if FAILED:
            fl.log("logs kept in %s" % d.tmp)
    fl.log("it_history: %d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
