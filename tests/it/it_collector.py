#!/usr/bin/env python3
"""Integration test of `procnet-collector --once`: child processes open real
TCP listeners and connections (IPv4 and IPv6) and UDP sockets on loopback;
the collector must report each socket with the right pid, process name,
command line, state and ports, through netlink and through the /proc/net
fallback.

Also the worker that it_collector_ss.py starts: `it_collector.py --worker
NAME` reads one JSON command a line on stdin and answers one JSON line.
"""
import ctypes
import json
import os
import pwd
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

TIMEOUT = 60  # seconds for anything to settle


# --- the worker -----------------------------------------------------------

def set_comm(name):
    """Sets the kernel's process name (comm) so tests can check it."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NAME = 15
    if libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


class Worker:
    def __init__(self):
        self.keep = []          # every socket we own, so none is closed
        self.accepted = 0
        self.lock = threading.Lock()

    def acceptor(self, lsock):
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            with self.lock:
                self.keep.append(c)
                self.accepted += 1

    def op(self, cmd):
        op = cmd["op"]
        fam = socket.AF_INET6 if cmd.get("family") == 6 else socket.AF_INET
        host = "::1" if fam == socket.AF_INET6 else cmd.get("host", "127.0.0.1")
        if op == "listen":
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.bind((host, 0))
            s.listen(1024)
            self.keep.append(s)
            threading.Thread(target=self.acceptor, args=(s,), daemon=True).start()
            return {"port": s.getsockname()[1]}
        if op == "connect":
            ports = []
            for i in range(cmd.get("n", 1)):
                s = socket.socket(fam, socket.SOCK_STREAM)
                if fam == socket.AF_INET and cmd.get("spread"):
                    # Many source addresses: no port exhaustion, and more
                    # variety for the comparison.
                    s.bind(("127.0.%d.%d" % (1 + i // 250, 1 + i % 250), 0))
                s.connect((host, cmd["port"]))
                self.keep.append(s)
                ports.append(s.getsockname()[1])
            return {"ports": ports}
        if op == "udp":
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.bind((host, 0))
            if cmd.get("connect_port"):
                s.connect((host, cmd["connect_port"]))
            self.keep.append(s)
            return {"port": s.getsockname()[1]}
        if op == "accepted":
            with self.lock:
                return {"accepted": self.accepted}
        if op == "ping":
            return {"pid": os.getpid()}
        raise ValueError("unknown op %r" % op)


def worker_main(name):
    set_comm(name)
    w = Worker()
    for line in sys.stdin:
        try:
            reply = w.op(json.loads(line))
        except Exception as e:  # report, the test decides
            reply = {"error": repr(e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


class Child:
    """A worker process driven over its stdin/stdout."""

    def __init__(self, name):
        self.name = name
        # an empty argument and one with a space: boundaries the joined
        # cmdline cannot show, argv must
        self.argv = [sys.executable, os.path.abspath(__file__), "--worker", name,
                     "", "two words"]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid

    def call(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        r, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        if not r:
            raise RuntimeError("%s: no answer to %r" % (self.name, cmd))
        reply = json.loads(self.proc.stdout.readline())
        if "error" in reply:
            raise RuntimeError("%s: %s" % (self.name, reply["error"]))
        return reply

    def wait_accepted(self, n):
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            if self.call(op="accepted")["accepted"] >= n:
                return
            time.sleep(0.05)
        raise RuntimeError("%s: connections not accepted" % self.name)

    def stop(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- helpers shared with it_collector_ss.py --------------------------------

def collector_path():
    root = os.environ.get("PROCNET_BUILD_ROOT")
    if not root:
        here = os.path.dirname(os.path.abspath(__file__))
        root = os.path.join(here, "..", "..", "build")
    return os.path.join(root, "collector-svc", "procnet-collector")


def run_collector(*args):
    r = subprocess.run([collector_path(), *args], capture_output=True,
                       text=True, timeout=TIMEOUT)
    if r.returncode != 0:
        raise RuntimeError("collector %s exited %d: %s" %
                           (" ".join(args), r.returncode, r.stderr))
    return r.stdout


# --- the test ---------------------------------------------------------------

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


SOCKET_KEYS = ["proto", "family", "local_addr", "local_port", "remote_addr",
               "remote_port", "state", "pid"]
SOCKET_TAIL = ["netns", "cookie"]
SOCKET_INFO = ["bytes_sent", "bytes_received", "rtt_us", "retrans"]
PROCESS_KEYS = ["pid", "ppid", "start_time", "user", "name", "exe", "cmdline",
                "argv", "netns", "service"]
EVENTS_KEYS = ["source", "reason", "lost", "conns", "aggregated"]


def socket_keys_ok(s, head):
    keys = list(s.keys())
    n = len(head) + len(SOCKET_TAIL)
    return (keys[:n] == head + SOCKET_TAIL and
            keys[n:] in ([], SOCKET_INFO))


def check_contract(doc):
    check(list(doc.keys()) == ["version", "host", "os", "time", "privileged",
                               "processes", "sockets", "events"],
          "top-level keys in contract order: %s" % list(doc.keys()))
    check(doc["version"] == 2 and doc["os"] == "linux", "version/os")
    check(list(doc["events"].keys()) == EVENTS_KEYS,
          "events keys %s" % list(doc["events"].keys()))
    check(abs(doc["time"] - time.time()) < 120, "time is unix seconds")
    check(isinstance(doc["privileged"], bool), "privileged is a bool")
    pids = [p["pid"] for p in doc["processes"]]
    check(pids == sorted(pids) and len(set(pids)) == len(pids),
          "processes sorted by pid, once each")
    for p in doc["processes"]:
        keys = list(p.keys())
        check(keys[:len(PROCESS_KEYS)] == PROCESS_KEYS and
              keys[len(PROCESS_KEYS):] in (["exited"], ["container", "exited"]),
              "process keys %s" % keys)
        check(p["cmdline"] == " ".join(p["argv"]),
              "cmdline is argv joined: %r" % p["cmdline"])
    known = set(pids)
    for s in doc["sockets"]:
        if s["pid"] is None:
            check(socket_keys_ok(s, SOCKET_KEYS + ["owner_unknown"]),
                  "unknown-owner socket keys %s" % list(s))
            check(s["owner_unknown"] in ("no-privilege", "exited",
                                         "other-netns", "kernel"),
                  "owner_unknown reason %r" % s["owner_unknown"])
        else:
            check(socket_keys_ok(s, SOCKET_KEYS), "socket keys %s" % list(s))
            check(s["pid"] in known, "socket pid %d has a process" % s["pid"])
        check(s["proto"] in ("tcp", "udp"), "proto")
        if s["proto"] == "udp":
            check(s["state"] == "", "udp state is empty")


OWN_NETNS = os.stat("/proc/self/ns/net").st_ino


def find(doc, proto, laddr, lport, raddr=None, rport=None):
    # Every network namespace is in the snapshot: the test's sockets are
    # those of ours (another test's namespace may reuse a port).
    out = [s for s in doc["sockets"]
           if s.get("netns", OWN_NETNS) in (OWN_NETNS, 0)
           and s["proto"] == proto and s["local_addr"] == laddr
           and s["local_port"] == lport
           and (raddr is None or s["remote_addr"] == raddr)
           and (rport is None or s["remote_port"] == rport)]
    return out


def expect(doc, label, child, proto, fam, laddr, lport, raddr, rport, state):
    got = find(doc, proto, laddr, lport, raddr, rport)
    check(len(got) == 1, "%s: one socket %s %s:%d -> %s:%s (got %d)" %
          (label, proto, laddr, lport, raddr, rport, len(got)))
    if len(got) != 1:
        return
    s = got[0]
    check(s["family"] == fam, "%s: family %d" % (label, fam))
    check(s["state"] == state, "%s: state %r, want %r" % (label, s["state"], state))
    check(s["pid"] == child.pid, "%s: pid %r, want %d" % (label, s["pid"], child.pid))


def check_process(doc, child):
    ps = [p for p in doc["processes"] if p["pid"] == child.pid]
    check(len(ps) == 1, "process %s (%d) listed" % (child.name, child.pid))
    if not ps:
        return
    p = ps[0]
    check(p["name"] == child.name, "name %r, want %r" % (p["name"], child.name))
    check(p["cmdline"] == " ".join(child.argv),
          "cmdline %r, want %r" % (p["cmdline"], " ".join(child.argv)))
    check(p["argv"] == child.argv,
          "argv %r, want %r" % (p["argv"], child.argv))
    check(p["ppid"] == os.getpid(), "ppid %d, want %d" % (p["ppid"], os.getpid()))
    check(p["user"] == pwd.getpwuid(os.getuid()).pw_name, "user %r" % p["user"])
    check(os.path.realpath(p["exe"]) == os.path.realpath(sys.executable),
          "exe %r" % p["exe"])
    check(abs(p["start_time"] / 1000.0 - time.time()) < 120,
          "start_time %d is unix ms near now" % p["start_time"])


def time_wait_socket():
    """A TIME_WAIT socket (no process holds it: owner 'kernel')."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.socket()
    c.connect(ls.getsockname())
    a, _ = ls.accept()
    port = (c.getsockname()[1], ls.getsockname()[1])
    c.close()       # the active closer goes to TIME_WAIT
    a.recv(1)
    a.close()
    ls.close()
    return port


