"""make bench, the fleet case (issue 17): what the fleet costs.

- merge: procnet-bench-fleet, in process, the real fleet_merge.c: H hosts
  of C connections each (default 100 x 1 000), every host's full graph,
  then one host's delta per round and the merge + diff + encode it causes;
  median and p95 of wall and thread CPU time per update, message sizes.
- traffic: what one publishing host sends to NATS at steady state, live,
  in a network namespace of its own (so the host is the population, not
  whatever else the shared machine runs): Debian's nats-server on its
  loopback, bench's fixture (N established connections), the collector
  (--max-netns 1) and `procnet-webd --publish` at 1 s samples; bytes/s
  from webd's /api/status publish.bytes over S seconds, checked against
  nats-server's own count (monitoring /varz in_bytes).

Every process is started here and stopped by pid (the namespace's side in
a session of its own, killed as a group if it overruns); the namespace is
deleted at the end; every wait is bounded.  Needs root (ip netns).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

MERGE_TIMEOUT_S = 1800


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=10) as r:
        return json.loads(r.read())


def _tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:]).strip()
    except OSError:
        return ""


def run_merge(prog, hosts, conns, rounds, log):
    """procnet-bench-fleet's JSON line, or {"error": ...}."""
    if not os.access(prog, os.X_OK):
        return {"error": "procnet-bench-fleet not built"}
    argv = [prog, "-H", str(hosts), "-c", str(conns), "-r", str(rounds)]
    log("fleet merge: %s" % " ".join(argv[1:]))
    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=MERGE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": "did not finish in %d s" % MERGE_TIMEOUT_S,
                "hosts": hosts, "conns": conns, "rounds": rounds}
    if r.returncode != 0:
        return {"error": "exit %d: %s" % (r.returncode, r.stderr.strip())}
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": "output is not JSON: %r" % r.stdout[-200:]}
    res["elapsed_s"] = time.monotonic() - t0
    return res


def _stop(p):
    if p is not None and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_traffic(args, log, seconds=30, conns=1000):
    """One publishing host at steady state, in a namespace of its own:
    this module run again inside it (_traffic_inside)."""
    if os.geteuid() != 0:
        return {"error": "not root: no network namespace"}
    ns = "pnbf%d" % (os.getpid() % 100000)
    cfg = {"collector": args.collector, "webd": args.webd,
           "web_root": args.web_root, "fixture": args.fixture,
           "seconds": seconds, "conns": conns}
    made = False
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True,
                       capture_output=True, timeout=30)
        made = True
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"],
                       check=True, capture_output=True, timeout=30)
        p = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable,
             os.path.abspath(__file__), "--traffic", json.dumps(cfg)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=seconds + 300)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return {"error": "the namespace's run did not end in %d s"
                    % (seconds + 300)}
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (IndexError, ValueError):
            return {"error": "exit %d: %s" % (p.returncode,
                                              err.strip()[-500:])}
    except (OSError, subprocess.SubprocessError) as e:
        return {"error": "network namespace: %s" % e}
    finally:
        if made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True,
                           timeout=30)


