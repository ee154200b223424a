#!/usr/bin/env python3
"""Connection churn for bench/churn.py: RATE loopback TCP connections a
second for SECONDS, each one request and one answer, then closed; a server
process and a client process, as in tests/it_events.py.  Prints
`made N in S s` at the end.  Stops by itself; also on SIGTERM.

usage: churn_load.py RATE SECONDS
"""
import os
import signal
import socket
import sys
import time


def serve(lsock):
    while True:
        c, _ = lsock.accept()
        c.recv(4096)
        c.sendall(b"r" * 512)
        c.close()


def main():
    rate, seconds = float(sys.argv[1]), float(sys.argv[2])
    if not (0 < rate <= 20000 and 0 < seconds <= 3600):
        print("churn_load.py: RATE 1..20000, SECONDS 1..3600",
              file=sys.stderr)
        return 2
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1024)
    port = lsock.getsockname()[1]
    srv = os.fork()
    if srv == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            serve(lsock)
        finally:
            os._exit(0)
    lsock.close()
    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(1))
    print("ready port %d" % port, flush=True)
    n, t0 = 0, time.monotonic()
    try:
        while not stop and time.monotonic() - t0 < seconds:
            c = socket.create_connection(("127.0.0.1", port))
            c.sendall(b"q" * 128)
            while c.recv(4096):
                pass
            c.close()
            n += 1
            d = t0 + n / rate - time.monotonic()
            if d > 0:
                time.sleep(d)
    finally:
        os.kill(srv, signal.SIGTERM)
        os.waitpid(srv, 0)
    print("made %d in %.2f s" % (n, time.monotonic() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