def run_checks(doc, label, srv, cli, ports, tw_port):
    check_contract(doc)
    for fam, addr in ((4, "127.0.0.1"), (6, "::1")):
        lp = ports["listen%d" % fam]
        expect(doc, label + " listener", srv, "tcp", fam, addr, lp,
               "0.0.0.0" if fam == 4 else "::", 0, "LISTEN")
        for cp in ports["conn%d" % fam]:
            expect(doc, label + " client end", cli, "tcp", fam, addr, cp,
                   addr, lp, "ESTABLISHED")
            expect(doc, label + " server end", srv, "tcp", fam, addr, lp,
                   addr, cp, "ESTABLISHED")
        up = ports["udp%d" % fam]
        expect(doc, label + " udp bound", srv, "udp", fam, addr, up,
               None, None, "")
        cup = ports["cudp%d" % fam]
        expect(doc, label + " udp connected", cli, "udp", fam, addr, cup,
               addr, up, "")
    check_process(doc, srv)
    check_process(doc, cli)
    # Matched on both ports: an old TIME_WAIT may hold the same local one.
    tw = [s for s in find(doc, "tcp", "127.0.0.1", tw_port[0], "127.0.0.1",
                          tw_port[1])
          if s["state"] == "TIME_WAIT"]
    check(len(tw) == 1 and tw[0]["pid"] is None and
          tw[0].get("owner_unknown") == "kernel",
          label + ": TIME_WAIT socket has owner_unknown kernel: %r" % tw)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--worker":
        return worker_main(sys.argv[2])
    srv = Child("pn-it-srv")
    cli = Child("pn-it-cli")
    try:
        ports = {}
        for fam in (4, 6):
            lp = srv.call(op="listen", family=fam)["port"]
            ports["listen%d" % fam] = lp
            ports["conn%d" % fam] = cli.call(op="connect", family=fam,
                                             port=lp, n=3)["ports"]
            up = srv.call(op="udp", family=fam)["port"]
            ports["udp%d" % fam] = up
            ports["cudp%d" % fam] = cli.call(op="udp", family=fam,
                                             connect_port=up)["port"]
        srv.wait_accepted(6)
        tw_port = time_wait_socket()

        doc = json.loads(run_collector("--once", "--format", "json"))
        run_checks(doc, "netlink", srv, cli, ports, tw_port)
        check(doc["privileged"] == (os.geteuid() == 0),
              "privileged %r as uid %d" % (doc["privileged"], os.geteuid()))

        doc = json.loads(run_collector("--once", "--proc-net"))
        run_checks(doc, "proc-net", srv, cli, ports, tw_port)

        doc = json.loads(run_collector("--once", "--no-udp"))
        check(all(s["proto"] == "tcp" for s in doc["sockets"]), "--no-udp")

        text = run_collector("--once", "--format", "text")
        lines = [l for l in text.splitlines()
                 if (":%d " % ports["listen4"]) in l and "LISTEN" in l]
        check(len(lines) == 1 and str(srv.pid) in lines[0]
              and "pn-it-srv" in lines[0], "text format line: %r" % lines)

        # --samples keeps state between samples and reports its cost.
        r = subprocess.run([collector_path(), "--samples", "3", "--interval",
                            "0.1", "--stats", "--format", "json"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        check(r.returncode == 0, "--samples exit %d" % r.returncode)
        stats = json.loads(r.stderr.strip().splitlines()[-1])
        check(list(stats.keys()) == ["samples", "median_ms", "p95_ms",
                                     "max_ms", "first_ms", "rss_kb", "netns",
                                     "netns_skipped", "events", "conns",
                                     "aggregated", "events_lost"] and
              stats["events"] in ("ebpf", "sock_diag-destroy", "none") and
              stats["samples"] == 3 and stats["rss_kb"] > 0 and
              stats["first_ms"] > 0 and stats["netns"] >= 1 and
              0 < stats["median_ms"] <= stats["p95_ms"] <= stats["max_ms"],
              "--stats line %r" % stats)
        run_checks(json.loads(r.stdout), "samples", srv, cli, ports, tw_port)

        # --watch: the live summary, refreshed until SIGINT, then exit 0.
        # Its first screen waits for the event source to load (BPF) and a
        # cold sample: read screens as they come (bounded), then SIGINT.
        w = subprocess.Popen([collector_path(), "--watch", "--interval",
                              "0.2"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            seen = []
            end = time.monotonic() + TIMEOUT
            while time.monotonic() < end and w.poll() is None:
                line = w.stdout.readline()
                if not line:
                    break
                seen.append(line)
                if "".join(seen).count("procnet-collector on ") >= 3:
                    break
            w.send_signal(2)
            # the rest through the same buffered reader readline() used
            # (communicate() reads the pipe underneath it and would skip
            # what readline() had buffered)
            out = "".join(seen) + w.stdout.read()
            err = w.stderr.read()
            w.wait(timeout=TIMEOUT)
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
        screens = out.count("procnet-collector on ")
        check(w.returncode == 0, "--watch exit %r: %s" % (w.returncode, err))
        check(screens >= 2, "--watch refreshed %d times" % screens)
        # Which processes make its top 20 depends on the whole machine;
        # the table is there, with rows of pid, user, name and counts.
        rows = [l.split() for l in out.splitlines()
                if l[:1].isdigit() and len(l.split()) >= 7]
        check(out.count("PID      USER") == screens and rows and
              all(r[0].isdigit() for r in rows),
              "--watch table: %r" % rows[:3])

        # --help names the Windows service verbs, marked as Windows ones;
        # here install/uninstall refuse with a pointer to systemd.
        r = subprocess.run([collector_path(), "--help"], capture_output=True,
                           text=True, timeout=TIMEOUT)
        check(r.returncode == 0 and
              "install [options] | uninstall | run [options] (Windows)"
              in r.stdout and "procnetcollector" in r.stdout,
              "--help: rc %d, %r" % (r.returncode, r.stdout[:400]))
        for verb in ("install", "uninstall"):
            r = subprocess.run([collector_path(), verb], capture_output=True,
                               text=True, timeout=TIMEOUT)
            check(r.returncode == 1 and "systemd" in r.stderr,
                  "%s: rc %d, %r" % (verb, r.returncode, r.stderr))

        # Bad usage: a clear message and a non-zero exit.
        for bad in (["--bogus"], ["--once", "--format", "xml"], [],
                    ["--samples", "0"], ["--once", "stray"],
                    ["--interval", "x", "--watch"], ["--samples"],
                    ["--watch", "--interval", "-1"],
                    ["--watch", "--interval", "nan"],
                    ["--watch", "--interval", "1e400"],
                    ["--once", "--format"], ["-x"], ["--once", "--watch"],
                    ["--once", "--no-tcp", "--no-udp"],
                    ["--once", "--full-every", "0"],
                    ["--once", "--socket", "x.sock"],
                    ["--foreground", "--socket", ""],
                    ["--watch", "--format", "text"]):
            r = subprocess.run([collector_path(), *bad], capture_output=True,
                               text=True, timeout=TIMEOUT)
            check(r.returncode == 2 and "procnet-collector:" in r.stderr and
                  r.stdout == "", "bad usage %r: rc %d, %r" %
                  (bad, r.returncode, r.stderr))
        # A socket it cannot make: said why, exit 1, nothing created.
        tmp = tempfile.mkdtemp(prefix="it_collector_")
        try:
            for sock, why in (
                    (os.path.join(tmp, "no", "such", "c.sock"),
                     "directory above it does not exist"),
                    (os.path.join(tmp, "s" * 120), "path too long"),
                    (os.path.join(tmp, "s" * 300), "path too long")):
                r = subprocess.run([collector_path(), "--foreground",
                                    "--socket", sock], capture_output=True,
                                   text=True, timeout=TIMEOUT)
                check(r.returncode == 1 and why in r.stderr,
                      "--socket %.40s...: rc %d, %r" %
                      (sock, r.returncode, r.stderr))
            check(os.listdir(tmp) == [], "nothing left in %s" % tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        r = subprocess.run([collector_path(), "--version"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        check(r.returncode == 0 and r.stdout.startswith("procnet-collector "),
              "--version")
    finally:
        srv.stop()
        cli.stop()
    if failures:
        print("%d checks failed" % len(failures))
        return 1
    print("it_collector: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
