#!/bin/sh
# Installs the Debian packages one part of the build needs, only those that
# are missing.  Usage: packaging/deps.sh SET...   (SET: build test windows fuzz bench)
# Runs apt-get through sudo when not root.  Nothing but Debian packages is
# fetched here; npm packages are fetched by web/ at build time.
set -eu

pkgs_build="meson ninja-build pkg-config gcc libc6-dev libbpf-dev bpftool clang libcivetweb-dev libjansson-dev libcyaml-dev libyaml-dev libpcre2-dev libcmocka-dev libsqlite3-dev libc-ares-dev libnats-dev nodejs npm librsvg2-bin"
pkgs_test="python3 iproute2 chromium procps systemd util-linux nats-server"
pkgs_windows="mingw-w64 wine wine64 msitools wixl cmake dpkg-dev make tcl"
pkgs_fuzz="clang libclang-rt-14-dev llvm"
pkgs_bench="python3 python3-psutil iproute2 procps"

want=""
for set in "$@"; do
	case "$set" in
	build) want="$want $pkgs_build" ;;
	test) want="$want $pkgs_build $pkgs_test" ;;
	windows) want="$want $pkgs_windows" ;;
	fuzz) want="$want $pkgs_build $pkgs_fuzz" ;;
	bench) want="$want $pkgs_build $pkgs_bench" ;;
	*) echo "deps.sh: unknown set '$set' (build, test, windows, fuzz, bench)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	# A package counts as present when dpkg says it is installed, or (for
	# nodejs/npm, which some machines carry outside dpkg) its command exists.
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		continue
	fi
	case "$p" in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	python3) command -v python3 >/dev/null 2>&1 && continue ;;
	esac
	case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
	$SUDO apt-get update -qq
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
