#!/usr/bin/env python3
"""One process of the UI test's population on loopback.

  peer.py --role NAME [--listen tcp|udp]... [--connect tcp:PORT:N]...
          [--connect udp:PORT:1]... [--note TEXT]

Listens on 127.0.0.1 port 0 for each --listen, makes the connections asked
for, prints one JSON line {"tcp": port, "udp": port} and holds everything
open until its stdin closes (the test ends or dies) or a time limit passes.
--role and --note only shape the command line, which rules match and the
UI shows.
"""
import argparse
import json
import select
import socket
import sys
import time

LIMIT_S = 600


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", required=True)
    ap.add_argument("--listen", action="append", default=[], choices=["tcp", "udp"])
    ap.add_argument("--connect", action="append", default=[])
    ap.add_argument("--note", default="")
    a = ap.parse_args()

    keep = []
    out = {}
    listeners = []
    udp_servers = []
    for proto in a.listen:
        if proto == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(64)
            listeners.append(s)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            udp_servers.append(s)
        out[proto] = s.getsockname()[1]
    for spec in a.connect:
        proto, port, n = spec.split(":")
        for _ in range(int(n)):
            if proto == "tcp":
                c = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
            else:
                c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                c.bind(("127.0.0.1", 0))
                c.connect(("127.0.0.1", int(port)))
                c.send(b"hello")
            keep.append(c)
    print(json.dumps(out), flush=True)

    deadline = time.monotonic() + LIMIT_S
    watch = [sys.stdin] + listeners + udp_servers
    while time.monotonic() < deadline:
        r, _, _ = select.select(watch, [], [], 1.0)
        for s in r:
            if s is sys.stdin:
                if not sys.stdin.buffer.read1(4096):
                    return
            elif s in listeners:
                conn, _ = s.accept()
                keep.append(conn)
            else:
                s.recvfrom(2048)


if __name__ == "__main__":
    main()
