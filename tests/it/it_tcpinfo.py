#!/usr/bin/env python3
"""The collector's TCP byte counters (issue 16): a client sends 10 MB over
one loopback connection and gets 1 MB back, the connection stays open, and
one `procnet-collector --once --format json` snapshot must show, within
5 %, bytes_sent 10 MB / bytes_received 1 MB on the client's socket and the
reverse on the server's, with rtt_us and retrans present (tcp_info from
sock_diag's INET_DIAG_INFO).  Loopback only; both ends are children of this
test, stopped by pid."""
import json
import os
import socket
import subprocess
import sys

TIMEOUT = 120
UP, DOWN = 10 * 1000 * 1000, 1000 * 1000

SERVER = r"""
import socket, sys
UP, DOWN = %d, %d
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
got = 0
while got < UP:
    d = c.recv(1 << 20)
    if not d:
        sys.exit(1)
    got += len(d)
c.sendall(b"y" * DOWN)
print("done", flush=True)
sys.stdin.read()        # hold the connection until told
""" % (UP, DOWN)

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + what, flush=True)
    else:
        failed += 1
        print("FAIL " + what, flush=True)


def collector():
    root = os.environ.get("PROCNET_BUILD_ROOT") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    return os.path.join(root, "collector-svc", "procnet-collector")


def near(v, want):
    return v is not None and abs(v - want) <= want * 0.05


def main():
    srv = subprocess.Popen([sys.executable, "-c", SERVER],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    cli = None
    try:
        port = int(srv.stdout.readline())
        cli = socket.create_connection(("127.0.0.1", port))
        cli.sendall(b"x" * UP)
        got = 0
        while got < DOWN:
            d = cli.recv(1 << 20)
            if not d:
                break
            got += len(d)
        check(got == DOWN, "client received %d bytes" % got)
        check(srv.stdout.readline().strip() == "done", "server done")
        cport = cli.getsockname()[1]

        r = subprocess.run([collector(), "--once", "--format", "json"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        check(r.returncode == 0, "collector --once: exit %d %s" %
              (r.returncode, r.stderr.strip()[:200]))
        doc = json.loads(r.stdout)
        mine = [s for s in doc["sockets"] if s["proto"] == "tcp" and
                s["local_port"] == cport and s["remote_port"] == port]
        theirs = [s for s in doc["sockets"] if s["proto"] == "tcp" and
                  s["local_port"] == port and s["remote_port"] == cport]
        check(len(mine) == 1 and len(theirs) == 1,
              "both ends of the connection in the snapshot")
        if len(mine) == 1 and len(theirs) == 1:
            c, s = mine[0], theirs[0]
            check(near(c.get("bytes_sent"), UP),
                  "client bytes_sent %s ~ %d" % (c.get("bytes_sent"), UP))
            check(near(c.get("bytes_received"), DOWN),
                  "client bytes_received %s ~ %d" %
                  (c.get("bytes_received"), DOWN))
            check(near(s.get("bytes_sent"), DOWN),
                  "server bytes_sent %s ~ %d" % (s.get("bytes_sent"), DOWN))
            check(near(s.get("bytes_received"), UP),
                  "server bytes_received %s ~ %d" %
                  (s.get("bytes_received"), UP))
            check(isinstance(c.get("rtt_us"), int) and c["rtt_us"] > 0,
                  "client rtt_us %s" % c.get("rtt_us"))
            check(isinstance(c.get("retrans"), int),
                  "client retrans %s" % c.get("retrans"))
        # a listener has tcp_info too, but no byte counters worth a check;
        # a UDP socket has none at all
        udp = [s for s in doc["sockets"] if s["proto"] == "udp"]
        check(all("bytes_sent" not in s for s in udp),
              "no byte counters on UDP sockets (%d)" % len(udp))
    finally:
        if cli is not None:
            cli.close()
        if srv.poll() is None:
            srv.kill()
        srv.wait()
    print("it_tcpinfo: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
