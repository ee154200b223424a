#!/usr/bin/env bash
# Linux packaging, checked the way an installer sees it: `meson install`
# into a scratch DESTDIR, then
#   - every file meson says it installs is there (programs executable),
#     the editable rules are copied once and never overwritten after,
#     the icons are PNGs;
#   - systemd-sysusers creates user and group procnet from our sysusers.d;
#   - both units pass `systemd-analyze verify` with no complaint at all
#     (verify exits 0 on unknown keys and bad values, so any output fails),
#     and a deliberately broken copy is caught;
#   - the units point at the installed programs and keep their hardening
#     (capabilities, user, runtime directory); exposure from
#     `systemd-analyze security --offline=yes` stays under a ceiling.
# Env: PROCNET_BUILD_ROOT, PROCNET_SOURCE_ROOT (meson test sets both).
set -uo pipefail

build=${PROCNET_BUILD_ROOT:?PROCNET_BUILD_ROOT not set}
src=${PROCNET_SOURCE_ROOT:?PROCNET_SOURCE_ROOT not set}
# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

for tool in systemd-analyze systemd-sysusers meson python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		bad "$tool is missing (packaging/deps.sh test installs it)"
		finish
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

if meson install -C "$build" --no-rebuild --destdir "$root" --quiet \
    >"$tmp/install.log" 2>&1; then
	ok "meson install into a DESTDIR"
else
	cat "$tmp/install.log"
	bad "meson install into a DESTDIR"
	finish
fi

# What meson installs, as "source<TAB>destination" lines.
meson introspect "$build" --installed | python3 -c '
import json, sys
for s, d in json.load(sys.stdin).items():
    print(s + "\t" + d)' >"$tmp/installed.tsv"

dest_of() {	# dest_of BASENAME -> installed path (no DESTDIR), or nothing
	awk -F '\t' -v n="$1" '{ k = $2; sub(/.*\//, "", k); if (k == n) { print $2; exit } }' \
	    "$tmp/installed.tsv"
}

missing=0
while IFS=$'\t' read -r _ dst; do
	[ -e "$root$dst" ] || { echo "  not installed: $dst"; missing=$((missing + 1)); }
done <"$tmp/installed.tsv"
check "all $(wc -l <"$tmp/installed.tsv") installed files present" [ "$missing" -eq 0 ]

collector=$(dest_of procnet-collector)
webd=$(dest_of procnet-webd)
unit_c=$(dest_of procnet-collector.service)
unit_w=$(dest_of procnet-webd.service)
sysusers=$(dest_of procnet.conf)
rules_default=$(dest_of node_types.yaml)
for v in collector webd unit_c unit_w sysusers rules_default; do
	if [ -z "${!v}" ]; then
		bad "meson installs no file for $v"
		finish
	fi
done
check "collector installed executable" [ -x "$root$collector" ]
check "webd installed executable" [ -x "$root$webd" ]

# --- rules: the editable copy --------------------------------------------
rules_etc=$(sed -n 's/.*--rules \([^ ]*\).*/\1/p' "$root$unit_w")
check "webd unit names a rules file ($rules_etc)" [ -n "$rules_etc" ]
check "editable rules copied from the default" \
    cmp -s "$root$rules_default" "$root$rules_etc"
check "default rules are the source tree's" \
    cmp -s "$src/packaging/rules/node_types.yaml" "$root$rules_default"
echo "# my edit" >>"$root$rules_etc"
cp "$root$rules_etc" "$tmp/edited.yaml"
meson install -C "$build" --no-rebuild --destdir "$root" --quiet \
    >"$tmp/install2.log" 2>&1 || cat "$tmp/install2.log"
check "a second install keeps the edited rules" \
    cmp -s "$tmp/edited.yaml" "$root$rules_etc"

# --- icons ----------------------------------------------------------------
icons_dir=$(sed -n 's/.*--icons-dir \([^ ]*\).*/\1/p' "$root$unit_w")
if grep -q '\.png$' "$tmp/installed.tsv"; then
	n=0
	for t in app service database mq cache lb external qt_desktop; do
		f=$root$icons_dir/$t.png
		if [ -f "$f" ] && [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = \
		    "89504e470d0a1a0a" ]; then
			n=$((n + 1))
		else
			echo "  not a PNG: $icons_dir/$t.png"
		fi
	done
	check "8 type icons are PNGs in the unit's --icons-dir" [ "$n" -eq 8 ]
else
	echo "note: no icons built (rsvg-convert or web/img missing); the UI draws its own"
fi

# --- sysusers ---------------------------------------------------------------
mkdir -p "$root/etc"
if systemd-sysusers --root="$root" "$root$sysusers" >"$tmp/sysusers.log" 2>&1; then
	ok "systemd-sysusers accepts procnet.conf"
else
	cat "$tmp/sysusers.log"
	bad "systemd-sysusers accepts procnet.conf"
