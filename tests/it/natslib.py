"""A NATS server for the tests (Debian's nats-server on a loopback port,
stopped by pid) and a minimal subscriber speaking the NATS text protocol
(INFO / CONNECT / SUB / MSG / PING / PONG).  Python stdlib only; every wait
is bounded."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from faultlib import free_port

NATS_SERVER = shutil.which("nats-server") or "/usr/bin/nats-server"


class NatsServer:
    """nats-server on listen:port (loopback unless a test host's address
    is given); users = {"name": "password"} turns on authorization."""

    def __init__(self, port=None, users=None, listen="127.0.0.1"):
        self.listen = listen
        self.port = port or free_port()
        self.users = users
        self.dir = tempfile.mkdtemp(prefix="procnet-nats-")
        self.proc = None

    def start(self):
        conf = os.path.join(self.dir, "nats.conf")
        with open(conf, "w") as f:
            f.write("listen: %s:%d\n" % (self.listen, self.port))
            f.write("max_payload: 8MB\n")
            if self.users:
                f.write("authorization { users = [\n")
                for u, p in self.users.items():
                    f.write('  {user: "%s", password: "%s"}\n' % (u, p))
                f.write("] }\n")
        log = open(os.path.join(self.dir, "nats.log"), "ab")
        self.proc = subprocess.Popen([NATS_SERVER, "-c", conf], stdout=log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("nats-server exited: %s" % self.log())
            try:
                socket.create_connection((self.listen, self.port), 1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise SystemExit("nats-server did not listen: %s" % self.log())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "nats.log"), "rb") as f:
                return f.read().decode(errors="replace")[-2000:]
        except OSError:
            return ""

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, user=None, password=None):
        auth = "%s:%s@" % (user, password) if user else ""
        return "nats://%s127.0.0.1:%d" % (auth, self.port)


class Subscriber(threading.Thread):
    """Subscribes to subject and keeps every message (subject, JSON) in
    .msgs; reconnects when the server goes away, until close()."""

    def __init__(self, port, subject, user=None, password=None):
        super().__init__(daemon=True)
        self.port, self.subject = port, subject
        self.user, self.password = user, password
        self.msgs = []
        self.lock = threading.Lock()
        self.stopped = False
        self.sock = None
        self.connected = threading.Event()
        self.start()

    def _connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        f = s.makefile("rb")
        info = f.readline()
        if not info.startswith(b"INFO"):
            raise OSError("not a NATS server: %r" % info[:80])
        opts = {"verbose": False, "pedantic": False, "name": "procnet-test"}
        if self.user:
            opts.update(user=self.user, **{"pass": self.password})
        s.sendall(b"CONNECT " + json.dumps(opts).encode() + b"\r\n"
                  b"SUB " + self.subject.encode() + b" 1\r\nPING\r\n")
        s.settimeout(1)
        return s, f

    def run(self):
        while not self.stopped:
            try:
                self.sock, f = self._connect()
                self.connected.set()
                self._read(f)
            except (OSError, ValueError):
                pass
            self.connected.clear()
            if self.sock is not None:
                self.sock.close()
            time.sleep(0.2)

    def _read(self, f):
        while not self.stopped:
            try:
                line = f.readline()
            except socket.timeout:
                continue
            if not line:
                return
            if line.startswith(b"PING"):
                self.sock.sendall(b"PONG\r\n")
            elif line.startswith(b"MSG "):
                parts = line.split()
                n = int(parts[-1])
                data = b""
                while len(data) < n + 2:
                    try:
                        chunk = f.read(n + 2 - len(data))
                    except socket.timeout:
                        continue
                    if not chunk:
                        return
                    data += chunk
                with self.lock:
                    self.msgs.append((parts[1].decode(),
                                      json.loads(data[:n])))
            elif line.startswith(b"-ERR"):
                raise OSError(line.decode(errors="replace").strip())

    def take(self):
        with self.lock:
            out, self.msgs = self.msgs, []
        return out

    def close(self):
        self.stopped = True
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.join(5)
