#!/usr/bin/env python3
"""Integration test of procnet-webd against the real procnet-collector.

Starts the collector in daemon mode on a socket in a temporary directory and
webd on a free loopback port, then checks every route, the request policy
(Host, Origin, methods, traversal in plain, encoded and double-encoded
forms), the icon fallback chain, the WebSocket handshake and first messages,
bad options, 20 concurrent clients, hostile requests, collector loss and
recovery, and rules reloads.  Everything it starts it stops, by pid.
Python stdlib only.
"""
import functools
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (COLLECTOR, WEBD, free_port, log,  # noqa: E402
                      parse_response, raw_request, tail)
import faultlib  # noqa: E402


WAIT_S = 20          # upper bound for anything to become true
SECRET = b"procnet-it-secret-3f9a1c"
PNG_SERVICE = b"\x89PNG\r\n\x1a\nservice"
PNG_MQ = b"\x89PNG\r\n\x1a\nmq"

failures = []
procs = []


# faultlib's helpers with this test's own, shorter bounds.
wait_for = functools.partial(faultlib.wait_for, timeout=WAIT_S)
http = functools.partial(faultlib.http, timeout=10)
get_json = functools.partial(faultlib.get_json, timeout=10)
WS = functools.partial(faultlib.WS, timeout=15)


LOGS = []


def start(argv, logdir):
    """Starts argv with its output in a file (a pipe nobody reads would
    block a chatty daemon)."""
    path = os.path.join(logdir, "%s.%d.log" % (os.path.basename(argv[0]), len(LOGS)))
    out = open(path, "wb")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    p.logpath = path
    procs.append(p)
    LOGS.append(path)
    return p


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in procs:
        procs.remove(p)


# ---- fixture ----

class Env:
    pass


def start_collector(env):
    p = start([COLLECTOR, "--foreground", "--socket", env.sock], env.tmp)
    wait_for(lambda: os.path.exists(env.sock) or p.poll() is not None,
             "collector socket")
    if p.poll() is not None:
        raise AssertionError("collector exited: %s" % tail(p))
    return p


def webd_argv(env, port, extra=()):
    return [WEBD, "--port", str(port), "--collector", env.sock,
            "--web-root", env.root, "--icons-dir", env.icons,
            "--interval", "0.2", "--log-level", "debug"] + list(extra)


def start_webd(env, extra=()):
    port = free_port()
    p = start(webd_argv(env, port, extra), env.tmp)

    def ready():
        if p.poll() is not None:
            raise SystemExit("webd exited: %s" % tail(p))
        st = get_json(port, "/api/status")
        return st["collector"]["state"] == "connected" and st["sample"]["seq"] >= 1
    wait_for(ready, "webd connected with a first sample")
    return p, port