fi
check "user procnet created, primary group procnet" \
    awk -F: -v g="$(awk -F: '$1 == "procnet" { print $3 }' "$root/etc/group")" \
    'BEGIN { r = 1 } $1 == "procnet" && $4 == g && g != "" && $7 ~ /nologin/ { r = 0 } END { exit r }' \
    "$root/etc/passwd"

# --- systemd-analyze verify ----------------------------------------------
# verify --root resolves dependencies (sysinit.target ...) and Exec paths
# inside the root: give it the host's units and /bin/kill (ExecReload).
mkdir -p "$root/usr/lib/systemd" "$root/bin"
host_units=/lib/systemd/system
[ -d "$host_units" ] || host_units=/usr/lib/systemd/system
cp -a "$host_units" "$root/usr/lib/systemd/"
cp /bin/kill "$root/bin/kill"

verify() {	# verify UNIT_PATH_IN_ROOT...: 0 only when silent and exit 0
	local out
	out=$(systemd-analyze verify --root="$root" "$@" 2>&1)
	local rc=$?
	[ -n "$out" ] && echo "$out" | sed 's/^/  /'
	[ "$rc" -eq 0 ] && [ -z "$out" ]
}
check "systemd-analyze verify procnet-collector.service" verify "$unit_c"
check "systemd-analyze verify procnet-webd.service" verify "$unit_w"

# The check above must be able to fail: a misspelt key is only a warning
# to systemd, and must still fail here.
unitdir=$(dirname "$unit_w")
sed 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' "$root$unit_w" \
    >"$root$unitdir/procnet-broken.service"
if verify "$unitdir/procnet-broken.service" >/dev/null 2>&1; then
	bad "verify catches a misspelt key"
else
	ok "verify catches a misspelt key"
fi
rm -f "$root$unitdir/procnet-broken.service"

# --- what the units say ---------------------------------------------------
key() {	# key UNIT KEY -> last value of KEY in [Service]/[Unit]
	awk -F= -v k="$2" '$1 == k { v = substr($0, length(k) + 2) } END { print v }' "$root$1"
}
exec_c=$(key "$unit_c" ExecStart)
exec_w=$(key "$unit_w" ExecStart)
check "collector unit runs the installed collector" [ "${exec_c%% *}" = "$collector" ]
check "webd unit runs the installed webd" [ "${exec_w%% *}" = "$webd" ]
check "collector keeps exactly CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_BPF CAP_PERFMON" \
    [ "$(key "$unit_c" CapabilityBoundingSet | tr ' ' '\n' | sort | tr '\n' ' ')" = \
      "CAP_BPF CAP_DAC_READ_SEARCH CAP_PERFMON CAP_SYS_PTRACE " ]
check "collector may call bpf(2)" \
    grep -qx 'SystemCallFilter=@system-service bpf' "$root$unit_c"
check "webd has no capabilities" [ -z "$(key "$unit_w" CapabilityBoundingSet)" ] 
check "webd runs as procnet:procnet" \
    [ "$(key "$unit_w" User):$(key "$unit_w" Group)" = "procnet:procnet" ]
check "collector socket dir is RuntimeDirectory=procnet 0750" \
    [ "$(key "$unit_c" RuntimeDirectory) $(key "$unit_c" RuntimeDirectoryMode)" = "procnet 0750" ]
check "collector socket is where webd looks for it" \
    [ "$(sed -n 's/.*--socket \([^ ]*\).*/\1/p' "$root$unit_c")" = \
      "$(sed -n 's/.*--collector \([^ ]*\).*/\1/p' "$root$unit_w")" ]
for u in "$unit_c" "$unit_w"; do
	for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes; do
		check "$(basename "$u"): $k" grep -qx "$k" "$root$u"
	done
done
check "webd starts after the collector" grep -qx 'After=procnet-collector.service.*' "$root$unit_w"

