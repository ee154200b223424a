"""The churn case of make bench (issue 14): what connection events cost.

Loopback connections are made at a fixed rate (churn_load.py) while the
collector takes samples once a second (--samples --interval 1 --stats),
once per event source: none, ebpf, sock_diag.  The collector's CPU time
(user+sys from /proc, over a window that leaves out start-up and the first
sample) as a fraction of one core, with events minus without, is its extra
CPU for events.  With BPF the kernel's side runs in the tasks that
open and close the connections, so it is reported apart: the programs' run
time from the kernel's BPF statistics (kernel.bpf_stats_enabled, turned on
for the run and restored).
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = ("none", "ebpf", "sock_diag")


def _bpf_stats(enable):
    """Sets kernel.bpf_stats_enabled; returns the previous value or None."""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    try:
        with open(path) as f:
            old = f.read().strip()
        with open(path, "w") as f:
            f.write("1" if enable else "0")
        return old
    except OSError:
        return None


def _prog_runtime(pid):
    """Run time and count of the BPF programs the collector pid holds."""
    try:
        out = subprocess.run(["bpftool", "-j", "prog", "show"],
                             capture_output=True, text=True, timeout=30)
        progs = json.loads(out.stdout or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    ns = cnt = 0
    found = False
    for p in progs:
        # bpftool names holders only where it can run its own iterator;
        # else the program is known by its name (one collector runs here)
        if any(h.get("pid") == pid for h in p.get("pids", [])) or (
                "pids" not in p and p.get("name") == "set_state"):
            found = True
            ns += p.get("run_time_ns", 0)
            cnt += p.get("run_cnt", 0)
    return {"run_time_ns": ns, "run_cnt": cnt} if found else None


def _cpu_ms(pid):
    """user+sys of pid so far, from /proc (clock ticks)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / \
        os.sysconf("SC_CLK_TCK")


def _one(collector, mode, rate, samples):
    """One collector run under churn; its CPU over a steady window that
    leaves out start-up (loading the BPF program, the first cold sample)
    and the end."""
    load = subprocess.Popen([sys.executable, os.path.join(HERE,
                            "churn_load.py"), str(rate), str(samples + 4)],
                            stdout=subprocess.PIPE, text=True)
    load.stdout.readline()   # ready
    argv = [collector, "--samples", str(samples), "--interval", "1",
            "--stats", "--events", mode]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    res = {"mode": mode}
    try:
        time.sleep(2.5)
        c0, t0 = _cpu_ms(p.pid), time.monotonic()
        bpf0 = _prog_runtime(p.pid) if mode == "ebpf" else None
        time.sleep(max(samples - 4.5, 1.0))
        c1, t1 = _cpu_ms(p.pid), time.monotonic()
        bpf1 = _prog_runtime(p.pid) if mode == "ebpf" else None
    except (OSError, ValueError, IndexError) as e:
        res["error"] = "collector gone early: %s" % e
        c0 = None
    _, err = p.communicate(timeout=samples * 10 + 60)
    load.send_signal(15)
    lout, _ = load.communicate(timeout=60)
    if c0 is None:
        return res
    lines = [l for l in err.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        res["error"] = "collector exit %s: %s" % (p.returncode, err[-300:])
        return res
    res["stats"] = json.loads(lines[-1])
    res["cpu_ms"] = c1 - c0
    res["wall_ms"] = (t1 - t0) * 1000.0
    made = [l for l in lout.splitlines() if l.startswith("made ")]
    if made:
        w = made[-1].split()
        res["made"], res["load_s"] = int(w[1]), float(w[3])
    if bpf0 and bpf1:
        res["bpf"] = {k: bpf1[k] - bpf0[k] for k in bpf1}
    return res


def run_churn(collector, rate=1000, samples=12, log=print):
    old = _bpf_stats(True)
    try:
        runs = []
        for mode in MODES:
            log("churn: %d connections/s, --events %s" % (rate, mode))
            runs.append(_one(collector, mode, rate, samples))
    finally:
        if old is not None:
            _bpf_stats(old == "1")
    res = {"rate": rate, "samples": samples, "runs": runs}
    base = next((r for r in runs if r["mode"] == "none" and "cpu_ms" in r),
                None)
    for r in runs:
        if base is not None and "cpu_ms" in r and r is not base:
            r["extra_core"] = r["cpu_ms"] / r["wall_ms"] - \
                base["cpu_ms"] / base["wall_ms"]
    return res


def render_churn(res):
    L = ["### Connection events under churn (issue 14)", ""]
    if not res:
        return L + ["Not measured.", ""]
    L.append("Loopback TCP connections at %d a second (bench/churn_load.py: "
             "one request, one answer, closed), the collector taking %d "
             "samples a second apart with each event source; CPU is the "
             "collector process's user+sys over the steady middle of the "
             "run (start-up and the first sample left out); \"reported\" "
             "counts every sample of the run." % (res["rate"],
                                                res["samples"]))
    L.append("")
    L.append("| --events | connections made | reported (one per end) | "
             "lost | collector CPU | extra CPU for events (of one core) | "
             "BPF programs in the kernel |")
    L.append("|---|---|---|---|---|---|---|")
    for r in res["runs"]:
        if "error" in r:
            L.append("| %s | — | — | — | — | %s | — |" % (r["mode"],
                                                        r["error"]))
            continue
        st = r["stats"]
        bpf = r.get("bpf")
        bpf_s = "—"
        if bpf and bpf["run_cnt"]:
            bpf_s = "%d runs, %.0f ns each, %.2f%% of a core" % (
                bpf["run_cnt"], bpf["run_time_ns"] / bpf["run_cnt"],
                100.0 * bpf["run_time_ns"] / 1e6 / r["wall_ms"])
        L.append("| %s (%s) | %s | %d (+%d aggregated) | %d | %.0f ms in "
                 "%.1f s | %s | %s |" % (
                     r["mode"], st.get("events", "?"), r.get("made", "?"),
                     st.get("conns", 0), st.get("aggregated", 0),
                     st.get("events_lost", 0), r["cpu_ms"],
                     r["wall_ms"] / 1000.0,
                     "%.2f%%" % (100.0 * r["extra_core"]) if "extra_core"
                     in r else "(baseline)", bpf_s))
    L.append("")
    L.append("Targets: extra CPU ≤ 2% of a core at 1 000 connections/s, 0 "
             "events lost.  Connections made during the first sample's "
             "set-up are not in any sample, so \"reported\" can be a little "
             "under twice \"made\".")
    L.append("")
    return L
