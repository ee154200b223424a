#!/usr/bin/env bash
# The MSI under Wine, as a person would use it:
#   build the MSI twice (this version, then a higher one) from the Windows
#   cross build; install the first with `msiexec /i ... /qn`; both services
#   registered (account, start type, quoted command line) and RUNNING; webd
#   answering /api/graph, /, and /icons/ from the Linux side; the user edits
#   the rules; the upgrade replaces the product and keeps the edit; the
#   uninstall removes services, program files and the Start-menu link and
#   leaves the user's rules.
#
#   tests/it_msi.sh WIN_BUILD_DIR        (or PROCNET_WIN_BUILD in the env)
#
# Everything lives in a scratch folder inside WIN_BUILD_DIR (WINEPREFIX
# included) that is removed at the end; the Wine server is ended with
# `wineserver -k` for that prefix only.  The port is picked free.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-${PROCNET_WIN_BUILD:-}}
# shellcheck source=checks.sh
. "$here/checks.sh"

if [ -z "$build" ] || [ ! -d "$build" ]; then
	bad "no Windows build directory given (tests/it_msi.sh DIR; make windows makes one)"
	finish
fi
build=$(cd "$build" && pwd)
for tool in wine wineboot wineserver wixl msiinfo python3; do
	command -v "$tool" >/dev/null 2>&1 || { bad "$tool missing (packaging/deps.sh windows)"; finish; }
done