def setup():
    env = Env()
    env.tmp = tempfile.mkdtemp(prefix="procnet-it-webd.")
    env.sock = os.path.join(env.tmp, "collector.sock")
    env.root = os.path.join(env.tmp, "www")
    env.icons = os.path.join(env.tmp, "icons")
    os.makedirs(os.path.join(env.root, "js"))
    os.makedirs(os.path.join(env.root, "sub", "deeper"))
    os.makedirs(env.icons)
    with open(os.path.join(env.root, "index.html"), "w") as f:
        f.write("<!doctype html><title>it</title>\n")
    with open(os.path.join(env.root, "js", "app.js"), "w") as f:
        f.write("export const x = 1;\n")
    with open(os.path.join(env.root, "style.css"), "w") as f:
        f.write("body{}\n")
    with open(os.path.join(env.root, ".hidden"), "wb") as f:
        f.write(SECRET)
    with open(os.path.join(env.tmp, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.symlink(os.path.join(env.tmp, "secret.txt"),
               os.path.join(env.root, "link.txt"))
    with open(os.path.join(env.icons, "service.png"), "wb") as f:
        f.write(PNG_SERVICE)
    with open(os.path.join(env.icons, "mq.png"), "wb") as f:
        f.write(PNG_MQ)
    env.collector = start_collector(env)
    env.webd, env.port = start_webd(env)
    return env


# ---- tests ----

def t_index(env):
    st, h, body = http(env.port, "/")
    assert st == 200, st
    assert h["content-type"].startswith("text/html"), h
    assert body == b"<!doctype html><title>it</title>\n", body
    csp = h.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, csp
    assert h.get("x-content-type-options") == "nosniff", h
    assert "referrer-policy" in h, h
    assert "access-control-allow-origin" not in h, h


def t_static_mime(env):
    st, h, body = http(env.port, "/js/app.js")
    assert st == 200 and h["content-type"].startswith("text/javascript"), (st, h)
    st, h, _ = http(env.port, "/style.css")
    assert st == 200 and h["content-type"].startswith("text/css"), (st, h)
    st, h, body = http(env.port, "/js/app.js", method="HEAD")
    assert st == 200 and body == b"", (st, body)
    assert h["content-length"] == str(len("export const x = 1;\n")), h


def t_no_cors(env):
    st, h, _ = http(env.port, "/api/graph",
                    headers={"Origin": "http://evil.example"})
    assert st == 200, st
    assert not any(k.startswith("access-control-") for k in h), h


def t_graph(env):
    st, h, body = http(env.port, "/api/graph")
    assert st == 200 and h["content-type"] == "application/json", (st, h)
    g = json.loads(body)
    assert isinstance(g["nodes"], list) and isinstance(g["edges"], list), g.keys()
    assert "meta" in g
    # webd listens, so it has a socket and must be on the map (from the
    # first sample taken after it began to listen)
    def webd_node():
        g = get_json(env.port, "/api/graph")
        return [n for n in g["nodes"] if n.get("kind") == "process"
                and n.get("pid") == env.webd.pid]
    n = wait_for(webd_node, "webd's own node")[0]
    assert any(lst.get("port") == env.port for lst in n.get("listen", [])), n


def t_status(env):
    s = get_json(env.port, "/api/status")
    assert s["collector"]["state"] == "connected", s
    assert s["sample"]["seq"] >= 1, s
    assert s["sample"]["age_ms"] is not None and s["sample"]["age_ms"] >= 0, s
    assert "sample_ms" in s["sample"] and "build_ms" in s["sample"], s
    assert s["counts"]["nodes"] >= 1 and s["counts"]["processes"] >= 1, s
    assert s["rules"]["file"] is None and s["rules"]["error"] is None, s
    assert s["version"], s


def t_not_found(env):
    for path in ("/nope.html", "/api/nope", "/api", "/sub/", "/sub",
                 "/sub/deeper/", "/.hidden", "/js/"):
        st, h, body = http(env.port, path)
        assert st == 404, (path, st)
        assert SECRET not in body
        assert h.get("x-content-type-options") == "nosniff", (path, h)
    st, h, _ = http(env.port, "/api/stream")
    assert st == 426, st


def t_host(env):
    p = env.port
    for host in ("127.0.0.1:%d" % p, "localhost:%d" % p, "[::1]:%d" % p,
                 "LOCALHOST:%d" % p):
        st, _, _ = http(p, "/api/status", host=host)
        assert st == 200, (host, st)
    for host in ("evil.example:%d" % p, "evil.example", "127.0.0.1",
                 "127.0.0.1:%d" % (p + 1), "localhost.evil.example:%d" % p,
                 "127.0.0.1.nip.io:%d" % p, ""):
        for path in ("/", "/api/graph", "/api/status"):
            st, _, body = http(p, path, host=host)
            assert 400 <= st < 500, (host, path, st)
            assert b'"nodes"' not in body
    st, _, _ = http(p, "/api/graph", host=False, version="1.0")
    assert 400 <= st < 500, st


def t_methods(env):
    for m in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND",
              "MKCOL"):
        st, h, _ = http(env.port, "/api/graph", method=m)
        assert st == 405, (m, st)
        assert "GET" in h.get("allow", ""), (m, h)


def t_traversal(env):
    paths = [
        "/../secret.txt", "/../../../../etc/passwd",
        "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/%2e%2e%2fsecret.txt",
        "/..%2fsecret.txt", "/.%2e/secret.txt",
        "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt",
        "/%25252e%25252e/secret.txt",
        "/..\\secret.txt", "/..%5csecret.txt", "/%2e%2e%5csecret.txt",
        "/js/../../secret.txt", "/js/%2e%2e/%2e%2e/secret.txt",
        "/icons/../../secret.txt", "/icons/..%2f..%2fsecret.txt",
        "/icons/%2e%2e/secret.txt", "/icons/%252e%252e%252fsecret.png",
        "/link.txt", "/%00index.html", "/index.html%00.png",
        "//../secret.txt", "/./../secret.txt",
        "/" + env.tmp + "/secret.txt",
    ]
    for path in paths:
        raw = raw_request(env.port, ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                     "Connection: close\r\n\r\n"
                                     % (path, env.port)).encode(),
                          timeout=10)
        assert SECRET not in raw, path
        if raw:
            st, _, _ = parse_response(raw)
            assert 400 <= st < 500, (path, st)


