#!/usr/bin/env python3
"""Integration test of the collector protocol (docs/protocol.md, issue 3).

Starts `procnet-collector --foreground --socket PATH` in a mkdtemp dir and
checks, in order:
  - the socket and the directory it creates are never writable by everyone
    (0600 / 0700, or 0660 / 0750 with the group `procnet`);
  - a second collector refuses a live socket, and a path that is not a
    socket is never removed;
  - two subscribers (tests/ipc_client, webd/subscriber.c) keep receiving
    while rogue clients send garbage, oversized frames, frames out of
    order, an unsupported version, stay silent, never read, or flood the
    client cap; every rogue is dropped with a logged reason;
  - UDP is sampled only when a subscriber asks for it;
  - after SIGKILL the stale socket is replaced by a restarted collector and
    the subscriber resumes by itself.
Everything it starts is stopped by PID.  Waits are bounded loops; nothing
asserts on how long anything took.
"""
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import grp

BUILD = os.environ.get("PROCNET_BUILD_ROOT", "build")
COLLECTOR = os.path.join(BUILD, "collector-svc", "procnet-collector")
CLIENT = os.path.join(BUILD, "tests", "ipc_client")
LIMIT = 60.0          # seconds any one wait may last before failing

MAGIC = 0x54454E50
HELLO, SUBSCRIBE, SNAPSHOT, ERROR = 1, 2, 3, 4

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def wait_for(pred, limit=LIMIT, step=0.05):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def frame(ftype, payload, version=1, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<IHHII", MAGIC, version, ftype, n, 0) + payload


def hello(vmin=1, vmax=1, agent=b"it_ipc"):
    return frame(HELLO, struct.pack("<HHH", vmin, vmax, len(agent)) + agent)


def subscribe(interval_ms=100, udp=False, version=1):
    return frame(SUBSCRIBE, struct.pack("<II", interval_ms, 1 if udp else 0),
                 version=version)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frame(s):
    """(type, payload, version) or None at EOF."""
    h = recv_exact(s, 16)
    if h is None:
        return None
    magic, ver, ftype, n, _res = struct.unpack("<IHHII", h)
    if magic != MAGIC:
        return ("badmagic", h, 0)
    p = recv_exact(s, n)
    return (ftype, p, ver)


def error_text(fr):
    if fr is None or fr[0] != ERROR:
        return None
    n = struct.unpack("<H", fr[1][:2])[0]
    return fr[1][2:2 + n].decode(errors="replace")


def connect(path):
    """Connects, waiting (bounded) while the listen backlog is full."""
    end = time.monotonic() + LIMIT
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(LIMIT)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


def until_closed(s):
    """Reads until EOF; returns the frames seen (bounded by LIMIT)."""
    frames = []
    try:
        while True:
            fr = read_frame(s)
            if fr is None:
                return frames
            frames.append(fr)
    except (socket.timeout, ConnectionResetError):
        frames.append(("timeout", None, 0))
        return frames


class Proc:
    """A child whose stdout (or stderr) lines are collected by a thread."""

    def __init__(self, argv, stream="stdout"):
        kw = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        self.p = subprocess.Popen(argv, text=True, **kw)
        self.lines = []
        self.err = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._pump, args=(self.p.stdout,
                             self.lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.p.stderr,
                             self.err), daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, f, into):
        for line in f:
            with self.lock:
                into.append(line.rstrip("\n"))

    def wait(self):
        """Exit code, once the child ended and its output is all read."""
        rc = self.p.wait(timeout=LIMIT)
        for t in self.threads:
            t.join(timeout=LIMIT)
        return rc

    def out(self):
        with self.lock:
            return list(self.lines)

    def log(self):
        with self.lock:
            return "\n".join(self.err)

    def snapshots(self):
        return [l for l in self.out() if l.startswith("snapshot ")]

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=LIMIT)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def start_collector(path):
    c = Proc([COLLECTOR, "--foreground", "--socket", path])
    wait_for(lambda: "listening on" in c.log() or c.p.poll() is not None)
    return c


