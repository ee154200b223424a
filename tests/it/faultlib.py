"""Shared pieces of the fault and soak tests (tests/it_faults.py,
tests/soak.py): starting the real collector and webd from
PROCNET_BUILD_ROOT and stopping them by pid, raw HTTP, a WebSocket client
that applies the stream's deltas, the collector's frames, and RSS from
/proc.  Python stdlib only; loopback only; every wait is bounded.
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

BUILD = os.environ.get("PROCNET_BUILD_ROOT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
COLLECTOR = os.path.join(BUILD, "collector-svc", "procnet-collector")
WEBD = os.path.join(BUILD, "webd", "procnet-webd")
WEB_ROOT = os.path.join(BUILD, "web", "root")

WAIT_S = 30     # upper bound for anything to become true (sanitizer builds are slow)


def log(msg):
    print(msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, what, timeout=WAIT_S, step=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(step)
    raise AssertionError("timed out after %ds waiting for %s (last error: %r)"
                         % (timeout, what, last))


def sanitized():
    """True when BUILD is a sanitizer build (RSS means little there: ASan
    quarantines freed memory)."""
    try:
        with open(os.path.join(BUILD, "meson-info", "intro-buildoptions.json")) as f:
            for o in json.load(f):
                if o.get("name") == "b_sanitize":
                    return o.get("value") not in ("none", "", [])
    except (OSError, ValueError):
        pass
    return False


def rss_kb(pid):
    """VmRSS of pid in KiB, None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


# ---- the daemons ----

class Daemons:
    """A mkdtemp dir with the collector's socket and the logs; every process
    started through it is stopped by pid in close()."""

    def __init__(self, prefix):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.sock = os.path.join(self.tmp, "collector.sock")
        self.procs = []
        self.nlogs = 0

    def spawn(self, argv, name=None):
        self.nlogs += 1
        path = os.path.join(self.tmp, "%s.%d.log" % (
            name or os.path.basename(argv[0]), self.nlogs))
        out = open(path, "wb")
        # A log file, not a pipe: a chatty daemon must never block on us.
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        out.close()
        p.logpath = path
        self.procs.append(p)
        return p

    def collector(self):
        p = self.spawn([COLLECTOR, "--foreground", "--socket", self.sock])
        # The socket may be a stale one a SIGKILL left: wait until this
        # collector answers, not until the path exists.
        def up():
            if p.poll() is not None:
                raise SystemExit("collector exited: %s" % tail(p))
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock)
                return True
            except OSError:
                return False
            finally:
                s.close()
        wait_for(up, "the collector's socket")
        return p

    def webd(self, port=None, extra=(), interval="0.5", wait=True):
        port = port or free_port()
        p = self.spawn([WEBD, "--port", str(port), "--collector", self.sock,
                        "--web-root", WEB_ROOT, "--interval", interval,
                        "--log-level", "debug"] + list(extra))
        p.port = port
        if wait:
            def ready():
                if p.poll() is not None:
                    raise SystemExit("webd exited: %s" % tail(p))
                st = get_json(port, "/api/status")
                return (st["collector"]["state"] == "connected" and
                        st["sample"]["seq"] >= 1)
            wait_for(ready, "webd connected with a first sample")
        return p

    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def close(self, keep_logs=False):
        for p in list(self.procs):
            self.stop(p)
        if not keep_logs:
            shutil.rmtree(self.tmp, ignore_errors=True)


def tail(p, n=40):
    try:
        with open(p.logpath, "rb") as f:
            return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# ---- raw HTTP ----

