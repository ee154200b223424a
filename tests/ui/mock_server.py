#!/usr/bin/env python3
"""A stand-in for procnet-webd for UI work without the daemons: serves a web
root, /api/graph, /api/status and the /api/stream WebSocket from a generated
graph that changes every second.  Development tool only; the UI tests run
against the real collector and webd.

  mock_server.py --root BUILD/web/root [--port 0] [--procs 40] [--udp]
"""
import argparse
import base64
import hashlib
import json
import os
import random
import socket
import struct
import sys
import threading
import time
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
NAMES = [("nginx", "load_balancer"), ("postgres", "database"), ("redis-server", "cache"),
         ("rabbitmq", "message_broker"), ("python3", "app"), ("node", "app"),
         ("java", "service"), ("sshd", "service"), ("firefox", "app"),
         ("kdeconnectd", "qt_desktop"), ("gunicorn", "service"), ("chrome", "app"),
         ("systemd-resolve", "service"), ("dockerd", "service"), ("mysqld", "database")]
PORTS = {"nginx": 443, "postgres": 5432, "redis-server": 6379, "rabbitmq": 5672,
         "gunicorn": 8000, "sshd": 22, "java": 8080, "mysqld": 3306, "dockerd": 2375}


CONTAINERS = {"redis-server": ("shop-cache", "5f1c0d9e8b7a" * 5 + "0123"),
              "rabbitmq": ("events", "a1b2c3d4e5f6" * 5 + "7788")}


class World:
    def __init__(self, procs, udp, seed):
        self.rng = random.Random(seed)
        self.roots = {}
        self.udp = udp
        self.lock = threading.Lock()
        self.seq = 0
        self.nextpid = 1000
        self.nodes = {}
        self.edges = {}
        for _ in range(procs):
            self.add_proc()
        for _ in range(procs * 2):
            self.add_edge()

    def add_proc(self, name=None):
        name, typ = (name, dict(NAMES).get(name, "app")) if name else self.rng.choice(NAMES)
        self.nextpid += self.rng.randint(1, 40)
        pid = self.nextpid
        nid = "p:%d:%d" % (pid, 1700000000000 + pid)
        listen = [{"proto": "tcp", "addr": "0.0.0.0", "port": PORTS[name]}] if name in PORTS else []
        # Same-name processes are one program tree under the first one; two
        # names run in containers, as webd would report them.
        root = self.roots.get(name)
        if root not in self.nodes:      # the tree's top is gone: a new tree
            root = self.roots[name] = nid
        user = self.rng.choice(["root", "www", "alice"])
        node = {"id": nid, "kind": "process", "pid": pid,
                "ppid": 1 if root == nid else self.nodes[root]["pid"], "name": name,
                "label": name, "type": typ, "user": user,
                "exe": "/usr/bin/" + name,
                "cmdline": "%s --worker %d <script>alert(1)</script>" % (name, pid),
                "listen": listen, "service": name + ".service"}
        groups = {"program": root, "service": "s:" + name + ".service",
                  "container": root, "user": "u:" + user}
        if name in CONTAINERS:
            cname, cid = CONTAINERS[name]
            node["container"] = {"runtime": "docker", "id": cid, "name": cname}
            groups["container"] = "c:docker:" + cid
        node["groups"] = groups
        self.nodes[nid] = node
        return nid

    def procs(self):
        return [n for n in self.nodes.values() if n["kind"] == "process"]

    def add_edge(self):
        ps = self.procs()
        if len(ps) < 2:
            return None
        servers = [p for p in ps if p["listen"]] or ps
        s = self.rng.choice(servers)
        if self.rng.random() < 0.15:
            addr = "93.184.%d.%d" % (self.rng.randint(0, 255), self.rng.randint(1, 254))
            eid = "e:" + addr
            self.nodes.setdefault(eid, {"id": eid, "kind": "external", "addr": addr,
                                        "label": addr, "type": "external"})
            c, s, port = self.rng.choice(ps), self.nodes[eid], 443
        else:
            c = self.rng.choice(ps)
            if c is s:
                return None
            port = s["listen"][0]["port"] if s["listen"] else 9000
        proto = "udp" if self.udp and self.rng.random() < 0.2 else "tcp"
        eid = "%s:%s>%s:%d" % (proto, c["id"], s["id"], port)
        e = self.edges.get(eid)
        n = self.rng.randint(1, 6)
        conns = [{"client": "127.0.0.1:%d" % self.rng.randint(30000, 60000),
                  "server": "127.0.0.1:%d" % port, "state": "ESTABLISHED" if proto == "tcp" else ""}
                 for _ in range(n)]
        if e:
            e = dict(e, count=e["count"] + n, conns=e["conns"] + conns)
        else:
            e = {"id": eid, "from": c["id"], "to": s["id"], "proto": proto, "count": n,
                 "server_port": port, "reason": "listener",
                 "states": {"ESTABLISHED" if proto == "tcp" else "": n}, "conns": conns}
        self.edges[eid] = e
        return e

    def meta(self):
        return {"host": "mockhost", "os": "linux", "time_ms": int(time.time() * 1000),
                "sample_ms": 3, "privileged": True,
                "counts": {"processes": len(self.procs()), "nodes": len(self.nodes),
                           "edges": len(self.edges), "sockets": sum(e["count"] for e in self.edges.values())},
                "options": {"udp": self.udp, "p2p_only": False}}

    def graph(self):
        return {"nodes": list(self.nodes.values()), "edges": list(self.edges.values()),
                "meta": self.meta()}

    def step(self):
        """One sample's worth of churn, returned as a delta message."""
        with self.lock:
            before_n = dict(self.nodes)
            before_e = dict(self.edges)
            r = self.rng.random()
            if r < 0.3:
                nid = self.add_proc()
                ps = [p for p in self.procs() if p["listen"]]
                if ps:
                    s = self.rng.choice(ps)
                    port = s["listen"][0]["port"]
                    eid = "tcp:%s>%s:%d" % (nid, s["id"], port)
                    self.edges[eid] = {"id": eid, "from": nid, "to": s["id"], "proto": "tcp",
                                       "count": 1, "server_port": port, "reason": "pair",
                                       "states": {"ESTABLISHED": 1},
                                       "conns": [{"client": "127.0.0.1:40000", "server": "127.0.0.1:%d" % port,
                                                  "state": "ESTABLISHED"}]}
            elif r < 0.5 and self.edges:
                del self.edges[self.rng.choice(sorted(self.edges))]
            elif r < 0.6:
                victims = [p["id"] for p in self.procs() if not p["listen"]]
                if victims:
                    v = self.rng.choice(victims)
                    del self.nodes[v]
                    for k in [k for k, e in self.edges.items() if v in (e["from"], e["to"])]:
                        del self.edges[k]
            else:
                self.add_edge()
            # externals with no edges go away, as in the real graph
            used = set()
            for e in self.edges.values():
                used.update((e["from"], e["to"]))
            for k in [k for k, n in self.nodes.items() if n["kind"] == "external" and k not in used]:
                del self.nodes[k]
            self.seq += 1
            return {"type": "delta", "seq": self.seq,
                    "nodes": diff(before_n, self.nodes), "edges": diff(before_e, self.edges),
                    "meta": self.meta()}


