"""make bench, the network namespace case (issue 15): K namespaces
(default 20), each with its own loopback population of N established TCP
connections (default 500; bench's fixture run inside it with `ip netns
exec`), and the collector's cost with them: cold (`--once`, a whole
process, wall and CPU from procnet-bench-spawn) and steady (`--samples`,
median sample), each also with `--max-netns 1` (only the collector's own
namespace), so the difference is what the other namespaces cost.

Needs root (ip netns).  Namespaces are named from our pid and deleted at
the end whatever happens; fixtures are stopped by pid.
"""
import json
import os
import selectors
import signal
import statistics
import subprocess
import tempfile
import time

SETUP_S = 120
LIMIT_S = 900


def _ip(*args):
    r = subprocess.run(["ip"] + list(args), capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.decode().strip()))


def _wait_ready(p, deadline):
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    line = b""
    try:
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise RuntimeError("fixture in a namespace not ready")
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError("fixture in a namespace exited")
            line += chunk
    finally:
        sel.close()
    if not line.startswith(b"ready"):
        raise RuntimeError("fixture said %r" % line)


def run(args, spawn_measure, log, n_ns=20, conns=500, rounds=5):
    """Returns the case's results (a dict); "error" says why when it could
    not run."""
    if os.geteuid() != 0:
        return {"error": "not root: no network namespaces"}
    tag = os.getpid() % 100000
    names = ["pnb%d-%d" % (tag, i) for i in range(n_ns)]
    made, fixtures = [], []
    res = {"namespaces": n_ns, "conns_per_ns": conns, "rounds": rounds}
    tmp = tempfile.mkdtemp(prefix="procnet-bench-netns-")
    try:
        for ns in names:
            _ip("netns", "add", ns)
            made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        deadline = time.monotonic() + SETUP_S
        for ns in names:
            p = subprocess.Popen(["ip", "netns", "exec", ns, args.fixture, "-n",
                                  str(conns), "-t", str(LIMIT_S)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            fixtures.append(p)
        for p in fixtures:
            _wait_ready(p, deadline)
        log("netns case: %d namespaces x %d connections up" % (n_ns, conns))

        def cold(extra):
            ms, cpu = [], []
            for _ in range(rounds + 1):
                m = spawn_measure([args.collector, "--once"] + extra)
                if m.get("rc", 0) != 0:
                    raise RuntimeError("collector --once failed")
                ms.append(m["wall_ms"])
                cpu.append(m["cpu_ms"])
            # the first round warms the page cache: discarded
            return {"wall_ms": statistics.median(ms[1:]),
                    "cpu_ms": statistics.median(cpu[1:])}

        def steady(extra):
            err = os.path.join(tmp, "steady.err")
            m = spawn_measure([args.collector, "--samples",
                               str(args.steady_samples or 31), "--interval",
                               args.steady_interval, "--stats"] + extra,
                              stderr_path=err)
            with open(err) as f:
                lines = [ln for ln in f.read().splitlines() if ln.strip()]
            st = json.loads(lines[-1])
            st["cpu_ms"] = m["cpu_ms"]
            st["rss_kb"] = m.get("rss_kb", st.get("rss_kb"))
            return st

        res["cold_all"] = cold([])
        res["cold_own"] = cold(["--max-netns", "1"])
        res["steady_all"] = steady([])
        res["steady_own"] = steady(["--max-netns", "1"])
        log("netns case: cold %.0f ms (own only %.0f), steady median %.1f ms "
            "(own only %.1f), %s namespaces dumped"
            % (res["cold_all"]["wall_ms"], res["cold_own"]["wall_ms"],
               res["steady_all"]["median_ms"], res["steady_own"]["median_ms"],
               res["steady_all"].get("netns")))
    except (RuntimeError, OSError, ValueError, IndexError,
            subprocess.TimeoutExpired) as e:
        res["error"] = str(e)
        log("netns case: %s" % e)
    finally:
        for p in fixtures:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    return res


def render(res):
    """Markdown lines for docs/performance.md."""
    out = ["", "### Network namespaces", ""]
    if "error" in res:
        out.append("Not measured: %s." % res["error"])
        return out
    out += [
        "%d namespaces, each with %d established loopback connections of its own "
        "(bench's fixture inside each; plus whatever the host runs). "
        "`--max-netns 1` dumps only the collector's own namespace."
        % (res["namespaces"], res["conns_per_ns"]),
        "",
        "| collector | every namespace | own namespace only |",
        "|---|---|---|",
        "| cold `--once`, wall (median of %d) | %.0f ms | %.0f ms |"
        % (res["rounds"], res["cold_all"]["wall_ms"], res["cold_own"]["wall_ms"]),
        "| cold `--once`, CPU | %.0f ms | %.0f ms |"
        % (res["cold_all"]["cpu_ms"], res["cold_own"]["cpu_ms"]),
        "| steady sample, median | %.1f ms | %.1f ms |"
        % (res["steady_all"]["median_ms"], res["steady_own"]["median_ms"]),
        "| steady sample, p95 | %.1f ms | %.1f ms |"
        % (res["steady_all"]["p95_ms"], res["steady_own"]["p95_ms"]),
        "| namespaces dumped | %s | %s |"
        % (res["steady_all"].get("netns"), res["steady_own"].get("netns")),
    ]
    return out