def raw_request(port, data, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise AssertionError("not an HTTP response: %r" % raw[:200])
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def http(port, path, timeout=30, method="GET", host=None, headers=None,
         version="1.1"):
    """host None is 127.0.0.1:port; host False sends no Host header."""
    if host is None:
        host = "127.0.0.1:%d" % port
    req = "%s %s HTTP/%s\r\n" % (method, path, version)
    if host is not False:
        req += "Host: %s\r\n" % host
    for k, v in (headers or {}).items():
        req += "%s: %s\r\n" % (k, v)
    req += "Connection: close\r\n\r\n"
    return parse_response(raw_request(port, req.encode("latin-1"), timeout))


def get_json(port, path, timeout=30):
    st, _, body = http(port, path, timeout)
    if st != 200:
        raise AssertionError("%s: status %d" % (path, st))
    return json.loads(body)


def status(port):
    return get_json(port, "/api/status")


# ---- WebSocket ----

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WS:
    """A WebSocket client on /api/stream.  recv() blocks; to stop a reader
    thread, shutdown() the socket from another."""

    def __init__(self, port, timeout=60, path="/api/stream", host=None,
                 origin="default"):
        """origin "default" is http://<host>; None sends no Origin."""
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        host = host or "127.0.0.1:%d" % port
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n" % (path, host, key))
        if origin == "default":
            origin = "http://" + host
        if origin is not None:
            req += "Origin: %s\r\n" % origin
        req += "\r\n"
        self.sock.sendall(req.encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = self.sock.recv(4096)
            if not b:
                break
            buf += b
        head, _, self.rest = buf.partition(b"\r\n\r\n")
        self.status, self.headers, _ = parse_response(head + b"\r\n\r\n")
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1(
                (key + WS_GUID).encode()).digest()).decode()
            if self.headers.get("sec-websocket-accept") != want:
                raise AssertionError("bad Sec-WebSocket-Accept")
        self.wlock = threading.Lock()

    def _read(self, n):
        while len(self.rest) < n:
            b = self.sock.recv(max(65536, n - len(self.rest)))
            if not b:
                raise EOFError("websocket closed")
            self.rest += b
        out, self.rest = self.rest[:n], self.rest[n:]
        return out

    def recv(self):
        """Next text message (pings answered, fragments joined)."""
        parts = []
        while True:
            b0, b1 = self._read(2)
            op = b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            if b1 & 0x80:
                raise AssertionError("server frames must not be masked")
            payload = self._read(n)
            if op == 0x9:
                self.send(payload, 0xA)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                raise EOFError("websocket close frame")
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode()

    def recv_json(self):
        return json.loads(self.recv())

    def send(self, payload, op=0x1):
        mask = os.urandom(4)
        hdr = bytes([0x80 | op])
        n = len(payload)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        with self.wlock:
            self.sock.sendall(hdr + mask + masked)

    def close(self):
        try:
            self.send(b"\x03\xe8", 0x8)
        except OSError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def canonical(nodes, edges, meta):
    """One string for a graph state, independent of order."""
    return json.dumps([sorted(nodes.values(), key=lambda n: n["id"]),
                       sorted(edges.values(), key=lambda e: e["id"]), meta],
                      sort_keys=True, separators=(",", ":"))


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def graph_digest(g):
    return digest(canonical({n["id"]: n for n in g["nodes"]},
                            {e["id"]: e for e in g["edges"]}, g["meta"]))


class StreamClient(threading.Thread):
    """Keeps the graph of /api/stream by applying its messages as a browser
    would: a full message replaces the state, a delta with seq = last + 1 is
    applied (removals, additions, updates), anything else is an error.  The
    digest of the state after each seq is kept for the last KEEP versions,
    so it can be compared with /api/graph at a known seq."""

    KEEP = 200

    def __init__(self, port, watch_port=None, digests=True,
                 path="/api/stream"):
        super().__init__(daemon=True)
        self.ws = WS(port, path=path)
        if self.ws.status != 101:
            raise AssertionError("stream refused: %d" % self.ws.status)
        self._init_state(watch_port, digests)

    def _init_state(self, watch_port=None, digests=True):
        """The graph kept, and the counters; apart from the socket so a
        subclass can feed _apply() messages from elsewhere (NATS)."""
        self.keep_digests = digests
        self.nodes, self.edges, self.meta = {}, {}, None
        self.seq = None
        self.digests = {}
        self.fulls = self.deltas = self.statuses = 0
        self.errors = []
        self.collector_states = []
        self.watch_port = watch_port
        self.watch_seen = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.ended = None

    def _apply(self, m):
        t = m["type"]
        if t == "status":
            self.statuses += 1
            if len(self.collector_states) < 1000:
                self.collector_states.append(m.get("collector"))
            return
        if t == "full":
            g = m["graph"]
            self.nodes = {n["id"]: n for n in g["nodes"]}
            self.edges = {e["id"]: e for e in g["edges"]}
            self.meta = g["meta"]
            self.fulls += 1
        elif t == "delta":
            if self.seq is None or m["seq"] != self.seq + 1:
                self.errors.append("delta seq %s after %s" % (m["seq"], self.seq))
                return
            for part, table in (("nodes", self.nodes), ("edges", self.edges)):
                d = m[part]
                for i in d["remove"]:
                    if table.pop(i, None) is None:
                        self.errors.append("seq %d removes unknown %s" % (m["seq"], i))
                for x in d["add"]:
                    if x["id"] in table:
                        self.errors.append("seq %d adds existing %s" % (m["seq"], x["id"]))
                    table[x["id"]] = x
                for x in d["update"]:
                    if x["id"] not in table:
                        self.errors.append("seq %d updates unknown %s" % (m["seq"], x["id"]))
                    table[x["id"]] = x
            self.meta = m["meta"]
            self.deltas += 1
        else:
            self.errors.append("unknown message type %r" % t)
            return
        self.seq = m["seq"]
        if self.watch_port is not None and any(
                e.get("server_port") == self.watch_port for e in self.edges.values()):
            self.watch_seen += 1
        if self.keep_digests:
            self.digests[self.seq] = digest(canonical(self.nodes, self.edges, self.meta))
            self.digests.pop(self.seq - self.KEEP, None)

    def run(self):
        try:
            while True:
                m = self.ws.recv_json()
                with self.lock:
                    self._apply(m)
        except (EOFError, OSError, ValueError) as e:
            self.ended = repr(e)
            if not self.stopping:
                self.errors.append("stream ended: %r" % e)

    def describe(self):
        return ("seq %s, %d full, %d deltas, %d status, errors %s, ended %s"
                % (self.seq, self.fulls, self.deltas, self.statuses,
                   self.errors[:3], self.ended))

    def digest_at(self, seq):
        with self.lock:
            return self.seq, self.digests.get(seq)

    def stop(self):
        self.stopping = True
        self.ws.close()
        self.join(timeout=10)


# ---- the collector's protocol (docs/protocol.md) ----

MAGIC = 0x54454E50
HELLO, SUBSCRIBE, SNAPSHOT, ERROR = 1, 2, 3, 4


def frame(ftype, payload, version=1):
    return struct.pack("<IHHII", MAGIC, version, ftype, len(payload), 0) + payload


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return buf
        buf += chunk
    return buf


def read_header(s):
    """(type, length) of the next frame, None at EOF."""
    h = recv_exact(s, 16)
    if len(h) < 16:
        return None
    magic, _ver, ftype, n, _res = struct.unpack("<IHHII", h)
    if magic != MAGIC:
        raise AssertionError("bad magic from the collector")
    return ftype, n


def collector_subscriber(path, interval_ms=100, rcvbuf=None, agent=b"it_faults"):
    """A raw client that has said HELLO and SUBSCRIBE and read the HELLO
    answer; the caller reads the SNAPSHOT frames (or never does)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(WAIT_S)
    s.connect(path)
    s.sendall(frame(HELLO, struct.pack("<HHH", 1, 1, len(agent)) + agent))
    hdr = read_header(s)
    if hdr is None or hdr[0] != HELLO:
        raise AssertionError("no HELLO from the collector: %r" % (hdr,))
    recv_exact(s, hdr[1])
    s.sendall(frame(SUBSCRIBE, struct.pack("<II", interval_ms, 0)))
    return s