def diff(a, b):
    return {"add": [v for k, v in b.items() if k not in a],
            "update": [v for k, v in b.items() if k in a and a[k] != v],
            "remove": [k for k in a if k not in b]}


def ws_frame(text):
    data = text.encode()
    n = len(data)
    if n < 126:
        hdr = struct.pack("!BB", 0x81, n)
    elif n < 65536:
        hdr = struct.pack("!BBH", 0x81, 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x81, 127, n)
    return hdr + data


class Handler(SimpleHTTPRequestHandler):
    world = None
    subscribers = []
    sublock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_json(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        w = self.world
        # The UI asks for ?group=process: the mock's graph is that already.
        path = self.path.split("?", 1)[0]
        if path == "/api/graph":
            with w.lock:
                return self.send_json(w.graph())
        if path == "/api/status":
            return self.send_json({"collector": "connected", "version": "mock"})
        if path == "/api/stream":
            return self.stream()
        if self.path.startswith("/icons/"):
            return self.send_error(404)
        return super().do_GET()

    def stream(self):
        key = self.headers.get("Sec-WebSocket-Key")
        if not key:
            return self.send_error(400)
        acc = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                            .encode()).digest()).decode()
        self.send_response_only(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", acc)
        super(SimpleHTTPRequestHandler, self).end_headers()
        self.wfile.flush()
        w = self.world
        with w.lock:
            first = {"type": "full", "seq": w.seq, "graph": w.graph()}
            self.connection.sendall(ws_frame(json.dumps(first)))
            with self.sublock:
                self.subscribers.append(self.connection)
        self.connection.sendall(ws_frame(json.dumps({"type": "status", "collector": "connected"})))
        try:
            while self.connection.recv(4096):
                pass
        except OSError:
            pass
        with self.sublock:
            if self.connection in self.subscribers:
                self.subscribers.remove(self.connection)
        self.close_connection = True


def ticker(world, interval):
    while True:
        time.sleep(interval)
        msg = world.step()
        frame = ws_frame(json.dumps(msg))
        with Handler.sublock:
            for c in list(Handler.subscribers):
                try:
                    c.sendall(frame)
                except OSError:
                    Handler.subscribers.remove(c)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--procs", type=int, default=40)
    ap.add_argument("--udp", action="store_true")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    Handler.world = World(a.procs, a.udp, a.seed)
    root = os.path.abspath(a.root)

    class H(Handler):
        def __init__(self, *args, **kw):
            super().__init__(*args, directory=root, **kw)

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    threading.Thread(target=ticker, args=(Handler.world, a.interval), daemon=True).start()
    print("http://127.0.0.1:%d/" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
