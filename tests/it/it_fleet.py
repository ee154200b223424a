#!/usr/bin/env python3
"""The fleet map (issue 17), end to end on two test hosts: two network
namespaces on a bridge of the test's own, each with its own collector and a
publishing webd, nats-server on the bridge's address, and a fleet webd.

- a client in host A holds connections to a server in host B: the fleet
  webd's /api/graph has one edge from A's client process to B's server
  process (reason pair or listener), both hosts' names on the nodes, and no
  external node for that connection;
- nats-server killed and started again: both hosts' local maps keep
  serving, and the fleet map is whole again within 10 s;
- a host that stops publishing turns stale.
Root only (namespaces); every process is stopped by pid and the namespaces,
bridge and links are deleted at the end.  Every wait is bounded.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (COLLECTOR, WEBD, WEB_ROOT, Daemons, free_port,  # noqa: E402
                      get_json, log, wait_for)
from natslib import NatsServer  # noqa: E402

TAG = "%d" % (os.getpid() % 100000)
NET = "10.213.%d" % (os.getpid() % 250)
BR = "pnlbr" + TAG
HOSTS = {"a": "fleet-a", "b": "fleet-b"}

checks = {"passed": 0, "failed": 0}


def check(ok, what):
    checks["passed" if ok else "failed"] += 1
    log("%s: %s" % ("ok" if ok else "FAIL", what))
    return ok


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def ns(h):
    return "pnl%s%s" % (h, TAG)


def setup_net():
    sh("ip", "link", "add", BR, "type", "bridge")
    sh("ip", "addr", "add", NET + ".254/24", "dev", BR)
    sh("ip", "link", "set", BR, "up")
    for i, h in enumerate(sorted(HOSTS), 1):
        outer, inner = "pnv%s%s" % (h, TAG), "pni%s%s" % (h, TAG)
        sh("ip", "netns", "add", ns(h))
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
        sh("ip", "link", "set", inner, "netns", ns(h))
        sh("ip", "link", "set", outer, "master", BR)
        sh("ip", "link", "set", outer, "up")
        sh("ip", "netns", "exec", ns(h), "ip", "addr", "add",
           "%s.%d/24" % (NET, i), "dev", inner)
        sh("ip", "netns", "exec", ns(h), "ip", "link", "set", inner, "up")
        sh("ip", "netns", "exec", ns(h), "ip", "link", "set", "lo", "up")


def teardown_net():
    for h in HOSTS:
        subprocess.run(["ip", "netns", "del", ns(h)], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "link", "del", BR], stderr=subprocess.DEVNULL)


SERVER = r"""
import socket, sys
l = socket.socket(); l.bind((sys.argv[1], 0)); l.listen(8)
print(l.getsockname()[1], flush=True)
keep = [l.accept()[0] for _ in range(int(sys.argv[2]))]
sys.stdin.read()
"""
CLIENT = r"""
import socket, sys
keep = [socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
        for _ in range(int(sys.argv[3]))]
print("ready", flush=True)
sys.stdin.read()
"""


def in_ns(h, argv):
    return ["ip", "netns", "exec", ns(h)] + argv


def host_daemons(d, h, nats_url):
    sock = os.path.join(d.tmp, "%s.sock" % h)
    # One machine plays both hosts: each collector dumps only its own
    # namespace (by default it sees every namespace of the machine).
    d.spawn(in_ns(h, [COLLECTOR, "--foreground", "--socket", sock,
                      "--max-netns", "1"]),
            name="collector-" + h)
    wait_for(lambda: os.path.exists(sock), "collector %s" % h)
    port = free_port()
    w = d.spawn(in_ns(h, [WEBD, "--collector", sock, "--port", str(port),
                          "--web-root", WEB_ROOT, "--interval", "0.5",
                          "--publish", nats_url, "--host-name", HOSTS[h],
                          "--publish-full-every", "5"]), name="webd-" + h)
    w.port = port
    return w


def host_graph(h, port):
    """A host's own /api/graph, asked from inside its namespace."""
    out = subprocess.run(in_ns(h, [sys.executable, "-c",
                                    "import urllib.request,sys; sys.stdout."
                                    "write(urllib.request.urlopen('http://"
                                    "127.0.0.1:%d/api/graph', timeout=10)."
                                    "read().decode())" % port]),
                         capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout) if out.returncode == 0 else None


def fleet_edge(g, cli_pid, srv_pid):
    for e in g["edges"]:
        if (e["from"].startswith(HOSTS["a"] + "/p:%d:" % cli_pid) and
                e["to"].startswith(HOSTS["b"] + "/p:%d:" % srv_pid)):
            return e
    return None


def externals_for(g, addr):
    return [n for n in g["nodes"] if n.get("kind") == "external" and
            n.get("addr") == addr]


