#!/bin/sh
# Puts the upstream source tarballs of the Windows build's libraries into
# subprojects/packagecache/, taken from Debian's source packages, so the
# cross build runs with --wrap-mode=nodownload.  Usage:
#   packaging/windows/fetch-sources.sh [SOURCE_ROOT]
#
# The deb-src entry is derived from this machine's own apt sources (the
# same URIs and keyring), written to a private apt configuration in a
# temporary directory: the system's apt setup is not changed and no mirror
# host is named here.  libcyaml comes from trixie because bookworm's orig
# tarball is missing from the archive; every other library from the
# machine's release.  Tarballs already present with the hash their wrap
# file names are kept, so a second run needs no network.
set -eu

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cache="$root/subprojects/packagecache"
# source package, suite ("" = this machine's release), wrap file
libs="jansson::jansson pcre2::pcre2 libyaml::libyaml libcyaml:trixie:libcyaml civetweb::civetweb cmocka::cmocka
 sqlite3::sqlite3 c-ares::c-ares"

die() { echo "fetch-sources: $*" >&2; exit 1; }

wrap_field() {	# wrap file, key
	sed -n "s/^$2[ 	]*=[ 	]*//p" "$1" | head -n 1
}

have_tarball() {	# wrap name -> 0 when present with the right hash
	w="$root/subprojects/$1.wrap"
	[ -f "$w" ] || die "missing $w"
	f=$(wrap_field "$w" source_filename)
	h=$(wrap_field "$w" source_hash)
	[ -f "$cache/$f" ] || return 1
	[ "$(sha256sum "$cache/$f" | cut -d' ' -f1)" = "$h" ]
}

missing=""
for spec in $libs; do
	wrap=${spec##*:}
	have_tarball "$wrap" || missing="$missing $spec"
done
[ -z "$missing" ] && { echo "fetch-sources: all tarballs present"; exit 0; }

command -v apt-get >/dev/null 2>&1 || die "apt-get not found (Debian only)"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"

work=$(mktemp -d "${TMPDIR:-/tmp}/procnet-src.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial" \
    "$work/dl"
: > "$work/empty.list"

# The machine's archive URIs: deb822 stanzas whose Suites name this
# release, and one-line "deb" entries for it.  Security and -updates
# archives are left out: upstream tarballs live in the main archive.
uris=""
keyring=""
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	out=$(awk -v rel="$codename" '
		function flush() {
			if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " rel " "))
				print uris "|" key
			types = ""; suites = ""; uris = ""; key = ""
		}
		/^[ \t]*$/ { flush(); next }
		/^#/ { next }
		/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
		/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
		/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
		/^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); key = $0 }
		END { flush() }' "$f")
	[ -n "$out" ] || continue
	uris="$uris $(echo "$out" | cut -d'|' -f1)"
	[ -n "$keyring" ] || keyring=$(echo "$out" | head -n 1 | cut -d'|' -f2)
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	uris="$uris $(awk -v rel="$codename" '
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == rel) print $i
		}' "$f")"
done
uris=$(echo $uris | tr ' ' '\n' | awk 'NF && !seen[$0]++' | tr '\n' ' ')
[ -n "${uris% }" ] || die "no apt source for $codename found to derive a deb-src entry from"

{
	echo "Types: deb-src"
	echo "URIs: $uris"
	echo "Suites: $codename trixie"
	echo "Components: main"
	if [ -n "$keyring" ]; then echo "Signed-By: $keyring"; fi
} > "$work/parts/procnet-src.sources"

apt_opts="-o Dir::Etc::SourceList=$work/empty.list
 -o Dir::Etc::SourceParts=$work/parts
 -o Dir::State::Lists=$work/lists
 -o Dir::Cache=$work/cache
 -o APT::Sandbox::User=root
 -o Debug::NoLocking=1"

echo "fetch-sources: reading source indexes for $codename and trixie" >&2
# shellcheck disable=SC2086
apt-get $apt_opts -qq update

for spec in $missing; do
	src=${spec%%:*}
	rest=${spec#*:}
	suite=${rest%%:*}
	wrap=${rest#*:}
	[ -n "$suite" ] || suite=$codename
	echo "fetch-sources: $src/$suite" >&2
	# shellcheck disable=SC2086
	(cd "$work/dl" && apt-get $apt_opts -qq source --tar-only \
	    --download-only "$src/$suite") || die "apt-get source $src/$suite failed"
	f=$(wrap_field "$root/subprojects/$wrap.wrap" source_filename)
	[ -f "$work/dl/$f" ] || die "$src/$suite did not yield $f (wrap file out of date?)"
	mkdir -p "$cache"
	cp "$work/dl/$f" "$cache/$f"
	have_tarball "$wrap" || die "$f: sha256 differs from subprojects/$wrap.wrap"
done
echo "fetch-sources: done"
