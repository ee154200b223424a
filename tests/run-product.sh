#!/bin/sh
# Runs the product from a build tree: the collector and webd together, on a
# private socket, until Ctrl-C, which stops both (by pid).
#   tests/run-product.sh BUILD_DIR [PORT]        (what `make run` calls)
# As a normal user the collector runs as you and sees the sockets of your
# own processes only; `sudo make run` runs it as root for the whole machine.
set -eu

BUILD=${1:-build}
PORT=${2:-8765}
COLLECTOR=$BUILD/collector-svc/procnet-collector
WEBD=$BUILD/webd/procnet-webd
WEB_ROOT=$BUILD/web/root
# The default rules that installs ship, so a checkout types postgres,
# redis, nginx ... the way an installed copy does.
RULES=$(cd "$(dirname "$0")/.." && pwd)/packaging/rules/node_types.yaml

die() {
	echo "run-product.sh: $*" >&2
	exit 1
}

case $PORT in
''|*[!0-9]*) die "port '$PORT' is not a number" ;;
esac
for exe in "$COLLECTOR" "$WEBD"; do
	[ -x "$exe" ] || die "$exe is missing: run 'make build' first"
done

# A private socket directory, so an installed collector service (on
# /run/procnet) is neither used nor disturbed.
if [ "$(id -u)" -eq 0 ]; then
	base=/run
else
	base=${XDG_RUNTIME_DIR:-}
	if [ -z "$base" ] || [ ! -d "$base" ] || [ ! -w "$base" ]; then
		base=${TMPDIR:-/tmp}
	fi
fi
dir=$(mktemp -d "$base/procnet-run.XXXXXX") || die "cannot create a directory in $base"
sock=$dir/collector.sock
cpid=
wpid=

cleanup() {
	trap - EXIT INT TERM HUP
	# webd first, so it does not reconnect to a collector on its way out.
	if [ -n "$wpid" ]; then
		kill "$wpid" 2>/dev/null || true
		wait "$wpid" 2>/dev/null || true
	fi
	if [ -n "$cpid" ]; then
		kill "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'echo; echo "stopping"; exit 0' INT TERM HUP

"$COLLECTOR" --foreground --socket "$sock" &
cpid=$!
i=0
while [ ! -S "$sock" ]; do
	kill -0 "$cpid" 2>/dev/null || { cpid=; die "the collector did not start (see above)"; }
	i=$((i + 1))
	[ "$i" -le 100 ] || die "the collector did not open $sock within 10 s"
	sleep 0.1
done

set -- --port "$PORT" --collector "$sock"
[ -d "$WEB_ROOT" ] && set -- "$@" --web-root "$WEB_ROOT"
[ -f "$RULES" ] && set -- "$@" --rules "$RULES"
"$WEBD" "$@" &
wpid=$!
# A taken port or a bad rules file ends webd at once; say so.
sleep 0.5
kill -0 "$wpid" 2>/dev/null || { wait "$wpid" || true; wpid=; die "procnet-webd did not start (see above)"; }

echo
echo "  Procnet Live: http://127.0.0.1:$PORT/    (Ctrl-C stops both)"
if [ "$(id -u)" -ne 0 ]; then
	echo "  The collector runs as $(id -un) and sees only your own processes;"
	echo "  'sudo make run' shows the whole machine."
fi
echo

# Whichever ends first ends the run.
while kill -0 "$wpid" 2>/dev/null && kill -0 "$cpid" 2>/dev/null; do
	sleep 1
done
kill -0 "$wpid" 2>/dev/null || echo "run-product.sh: procnet-webd exited" >&2
kill -0 "$cpid" 2>/dev/null || echo "run-product.sh: procnet-collector exited" >&2
exit 1
