#!/bin/sh
# meson install script: copies the default rules to the configuration
# directory only when no file is there yet, so reinstalling keeps a
# person's edits.  Usage: install-config.sh DEFAULT_FILE CONFIG_FILE
# (absolute paths; DESTDIR, when set, is prefixed to both).
set -eu
src="${DESTDIR:-}$1"
dst="${DESTDIR:-}$2"
if [ -e "$dst" ]; then
	echo "install-config: keeping existing $2"
	exit 0
fi
mkdir -p "$(dirname "$dst")"
cp "$src" "$dst"
chmod 0644 "$dst"
echo "install-config: installed $2"
