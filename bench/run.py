#!/usr/bin/env python3
"""make bench: the collector measured side by side with ss and psutil.

For each population size N the harness starts bench's fixture (K workers,
N established loopback TCP connections, UDP sockets), then runs every tool
as a whole process in interleaved rounds (the order rotates each round, the
first round is a discarded warm-up) and takes wall time, CPU time (user+sys
of that child) and peak RSS (ru_maxrss), all from wait4() in
procnet-bench-spawn.  It also
runs the collector's steady-state mode (--samples/--interval/--stats) on the
same population, and the in-process webd graph timing (procnet-bench-graph).
Medians and ratios go into the marked results section of
docs/performance.md and, in full, into bench/results/*.json.

Standard library only; psutil (Debian's python3-psutil) is needed only by
the psutil tool, run under an interpreter that has it.
"""
import argparse
import datetime
import json
import os
import platform
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import churn
import fleet_case
import netns_case

BEGIN = "<!-- bench:results:begin (written by bench/run.py; do not edit) -->"
END = "<!-- bench:results:end -->"

DEFAULT_ROUNDS = {1000: 7, 10000: 11, 50000: 5}
FIXTURE_SETUP_S = 180
FIXTURE_LIMIT_S = 900
RSS_POLL_S = 0.1

# What psutil users do: every inet socket, then name and command line of
# each owning process (the anchors' "psutil" row).
PSUTIL_PROBE = """
import psutil
conns = psutil.net_connections(kind="inet")
seen = {}
for c in conns:
    if c.pid and c.pid not in seen:
        try:
            p = psutil.Process(c.pid)
            seen[c.pid] = (p.name(), p.cmdline())
        except psutil.Error:
            pass
print(len(conns), len(seen))
"""


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def die(msg):
    log("error: " + msg)
    sys.exit(1)