work=$(mktemp -d "$build/it-msi.XXXXXX")
export WINEPREFIX=$work/prefix WINEARCH=win64 WINEDEBUG=-all
keep=${PROCNET_KEEP_MSI_TEST:-}
cleanup() {
	wineserver -k >/dev/null 2>&1
	if [ -n "$keep" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

winpath() { echo "Z:$1" | tr / '\\'; }	# Linux path -> Wine path
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# --- a prefix with a persistent server (services live between commands) ---------
wineboot -i >"$work/wineboot.log" 2>&1
# The services.exe left by prefix creation loses services created by an
# MSI (OpenService fails with 1060 right after CreateService); a fresh one
# does not.  Restart the server once before installing.
wineserver -k >/dev/null 2>&1
wineserver -w >/dev/null 2>&1
wineserver -p

# Under Wine every process, the services too, runs as one user, never
# LocalSystem: webd is told that account, as an admin would for a
# collector under another account (docs/windows.md).
wine_user=$(wine "$build/tests/it_win_helper.exe" whoami 2>/dev/null </dev/null | tr -d '\r')
check "Wine's user SID known ($wine_user)" [ -n "$wine_user" ]
# Does this prefix keep files' security descriptors (extended attributes)?
# A fresh folder made by us reads back owned by us either way; one given
# to SYSTEM with a DACL of its own only where they are stored.
sd_stored=no
mkdir -p "$WINEPREFIX/drive_c/sdprobe"
if wine cmd /c 'icacls C:\sdprobe /setowner SYSTEM' >/dev/null 2>&1 </dev/null &&
    wine "$build/tests/it_win_helper.exe" sddl-path 'C:\sdprobe' 2>/dev/null </dev/null | grep -q '^O:SY'; then
	sd_stored=yes
fi
echo "  file security descriptors stored by this prefix: $sd_stored"

# --- two versions ---------------------------------------------------------------
v1=$(meson introspect "$build" --projectinfo 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])' 2>/dev/null)
echo "$v1" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || { bad "no project version in $build ('$v1')"; finish; }
v2=$(echo "$v1" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')
build_msi() {	# build_msi VERSION OUT -> prints the ProductCode
	"$src/packaging/windows/build-msi.sh" --build "$build" --version "$1" \
	    --port "$port" --out "$2" \
	    --webd-args "--collector-account $wine_user" >"$work/build-$1.log" 2>&1 || {
		cat "$work/build-$1.log"; return 1; }
	sed -n 's/.*ProductCode \({[^}]*}\).*/\1/p' "$work/build-$1.log"
}
pc1=$(build_msi "$v1" "$work/v1.msi") && ok "MSI $v1 built" || { bad "MSI $v1 built"; finish; }
pc2=$(build_msi "$v2" "$work/v2.msi") && ok "MSI $v2 built" || { bad "MSI $v2 built"; finish; }
check "each version has its own ProductCode" [ -n "$pc1" -a -n "$pc2" -a "$pc1" != "$pc2" ]

# --- the tables wixl cannot write, read back with msiinfo -----------------------
table() { msiinfo export "$work/v1.msi" "$1" 2>/dev/null | tr -d '\r'; }
for s in Collector:procnetcollector Webd:procnetwebd; do
	check "MsiServiceConfigFailureActions: ${s#*:} restarts after 5/30/60 s, reset after a day" \
	    bash -c "printf '%s\n' \"\$1\" | grep -qx 'MSFA_${s%%:*}	${s#*:}	1	86400			1\[~\]1\[~\]1	5000\[~\]30000\[~\]60000	C_${s%%:*}'" _ "$(table MsiServiceConfigFailureActions)"
	check "MsiServiceConfig: ${s#*:} fails over on non-crash failures (flag, type 4)" \
	    bash -c "printf '%s\n' \"\$1\" | grep -qx 'MSC_${s%%:*}Flag	${s#*:}	1	4	1	C_${s%%:*}'" _ "$(table MsiServiceConfig)"
	check "Registry: Event Log source procnet-${s%%:*} -> its exe, REG_EXPAND_SZ" \
	    bash -c "printf '%s\n' \"\$1\" | grep -q 'EventLog.Application.procnet-[a-z]*	EventMessageFile	#%\[#F_${s%%:*}\]	C_${s%%:*}'" _ "$(table Registry)"
done
check "MsiServiceConfig: procnetwebd has an unrestricted service SID (type 5)" \
    bash -c "printf '%s\n' \"\$1\" | grep -qx 'MSC_WebdSid	procnetwebd	1	5	1	C_Webd'" _ "$(table MsiServiceConfig)"
check "MsiConfigureServices is sequenced" \
    bash -c "printf '%s\n' \"\$1\" | grep -q '^MsiConfigureServices		5870'" _ "$(table InstallExecuteSequence)"
check "CA_WaitServicesStopped only on uninstall, with its file installed" \
    bash -c "printf '%s\n' \"\$1\" | grep -qF 'CA_WaitServicesStopped	REMOVE~=\"ALL\" AND ?C_SvcPath=3	1950'" _ "$(table InstallExecuteSequence)"

c=$WINEPREFIX/drive_c
pf="$c/Program Files/ProcnetLive"
pd=$c/ProgramData/ProcnetLive
svc_key='HKLM\System\CurrentControlSet\Services'

reg_value() {	# reg_value KEY NAME -> data (after the type column)
	wine reg query "$1" /v "$2" 2>/dev/null | tr -d '\r' |
	    awk -v n="$2" '$1 == n { sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+/, ""); print; exit }'
}
svc_state() {	# svc_state NAME -> RUNNING/STOPPED/... or nothing
	wine sc query "$1" 2>/dev/null | tr -d '\r' | awk '$1 == "STATE" { print $4 }'
}
wait_running() {	# up to 30 s: a service may still be starting
	for _ in $(seq 60); do
		[ "$(svc_state "$1")" = RUNNING ] && return 0
		sleep 0.5
	done
	echo "  $1 state: $(svc_state "$1")"
	return 1
}
http_get() {	# http_get PATH OUTFILE -> prints the status code (000 if none)
	python3 - "$port" "$1" "$2" <<'EOF'
import sys, urllib.request, urllib.error
port, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path), timeout=10) as r:
        open(out, "wb").write(r.read())
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}
# Up to 180 s for webd to answer 200 on PATH: it answers 503 until the
# collector's first snapshot, and under Wine a sample of a busy host's
# socket tables can take many seconds.
wait_http() {
	local code=000
	for _ in $(seq 180); do
		code=$(http_get "$1" "$2")
		[ "$code" = 200 ] && return 0
		sleep 1
	done
	echo "  GET $1 -> $code"
	return 1
}
graph_ok() {	# the body is graph JSON: nodes, edges, meta.os windows
	python3 - "$1" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))