def still_receiving(clients, more=3):
    """Each client gets `more` further snapshots (bounded wait)."""
    base = [len(c.snapshots()) for c in clients]
    return all(wait_for(lambda c=c, b=b: len(c.snapshots()) >= b + more)
               for c, b in zip(clients, base))


def test_permissions(tmp, path, coll):
    st = os.stat(path)
    dst = os.stat(os.path.dirname(path))
    try:
        gid = grp.getgrnam("procnet").gr_gid
    except KeyError:
        gid = None
    check(stat.S_ISSOCK(st.st_mode), "socket exists")
    check(st.st_mode & 0o002 == 0, "socket not world-writable (%o)"
          % (st.st_mode & 0o777))
    check(st.st_mode & 0o007 == 0, "socket gives others nothing")
    check(dst.st_mode & 0o002 == 0, "socket dir not world-writable (%o)"
          % (dst.st_mode & 0o777))
    if gid is None:
        check(stat.S_IMODE(st.st_mode) == 0o600, "no procnet group: 0600")
        check(stat.S_IMODE(dst.st_mode) == 0o700, "created dir 0700")
    else:
        check(stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == gid,
              "procnet group: 0660 and group procnet")

    # a second collector must not take over a live socket
    second = Proc([COLLECTOR, "--foreground", "--socket", path])
    rc = second.wait()
    check(rc != 0, "second collector on a live socket exits non-zero")
    check("another collector" in second.log(), "... and says why")
    check(coll.p.poll() is None and os.path.exists(path),
          "first collector and its socket untouched")

    # a path that is not a socket is left alone
    plain = os.path.join(tmp, "not-a-socket")
    with open(plain, "w") as f:
        f.write("keep me\n")
    third = Proc([COLLECTOR, "--foreground", "--socket", plain])
    rc = third.wait()
    check(rc != 0 and "not a socket" in third.log(),
          "regular file at the socket path: refused")
    with open(plain) as f:
        check(f.read() == "keep me\n", "regular file kept")


def test_handshake(path, coll):
    s = connect(path)
    s.sendall(hello(1, 3))
    fr = read_frame(s)
    ok = fr is not None and fr[0] == HELLO
    check(ok, "HELLO answered with HELLO")
    if ok:
        vmin, vmax = struct.unpack("<HH", fr[1][:4])
        check(vmin == vmax == 2, "collector picks version 2 of 1..3")
    s.sendall(subscribe(100, version=2))
    fr = read_frame(s)
    check(fr is not None and fr[0] == SNAPSHOT and len(fr[1]) > 0,
          "SUBSCRIBE answered with SNAPSHOT frames")
    s.close()


    # the interval is clamped to 100 ms .. 60 s.  Client lines pass the
    # collector's limiter at 10 a second: start these in a fresh window so
    # the lines of the connections above cannot crowd them out.
    time.sleep(1.2)
    for asked in (1, 4000000000):
        s = connect(path)
        s.sendall(hello())
        read_frame(s)
        s.sendall(subscribe(asked))
        s.close()
    check(wait_for(lambda: "interval 100 ms" in coll.log() and
                   "interval 60000 ms" in coll.log()),
          "intervals clamped to 100 ms and 60000 ms")

    # the HELLO agent is the client's text: logged as one printable token
    # (retried, bounded: client lines are rate-limited to 10 a second)
    seen = False
    for _ in range(5):
        s = connect(path)
        s.sendall(hello(agent=b"evil\nFORGED line \x1b[2J\x7f\xc3\xa9"))
        read_frame(s)
        s.sendall(subscribe(1000))
        seen = wait_for(lambda: "evil?FORGED line ?[2J?\u00e9" in coll.log(),
                        limit=2)
        s.close()
        if seen:
            break
    check(seen, "agent logged with control bytes replaced")
    check("\nFORGED" not in coll.log() and "\x1b" not in coll.log(),
          "no forged log line, no escape sequence")

    s = connect(path)
    s.sendall(hello(3, 5))
    text = error_text(read_frame(s))
    check(text is not None and "no common protocol version" in text,
          "HELLO 3..5 refused with ERROR: %s" % text)
    s.close()

    # a version-1 client beside a version-2 one: each gets its own
    # encoding of the same samples
    old, new = connect(path), connect(path)
    old.sendall(hello(1, 1))
    new.sendall(hello(1, 2))
    fo, fn = read_frame(old), read_frame(new)
    check(fo is not None and struct.unpack("<HH", fo[1][:4]) == (1, 1) and
          fn is not None and struct.unpack("<HH", fn[1][:4]) == (2, 2),
          "HELLO 1..1 gets version 1, 1..2 gets version 2")
    old.sendall(subscribe(100, version=1))
    new.sendall(subscribe(100, version=2))
    fo, fn = read_frame(old), read_frame(new)
    check(fo is not None and fo[0] == SNAPSHOT and fo[2] == 1 and
          fn is not None and fn[0] == SNAPSHOT and fn[2] == 2,
          "SNAPSHOT frames in each client's version")
    old.close()
    new.close()