def find_psutil_python():
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py):
            r = subprocess.run([py, "-c", "import psutil"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return py
    return None


SPAWN = None		# procnet-bench-spawn, set in main()


def spawn_measure(argv, stdout_path=os.devnull, stderr_path=os.devnull):
    """Runs argv as one child of procnet-bench-spawn; returns wall/CPU/RSS
    of exactly that child (spawn.c says why not from python)."""
    r = subprocess.run([SPAWN, "-o", stdout_path, "-e", stderr_path, "--"]
                       + argv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    try:
        m = json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        die("procnet-bench-spawn failed (exit %d): %s"
            % (r.returncode, r.stderr.strip()))
    m["cpu_ms"] = m["user_ms"] + m["sys_ms"]
    return m


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:]).strip()
    except OSError:
        return ""


class Fixture:
    """The population; ended by SIGTERM here, or by its own limits."""

    def __init__(self, path, conns, errpath):
        self.errpath = errpath
        self.err = open(errpath, "w")
        self.proc = subprocess.Popen(
            [path, "-n", str(conns), "-t", str(FIXTURE_LIMIT_S)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self.err)
        self.pid = None
        self.info = {}
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + FIXTURE_SETUP_S
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                self.stop()
                die("fixture not ready after %d s" % FIXTURE_SETUP_S)
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                self.stop()
                die("fixture exited before ready: " + tail(errpath))
            line += chunk
        sel.close()
        words = line.decode().split()
        if not words or words[0] != "ready":
            self.stop()
            die("fixture said %r" % line)
        for w in words[1:]:
            k, _, v = w.partition("=")
            self.info[k] = int(v) if v.isdigit() else v
        self.pid = self.info.get("pid")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def tools_for(args, psutil_py):
    ss = shutil.which("ss")
    cat = shutil.which("cat")
    if ss is None:
        die("ss not found (Debian package iproute2)")
    tools = [
        ("collector", "`procnet-collector --once --format json`",
         [args.collector, "--once", "--format", "json"]),
        ("ss_p", "`ss -tuanp` (with pids)", [ss, "-tuanp"]),
        ("ss", "`ss -tuan` (netlink dump, no pids)", [ss, "-tuan"]),
        ("cat", "`cat /proc/net/{tcp,tcp6,udp,udp6}`",
         [cat, "/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp",
          "/proc/net/udp6"]),
    ]
    if os.access(args.floor, os.X_OK):
        tools.insert(1, ("floor", "floor: netlink + one readlink per fd + "
                         "comm/cmdline of owners (`procnet-bench-floor`)",
                         [args.floor]))
        tools.insert(2, ("dump", "netlink dump alone (`procnet-bench-floor "
                         "-d`): the floor of a steady-state sample",
                         [args.floor, "-d"]))
    if os.access(args.dump, os.X_OK):
        # the price of tcp_info (issue 16): the collector's TCP dump with
        # and without INET_DIAG_INFO, and ss the same two ways
        tools += [
            ("dump_tcp", "TCP dump alone, sock_diag parser "
             "(`procnet-bench-dump`)", [args.dump]),
            ("dump_tcp_info", "TCP dump with tcp_info "
             "(`procnet-bench-dump -i`)", [args.dump, "-i"]),
            ("ss_t", "`ss -tan`", [ss, "-tan"]),
            ("ss_ti", "`ss -tani` (with tcp_info)", [ss, "-tani"]),
        ]
    if psutil_py:
        tools.append(("psutil", "psutil `net_connections()` + name/cmdline",
                      [psutil_py, "-c", PSUTIL_PROBE]))
    return tools


def med(xs):
    return statistics.median(xs) if xs else None


def check_collector_view(args, fx, tmp, sizes):
    """One --once snapshot, parsed: does it see the fixture, and how big
    is the data it holds (the "raw data" of the RSS target)."""
    out = os.path.join(tmp, "once.json")
    r = spawn_measure([args.collector, "--once", "--format", "json"],
                      stdout_path=out,
                      stderr_path=os.path.join(tmp, "once.err"))
    if r["rc"] != 0:
        return {"error": "collector --once exited %d: %s"
                % (r["rc"], tail(os.path.join(tmp, "once.err")))}
    try:
        with open(out) as f:
            snap = json.load(f)
    except (OSError, ValueError) as e:
        return {"error": "collector --once output is not JSON: %s" % e}
    procs = snap.get("processes", [])
    socks = snap.get("sockets", [])
    workers = {p["pid"] for p in procs if p.get("ppid") == fx.pid}
    est = sum(1 for s in socks if s.get("proto") == "tcp"
              and s.get("state") == "ESTABLISHED" and s.get("pid") in workers)
    lis = sum(1 for s in socks if s.get("proto") == "tcp"
              and s.get("state") == "LISTEN" and s.get("pid") in workers)
    udp = sum(1 for s in socks if s.get("proto") == "udp"
              and s.get("pid") in workers)
    strings = 0
    for p in procs:
        for k in ("user", "name", "exe", "cmdline"):
            strings += len((p.get(k) or "").encode()) + 1
    view = {
        "sockets": len(socks), "processes": len(procs),
        "fixture_workers": len(workers), "fixture_established": est,
        "fixture_listeners": lis, "fixture_udp": udp,
        "expected_established": 2 * fx.info.get("tcp_conns", 0),
        "expected_listeners": 2 * fx.info.get("workers", 0),
        "expected_udp": fx.info.get("udp", 0),
        "string_bytes": strings,
    }
    if sizes:
        view["raw_bytes"] = (len(socks) * sizes["snap_socket"] +
                             len(procs) * sizes["snap_process"] + strings)
    return view


def read_rss(pid):
    """(VmRSS, RssAnon) in kB: all resident pages, and the private ones
    (heap, stack: not the binary's and libraries' file pages)."""
    rss = anon = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    rss = int(ln.split()[1])
                elif ln.startswith("RssAnon:"):
                    anon = int(ln.split()[1])
    except (OSError, ValueError):
        pass
    return rss, anon


def spawn_child(spawn_pid, deadline):
    """The pid procnet-bench-spawn forked, once it exists."""
    path = "/proc/%d/task/%d/children" % (spawn_pid, spawn_pid)
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.005)
    return None


def run_steady(args, n, tmp):
    """--samples in one process; its resident set is read from /proc every
    RSS_POLL_S while it runs (the --stats rss_kb is the peak, VmHWM)."""
    samples = args.steady_samples
    err = os.path.join(tmp, "steady.err")
    argv = [args.collector, "--samples", str(samples), "--interval",
            args.steady_interval, "--stats"]
    p = subprocess.Popen([SPAWN, "-e", err, "--"] + argv,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    child = spawn_child(p.pid, time.monotonic() + 10)
    rss, anon = [], []
    while child is not None and p.poll() is None:
        v, a = read_rss(child)
        if v:
            rss.append(v)
        if a:
            anon.append(a)
        time.sleep(RSS_POLL_S)
    out, perr = p.communicate()
    try:
        r = json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        die("procnet-bench-spawn failed: %s" % perr.strip())
    r["cpu_ms"] = r["user_ms"] + r["sys_ms"]
    res = {"argv": " ".join(argv[1:]), "process": r}
    # The first readings are the process starting up and its first, cold
    # sample; what it holds in steady state is the rest.
    if len(rss) >= 4:
        rss = rss[len(rss) // 4:]
    if len(anon) >= 4:
        anon = anon[len(anon) // 4:]
    if rss:
        res["rss_resident_kb"] = statistics.median(rss)
        res["rss_resident_max_kb"] = max(rss)
    if anon:
        res["rss_anon_kb"] = statistics.median(anon)
    if r["rc"] != 0:
        res["error"] = "exit %d: %s" % (r["rc"], tail(err))
        return res
    lines = [ln for ln in tail(err, 50).splitlines() if ln.strip()]
    try:
        res["stats"] = json.loads(lines[-1])
    except (IndexError, ValueError):
        res["error"] = "last stderr line is not JSON: %r" % (
            lines[-1] if lines else "")
    return res


def run_size(args, n, rounds, tools, tmp, sizes):
    log("N=%d: starting fixture" % n)
    fx = Fixture(args.fixture, n, os.path.join(tmp, "fixture-%d.err" % n))
    res = {"n": n, "rounds": rounds, "fixture": fx.info, "tools": {},
           "loadavg_start": os.getloadavg()[0]}
    try:
        time.sleep(1.0)		# let the population settle
        res["collector_view"] = check_collector_view(args, fx, tmp, sizes)
        samples = {key: [] for key, _, _ in tools}
        errors = {}
        for rnd in range(rounds + 1):
            k = rnd % len(tools)
            order = tools[k:] + tools[:k]
            for key, _, argv in order:
                errp = os.path.join(tmp, "%s.err" % key)
                m = spawn_measure(argv, stderr_path=errp)
                if m["rc"] != 0:
                    errors[key] = "exit %d: %s" % (m["rc"], tail(errp))
                    continue
                if rnd > 0:		# round 0 is the warm-up
                    samples[key].append(m)
            log("N=%d: round %d/%d done" % (n, rnd, rounds))
        for key, label, argv in tools:
            s = samples[key]
            res["tools"][key] = {
                "label": label,
                "runs": len(s),
                "wall_ms": med([x["wall_ms"] for x in s]),
                "cpu_ms": med([x["cpu_ms"] for x in s]),
                "user_ms": med([x["user_ms"] for x in s]),
                "sys_ms": med([x["sys_ms"] for x in s]),
                "rss_kb": max([x["rss_kb"] for x in s], default=None),
                "samples": s,
            }
            if key in errors:
                res["tools"][key]["error"] = errors[key]
        if args.steady_samples > 0:
            log("N=%d: steady state (%d samples)" % (n, args.steady_samples))
            res["steady"] = run_steady(args, n, tmp)
        if n == 10000 and args.history_s > 0:
            log("N=%d: webd with history for %d s" % (n, args.history_s))
            res["history"] = run_history_live(args, tmp)
    finally:
        res["loadavg_end"] = os.getloadavg()[0]
        fx.stop()
    return res


def http_json(port, path):
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=30) as r:
        return json.loads(r.read())


def proc_cpu_s(pid):
    """user + sys of a running process, from /proc/<pid>/stat."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf(
            "SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_history_live(args, tmp):
    """The collector daemon and webd with --history on the population for
    args.history_s seconds (1 s samples): the writer thread's CPU time
    (/api/status history.cpu_s) over the wall time is its share of a core."""
    import socket as so
    sock = os.path.join(tmp, "hist-collector.sock")
    hfile = os.path.join(tmp, "history.sqlite")
    s = so.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    procs = []
    res = {"seconds": args.history_s}
    try:
        procs.append(subprocess.Popen(
            [args.collector, "--foreground", "--socket", sock],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "hist-collector.err"), "w")))
        deadline = time.monotonic() + 30
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.1)
        webd = subprocess.Popen(
            [args.webd, "--port", str(port), "--collector", sock,
             "--web-root", args.web_root, "--interval", "1",
             "--history", hfile],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "hist-webd.err"), "w"))
        procs.append(webd)
        st = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                st = http_json(port, "/api/status")
                if st["sample"]["seq"] >= 3:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        else:
            res["error"] = "webd did not start: " + tail(
                os.path.join(tmp, "hist-webd.err"))
            return res
        h0, w0, t0 = st["history"], proc_cpu_s(webd.pid), time.monotonic()
        time.sleep(args.history_s)
        st = http_json(port, "/api/status")
        h1, w1, t1 = st["history"], proc_cpu_s(webd.pid), time.monotonic()
        wall = t1 - t0
        res.update({
            "wall_s": wall,
            "writer_cpu_s": h1["cpu_s"] - h0["cpu_s"],
            "core_pct": (h1["cpu_s"] - h0["cpu_s"]) / wall * 100,
            "webd_cpu_s": (w1 - w0) if w0 is not None and w1 is not None
            else None,
            "samples": h1["samples"] - h0["samples"],
            "samples_dropped": h1["samples_dropped"],
            "minutes_written": h1["minutes_written"] - h0["minutes_written"],
            "last_write_ms": h1["last_write_ms"],
            "size_bytes": h1["size_bytes"],
            "state": h1["state"],
            "edges": st["counts"]["edges"],
            "sockets": st["counts"]["sockets"],
        })
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    return res


def run_history_growth(args, tmp):
    """The file's growth: a day (--history-minutes) of 1 000 edges through
    the real writer."""
    if not os.access(args.history_prog, os.X_OK):
        return {"error": "procnet-bench-history not built"}
    f = os.path.join(tmp, "growth.sqlite")
    r = subprocess.run([args.history_prog, "-e", "1000", "-m",
                        str(args.history_minutes), "-f", f],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip()[-300:]}
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": "bad output %r" % r.stdout[-200:]}


def run_graph(args):
    if not args.graph or not os.path.exists(args.graph):
        return {"error": "procnet-bench-graph not built (webd graph "
                "modules missing from the build)"}
    argv = [args.graph, "-n", str(args.graph_conns), "-r",
            str(args.graph_rounds)]
    if args.rules and os.path.exists(args.rules):
        argv += ["-R", args.rules]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": "exit %d: %s" % (r.returncode, r.stderr.strip())}
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": "output is not JSON: %r" % r.stdout}


def run_fleet(args):
    """The fleet case (bench/fleet_case.py): the merge in process, and
    one host's NATS traffic live with a fixture of --fleet-conns."""
    res = {}
    if args.fleet_hosts > 0:
        res["merge"] = fleet_case.run_merge(
            args.fleet_prog, args.fleet_hosts, args.fleet_conns,
            args.fleet_rounds, log)
    if args.fleet_traffic_seconds > 0:
        log("fleet traffic: one host publishing for %d s"
            % args.fleet_traffic_seconds)
        res["traffic"] = fleet_case.run_traffic(
            args, log, seconds=args.fleet_traffic_seconds,
            conns=args.fleet_conns)
    return res


def get_sizes(args):
    if not os.path.exists(args.sizes_prog):
        return None
    r = subprocess.run([args.sizes_prog], capture_output=True, text=True)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def machine_info(build):
    info = {"nproc": os.cpu_count(), "kernel": platform.release(),
            "cpu": "", "mem_mb": None, "buildtype": ""}
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    info["cpu"] = ln.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["mem_mb"] = int(f.readline().split()[1]) // 1024
        with open("/etc/debian_version") as f:
            info["debian"] = f.read().strip()
    except OSError:
        pass
    try:
        with open(os.path.join(build, "meson-info",
                               "intro-buildoptions.json")) as f:
            for o in json.load(f):
                if o["name"] == "buildtype":
                    info["buildtype"] = o["value"]
    except (OSError, ValueError, KeyError):
        pass
    info["loadavg"] = os.getloadavg()[0]
    return info


# ---- report ---------------------------------------------------------------

def fmt_ms(v):
    if v is None:
        return "n/a"
    return "{:,.0f}".format(v) if v >= 10 else "{:.1f}".format(v)


def fmt_ratio(a, b):
    if a is None or not b:
        return "n/a"
    return "{:.2f}×".format(a / b)


def fmt_kb(kb):
    if kb is None:
        return "n/a"
    return "{:.1f} MB".format(kb / 1024.0)


def verdict(ok):
    """ok: None (not measured), a bool, or (wall ok, CPU ok)."""
    if ok is None:
        return "not measured"
    if isinstance(ok, tuple):
        wall, cpu = ok
        if wall and cpu:
            return "**met**"
        if not wall and not cpu:
            return "**missed**"
        if cpu:
            return "**missed** on wall time, met on CPU time"
        return "**missed** on CPU time, met on wall time"
    return "**met**" if ok else "**missed**"


def targets(results):
    """The issue-9 targets, judged on this run's medians.  Time targets are
    judged on wall time and on CPU time: on a shared machine the wall time
    also holds the waits for a core, which CPU time does not."""
    out = []
    by_n = {r["n"]: r for r in results["sizes"]}

    for n, limit in ((10000, 0.30), (50000, 0.12)):
        r = by_n.get(n)
        c = r and r["tools"].get("collector", {}).get("wall_ms")
        s = r and r["tools"].get("ss_p", {}).get("wall_ms")
        cc = r and r["tools"].get("collector", {}).get("cpu_ms")
        sc = r and r["tools"].get("ss_p", {}).get("cpu_ms")
        fl = r and r["tools"].get("floor", {}).get("cpu_ms")
        if c and s and cc and sc:
            ok = (c / s <= limit, cc / sc <= limit)
            meas = ("wall %s / %s ms = %s; CPU %s / %s ms = %s" % (
                fmt_ms(c), fmt_ms(s), fmt_ratio(c, s),
                fmt_ms(cc), fmt_ms(sc), fmt_ratio(cc, sc)))
            if fl:
                meas += ("; the floor reference's CPU is %s of `ss -tuanp`,"
                         " the collector's %s of the floor's" % (
                             fmt_ratio(fl, sc), fmt_ratio(cc, fl)))
        else:
            ok, meas = None, "n/a"
        out.append(("cold one-shot ≤ %.2f× `ss -tuanp` at N=%dk"
                    % (limit, n // 1000), meas, ok))
    for n in (10000, 50000):
        r = by_n.get(n)
        steady = (r and r.get("steady")) or {}
        st = steady.get("stats")
        s = r and r["tools"].get("ss", {}).get("wall_ms")
        sc = r and r["tools"].get("ss", {}).get("cpu_ms")
        if st and s and sc and st.get("median_ms") is not None:
            m = st["median_ms"]
            per = steady["process"]["cpu_ms"] / max(1, st.get("samples", 1))
            ok = (m <= s, per <= sc)
            meas = ("median sample %s ms (p95 %s, max %s) vs `ss -tuan` "
                    "%s ms wall; CPU per sample %s ms (all samples, full "
                    "passes included) vs `ss -tuan` %s ms" % (
                        fmt_ms(m), fmt_ms(st.get("p95_ms")),
                        fmt_ms(st.get("max_ms")), fmt_ms(s), fmt_ms(per),
                        fmt_ms(sc)))
            dc = r["tools"].get("dump", {}).get("cpu_ms")
            if dc:
                meas += ("; the netlink dump alone (a whole process) %s ms "
                         "CPU" % fmt_ms(dc))
        else:
            ok = None
            err = steady.get("error")
            meas = "n/a" + (" (%s)" % err if err else "")
        out.append(("steady-state sample ≤ `ss -tuan` at N=%dk" % (n // 1000),
                    meas, ok))
    base = results.get("baseline_rss_kb")
    for n in (10000, 50000):
        r = by_n.get(n)
        steady = (r and r.get("steady")) or {}
        raw = r and r.get("collector_view", {}).get("raw_bytes")
        rss = steady.get("rss_resident_kb")
        anon = steady.get("rss_anon_kb")
        peak = steady.get("stats", {}).get("rss_kb")
        if rss and raw:
            ok = rss * 1024 <= 2 * raw
            meas = ("resident %s = %s of raw %s (peak %s = %s); private "
                    "(RssAnon) %s = %s; a bare `procnet-collector "
                    "--version` is %s" % (
                        fmt_kb(rss), fmt_ratio(rss * 1024, raw),
                        fmt_kb(raw / 1024.0), fmt_kb(peak),
                        fmt_ratio(peak * 1024 if peak else None, raw),
                        fmt_kb(anon),
                        fmt_ratio(anon * 1024 if anon else None, raw),
                        fmt_kb(base)))
        else:
            ok, meas = None, "n/a"
        out.append(("collector RSS ≤ 2× raw data at N=%dk" % (n // 1000),
                    meas, ok))
    g = results.get("graph", {})
    if "total_ms" in g:
        per_sample = (g.get("window_ms", 0) + g["build_ms"] + g["delta_ms"] +
                      g["delta_json_ms"])
        cpu = g.get("total_cpu_ms")
        ok = (g["total_ms"] <= 50.0, cpu is not None and cpu <= 50.0)
        meas = ("wall %s ms (window %s + build %s + delta %s + graph JSON %s "
                "+ delta JSON %s; per sample without the full JSON %s ms); "
                "CPU %s ms"
                % (fmt_ms(g["total_ms"]), fmt_ms(g.get("window_ms")),
                   fmt_ms(g["build_ms"]),
                   fmt_ms(g["delta_ms"]), fmt_ms(g["json_ms"]),
                   fmt_ms(g["delta_json_ms"]), fmt_ms(per_sample),
                   fmt_ms(cpu)))
    else:
        ok, meas = None, "n/a (%s)" % g.get("error", "not run")
    out.append(("webd build + delta + encode at %dk ≤ 50 ms"
                % (results.get("graph_conns", 10000) // 1000), meas, ok))
    h = (by_n.get(10000) or {}).get("history") or {}
    if "core_pct" in h:
        ok = h["core_pct"] <= 1.0
        meas = ("history writer thread %.2f s CPU over %.0f s = %.3f%% of a "
                "core (%d samples, %d minutes written, last write %s ms, "
                "%d edges, %d sockets; all of webd: %s s CPU)" % (
                    h["writer_cpu_s"], h["wall_s"], h["core_pct"],
                    h["samples"], h["minutes_written"],
                    fmt_ms(h["last_write_ms"]), h["edges"], h["sockets"],
                    "%.2f" % h["webd_cpu_s"] if h.get("webd_cpu_s")
                    is not None else "n/a"))
    else:
        ok, meas = None, "n/a (%s)" % h.get("error", "not run")
    out.append(("history writing ≤ 1% of a core at 10k connections (issue "
                "16)", meas, ok))
    g = results.get("history_growth", {})
    if "bytes_per_1000_edges_day" in g:
        meas = ("%.1f MB per 1 000 edges per day (every edge in every "
                "minute: %d edges × %d minutes = %s bytes); a minute's write "
                "%.1f ms CPU (median)" % (
                    g["bytes_per_1000_edges_day"] / 1e6, g["edges"],
                    g["minutes"], "{:,}".format(g["bytes"]),
                    g["minute_write_cpu_ms_median"]))
        ok = True
    else:
        ok, meas = None, "n/a (%s)" % g.get("error", "not run")
    out.append(("history file growth stated per 1 000 edges per day",
                meas, ok))
    if "fleet" in results:
        out.append(fleet_case.target(results["fleet"]))
    return out


def render(results):
    m = results["machine"]
    L = []
    L.append("Run of %s UTC, `%s`, %.0f s in all." % (
        results["started"], results["command"], results["elapsed_s"]))
    L.append("")
    L.append("Machine: %s cores (%s), %s MB RAM, Linux %s, Debian %s; "
             "build type `%s`; load average at start %.2f." % (
                 m["nproc"], m["cpu"] or "unknown CPU", m["mem_mb"],
                 m["kernel"], m.get("debian", "?"), m["buildtype"],
                 m["loadavg"]))
    L.append("")
    L.append("### Targets (issue 9)")
    L.append("")
    L.append("| target | measured in this run | result |")
    L.append("|---|---|---|")
    for name, meas, ok in targets(results):
        L.append("| %s | %s | %s |" % (name, meas, verdict(ok)))
    L.append("")
    for r in results["sizes"]:
        n = r["n"]
        fx = r["fixture"]
        L.append("### N = %s connections" % "{:,}".format(n))
        L.append("")
        L.append("Fixture: %s workers, %s established connections (%s TCP "
                 "sockets + %s listeners), %s UDP sockets, set up in %s ms. "
                 "Medians of %d interleaved rounds after one warm-up round "
                 "(user and sys are medians of their own, so they need not "
                 "add up); peak RSS is the largest seen. Load average "
                 "(1 min) %.1f at the start, %.1f at the end."
                 % (fx.get("workers"), "{:,}".format(n),
                    "{:,}".format(2 * n), 2 * fx.get("workers", 0),
                    fx.get("udp"), fx.get("setup_ms"), r["rounds"],
                    r.get("loadavg_start", 0), r.get("loadavg_end", 0)))
        L.append("")
        L.append("| tool | wall ms | CPU ms (user, sys) | peak RSS | "
                 "wall vs `ss -tuanp` | wall vs `ss -tuan` | "
                 "CPU vs `ss -tuanp` |")
        L.append("|---|---|---|---|---|---|---|")
        sp = r["tools"].get("ss_p", {})
        ss = r["tools"].get("ss", {})
        for key, t in r["tools"].items():
            if t.get("error") and not t["runs"]:
                L.append("| %s | failed: %s | | | | | |" % (
                    t["label"], t["error"].replace("|", "/")[:200]))
                continue
            L.append("| %s | %s | %s (%s, %s) | %s | %s | %s | %s |" % (
                t["label"], fmt_ms(t["wall_ms"]), fmt_ms(t["cpu_ms"]),
                fmt_ms(t["user_ms"]), fmt_ms(t["sys_ms"]),
                fmt_kb(t["rss_kb"]),
                fmt_ratio(t["wall_ms"], sp.get("wall_ms")),
                fmt_ratio(t["wall_ms"], ss.get("wall_ms")),
                fmt_ratio(t["cpu_ms"], sp.get("cpu_ms"))))
        L.append("")
        v = r.get("collector_view", {})
        if "error" in v:
            L.append("Collector check: %s" % v["error"])
        else:
            L.append("Collector check (one `--once` snapshot): %d sockets "
                     "(%d of them the rest of the machine's, TIME_WAIT "
                     "included, in every tool's view too), %d processes; "
                     "fixture: %d/%d established ends, %d/%d "
                     "listeners, %d/%d UDP sockets with their owning worker."
                     % (v["sockets"], v["sockets"] -
                        v["expected_established"] - v["expected_listeners"] -
                        v["expected_udp"], v["processes"],
                        v["fixture_established"], v["expected_established"],
                        v["fixture_listeners"], v["expected_listeners"],
                        v["fixture_udp"], v["expected_udp"]))
            if "raw_bytes" in v:
                L.append("Raw data held: %s (sockets × %d B + processes × "
                         "%d B + %s B of strings)." % (
                             fmt_kb(v["raw_bytes"] / 1024.0),
                             results["sizes_of"]["snap_socket"],
                             results["sizes_of"]["snap_process"],
                             "{:,}".format(v["string_bytes"])))
        st = r.get("steady")
        if st:
            L.append("")
            if "stats" in st:
                s = st["stats"]
                L.append("Steady state `%s`: %s; whole process %s ms CPU "
                         "over %s samples = %s ms CPU per sample; resident "
                         "set read every %.1f s while it ran: median %s, "
                         "max %s, private (RssAnon) median %s." % (
                             st["argv"], json.dumps(s, sort_keys=True),
                             fmt_ms(st["process"]["cpu_ms"]),
                             s.get("samples", "?"),
                             fmt_ms(st["process"]["cpu_ms"] /
                                    max(1, s.get("samples", 1))),
                             RSS_POLL_S, fmt_kb(st.get("rss_resident_kb")),
                             fmt_kb(st.get("rss_resident_max_kb")),
                             fmt_kb(st.get("rss_anon_kb"))))
            else:
                L.append("Steady state `%s`: %s" % (st["argv"],
                                                    st.get("error")))
        L.append("")
    L.append("### tcp_info in the socket dump (issue 16)")
    L.append("")
    L.append("The collector's TCP dump (one request for IPv4 and IPv6, "
             "parsed by `sockdiag.c`) without and with `INET_DIAG_INFO`, "
             "and `ss` the same two ways, in the same interleaved rounds as "
             "above; medians.")
    L.append("")
    L.append("| N | dump wall / CPU ms | with tcp_info wall / CPU ms | "
             "extra CPU | `ss -tan` wall / CPU ms | `ss -tani` wall / CPU ms |")
    L.append("|---|---|---|---|---|---|")
    for r in results["sizes"]:
        t = r["tools"]
        d, di = t.get("dump_tcp", {}), t.get("dump_tcp_info", {})
        a, ai = t.get("ss_t", {}), t.get("ss_ti", {})
        extra = ("+%.0f%%" % ((di["cpu_ms"] / d["cpu_ms"] - 1) * 100)
                 if d.get("cpu_ms") and di.get("cpu_ms") else "n/a")
        L.append("| %s | %s / %s | %s / %s | %s | %s / %s | %s / %s |" % (
            "{:,}".format(r["n"]), fmt_ms(d.get("wall_ms")),
            fmt_ms(d.get("cpu_ms")), fmt_ms(di.get("wall_ms")),
            fmt_ms(di.get("cpu_ms")), extra, fmt_ms(a.get("wall_ms")),
            fmt_ms(a.get("cpu_ms")), fmt_ms(ai.get("wall_ms")),
            fmt_ms(ai.get("cpu_ms"))))
    L.append("")
    g = results.get("graph", {})
    L.append("### webd graph at %s connections (in process)" %
             "{:,}".format(results.get("graph_conns", 10000)))
    L.append("")
    if "total_ms" in g:
        L.append("Synthetic snapshot shaped like the fixture: %s sockets → "
                 "%s nodes, %s edges; 1%% of connections replaced each round;"
                 " medians of %s rounds; rules: %s." % (
                     "{:,}".format(g["sockets"]), g["nodes"], g["edges"],
                     g["rounds"], "the shipped "
                     "`packaging/rules/node_types.yaml`" if g.get("rules")
                     else "none"))
        L.append("")
        L.append("| graph_build | graph_delta | graph_json | graph_delta_json "
                 "| total | total, thread CPU time |")
        L.append("|---|---|---|---|---|---|")
        L.append("| %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | "
                 "%.2f ms |" % (
                     g["build_ms"], g["delta_ms"], g["json_ms"],
                     g["delta_json_ms"], g["total_ms"],
                     g.get("total_cpu_ms", float("nan"))))
        L.append("")
        L.append("The full graph JSON is %s bytes, a delta %s bytes." % (
            "{:,}".format(g["json_bytes"]),
            "{:,}".format(g["delta_json_bytes"])))
    else:
        L.append("Not measured: %s" % g.get("error"))
    if "netns" in results:
        L += netns_case.render(results["netns"])
    L.append("")
    L.extend(churn.render_churn(results.get("churn")))
    if "fleet" in results:
        L.extend(fleet_case.render(results["fleet"]))
    return "\n".join(L)


def write_doc(path, section):
    try:
        with open(path) as f:
            doc = f.read()
    except FileNotFoundError:
        doc = "# Performance\n\n## Results\n\n%s\n%s\n" % (BEGIN, END)
    block = "%s\n%s\n%s" % (BEGIN, section.rstrip("\n"), END)
    b, e = doc.find(BEGIN), doc.find(END)
    if b >= 0 and e > b:
        doc = doc[:b] + block + doc[e + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)


def main():
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build",
                    help="meson build dir (release) [build]")
    ap.add_argument("--sizes", default="1000,10000,50000",
                    help="connection counts, comma separated")
    ap.add_argument("--rounds", type=int, default=0,
                    help="measured rounds per size (default 7; 11 at 10k, 5 at 50k)")
    ap.add_argument("--steady-samples", type=int, default=31)
    ap.add_argument("--steady-interval", default="0.2",
                    help="seconds between steady-state samples")
    ap.add_argument("--netns", type=int, default=20,
                    help="namespaces in the network namespace case (0: skip)")
    ap.add_argument("--netns-conns", type=int, default=500,
                    help="connections in each of them")
    ap.add_argument("--graph-conns", type=int, default=10000)
    ap.add_argument("--graph-rounds", type=int, default=15)
    ap.add_argument("--rules", default=os.path.join(
        src, "packaging", "rules", "node_types.yaml"),
        help="rules file for the graph timing (default: the shipped one; "
        "'' for none)")
    ap.add_argument("--doc", default=os.path.join(src, "docs",
                                                  "performance.md"))
    ap.add_argument("--no-doc", action="store_true",
                    help="do not rewrite docs/performance.md")
    ap.add_argument("--results-dir", default=os.path.join(src, "bench",
                                                          "results"),
                    help="where the full JSON goes [bench/results]")
    ap.add_argument("--history-seconds", dest="history_s", type=int,
                    default=150, help="how long webd writes history on the "
                    "10k population (0: skip) [150]")
    ap.add_argument("--history-minutes", type=int, default=1440,
                    help="minutes of 1 000 edges written for the history "
                    "file's growth [1440]")
    ap.add_argument("--churn-rate", type=int, default=1000,
                    help="connections/s of the churn case (0: skip it)")
    ap.add_argument("--churn-samples", type=int, default=12,
                    help="samples per event source in the churn case")
    ap.add_argument("--fleet-hosts", type=int, default=100,
                    help="hosts in the fleet merge case (0: skip it) [100]")
    ap.add_argument("--fleet-conns", type=int, default=1000,
                    help="connections per host in the fleet merge [1000]")
    ap.add_argument("--fleet-rounds", type=int, default=5,
                    help="host updates merged in the fleet case [5]")
    ap.add_argument("--fleet-traffic-seconds", type=int, default=30,
                    help="how long one host publishes to NATS for its "
                    "traffic, a full graph's period (0: skip) [30]")
    ap.add_argument("--allow-debug", action="store_true",
                    help="measure a non-release build anyway")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    args.collector = os.path.join(build, "collector-svc", "procnet-collector")
    args.fixture = os.path.join(build, "bench", "procnet-bench-fixture")
    args.graph = os.path.join(build, "bench", "procnet-bench-graph")
    args.sizes_prog = os.path.join(build, "bench", "procnet-bench-sizes")
    args.floor = os.path.join(build, "bench", "procnet-bench-floor")
    args.dump = os.path.join(build, "bench", "procnet-bench-dump")
    args.history_prog = os.path.join(build, "bench", "procnet-bench-history")
    args.fleet_prog = os.path.join(build, "bench", "procnet-bench-fleet")
    args.webd = os.path.join(build, "webd", "procnet-webd")
    args.web_root = os.path.join(build, "web", "root")
    global SPAWN
    SPAWN = os.path.join(build, "bench", "procnet-bench-spawn")
    for p in (args.collector, args.fixture, SPAWN):
        if not os.access(p, os.X_OK):
            die("%s is not built (run `make bench`)" % p)
    try:
        sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError:
        die("--sizes: expected numbers like 1000,10000")
    if not sizes or any(n < 1 or n > 200000 for n in sizes):
        die("--sizes: each size must be 1..200000")
    if not 0 <= args.churn_rate <= 20000 or \
            not 5 <= args.churn_samples <= 600:
        die("--churn-rate: 0..20000, --churn-samples: 5..600")
    if args.rounds < 0 or args.rounds > 100:
        die("--rounds: 0..100")
    if not 0 <= args.steady_samples <= 10000:
        die("--steady-samples: 0..10000")
    if not 0 <= args.netns <= 200 or not 1 <= args.netns_conns <= 20000:
        die("--netns: 0..200, --netns-conns: 1..20000")
    if not 1 <= args.history_minutes <= 100000 or \
            not 0 <= args.history_s <= 3600:
        die("--history-minutes: 1..100000, --history-seconds: 0..3600")
    if not 0 <= args.fleet_hosts <= 250 or \
            not 10 <= args.fleet_conns <= 20000 or \
            not 1 <= args.fleet_rounds <= 1000 or \
            not 0 <= args.fleet_traffic_seconds <= 600:
        die("--fleet-hosts: 0..250, --fleet-conns: 10..20000, "
            "--fleet-rounds: 1..1000, --fleet-traffic-seconds: 0..600")
    if not 1 <= args.graph_conns <= 200000 or \
            not 1 <= args.graph_rounds <= 1000:
        die("--graph-conns: 1..200000, --graph-rounds: 1..1000")

    machine = machine_info(build)
    if machine["buildtype"] not in ("release", "") and not args.allow_debug:
        die("%s is a %s build; measure a release build (make bench), or "
            "pass --allow-debug" % (build, machine["buildtype"]))
    if os.geteuid() != 0:
        log("warning: not root: the fixture may not raise RLIMIT_NOFILE "
            "and the collector sees only this user's processes")
    psutil_py = find_psutil_python()
    if psutil_py is None:
        log("warning: no python3 with psutil (Debian: python3-psutil); "
            "the psutil row is skipped")
    tools = tools_for(args, psutil_py)

    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    results = {
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "command": ("make bench BUILD=%s" % args.build)
        if os.environ.get("MAKELEVEL") else
        " ".join(["bench/run.py"] + sys.argv[1:]),
        "machine": machine,
        "sizes": [],
        "graph_conns": args.graph_conns,
    }
    results["sizes_of"] = get_sizes(args)
    results["baseline_rss_kb"] = spawn_measure(
        [args.collector, "--version"])["rss_kb"]

    # A SIGTERM/SIGINT to the harness still stops the fixture (finally);
    # the fixture also dies on its own with us (PR_SET_PDEATHSIG).
    def on_signal(signo, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    with tempfile.TemporaryDirectory(prefix="procnet-bench-") as tmp:
        for n in sizes:
            rounds = args.rounds or DEFAULT_ROUNDS.get(n, 7 if n < 50000
                                                       else 5)
            results["sizes"].append(run_size(args, n, rounds, tools, tmp,
                                             results["sizes_of"]))
        log("history file growth (1 000 edges, a day of minutes)")
        results["history_growth"] = run_history_growth(args, tmp)
    if args.netns > 0:
        log("network namespace case: %d x %d connections"
            % (args.netns, args.netns_conns))
        results["netns"] = netns_case.run(args, spawn_measure, log,
                                          n_ns=args.netns,
                                          conns=args.netns_conns)
    log("graph timing at %d connections" % args.graph_conns)
    results["graph"] = run_graph(args)
    if args.churn_rate > 0:
        results["churn"] = churn.run_churn(args.collector, args.churn_rate,
                                           args.churn_samples, log=log)
    if args.fleet_hosts > 0 or args.fleet_traffic_seconds > 0:
        results["fleet"] = run_fleet(args)
    results["elapsed_s"] = time.monotonic() - t0

    section = render(results)
    resdir = args.results_dir
    os.makedirs(resdir, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    with open(os.path.join(resdir, "bench-%s.json" % stamp), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(resdir, "latest.md"), "w") as f:
        f.write(section)
    if not args.no_doc:
        write_doc(args.doc, section)
        log("results written to %s" % args.doc)
    print(section)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        die("interrupted")
