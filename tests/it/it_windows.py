#!/usr/bin/env python3
"""Windows integration test, run under Wine from a mingw cross build.

Registers the collector with `wine sc create procnetcollector`, starts it
with `wine sc start`, reads its pipe's DACL back as SDDL and compares it
with the intended one, checks that a client speaking garbage is dropped
and that the warning reaches ReportEventW (the Event Log), checks that a
sample says its connection events are "none" because Wine has no ETW (and
--events etw is refused with that reason), installs procnet-webd as the service procnetwebd
(NT AUTHORITY\\LocalService) with its own `install` verb, starts a Wine
process that opens loopback sockets and moves bytes on them, and checks
from the Linux side that webd's /api/graph shows that process (Wine pid
and image name) with its TCP connection and its bound UDP port.  Then stops both services through
the SCM, checks they stopped cleanly, deletes them, and ends the Wine
server.  Wine is slow at the socket tables when the host is busy, so waits
are long; none of them is asserted on.

Env: PROCNET_BUILD_ROOT (the cross build).  The Wine prefix is
<build>/wine-it (created on first use), apart from the unit tests' prefix
because `wineserver -k` at the end ends everything in its prefix.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BUILD = os.path.abspath(os.environ.get("PROCNET_BUILD_ROOT", "build-win"))
PREFIX = os.path.join(BUILD, "wine-it")
COLLECTOR = os.path.join(BUILD, "collector-svc", "procnet-collector.exe")
WEBD = os.path.join(BUILD, "webd", "procnet-webd.exe")
HELPER = os.path.join(BUILD, "tests", "it_win_helper.exe")
WEB_ROOT = os.path.join(BUILD, "web", "root")
PIPE = r"\\.\pipe\procnet-collector"
# What ipc_win.c means the DACL to be: SYSTEM and Administrators full
# access, LocalService read/write without FILE_CREATE_PIPE_INSTANCE,
# protected (nothing inherited), nobody else.
# webd's service SID, NT SERVICE\procnetwebd (docs/windows.md).
WEBD_SID = "S-1-5-80-3777129986-558812580-1413062468-239889822-726858214"
WANT_SDDL = "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x12019b;;;%s)" % WEBD_SID
SERVICE_WAIT_S = 180
GRAPH_WAIT_S = 900
WEBD_INTERVAL_S = 60
EVENTLOG_DEBUG = "-all,warn+eventlog,err+eventlog"

ENV = dict(os.environ, WINEPREFIX=PREFIX, WINEARCH="win64",
           WINEDEBUG="-all")
ENV.pop("DISPLAY", None)


def log(msg):
    print("it_windows: " + msg, flush=True)


def fail(msg):
    log("FAIL: " + msg)
    raise SystemExit(1)


def winpath(path):
    return "Z:" + os.path.abspath(path).replace("/", "\\")


def wine(*args, timeout=300, check=True, env=None):
    # Output goes to files, not pipes: the first Wine command of a prefix
    # starts services.exe, which would inherit a pipe and hold it open.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        rc = subprocess.run(["wine"] + list(args), env=env or ENV,
                            timeout=timeout,
                            stdin=subprocess.DEVNULL, stdout=out,
                            stderr=err).returncode
        out.seek(0)
        err.seek(0)
        cp = subprocess.CompletedProcess(
            args, rc, out.read().decode(errors="replace"),
            err.read().decode(errors="replace"))
    if check and cp.returncode != 0:
        fail("wine %s: exit %d\n%s%s" % (" ".join(args), cp.returncode,
                                          cp.stdout, cp.stderr))
    return cp


LAST_QUERY = {}


def service_state(name):
    cp = wine("sc", "query", name, check=False)
    out = cp.stdout
    LAST_QUERY[name] = "exit %d: %s%s" % (cp.returncode, out, cp.stderr)
    state = code = None
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("STATE") and len(parts) >= 4:
            state = parts[3]
        if line.strip().startswith("WIN32_EXIT_CODE") and len(parts) >= 3:
            code = parts[2]
    return state, code


def start_service(name):
    """sc start, retried: a loaded host can make Wine's services.exe give
    up on a starting service (ERROR_SERVICE_REQUEST_TIMEOUT)."""
    for attempt in range(3):
        cp = wine("sc", "start", name, check=False)
        if wait_state(name, "RUNNING", SERVICE_WAIT_S // 3)[0]:
            return
        log("%s not running after sc start (attempt %d): %s" % (
            name, attempt + 1, (cp.stdout + cp.stderr).strip()[-300:]))
    fail("%s did not start" % name)


def wait_state(name, want, limit):
    """(True, exit code) once the service is in state want, else
    (False, last state) after limit seconds."""
    end = time.monotonic() + limit
    state = None
    while time.monotonic() < end:
        state, code = service_state(name)
        if state == want:
            return True, code
        time.sleep(1)
    return False, state


def stop_service(name):
    wine("sc", "stop", name)
    ok, code = wait_state(name, "STOPPED", SERVICE_WAIT_S)
    if not ok:
        fail("%s still %s %d s after sc stop; last sc query: %s" % (
            name, code, SERVICE_WAIT_S, LAST_QUERY.get(name, "")[-500:]))
    if code not in ("0", None):
        fail("%s stopped with exit code %s" % (name, code))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_line(path, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        with open(path, "rb") as f:
            buf = f.read()
        if b"\n" in buf:
            return buf.split(b"\n", 1)[0].decode()
        time.sleep(0.5)
    fail("helper printed no ports within %d s" % limit)


def get_graph(port, what="graph"):
    url = "http://127.0.0.1:%d/api/%s" % (port, what)
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.loads(r.read().decode())
    except (urllib.error.URLError, OSError, ValueError) as e:
        return {"error": str(e)}


def find_peer(graph, info):
    """The helper's process node and its TCP edge, or (node, None)."""
    node = None
    for n in graph.get("nodes", []):
        if n.get("kind") == "process" and n.get("pid") == info["pid"]:
            node = n
    if node is None:
        return None, None
    client = "127.0.0.1:%d" % info["client"]
    for e in graph.get("edges", []):
        if e.get("proto") != "tcp" or node["id"] not in (e.get("from"),
                                                         e.get("to")):
            continue
        for c in e.get("conns", []):
            if client in (c.get("client"), c.get("server")):
                return node, e
    return node, None