def rogue_garbage(path):
    s = connect(path)
    s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    frames = until_closed(s)
    s.close()
    return frames


def test_rogues(path, coll, good):
    base_log = len(coll.log())

    frames = rogue_garbage(path)
    check(any(error_text(f) and "bad magic" in error_text(f)
              for f in frames), "garbage: ERROR 'bad magic', then closed")

    s = connect(path)
    s.sendall(frame(HELLO, b"", length=64 * 1024 * 1024))
    frames = until_closed(s)
    s.close()
    check(any(error_text(f) and "exceeds" in error_text(f) for f in frames),
          "oversized frame: dropped")

    # in the collector's newest version, so that only the order is wrong
    s = connect(path)
    s.sendall(subscribe(version=2))
    frames = until_closed(s)
    s.close()
    check(any(error_text(f) and "before HELLO" in error_text(f)
              for f in frames), "SUBSCRIBE before HELLO: dropped")

    s = connect(path)
    s.sendall(hello())
    read_frame(s)
    s.sendall(frame(SNAPSHOT, b"\0" * 8))
    frames = until_closed(s)
    s.close()
    check(any(error_text(f) and "SNAPSHOT" in error_text(f)
              for f in frames), "client sending SNAPSHOT: dropped")

    s = connect(path)
    s.sendall(hello())
    read_frame(s)
    s.sendall(subscribe())
    read_frame(s)
    s.sendall(frame(ERROR, struct.pack("<H", 2) + b"hi"))
    frames = until_closed(s)
    s.close()
    check(any(error_text(f) and "only SUBSCRIBE" in error_text(f)
              for f in frames), "ERROR from a subscribed client: dropped")

    s = connect(path)
    s.sendall(hello()[:10])     # half a header, then nothing
    silent = connect(path)      # nothing at all
    t0 = time.monotonic()
    f1 = until_closed(s)
    f2 = until_closed(silent)
    s.close()
    silent.close()
    check(("timeout", None, 0) not in f1 and ("timeout", None, 0) not in f2,
          "silent clients are timed out by the collector (%.1f s)"
          % (time.monotonic() - t0))

    # a subscriber that never reads: the others must not notice
    stuck = connect(path)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(hello())
    read_frame(stuck)
    stuck.sendall(subscribe(100, udp=True))
    check(still_receiving(good, 5), "good subscribers keep receiving "
          "while one never reads")

    # flood past the client cap
    flood = []
    refused = 0
    for _ in range(40):
        try:
            flood.append(connect(path))
        except OSError:
            break
    for f in flood:
        f.settimeout(0.2)
        try:
            fr = read_frame(f)
            if error_text(fr) == "too many clients":
                refused += 1
        except (socket.timeout, OSError):
            pass
    check(refused > 0, "client cap: %d of %d refused with "
          "'too many clients'" % (refused, len(flood)))
    for f in flood:
        f.close()
    stuck.close()

    check(coll.p.poll() is None, "collector still running")
    check(still_receiving(good), "good subscribers still receiving after "
          "all rogues")
    log = coll.log()[base_log:]
    for reason in ("bad magic", "exceeds the limit", "before HELLO",
                   "where SUBSCRIBE was expected", "only SUBSCRIBE",
                   "silent too long", "refused"):
        check(reason in log, "collector logged '%s'" % reason)
    check("connected (pid=" in coll.log(), "peer credentials logged")