assert isinstance(g.get("nodes"), list) and isinstance(g.get("edges"), list), "no nodes/edges"
assert g.get("meta", {}).get("os") == "windows", "meta.os is %r" % g.get("meta", {}).get("os")
print("  graph: %d nodes, %d edges" % (len(g["nodes"]), len(g["edges"])))
EOF
}
has_ui() {
	[ -f "$pf/web/index.html" ] && ls "$pf"/web/vendor/vis-network*.js >/dev/null 2>&1
}
has_defaults() {
	[ -f "$pf/defaults/node_types.yaml" ] && is_png "$pf/defaults/icons/lb.png"
}
has_user_data() {
	[ -f "$pd/node_types.yaml" ] && [ "$(ls "$pd/icons"/*.png 2>/dev/null | wc -l)" -eq 8 ]
}
is_png() { [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

check_installed() {	# check_installed LABEL MSIEXEC_OUTPUT
	local l=$1 ip
	check "$l: procnetcollector RUNNING" wait_running procnetcollector
	check "$l: procnetwebd RUNNING" wait_running procnetwebd
	check "$l: collector account LocalSystem" \
	    [ "$(reg_value "$svc_key\\procnetcollector" ObjectName)" = LocalSystem ]
	check "$l: webd account NT AUTHORITY\\LocalService" \
	    [ "$(reg_value "$svc_key\\procnetwebd" ObjectName)" = 'NT AUTHORITY\LocalService' ]
	check "$l: both auto-start" \
	    [ "$(reg_value "$svc_key\\procnetcollector" Start)$(reg_value "$svc_key\\procnetwebd" Start)" = 0x20x2 ]
	local src
	for src in procnet-collector procnet-webd; do
		check "$l: Event Log source $src registered with its message file" \
		    [ "$(reg_value "HKLM\\System\\CurrentControlSet\\Services\\EventLog\\Application\\$src" EventMessageFile)" = "C:\\Program Files\\ProcnetLive\\$src.exe" ]
		check "$l: ... TypesSupported 7" \
		    [ "$(reg_value "HKLM\\System\\CurrentControlSet\\Services\\EventLog\\Application\\$src" TypesSupported)" = 0x7 ]
	done
	check "$l: display name 'Procnet Live Collector'" \
	    [ "$(reg_value "$svc_key\\procnetcollector" DisplayName)" = "Procnet Live Collector" ]
	# The classic weakness: an unquoted path with a space in it.
	ip=$(reg_value "$svc_key\\procnetcollector" ImagePath)
	echo "  collector ImagePath: $ip"
	case "$ip" in
	'"C:\Program Files\ProcnetLive\procnet-collector.exe" run '*) ok "$l: collector ImagePath quoted" ;;
	*) bad "$l: collector ImagePath quoted" ;;
	esac
	ip=$(reg_value "$svc_key\\procnetwebd" ImagePath)
	echo "  webd ImagePath: $ip"
	case "$ip" in
	'"C:\Program Files\ProcnetLive\procnet-webd.exe" run '*) ok "$l: webd ImagePath quoted" ;;
	*) bad "$l: webd ImagePath quoted" ;;
	esac
	check "$l: programs under Program Files" \
	    [ -f "$pf/procnet-collector.exe" -a -f "$pf/procnet-webd.exe" ]
	check "$l: web UI with the vis-network bundle" has_ui
	check "$l: default rules and icons under Program Files" has_defaults
	check "$l: user rules and 8 icons under ProgramData" has_user_data
	# ProgramData's owner and DACL: set by the protect-dir custom action,
	# which fails the install when it cannot.  Wine keeps a file's
	# security descriptor only where the file system has extended
	# attributes (and synthesizes one from the mode bits otherwise), so
	# it is read back and compared only when this prefix stores them;
	# either way the action must have reported the DACL it set.
	check "$l: ProgramData protected by the custom action" \
	    grep -q 'ProgramData.ProcnetLive: owner Administrators, DACL D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)' "$2"
	local sd
	sd=$(wine "$build/tests/it_win_helper.exe" sddl-path 'C:\ProgramData\ProcnetLive' 2>/dev/null </dev/null | tr -d '\r')
	echo "  ProgramData\ProcnetLive read back: $sd"
	if [ "$sd_stored" = yes ]; then
		check "$l: ProgramData folder owned by Administrators, protected DACL" \
		    bash -c 'case "$1" in "O:BAD:P"*"(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)") exit 0;; esac; exit 1' _ "$sd"
	fi
	local url
	url=$(find "$c" -name 'Procnet Live.url' 2>/dev/null | head -n 1)
	check "$l: Start-menu link opens http://localhost:$port/" \
	    grep -q "^URL=http://localhost:$port/" "$url"
	check "$l: webd answers /api/graph from Linux" wait_http /api/graph "$work/graph.json"
	check "$l: /api/graph is the Windows collector's graph" graph_ok "$work/graph.json"
	check "$l: webd serves the UI (web root argument)" \
	    [ "$(http_get / "$work/index.html")" = 200 ]
	check "$l: webd serves icons from ProgramData (icons argument)" \
	    [ "$(http_get /icons/database.png "$work/icon.png")" = 200 ]
	check "$l: ... and the icon is the ProgramData PNG" cmp -s "$work/icon.png" "$pd/icons/database.png"
}