# --- the units' command lines work -----------------------------------------
# Run both ExecStart lines as written, moved into the DESTDIR (programs,
# rules, icons, web root) with the socket in the scratch dir and a free
# port: the options must parse and webd must serve the collector's graph.
relocate() {	# relocate EXECSTART -> the command with paths moved
	echo "$1" | awk -v root="$root" -v sock="$tmp/run/collector.sock" -v port="$2" '{
		for (i = 1; i <= NF; i++) {
			if (i == 1) $i = root $i
			else if ($(i-1) == "--socket" || $(i-1) == "--collector") $i = sock
			else if ($(i-1) == "--rules" || $(i-1) == "--icons-dir") $i = root $i
			else if ($(i-1) == "--port") $i = port
		}
		print
	}'
}
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$tmp/run"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	webroot=$(awk -F '\t' '$2 ~ /\/web\/index\.html$/ { sub(/\/index\.html$/, "", $2); print $2; exit }' \
	    "$tmp/installed.tsv")
	[ -n "$webroot" ] || webroot=$(dirname "$rules_default")/web
	# shellcheck disable=SC2046
	$(relocate "$exec_c" 0) >"$tmp/collector.log" 2>&1 &
	cpid=$!
	# shellcheck disable=SC2046
	$(relocate "$exec_w" "$port") --web-root "$root$webroot" >"$tmp/webd.log" 2>&1 &
	wpid=$!
	got=$(python3 - "$port" <<'EOF'
import json, sys, time, urllib.request
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/api/graph" % sys.argv[1], timeout=5) as r:
            g = json.load(r)
            if g.get("meta", {}).get("os") == "linux" and g.get("nodes"):
                print("graph %d nodes %d edges" % (len(g["nodes"]), len(g["edges"])))
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
print("no graph")
EOF
)
	echo "  units' command lines: $got"
	case "$got" in
	graph*) ok "collector and webd started with the units' ExecStart serve /api/graph" ;;
	*)
		sed 's/^/  collector: /' "$tmp/collector.log" | tail -5
		sed 's/^/  webd: /' "$tmp/webd.log" | tail -5
		bad "collector and webd started with the units' ExecStart serve /api/graph" ;;
	esac
	kill "$wpid" "$cpid" 2>/dev/null
	wait "$wpid" "$cpid" 2>/dev/null
else
	echo "note: not root: the units' command lines were not run"
fi

# --- the collector's two capabilities are enough, and both are needed ----
# Run the built collector once with the unit's bounding set (and with each
# capability left out) and look for a socket held by a process of another
# user (nobody).  Needs root and setpriv; skipped otherwise.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    [ -x /usr/bin/python3 ]; then
	caps=$(key "$unit_c" CapabilityBoundingSet | tr 'A-Z' 'a-z' |
	    sed 's/cap_//g; s/[^ ][^ ]*/+&/g; s/ /,/g')
	setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(60)' >"$tmp/other.port" &
	other=$!
	for _ in $(seq 50); do [ -s "$tmp/other.port" ] && break; sleep 0.1; done
	port=$(cat "$tmp/other.port")
	owner_seen() {	# owner_seen BOUNDING_SET -> prints the pid or None
		setpriv --bounding-set="-all$1" --inh-caps=-all -- \
		    "$build/collector-svc/procnet-collector" --once --format json \
		    2>/dev/null | python3 -c '
import json, sys
port = int(sys.argv[1])
try:
    d = json.load(sys.stdin)
except ValueError:
    print("no-output"); sys.exit()
pids = [s.get("pid") for s in d.get("sockets", [])
        if s.get("local_port") == port and s.get("proto") == "tcp"]
print(pids[0] if pids else "no-socket")' "$port"
	}
	if [ -n "$port" ] && [ -x "$build/collector-svc/procnet-collector" ]; then
		check "unit's capabilities ($caps) attribute another user's socket" \
		    [ "$(owner_seen ",$caps")" = "$other" ]
		for c in ${caps//,/ }; do
			case "$c" in +bpf|+perfmon) continue ;; esac
			rest=$(echo ",$caps," | sed "s/,$c,/,/; s/,$//")
			check "without $c the owner stays unknown" \
			    [ "$(owner_seen "$rest")" = "None" ]
		done
	else
		bad "capability check could not start (port '$port')"
	fi
	kill "$other" 2>/dev/null
	wait "$other" 2>/dev/null
	# Connection events: the BPF tracer loads with the unit's set, and
	# not without CAP_BPF or CAP_PERFMON (then auto takes sock_diag).
	events_with() {	# events_with BOUNDING_SET -> the source --samples used
		setpriv --bounding-set="-all$1" --inh-caps=-all -- \
		    "$build/collector-svc/procnet-collector" --samples 1 --stats \
		    2>&1 | sed -n 's/.*"events":"\([^"]*\)".*/\1/p'
	}
	check "unit's capabilities load the BPF tracer" \
	    [ "$(events_with ",$caps")" = "ebpf" ]
	for c in +bpf +perfmon; do
		rest=$(echo ",$caps," | sed "s/,$c,/,/; s/,$//")
		check "without $c events fall back to sock_diag-destroy" \
		    [ "$(events_with "$rest")" = "sock_diag-destroy" ]
	done
else
	echo "note: not root or no setpriv: capability check skipped"
fi

# --- exposure scores (lower is better; 10 is an unhardened root service) --
exposure() {
	systemd-analyze security --offline=yes --root="$root" "$1" 2>/dev/null |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
ec=$(exposure "$unit_c")
ew=$(exposure "$unit_w")
echo "exposure: procnet-collector.service ${ec:-?}, procnet-webd.service ${ew:-?}"
check "collector exposure ${ec:-?} <= 3.0" awk -v e="${ec:-99}" 'BEGIN { exit !(e <= 3.0) }'
check "webd exposure ${ew:-?} <= 2.0" awk -v e="${ew:-99}" 'BEGIN { exit !(e <= 2.0) }'

finish
