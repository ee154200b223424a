#!/usr/bin/env python3
"""`make bench` keeps working: bench/run.py end to end, tiny.

Runs the harness on a 200-connection population with one round, a short
steady-state run and a small graph timing, into a mkdtemp results dir and
without touching docs/performance.md.  Checks what does not depend on
timing: every tool ran, the collector saw every fixture socket with its
owner, the steady-state stats line and the graph timing came back, the
fleet case (3 hosts) paired every cross-host edge and one host's NATS
traffic was counted, and the rendered section has the targets table.  No
time is asserted.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("PROCNET_SOURCE_ROOT", ".")
BUILD = os.environ.get("PROCNET_BUILD_ROOT", "build")
N = 200
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix="procnet-bench-test-")
    try:
        doc = os.path.join(tmp, "performance.md")
        r = subprocess.run(
            [sys.executable, os.path.join(SRC, "bench", "run.py"),
             "--build", BUILD, "--allow-debug", "--sizes", str(N),
             "--rounds", "1", "--steady-samples", "3",
             "--steady-interval", "0.1", "--graph-conns", "500",
             "--graph-rounds", "2", "--netns", "2", "--netns-conns", "20",
             "--history-minutes", "3", "--history-seconds", "0",
             "--churn-rate", "100", "--churn-samples", "5",
             "--fleet-hosts", "3", "--fleet-conns", "100",
             "--fleet-rounds", "2", "--fleet-traffic-seconds", "3",
             "--results-dir", tmp, "--doc", doc],
            capture_output=True, text=True, timeout=400)
        check(r.returncode == 0, "run.py exit %d: %s" % (
            r.returncode, r.stderr[-2000:]))
        files = glob.glob(os.path.join(tmp, "bench-*.json"))
        check(len(files) == 1, "%d result files" % len(files))
        if r.returncode != 0 or len(files) != 1:
            return 1
        with open(files[0]) as f:
            res = json.load(f)
        size = res["sizes"][0]
        for key in ("collector", "ss_p", "ss", "cat", "dump_tcp",
                    "dump_tcp_info", "ss_t", "ss_ti"):
            t = size["tools"].get(key, {})
            check(t.get("runs") == 1 and "error" not in t,
                  "tool %s: %s" % (key, t.get("error", t.get("runs"))))
        hg = res.get("history_growth", {})
        check(hg.get("minutes") == 3 and hg.get("bytes", 0) > 0,
              "history growth: %s" % hg)
        v = size.get("collector_view", {})
        check("error" not in v, "collector view: %s" % v.get("error"))
        check(v.get("fixture_established") == 2 * N,
              "collector saw %s of %d established fixture ends"
              % (v.get("fixture_established"), 2 * N))
        check(v.get("fixture_listeners") == v.get("expected_listeners"),
              "listeners %s of %s" % (v.get("fixture_listeners"),
                                      v.get("expected_listeners")))
        check(v.get("fixture_udp") == v.get("expected_udp"),
              "UDP %s of %s" % (v.get("fixture_udp"), v.get("expected_udp")))
        check(v.get("raw_bytes", 0) > 0, "raw data figure missing")
        st = size.get("steady", {})
        check(st.get("stats", {}).get("samples") == 3,
              "steady state: %s" % st.get("error", st.get("stats")))
        check(st.get("rss_resident_kb", 0) > 0, "no resident RSS readings")
        ns = res.get("netns", {})
        check("error" not in ns, "netns case: %s" % ns.get("error"))
        check(ns.get("steady_all", {}).get("netns", 0) >= 3 and
              ns.get("steady_own", {}).get("netns") == 1,
              "netns case dumped %s / %s namespaces" % (
                  ns.get("steady_all", {}).get("netns"),
                  ns.get("steady_own", {}).get("netns")))
        g = res.get("graph", {})
        check(g.get("conns") == 500 and g.get("edges", 0) > 0,
              "graph timing: %s" % g.get("error", g))
        ch = {r["mode"]: r for r in res.get("churn", {}).get("runs", [])}
        check(sorted(ch) == ["ebpf", "none", "sock_diag"] and
              all("error" not in r for r in ch.values()),
              "churn case: %s" % {m: r.get("error") for m, r in ch.items()})
        check(ch.get("ebpf", {}).get("stats", {}).get("conns", 0) > 0 and
              "extra_core" in ch.get("ebpf", {}),
              "churn case: ebpf reported connections and a CPU figure")
        fm = res.get("fleet", {}).get("merge", {})
        check("error" not in fm and fm.get("hosts") == 3 and
              fm.get("cross_edges", 0) > 0 and
              fm.get("cross_paired") == fm.get("cross_edges") and
              fm.get("fleet_external_nodes") == 0,
              "fleet merge: every cross-host edge paired: %s" % {
                  k: fm.get(k) for k in ("error", "cross_edges",
                                         "cross_paired",
                                         "fleet_external_nodes")})
        ft = res.get("fleet", {}).get("traffic", {})
        check("error" not in ft and ft.get("msgs", 0) > 0 and
              ft.get("bytes", 0) > 0 and ft.get("nats_in_bytes", 0) > 0 and
              ft.get("full_bytes", 0) > 0,
              "fleet traffic: webd published and nats-server counted it: "
              "%s" % ft)
        with open(doc) as f:
            text = f.read()
        check("<!-- bench:results:begin" in text and
              "### Targets (issue 9)" in text and
              "<!-- bench:results:end -->" in text and
              "### Fleet (issue 17)" in text,
              "rendered section missing its markers or targets table")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