def t_icons(env):
    st, h, body = http(env.port, "/icons/database.png")
    assert st == 200 and body == PNG_SERVICE, (st, body)
    assert h["content-type"] == "image/png", h
    st, _, body = http(env.port, "/icons/message_broker.png")
    assert st == 200 and body == PNG_MQ, (st, body)
    st, _, body = http(env.port, "/icons/mq.png")
    assert st == 200 and body == PNG_MQ, (st, body)
    for bad in ("/icons/a.b.png", "/icons/database", "/icons/.png",
                "/icons/", "/icons/%2e%2e.png", "/icons/" + "a" * 200 + ".png"):
        st, _, _ = http(env.port, bad)
        assert 400 <= st < 500, (bad, st)
    # the end of the chain: no service.png either -> 404
    os.rename(os.path.join(env.icons, "service.png"),
              os.path.join(env.icons, "service.off"))
    try:
        st, _, _ = http(env.port, "/icons/database.png")
        assert st == 404, st
        st, _, body = http(env.port, "/icons/message_broker.png")
        assert st == 200 and body == PNG_MQ, st
    finally:
        os.rename(os.path.join(env.icons, "service.off"),
                  os.path.join(env.icons, "service.png"))


def t_websocket(env):
    ws = WS(env.port)
    assert ws.status == 101, ws.status
    first = ws.recv_json()
    assert first["type"] == "full", first.get("type")
    assert isinstance(first["graph"]["nodes"], list), first["graph"].keys()
    assert isinstance(first["graph"]["edges"], list)
    seq = first["seq"]
    # the next graph message is the delta that follows, or (if we were
    # slow) a fresh full graph; a status message may come in between
    deadline = time.monotonic() + WAIT_S
    got = None
    while time.monotonic() < deadline:
        m = ws.recv_json()
        if m["type"] in ("delta", "full"):
            got = m
            break
        assert m["type"] == "status", m["type"]
    assert got is not None, "no message after the full graph"
    if got["type"] == "delta":
        assert got["seq"] == seq + 1, (seq, got["seq"])
        for k in ("add", "update", "remove"):
            assert k in got["nodes"] and k in got["edges"], got.keys()
    ws.close()
    # the UI's own origin spelled with localhost, when the page was loaded so
    ws = WS(env.port, host="localhost:%d" % env.port)
    assert ws.status == 101, ws.status
    assert ws.recv_json()["type"] == "full"
    ws.close()


def t_websocket_refused(env):
    p = env.port
    for origin in ("http://evil.example", "http://localhost:%d" % p,
                   "null", "", "https://127.0.0.1:%d" % p):
        ws = WS(p, origin=origin)
        assert ws.status == 403, (origin, ws.status)
        ws.sock.close()
    ws = WS(p, host="evil.example:%d" % p, origin="http://evil.example:%d" % p)
    assert ws.status == 403, ws.status
    ws.sock.close()
    ws = WS(p, path="/api/graph")
    assert ws.status == 404, ws.status
    ws.sock.close()


def close_code(ws):
    """Reads frames until the server's close; its status code, or None when
    the connection ended without one."""
    try:
        while True:
            b0, b1 = ws._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", ws._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", ws._read(8))[0]
            payload = ws._read(n)
            if b0 & 0x0F == 0x8:
                return struct.unpack("!H", payload[:2])[0]
    except (EOFError, ConnectionResetError):
        return None
    finally:
        ws.sock.close()