def udp_count(line):
    return int(line.rsplit("udp=", 1)[1])


def test_udp(path, good):
    # a UDP socket of our own, so there is one to see
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    # only non-UDP subscribers: no UDP in the samples
    last = wait_for(lambda: good[0].snapshots()[-1:])
    check(last and udp_count(last[-1]) == 0,
          "no subscriber wants UDP: none sampled")
    once = subprocess.run([CLIENT, "--socket", path, "--once", "--udp",
                           "--seconds", "20"], capture_output=True,
                          text=True, timeout=LIMIT + 10)
    ok = once.returncode == 0 and once.stdout.startswith("snapshot ")
    check(ok, "fetch_once with UDP: %s" % once.stdout.strip())
    if ok:
        check(udp_count(once.stdout.strip()) > 0, "UDP sampled when asked")
    u.close()


def test_restart(path, coll, good):
    coll.stop(signal.SIGKILL)
    check(os.path.exists(path), "SIGKILL leaves a stale socket behind")
    check(wait_for(lambda: any("state connecting" in l
                               for l in good[0].out())),
          "subscriber notices the collector is gone")
    before = len(good[0].snapshots())
    t0 = time.monotonic()
    coll2 = start_collector(path)
    check(coll2.p.poll() is None, "restarted collector replaces the stale "
          "socket")
    resumed = wait_for(lambda: len(good[0].snapshots()) > before)
    took = time.monotonic() - t0
    check(resumed and wait_for(lambda: len(good[0].snapshots()) >=
                               before + 3),
          "subscriber resumes by itself after the restart (first snapshot "
          "%.1f s after the restart)" % took)
    check(any(l.startswith("state connected") for l in
              good[0].out()[-20:] + good[0].out()), "state back to connected")
    return coll2


def main():
    for exe in (COLLECTOR, CLIENT):
        if not os.access(exe, os.X_OK):
            print("missing %s (build first)" % exe)
            return 1
    tmp = tempfile.mkdtemp(prefix="procnet-it-ipc-")
    path = os.path.join(tmp, "run", "collector.sock")
    procs = []
    try:
        coll = start_collector(path)
        procs.append(coll)
        if not check(coll.p.poll() is None and os.path.exists(path),
                     "collector listening on %s" % path):
            print(coll.log())
            return 1
        test_permissions(tmp, path, coll)
        test_handshake(path, coll)

        good = [Proc([CLIENT, "--socket", path, "--interval", iv,
                      "--count", "100000", "--seconds", "170"])
                for iv in ("100", "200")]
        procs += good
        check(still_receiving(good), "two subscribers receiving")
        test_udp(path, good)
        test_rogues(path, coll, good)
        coll2 = test_restart(path, coll, good)
        procs.append(coll2)
        for g in good:
            g.stop()
        check(wait_for(lambda: "no subscribers, sampling paused"
                       in coll2.log()), "no subscribers: sampling paused")
        coll2.stop()
        check(coll2.p.returncode == 0, "collector stops cleanly on SIGTERM")
        check(not os.path.exists(path), "socket removed on clean stop")
        if failures:
            print("--- collector log ---\n" + coll.log()[-4000:])
            print("--- restarted collector log ---\n" + coll2.log()[-2000:])
            print("--- client 1 ---\n" + "\n".join(good[0].out()[-30:]))
    finally:
        for p in procs:
            p.stop()
        for root, dirs, files in os.walk(tmp, topdown=False):
            for n in files:
                os.unlink(os.path.join(root, n))
            for n in dirs:
                os.rmdir(os.path.join(root, n))
        os.rmdir(tmp)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