def main():
    if os.geteuid() != 0:
        print("it_fleet needs root (network namespaces)")
        return 1
    d = Daemons("procnet-it-fleet-")
    nats = None
    procs = []
    try:
        setup_net()
        nats = NatsServer(listen=NET + ".254")
        nats.start()
        url = "nats://%s:%d" % (NET + ".254", nats.port)
        wa = host_daemons(d, "a", url)
        wb = host_daemons(d, "b", url)
        fport = free_port()
        fleet = d.spawn([WEBD, "--fleet", url, "--port", str(fport),
                         "--web-root", WEB_ROOT, "--fleet-stale", "4"],
                        name="webd-fleet")
        wait_for(lambda: get_json(fport, "/api/status")["fleet"]["hosts"]
                 == 2, "both hosts on the fleet map", timeout=60)
        srv = subprocess.Popen(in_ns("b", [sys.executable, "-c", SERVER,
                                           NET + ".2", "3"]),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
        procs.append(srv)
        sport = int(srv.stdout.readline())
        cli = subprocess.Popen(in_ns("a", [sys.executable, "-c", CLIENT,
                                           NET + ".2", str(sport), "3"]),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
        procs.append(cli)
        check(cli.stdout.readline().strip() == "ready",
              "host A's client connected to host B's server")
        try:
            wait_for(lambda: fleet_edge(get_json(fport, "/api/graph"),
                                        cli.pid, srv.pid),
                     "the cross-host edge", timeout=60)
        finally:
            g = get_json(fport, "/api/graph")
            log("edges on port %d: %s; status %s" % (sport, [
                (x["id"], x["reason"]) for x in g["edges"]
                if x.get("server_port") == sport],
                get_json(fport, "/api/status")["fleet"]))
            ga = host_graph("a", wa.port)
            log("host A's own edges: %s; client pid %d" % (
                ga and [x["id"] for x in ga["edges"]], cli.pid))
        e = fleet_edge(g, cli.pid, srv.pid)
        check(e is not None and e["reason"] in ("pair", "listener") and
              e["count"] == 3 and e["server_port"] == sport,
              "one edge A client -> B server: %s" % json.dumps(
                  {k: e.get(k) for k in ("id", "reason", "count")}))
        by_id = {n["id"]: n for n in g["nodes"]}
        check(by_id.get(e["from"], {}).get("host") == HOSTS["a"] and
              by_id.get(e["to"], {}).get("host") == HOSTS["b"],
              "its ends carry their hosts' names")
        gr = by_id.get(e["from"], {}).get("groups", {})
        check(gr.get("host") == "h:" + HOSTS["a"] and
              all(v.startswith(HOSTS["a"] + "/") for k, v in gr.items()
                  if k != "host") and "program" in gr,
              "the client's group ids are its host's: %s" % gr)
        gh = get_json(fport, "/api/graph?group=host")
        hid = {h: "h:" + HOSTS[h] for h in HOSTS}
        hn = {n["id"]: n for n in gh["nodes"]}
        he = [x for x in gh["edges"] if x["from"] == hid["a"] and
              x["to"] == hid["b"] and x["server_port"] == sport]
        check(hid["a"] in hn and hid["b"] in hn and
              hn[hid["a"]]["label"] == HOSTS["a"] and
              gh["meta"]["options"]["group"] == "host" and
              len(he) == 1 and he[0]["count"] >= 3,
              "group=host: one node per host, the edge host A -> host B: %s"
              % [(x["id"], x["count"]) for x in he])
        gp = get_json(fport, "/api/graph?group=program")
        pnodes = [n for n in gp["nodes"] if n["kind"] == "process"]
        check(pnodes and gp["meta"]["options"]["group"] == "program" and
              all(n["id"].split("/")[0] in HOSTS.values() and
                  all(m["id"].split("/")[0] == n["id"].split("/")[0]
                      for m in n.get("members", [])) for n in pnodes),
              "group=program folds within each host (%d groups)"
              % len(pnodes))
        check(not externals_for(g, NET + ".2") and
              not externals_for(g, NET + ".1"),
              "no external node for the connection on either side")
        hosts = {h["name"]: h for h in g["meta"]["hosts"]}
        check(set(hosts) == set(HOSTS.values()) and
              NET + ".2" in hosts[HOSTS["b"]]["addrs"],
              "meta.hosts names both hosts with their addresses")

        # NATS away and back: the fleet map is whole again within 10 s.
        nats.stop()
        time.sleep(2)
        check(wa.poll() is None and wb.poll() is None,
              "both hosts' webd keep running without NATS")
        before = get_json(fport, "/api/status")["fleet"]["messages"]
        nats.start()
        t0 = time.monotonic()
        # whole again: both hosts heard from since the restart, the edge
        # there, nobody stale
        wait_for(lambda: get_json(fport, "/api/status")["fleet"][
            "messages"] > before + 4 and (lambda g: fleet_edge(
                g, cli.pid, srv.pid) and all(
                    h["age_ms"] < 2000 and not h["stale"]
                    for h in g["meta"]["hosts"]))(
            get_json(fport, "/api/graph")), "the fleet map whole again",
            timeout=30)
        took = time.monotonic() - t0
        log("fleet map whole %.1f s after nats-server restarted" % took)
        check(took <= 10, "whole again within 10 s (%.1f s)" % took)

        # A host that stops publishing goes stale.
        d.stop(wb)
        wait_for(lambda: any(h["stale"] for h in get_json(
            fport, "/api/graph")["meta"]["hosts"] if h["name"] ==
            HOSTS["b"]), "host B stale", timeout=30)
        g = get_json(fport, "/api/graph")
        check(all(n.get("stale") for n in g["nodes"]
                  if n.get("host") == HOSTS["b"]),
              "a silent host's nodes are marked stale")
    finally:
        for p in procs:
            try:
                p.stdin.close()
            except OSError:
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        d.close(keep_logs=checks["failed"] > 0 or
                sys.exc_info()[0] is not None)
        if nats is not None:
            nats.close()
        teardown_net()
    print("%d passed, %d failed" % (checks["passed"], checks["failed"]))
    return 1 if checks["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