def t_websocket_client_frames(env):
    """No Origin is no browser: allowed.  A client may send pongs; a data
    frame, small or big, ends the connection with 1003."""
    ws = WS(env.port, origin=None, timeout=15)
    assert ws.status == 101, ws.status
    assert ws.recv_json()["type"] == "full"
    for _ in range(3):
        ws.send(b"", 0xA)                 # unsolicited pongs are fine
    ws.send(b"hello", 0x1)                # a data frame is not
    assert close_code(ws) == 1003
    ws = WS(env.port, timeout=15)
    assert ws.status == 101, ws.status
    ws.send(b"x" * 70000, 0x2)
    assert close_code(ws) == 1003
    st = get_json(env.port, "/api/status")
    assert st["stream"]["refused_frames"] >= 2, st["stream"]


def t_concurrent(env):
    n = 20
    results = [None] * n

    def worker(i):
        try:
            path = ("/api/graph", "/api/status", "/", "/icons/database.png")[i % 4]
            st, _, body = http(env.port, path)
            results[i] = st
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = repr(e)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [200] * n, results
    # and stream clients alongside
    socks = [WS(env.port) for _ in range(5)]
    try:
        for w in socks:
            assert w.status == 101 and w.recv_json()["type"] == "full"
    finally:
        for w in socks:
            w.close()
    # and every slot is given back; a client that drops the TCP connection
    # in the middle of the handshake does not keep one either
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", env.port), timeout=5)
        s.sendall(("GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Origin: http://127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                   % (env.port, env.port)).encode())
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    wait_for(lambda: get_json(env.port, "/api/status")["stream"]["clients"] == 0,
             "stream clients back to 0")


def t_hostile(env):
    p = env.port
    # a very long URI, a flood of headers, an oversized header: refused or
    # answered, never a crash
    for req in [
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % p,
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % p
        + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Big: " % p + b"b" * 40000 + b"\r\n\r\n",
        b"GET /" + b"a" * 1500 + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % p,
        b"\x00\x01\x02garbage\r\n\r\n",
        b"GET\r\n\r\n",
    ]:
        try:
            raw = raw_request(p, req, timeout=10)
        except OSError:
            raw = b""
        if raw.startswith(b"HTTP/"):
            st, _, _ = parse_response(raw)
            assert st >= 400 or st == 200, st
    assert env.webd.poll() is None, "webd died"
    st, _, _ = http(p, "/api/status")
    assert st == 200, st


def t_collector_loss(env):
    ws = WS(env.port)
    assert ws.status == 101
    assert ws.recv_json()["type"] == "full"
    env.collector.send_signal(signal.SIGKILL)
    env.collector.wait()
    procs.remove(env.collector)
    wait_for(lambda: get_json(env.port, "/api/status")["collector"]["state"]
             != "connected", "status to say the collector is gone")
    # the stream says so too
    deadline = time.monotonic() + WAIT_S
    said = False
    while time.monotonic() < deadline and not said:
        m = ws.recv_json()
        said = m["type"] == "status" and m["collector"] != "connected"
    assert said, "no status message about the lost collector"
    # webd keeps serving the last picture meanwhile
    st, _, _ = http(env.port, "/api/graph")
    assert st == 200, st
    seq = get_json(env.port, "/api/status")["sample"]["seq"]
    if os.path.exists(env.sock):
        os.unlink(env.sock)     # what a SIGKILL leaves behind
    env.collector = start_collector(env)
    wait_for(lambda: get_json(env.port, "/api/status")["collector"]["state"]
             == "connected", "reconnect")
    wait_for(lambda: get_json(env.port, "/api/status")["sample"]["seq"] > seq,
             "new samples after the reconnect")
    deadline = time.monotonic() + WAIT_S
    back = False
    while time.monotonic() < deadline and not back:
        m = ws.recv_json()
        back = m["type"] == "status" and m["collector"] == "connected"
    assert back, "no status message about the reconnect"
    ws.close()


GOOD_RULES = """- match_name: "/procnet-webd/"
  type: service
  label: "webd under test"
"""
BAD_RULES = """- match_name: "x"
  label: "no type here"
"""


def t_rules_reload(env):
    path = os.path.join(env.tmp, "rules.yaml")
    with open(path, "w") as f:
        f.write(GOOD_RULES)
    p, port = start_webd(env, ["--rules", path])
    try:
        def webd_type():
            g = get_json(port, "/api/graph")
            for n in g["nodes"]:
                if n.get("pid") == p.pid:
                    return n["type"], n["label"]
            return None
        assert wait_for(webd_type, "webd's own node") == ("service", "webd under test")
        s = get_json(port, "/api/status")
        assert s["rules"]["file"] and s["rules"]["error"] is None, s["rules"]
        # a bad file: the old rules stay, the error is reported with a position
        with open(path, "w") as f:
            f.write(BAD_RULES + "# changed\n")
        err = wait_for(lambda: get_json(port, "/api/status")["rules"]["error"],
                       "rules error in status")
        assert "rules.yaml:" in err, err
        assert webd_type() == ("service", "webd under test")
        # fixed again, picked up by mtime; then SIGHUP forces a reload
        with open(path, "w") as f:
            f.write(GOOD_RULES.replace("webd under test", "relabelled"))
        wait_for(lambda: webd_type() == ("service", "relabelled"), "relabel")
        assert get_json(port, "/api/status")["rules"]["error"] is None
        with open(path, "w") as f:
            f.write(GOOD_RULES.replace("webd under test", "after hup"))
        p.send_signal(signal.SIGHUP)
        wait_for(lambda: webd_type() == ("service", "after hup"), "SIGHUP reload")
    finally:
        stop(p)
        assert p.returncode == 0, p.returncode


# two words in one argument: masked whole only with argument boundaries
# (protocol v2); the joined line would have shown the second
SECRET_ARG = "hunter2 it-secret"
SECRET_WORD = "it-secret"


def t_cmdline(env):
    """Secrets in command lines are masked by default, in /api/graph, the
    stream and --dump; --cmdline all shows them, none shows no command line."""
    script = ("import socket,time;s=socket.socket();s.bind(('127.0.0.1',0));"
              "s.listen();time.sleep(120)")
    child = subprocess.Popen([sys.executable, "-c", script, "--password",
                              SECRET_ARG, "--name", "visible-arg"])
    procs.append(child)
    try:
        # The process graph: in the default program mode the child folds
        # into this test's own python3 (same exe, its parent) whenever the
        # parent is on the map, as it is while its HTTP requests are in
        # the recent window.
        def node():
            for n in get_json(env.port, "/api/graph?group=process")["nodes"]:
                if n.get("pid") == child.pid:
                    return n
            return None
        n = wait_for(node, "the child with a secret on its command line")
        assert "visible-arg" in n["cmdline"], n["cmdline"]
        assert SECRET_WORD not in n["cmdline"], n["cmdline"]
        i = n["argv"].index("--password")
        assert n["argv"][i + 1] == "***", n["argv"]
        assert n["argv"][i + 3] == "visible-arg", n["argv"]
        _, _, body = http(env.port, "/api/graph")
        assert SECRET_WORD.encode() not in body
        ws = WS(env.port)
        assert SECRET_WORD not in ws.recv(), "secret in the stream"
        ws.close()
        rc, out, err = run_webd(["--dump", "--collector", env.sock])
        assert rc == 0 and SECRET_WORD not in out, (rc, err)
        rc, out, err = run_webd(["--dump", "--collector", env.sock,
                                 "--cmdline", "all"])
        assert rc == 0 and SECRET_ARG in out, (rc, err)
        rc, out, err = run_webd(["--dump", "--collector", env.sock,
                                 "--cmdline", "none"])
        assert rc == 0 and SECRET_WORD not in out and "visible-arg" not in out, (rc, err)
    finally:
        stop(child)


def run_webd(args, timeout=30):
    r = subprocess.run([WEBD] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def t_bad_options(env):
    bad_rules = os.path.join(env.tmp, "bad.yaml")
    with open(bad_rules, "w") as f:
        f.write(BAD_RULES)
    cases = [
        (["--port", "0"], "--port"),
        (["--port", "70000"], "--port"),
        (["--port", "http"], "--port"),
        (["--interval", "0"], "--interval"),
        (["--interval", "-1"], "--interval"),
        (["--interval", "soon"], "--interval"),
        (["--svc-ports", "80,x"], "--svc-ports"),
        (["--svc-ports", "99999"], "--svc-ports"),
        (["--icons-dir", os.path.join(env.tmp, "nope")], "--icons-dir"),
        (["--web-root", os.path.join(env.tmp, "nope")], "--web-root"),
        (["--bind", "localhost"], "--bind"),
        (["--cmdline", "some"], "--cmdline"),
        (["--log-level", "chatty"], "--log-level"),
        (["--rules", os.path.join(env.tmp, "nope.yaml")], "nope.yaml"),
        (["--rules", bad_rules], "bad.yaml:"),
        (["--frobnicate"], "--frobnicate"),
        (["extra"], "extra"),
    ]
    for args, needle in cases:
        rc, _, err = run_webd(args + ["--collector", env.sock])
        assert rc != 0, (args, rc)
        assert needle in err, (args, err)
    rc, out, _ = run_webd(["--help"])
    assert rc == 0, rc
    for opt in ("--port", "--interval", "--rules", "--p2p-only", "--udp",
                "--svc-ports", "--icons-dir", "--bind", "--collector",
                "--web-root", "--log-level", "--dump", "--cmdline"):
        assert opt in out, opt
    # the port is taken: a clear message, not a hang
    rc, _, err = run_webd(webd_argv(env, env.port)[1:])
    assert rc != 0 and "listen" in err, (rc, err)
    # Started through PATH, argv[0] has no directory: a relative --rules
    # is still looked for beside the executable (common/progpath.h).
    bindir = os.path.join(env.tmp, "bin")
    os.makedirs(bindir, exist_ok=True)
    shutil.copy2(WEBD, bindir)
    beside = os.path.join(bindir, "beside.yaml")
    with open(beside, "w") as f:
        f.write(BAD_RULES)
    r = subprocess.run([os.path.basename(WEBD), "--rules", "beside.yaml",
                        "--collector", env.sock, "--dump"],
                       cwd=env.tmp, capture_output=True, text=True,
                       timeout=30, env=dict(os.environ, PATH=bindir +
                                            os.pathsep + os.environ["PATH"]))
    assert r.returncode != 0 and beside + ":" in r.stderr, \
        (r.returncode, r.stderr)


def t_dump(env):
    rc, out, err = run_webd(["--dump", "--collector", env.sock])
    assert rc == 0, (rc, err)
    g = json.loads(out)
    assert isinstance(g["nodes"], list) and g["nodes"], "empty dump"
    assert isinstance(g["edges"], list) and "meta" in g
    rc, _, err = run_webd(["--dump", "--collector",
                           os.path.join(env.tmp, "nobody.sock")])
    assert rc != 0 and "collector" in err, (rc, err)


TESTS = [t_index, t_static_mime, t_no_cors, t_graph, t_status, t_not_found,
         t_host, t_methods, t_traversal, t_icons, t_websocket,
         t_websocket_refused, t_websocket_client_frames, t_concurrent, t_hostile, t_bad_options, t_dump,
         t_cmdline,
         t_rules_reload, t_collector_loss]


def main():
    for exe in (COLLECTOR, WEBD):
        if not os.access(exe, os.X_OK):
            log("missing %s: build first" % exe)
            return 1
    env = setup()
    try:
        for t in TESTS:
            try:
                t(env)
                log("ok   %s" % t.__name__)
            except Exception as e:  # noqa: BLE001 - every test is reported
                failures.append(t.__name__)
                log("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e))
        if env.webd.poll() is not None:
            failures.append("webd exited early")
        else:
            stop(env.webd)
            if env.webd.returncode != 0:
                failures.append("webd exit status %d" % env.webd.returncode)
    finally:
        for p in list(procs):
            stop(p)
        if failures:
            for p in (env.webd, env.collector):
                log("---- %s output (last 40 lines) ----" % p.args[0])
                log(tail(p))
        shutil.rmtree(env.tmp, ignore_errors=True)
    log("%d/%d passed" % (len(TESTS) - len([f for f in failures if f.startswith("t_")]),
                          len(TESTS)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