def udp_listed(node, info):
    return any(l.get("proto") == "udp" and l.get("port") == info["udp"]
               for l in node.get("listen", []))


def cleanup_services():
    """Leftovers of an interrupted run in this prefix."""
    for name in ("procnetwebd", "procnetcollector"):
        wine("sc", "stop", name, check=False)
        wine("sc", "delete", name, check=False)


def main():
    for f in (COLLECTOR, WEBD, HELPER):
        if not os.path.exists(f):
            fail("missing %s (cross build incomplete)" % f)
    if not os.path.isdir(WEB_ROOT):
        fail("missing %s (the UI is not built)" % WEB_ROOT)
    if not os.path.isdir(PREFIX):
        log("creating the Wine prefix %s" % PREFIX)
        # wineboot returns before the prefix is fully set up; wait for
        # its server to go idle, or the first test commands race with the
        # rest of the setup (services re-registered under our feet).
        for cmd in (["wineboot", "-i"], ["wineserver", "-w"]):
            subprocess.run(cmd, env=ENV, timeout=900,
                           stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    # A fresh, persistent server: services outlive the last Wine command.
    for cmd in (["wineserver", "-k"], ["wineserver", "-p"]):
        subprocess.run(cmd, env=ENV, timeout=120, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    helper = None
    tmp = tempfile.mkdtemp(prefix="procnet-it-win-")
    services_log = os.path.join(tmp, "services.err")
    try:
        # The first Wine command starts services.exe, and every service
        # inherits its stderr and WINEDEBUG: Wine's ReportEventW echoes
        # each Event Log string on its "eventlog" debug channel, so this
        # file shows what the services sent to the Event Log.
        with open(services_log, "wb") as f:
            subprocess.run(["wine", "cmd", "/c", "exit"], timeout=300,
                           env=dict(ENV, WINEDEBUG=EVENTLOG_DEBUG),
                           stdin=subprocess.DEVNULL, stdout=f, stderr=f)
        cleanup_services()

        log("sc create procnetcollector")
        binpath = '"%s" run --foreground' % winpath(COLLECTOR)
        wine("sc", "create", "procnetcollector", "binPath=", binpath,
             "start=", "demand", "DisplayName=", "Procnet Live Collector")

        # Under Wine every process runs as one user, never LocalSystem:
        # webd is told that account (--collector-account), as an admin
        # would for a collector run under another account.
        wine_user = wine(HELPER, "whoami").stdout.strip()
        log("Wine's user (the collector's account here): %s" % wine_user)

        # wmain: a --rules path with characters outside any ANSI code
        # page reaches webd intact and loads (Wine decodes the Linux argv
        # as UTF-8 under a UTF-8 locale).
        log("webd --rules under a non-ASCII folder")
        uni = os.path.join(tmp, "r\u00e8gles-\u03a9\u65e5")
        os.makedirs(uni, exist_ok=True)
        with open(os.path.join(uni, "n\u00f6de.yaml"), "w",
                  encoding="utf-8") as f:
            f.write('- match_name: "/^notepad/"\n  type: app\n')
        with open(os.path.join(uni, "b\u00e4d.yaml"), "w",
                  encoding="utf-8") as f:
            f.write("- match_name: [\n")
        nobody = "\\\\.\\pipe\\procnet-none-%d" % os.getpid()
        utf8 = dict(ENV, LANG="C.UTF-8", LC_ALL="C.UTF-8")
        good = wine(WEBD, "--rules", winpath(os.path.join(
            uni, "n\u00f6de.yaml")), "--dump", "--collector", nobody,
            check=False, timeout=SERVICE_WAIT_S, env=utf8)
        bad = wine(WEBD, "--rules", winpath(os.path.join(
            uni, "b\u00e4d.yaml")), "--dump", "--collector", nobody,
            check=False, timeout=SERVICE_WAIT_S, env=utf8)
        # Loaded: webd goes on to the collector, which is not there.
        if "--dump: no snapshot" not in good.stderr or \
                "rules" in good.stderr:
            fail("rules under a non-ASCII path did not load: %r" %
                 good.stderr[-400:])
        if "b\u00e4d.yaml:1:" not in bad.stderr:
            fail("a bad rules file under a non-ASCII path: %r" %
                 bad.stderr[-400:])
        log("non-ASCII --rules: loaded; a bad one named: %s" %
            bad.stderr.strip()[-120:])

        # Connection events: Wine's ETW starts a session but delivers
        # nothing, so the collector reports "none" and why, and refuses
        # --events etw with that reason (docs/windows.md).
        log("collector connection events under Wine")
        cp = wine(COLLECTOR, "--samples", "1", "--format", "json",
                  timeout=SERVICE_WAIT_S)
        ev = json.loads(cp.stdout).get("events", {})
        if ev.get("source") != "none" or \
                "Wine does not implement ETW" not in ev.get("reason", ""):
            fail("events in a Wine sample: %r" % ev)
        if "connection events: none (Wine does not implement ETW" not in \
                cp.stderr:
            fail("the collector did not say why it has no events: %r" %
                 cp.stderr[-400:])
        cp = wine(COLLECTOR, "--events", "etw", "--samples", "1",
                  check=False, timeout=SERVICE_WAIT_S)
        if cp.returncode == 0 or \
                "--events etw: Wine does not implement ETW" not in cp.stderr:
            fail("--events etw under Wine: exit %d, %r" % (
                cp.returncode, cp.stderr[-400:]))
        log("events: %s (%s); --events etw refused" % (
            ev["source"], ev["reason"]))

        log("a squatter holds the pipe name before the collector")
        squat_out = os.path.join(tmp, "squat.out")
        with open(squat_out, "wb") as f:
            squatter = subprocess.Popen(["wine", HELPER, "squat", PIPE,
                                         "600"], env=ENV,
                                        stdin=subprocess.DEVNULL, stdout=f,
                                        stderr=subprocess.DEVNULL)
        try:
            squat_pid = read_line(squat_out, SERVICE_WAIT_S).strip()
            # webd refuses it (the squatter is not LocalSystem) and says
            # why, with its pid; it never reads the squatter's bytes.
            cp = wine(WEBD, "--dump", "--collector", PIPE, check=False,
                      timeout=SERVICE_WAIT_S)
            if cp.returncode == 0 or "refused: pid %s " % squat_pid \
                    not in cp.stderr:
                fail("webd did not refuse the squatter (pid %s): exit %d, "
                     "%r" % (squat_pid, cp.returncode, cp.stderr[-400:]))
            log("webd refused it: %s" % cp.stderr.strip()[-200:])
            # ... also when told the account the squatter really runs
            # as?  No: that is the admin's explicit choice; but a wrong
            # account must still be refused.
            cp = wine(WEBD, "--dump", "--collector", PIPE,
                      "--collector-account", WEBD_SID, check=False,
                      timeout=SERVICE_WAIT_S)
            if cp.returncode == 0 or "refused" not in cp.stderr:
                fail("webd took the squatter as %s: %r" % (
                    WEBD_SID, cp.stderr[-400:]))
            # The collector will not start on a squatted name: STOPPED
            # with a service-specific code, an Event Log error naming
            # the squatter's pid.
            wine("sc", "start", "procnetcollector", check=False)
            time.sleep(2)
            stopped, _ = wait_state("procnetcollector", "STOPPED",
                                    SERVICE_WAIT_S)
            q = wine("sc", "query", "procnetcollector").stdout
            if not stopped or "1066" not in q:
                fail("collector on a squatted name: not STOPPED with a "
                     "service-specific exit code: %s" % q)
            want = "already served by pid=%s" % squat_pid
            end = time.monotonic() + SERVICE_WAIT_S
            lines = []
            while time.monotonic() < end and not lines:
                with open(services_log, errors="replace") as f:
                    lines = [l for l in f if "eventlog:ReportEventW" in l
                             and want in l]
                time.sleep(0.5)
            if not lines:
                fail("no Event Log error naming the squatter (%s) in %s" %
                     (want, services_log))
            log("Event Log: %s" % lines[0].strip()[:200])
        finally:
            squatter.kill()
            squatter.wait()
        # The squatter's Wine process may outlive its wine launcher a
        # moment; the start below is retried.
        time.sleep(2)
        log("sc start procnetcollector")
        start_service("procnetcollector")

        log("pipe DACL")
        end = time.monotonic() + SERVICE_WAIT_S
        while True:
            cp = wine(HELPER, "sddl", PIPE, check=False)
            if cp.returncode == 0 or time.monotonic() > end:
                break
            time.sleep(1)
        if cp.returncode != 0:
            fail("cannot read the pipe's DACL: " + cp.stderr.strip())
        got = cp.stdout.strip()
        if got != WANT_SDDL:
            fail("pipe DACL is %s, wanted %s" % (got, WANT_SDDL))
        log("pipe DACL %s as intended" % got)

        log("a client that does not speak the protocol")
        cp = wine(HELPER, "junk", PIPE, timeout=SERVICE_WAIT_S)
        if cp.stdout.strip() != "dropped":
            fail("junk client: %r" % cp.stdout)
        end = time.monotonic() + SERVICE_WAIT_S
        want = "procnet-collector: warn: client"
        while time.monotonic() < end:
            with open(services_log, errors="replace") as f:
                lines = [l for l in f if "eventlog:ReportEventW" in l and
                         want in l and "dropped" in l]
            if lines:
                break
            time.sleep(1)
        if not lines:
            fail("no Event Log warning about the dropped client in %s" %
                 services_log)
        log("Event Log: %s" % lines[0].strip()[:200])

        # Started before webd, so webd's first snapshot can show it.
        log("a Wine process with loopback sockets")
        helper_out = os.path.join(tmp, "helper.out")
        with open(helper_out, "wb") as f:
            helper = subprocess.Popen(["wine", HELPER, "peer", "1700"],
                                      env=ENV, stdin=subprocess.DEVNULL,
                                      stdout=f, stderr=subprocess.DEVNULL)
        info = json.loads(read_line(helper_out, SERVICE_WAIT_S))
        log("helper: %s" % info)

        log("procnet-webd install / sc start procnetwebd")
        port = free_port()
        # A long interval: webd reconnects after 3 intervals + 30 s of
        # collector silence, and on a busy host one sample under Wine can
        # take a minute (the default allows 33 s).
        wine(WEBD, "install", "--port", str(port), "--web-root",
             winpath(WEB_ROOT), "--interval", str(WEBD_INTERVAL_S),
             "--udp", "--collector-account", wine_user)
        reg = wine("reg", "query",
                   r"HKLM\System\CurrentControlSet\Services\procnetwebd").stdout
        if "NT AUTHORITY\\LocalService" not in reg:
            fail("procnetwebd is not registered as LocalService:\n" + reg)
        image = [l for l in reg.splitlines() if "ImagePath" in l]
        if not image or 'REG_SZ    "' not in image[0]:
            fail("procnetwebd ImagePath is not quoted: %s" % image)
        start_service("procnetwebd")

        end = time.monotonic() + GRAPH_WAIT_S
        node = edge = None
        graph = {}
        while time.monotonic() < end:
            graph = get_graph(port)
            node, edge = find_peer(graph, info)
            if node is not None and edge is not None and \
                    udp_listed(node, info):
                break
            time.sleep(2)
        if node is None:
            fail("no process node with pid %d in /api/graph within %d s; "
                 "last answer: %s; /api/status: %s" % (
                     info["pid"], GRAPH_WAIT_S, json.dumps(graph)[:600],
                     json.dumps(get_graph(port, "status"))[:600]))
        if node.get("name", "").lower() != "it_win_helper.exe":
            fail("pid %d is named %r, wanted it_win_helper.exe" %
                 (info["pid"], node.get("name")))
        if not node.get("exe", "").lower().endswith("\\it_win_helper.exe"):
            fail("pid %d exe is %r" % (info["pid"], node.get("exe")))
        if edge is None:
            fail("no TCP edge of pid %d with 127.0.0.1:%d in /api/graph" %
                 (info["pid"], info["client"]))
        # Windows' UDP table has no remote address: the bound UDP socket
        # is shown on its process (docs/windows.md).
        if not udp_listed(node, info):
            fail("pid %d's bound UDP port %d is not in its listen list: %s" %
                 (info["pid"], info["udp"], node.get("listen")))
        # The UI itself, from the web root by its Windows path.
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port,
                                        timeout=30) as r:
                page = r.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as e:
            fail("GET / from webd: %s" % e)
        if "<html" not in page.lower():
            fail("GET / is not the UI page: %r" % page[:200])
        if graph.get("meta", {}).get("os") != "windows":
            fail("meta.os is %r" % graph.get("meta", {}).get("os"))
        log("graph: node %s (%s, %s), edge %s" % (
            node["id"], node["name"], node.get("user", ""), edge["id"]))

        log("sc stop both services")
        stop_service("procnetwebd")
        stop_service("procnetcollector")

        cp = wine(WEBD, "uninstall")
        wine("sc", "delete", "procnetcollector")
        if service_state("procnetwebd")[0] is not None or \
                service_state("procnetcollector")[0] is not None:
            fail("services still registered after uninstall / sc delete")
        log("PASS")
    finally:
        if helper is not None and helper.poll() is None:
            helper.kill()
            helper.wait(timeout=60)
        subprocess.run(["wineserver", "-k"], env=ENV, timeout=120,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except subprocess.TimeoutExpired as e:
        log("FAIL: timed out: %s" % e)
        sys.exit(1)