# --- install ------------------------------------------------------------------
wine msiexec /i "$(winpath "$work/v1.msi")" /qn /l*v "$(winpath "$work/install1.log")" 2>"$work/msiexec1.err"
rc=$?
cat "$work/msiexec1.err" >&2
check "msiexec /i $v1 exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "product $v1 registered" wine reg query \
    "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$pc1" >/dev/null 2>&1
check_installed "install $v1" "$work/msiexec1.err"

# --- the user edits rules and an icon ----------------------------------------------
printf '%s\n' '# edited by the user' '- match_name: "/^notepad(\\.exe)?$/i"' \
    '  type: app' '  label: "My editor"' >"$pd/node_types.yaml"
cp "$pd/node_types.yaml" "$work/user-rules.yaml"
cp "$pd/icons/app.png" "$pd/icons/database.png"
cp "$pd/icons/database.png" "$work/user-icon.png"

# --- upgrade ----------------------------------------------------------------------
wine msiexec /i "$(winpath "$work/v2.msi")" /qn /l*v "$(winpath "$work/install2.log")" 2>"$work/msiexec2.err"
rc=$?
cat "$work/msiexec2.err" >&2
check "msiexec /i $v2 (upgrade) exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "upgrade removed product $v1" bash -c "! wine reg query \
    'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$pc1' >/dev/null 2>&1"
check "product $v2 registered" wine reg query \
    "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$pc2" >/dev/null 2>&1
check "upgrade kept the user's rules" cmp -s "$work/user-rules.yaml" "$pd/node_types.yaml"
check "upgrade kept the user's icon" cmp -s "$work/user-icon.png" "$pd/icons/database.png"
check_installed "upgrade $v2" "$work/msiexec2.err"

# --- uninstall --------------------------------------------------------------------
wine msiexec /x "$(winpath "$work/v2.msi")" /qn /l*v "$(winpath "$work/uninstall.log")"
rc=$?
check "msiexec /x exits 0 (got $rc)" [ "$rc" -eq 0 ]
for s in procnetcollector procnetwebd; do
	check "uninstall removed service $s" \
	    bash -c "! wine reg query '$svc_key\\$s' >/dev/null 2>&1 && [ -z \"\$(wine sc query $s 2>/dev/null | tr -d '\r' | grep STATE)\" ]"
done
left=$(find "$pf" -type f 2>/dev/null | wc -l)
check "uninstall removed the program files ($left left)" [ "$left" -eq 0 ]
check "uninstall removed the Start-menu link" \
    [ -z "$(find "$c" -name 'Procnet Live.url' 2>/dev/null)" ]
check "uninstall left the user's rules" cmp -s "$work/user-rules.yaml" "$pd/node_types.yaml"
check "uninstall left the user's icons" [ "$(ls "$pd/icons"/*.png 2>/dev/null | wc -l)" -eq 8 ]
check "product no longer registered" bash -c "! wine reg query \
    'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$pc2' >/dev/null 2>&1"
check "webd no longer answers" [ "$(http_get /api/graph "$work/after.json")" = 000 ]

finish