def _traffic_inside(cfg):
    """In the namespace: every process started and stopped here."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from run import Fixture
    args = type("Args", (), cfg)
    seconds, conns = cfg["seconds"], cfg["conns"]
    nats_bin = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not os.access(nats_bin, os.X_OK):
        return {"error": "nats-server not found (Debian package nats-server)"}
    tmp = tempfile.mkdtemp(prefix="procnet-bench-fleet-")
    nport, mport, wport = _free_port(), _free_port(), _free_port()
    sock = os.path.join(tmp, "collector.sock")
    procs, fx = [], None
    res = {"seconds": seconds, "fixture_conns": conns, "interval_s": 1}
    try:
        conf = os.path.join(tmp, "nats.conf")
        with open(conf, "w") as f:
            f.write("listen: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                    "max_payload: 8MB\n" % (nport, mport))
        procs.append(subprocess.Popen(
            [nats_bin, "-c", conf], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "nats.err"), "w")))
        if conns > 0:
            fx = Fixture(args.fixture, conns, os.path.join(tmp, "fx.err"))
        procs.append(subprocess.Popen(
            [args.collector, "--foreground", "--socket", sock,
             "--max-netns", "1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "collector.err"), "w")))
        deadline = time.monotonic() + 30
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.1)
        webd = subprocess.Popen(
            [args.webd, "--port", str(wport), "--collector", sock,
             "--web-root", args.web_root, "--interval", "1",
             "--publish", "nats://127.0.0.1:%d" % nport,
             "--host-name", "bench"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "webd.err"), "w"))
        procs.append(webd)
        st = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                st = _get(wport, "/api/status")
                p = st["publish"]
                # the first message is the full graph: its size alone
                if p["sent_full"] == 1 and p["sent_delta"] == 0:
                    res["full_bytes"] = p["bytes"]
                if p["sent_full"] >= 1 and p["sent_delta"] >= 2:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        else:
            res["error"] = "webd did not publish: %s %s" % (
                (st or {}).get("publish"),
                _tail(os.path.join(tmp, "webd.err")))
            return res
        p0, v0, t0 = st["publish"], _get(mport, "/varz"), time.monotonic()
        time.sleep(seconds)
        st = _get(wport, "/api/status")
        p1, v1, t1 = st["publish"], _get(mport, "/varz"), time.monotonic()
        wall = t1 - t0
        msgs = (p1["sent_full"] - p0["sent_full"] +
                p1["sent_delta"] - p0["sent_delta"])
        res.update({
            "wall_s": wall,
            "bytes": p1["bytes"] - p0["bytes"],
            "bytes_per_s": (p1["bytes"] - p0["bytes"]) / wall,
            "sent_full": p1["sent_full"] - p0["sent_full"],
            "sent_delta": p1["sent_delta"] - p0["sent_delta"],
            "msgs": msgs,
            "skipped": p1["skipped"] - p0["skipped"],
            "nats_in_bytes": v1["in_bytes"] - v0["in_bytes"],
            "nats_in_msgs": v1["in_msgs"] - v0["in_msgs"],
            "counts": st.get("counts"),
        })
        if "full_bytes" in res and res["sent_delta"] > 0:
            # a full graph every 30 s, a delta each other second
            d = (res["bytes"] - res["full_bytes"] * res["sent_full"]) / \
                res["sent_delta"]
            res["delta_bytes_mean"] = d
            res["model_bytes_per_s"] = (res["full_bytes"] + 29 * d) / 30
    finally:
        for p in reversed(procs):
            _stop(p)
        if fx is not None:
            fx.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def target(fleet):
    """The issue-17 row of the targets table: (name, measured, ok)."""
    m = (fleet or {}).get("merge") or {}
    name = ("fleet merge + encode per host update at %s hosts × %s "
            "connections ≤ 50 ms (issue 17)" % (
                m.get("hosts", 100), "{:,}".format(m.get("conns", 1000))))
    if "update_ms_median" not in m:
        return (name, "n/a (%s)" % m.get("error", "not run"), None)
    meas = ("median %.0f ms (p95 %.0f) wall, %.0f ms (p95 %.0f) CPU; "
            "%s nodes, %s edges, merged graph %.1f MB" % (
                m["update_ms_median"], m["update_ms_p95"],
                m["update_cpu_ms_median"], m["update_cpu_ms_p95"],
                "{:,}".format(m["nodes"]), "{:,}".format(m["edges"]),
                m["merged_graph_bytes"] / 1e6))
    return (name, meas, (m["update_ms_median"] <= 50.0,
                         m["update_cpu_ms_median"] <= 50.0))


def render(fleet):
    """Markdown lines for docs/performance.md."""
    out = ["", "### Fleet (issue 17)", ""]
    m = (fleet or {}).get("merge") or {}
    if "update_ms_median" in m:
        out += [
            "`procnet-bench-fleet -H %d -c %d -r %d`: %d synthetic hosts of "
            "%s connections (%d processes each; %d%% to the next host's "
            "servers, %d%% to internet addresses, the rest local pairs), "
            "every host's full graph, then %d rounds of one host's delta "
            "(%s edges changed, one added, one removed) and the merge it "
            "causes." % (m["hosts"], m["conns"], m["rounds"], m["hosts"],
                         "{:,}".format(m["conns"]), m["procs"],
                         m["cross_pct"], m["ext_pct"], m["rounds"], "three"),
            "",
            "| per host update | median | p95 |",
            "|---|---|---|",
            "| fleet_apply (the delta) + fleet_merge (merge, diff, encode), "
            "wall | %.1f ms | %.1f ms |" % (m["update_ms_median"],
                                            m["update_ms_p95"]),
            "| the same, thread CPU | %.1f ms | %.1f ms |" % (
                m["update_cpu_ms_median"], m["update_cpu_ms_p95"]),
            "| of which fleet_apply, wall | %.2f ms | |" % m["apply_ms_median"],
            "",
            "Every host's first full graph applied in %.0f ms in all; the "
            "first merge %.0f ms (%.0f ms CPU). Merged map: %s nodes, %s edges, %.1f MB of "
            "JSON, a merged delta %s bytes (median). Cross-host pairing: "
            "%d of %d cross-host edges paired, %d external nodes left for "
            "a fleet host's address. Messages per host: full graph %s bytes "
            "(median), delta %s bytes. Peak RSS %.0f MB." % (
                m["fulls_apply_ms"], m["first_merge_ms"],
                m.get("first_merge_cpu_ms", float("nan")),
                "{:,}".format(m["nodes"]), "{:,}".format(m["edges"]),
                m["merged_graph_bytes"] / 1e6,
                "{:,}".format(int(m["merged_delta_bytes_median"])),
                m["cross_paired"], m["cross_edges"],
                m["fleet_external_nodes"],
                "{:,}".format(int(m["full_msg_bytes_median"])),
                "{:,}".format(int(m["delta_msg_bytes_median"])),
                m["max_rss_kb"] / 1024.0),
        ]
    else:
        out.append("Merge not measured: %s." % m.get("error", "not run"))
    t = (fleet or {}).get("traffic") or {}
    out.append("")
    if "bytes_per_s" in t:
        c = t.get("counts") or {}
        out.append(
            "NATS traffic of one publishing host at steady state "
            "(`procnet-webd --publish`, 1 s samples, a full graph every "
            "30 s; this machine with bench's fixture of %s connections: "
            "%s nodes, %s edges, %s sockets): **%s bytes/s** over %.0f s "
            "(%d full graphs, %d deltas, %d skipped); nats-server counted "
            "%s bytes in %d messages in the same window." % (
                "{:,}".format(t["fixture_conns"]), c.get("nodes", "?"),
                c.get("edges", "?"), c.get("sockets", "?"),
                "{:,.0f}".format(t["bytes_per_s"]), t["wall_s"],
                t["sent_full"], t["sent_delta"], t["skipped"],
                "{:,}".format(t["nats_in_bytes"]), t["nats_in_msgs"]))
        if "model_bytes_per_s" in t:
            out.append(
                "The host's full graph is %s bytes, a delta %s bytes on "
                "average: at one sample a second and a full graph every "
                "30 s that is %s bytes/s." % (
                    "{:,}".format(t["full_bytes"]),
                    "{:,.0f}".format(t["delta_bytes_mean"]),
                    "{:,.0f}".format(t["model_bytes_per_s"])))
    else:
        out.append("NATS traffic not measured: %s." % t.get("error",
                                                              "not run"))
    return out


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--traffic":
        print(json.dumps(_traffic_inside(json.loads(sys.argv[2]))))
        sys.exit(0)
    sys.exit("usage: fleet_case.py --traffic JSON (run by bench/run.py)")
