#!/bin/sh
# Builds the Procnet Live MSI from a Windows cross build (make windows).
#
#   build-msi.sh --build DIR [--out FILE.msi] [--version X.Y.Z] [--port N]
#                [--webd-args "OPTIONS"]
#
# DIR is the meson cross build directory: it holds
# collector-svc/procnet-collector.exe, webd/procnet-webd.exe,
# packaging/procnet-svcpath.exe, packaging/<type>.png and web/root/ (the UI
# with vis-network).  The version defaults to the meson project version,
# the output to DIR/procnet-live-VERSION-x64.msi, the port to 8765;
# --webd-args appends options to webd's service command line (e.g. --udp).
#
# wixl cannot express everything the package needs, so after wixl the
# tables are edited with msibuild (SQL) and the result is checked:
#   - Component.Attributes of everything under ProgramData (the user's
#     rules and icons) = 64-bit | Permanent | NeverOverwrite, so an upgrade
#     never replaces the user's edits and an uninstall leaves them;
#   - RemoveExistingProducts right after InstallValidate (WiX's
#     afterInstallValidate): the old version is removed, services included,
#     before the new one is installed;
#   - the custom actions (procnet-svcpath) that quote the services'
#     command lines between InstallServices and StartServices and wait for
#     stopped services between StopServices and DeleteServices.
set -eu

die() { echo "build-msi: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=""
out=""
version=""
port=8765
webd_args=""

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--version) version=${2:?}; shift 2 ;;
	--port) port=${2:?}; shift 2 ;;
	--webd-args) webd_args=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -n "$build" ] || die "--build DIR is required (the 'make windows' build directory)"
[ -d "$build" ] || die "no build directory $build: run 'make windows' first"
build=$(cd "$build" && pwd)
for tool in wixl wixl-heat msibuild msiinfo python3; do
	command -v "$tool" >/dev/null 2>&1 ||
	    die "$tool not found (packaging/deps.sh windows installs msitools, wixl)"
done

if [ -z "$version" ]; then
	version=$(meson introspect "$build" --projectinfo |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])') ||
	    die "cannot read the project version from $build"
fi
# MSI versions are numeric major.minor.build (255.255.65535).
echo "$version" | grep -Eq '^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,5}$' ||
    die "version '$version' is not major.minor.patch as an MSI needs"
case "$port" in
''|*[!0-9]*) die "port '$port' is not a number" ;;
esac
[ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "port $port out of range"
# ServiceInstall.Arguments holds at most 255 characters; ours take ~120.
[ "${#webd_args}" -le 120 ] || die "--webd-args longer than 120 characters"
[ -n "$out" ] || out=$build/procnet-live-$version-x64.msi
case "$out" in /*) ;; *) out=$(pwd)/$out ;; esac

collector=$build/collector-svc/procnet-collector.exe
webd=$build/webd/procnet-webd.exe
svcpath=$build/packaging/procnet-svcpath.exe
webroot=$build/web/root
icons="app service database mq cache lb external qt_desktop"
for f in "$collector" "$webd" "$svcpath"; do
	[ -f "$f" ] || die "missing $f: run 'make windows' first"
done
[ -f "$webroot/index.html" ] || die "missing $webroot/index.html: the web UI was not built"
ls "$webroot"/vendor/vis-network*.js >/dev/null 2>&1 ||
    die "no vis-network bundle in $webroot/vendor"
for i in $icons; do
	[ -f "$build/packaging/$i.png" ] ||
	    die "missing icon $build/packaging/$i.png (needs rsvg-convert at configure time)"
done

# --- stage ------------------------------------------------------------------
work=$build/msi/$version
rm -rf "$work"
stage=$work/stage
mkdir -p "$stage/bin" "$stage/rules" "$stage/icons" "$stage/url" "$stage/doc"
cp "$collector" "$webd" "$svcpath" "$stage/bin/"
cp -R "$webroot" "$stage/web"
cp "$src/packaging/rules/node_types.yaml" "$stage/rules/"
for i in $icons; do cp "$build/packaging/$i.png" "$stage/icons/"; done
cp "$src/LICENSE" "$stage/doc/LICENSE.txt"
printf '[InternetShortcut]\r\nURL=http://localhost:%s/\r\n' "$port" \
    >"$stage/url/Procnet Live.url"

# --- generated fragments -------------------------------------------------------
(cd "$stage/web" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
    wixl-heat -p "" --component-group CG_Web --var var.WebDir \
    --directory-ref WEBDIR --win64) >"$work/web.wxs"

# Icons twice: pristine defaults in Program Files, the user's copies in
# ProgramData.  Fixed ids per name keep component GUIDs stable.
{
	echo '<?xml version="1.0" encoding="utf-8"?>'
	echo '<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"><Fragment>'
	for place in Default User; do
		if [ "$place" = Default ]; then dir=DEFICONSDIR; else dir=DATAICONSDIR; fi
		echo "<DirectoryRef Id=\"$dir\">"
		for i in $icons; do
			echo "<Component Id=\"C_${place}Icon_$i\" Guid=\"*\" Win64=\"yes\">"
			echo "<File Id=\"F_${place}Icon_$i\" Name=\"$i.png\" Source=\"\$(var.StageDir)/icons/$i.png\" KeyPath=\"yes\"/>"
			echo "</Component>"
		done
		echo "</DirectoryRef>"
		echo "<ComponentGroup Id=\"CG_${place}Icons\">"
		for i in $icons; do echo "<ComponentRef Id=\"C_${place}Icon_$i\"/>"; done
		echo "</ComponentGroup>"
	done
	echo '</Fragment></Wix>'
} >"$work/icons.wxs"

# A new ProductCode for each version, the same one when a version is
# rebuilt (a name-based UUID of the version under the UpgradeCode).
product_code=$(python3 -c '
import sys, uuid
ns = uuid.UUID("6B0E4D8A-3C47-4F5B-9A1E-2D7C8E5F9A31")
print("{%s}" % str(uuid.uuid5(ns, "procnet-live/" + sys.argv[1])).upper())' "$version")

# --- build -----------------------------------------------------------------------
# wixl 0.101 takes only relative Source paths (searched from the cwd).
rm -f "$out"
(cd "$work" && wixl -a x64 -o "$out" \
    -D Version="$version" -D ProductCode="$product_code" \
    -D StageDir=stage -D WebDir=stage/web -D Win64=yes \
    -D Port="$port" -D WebdArgs="${webd_args:+ $webd_args}" \
    "$here/procnet.wxs" web.wxs icons.wxs) >"$work/wixl.log" 2>&1 || {
	cat "$work/wixl.log" >&2
	die "wixl failed"
}
# wixl warns about attributes it ignores; show them, they may matter.
grep -v '^$' "$work/wixl.log" >&2 || true

# --- what wixl cannot say -------------------------------------------------------
# 256 = 64-bit, 16 = Permanent, 128 = NeverOverwrite.
msibuild "$out" -q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Directory_\` = 'DATADIR'"
msibuild "$out" -q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Directory_\` = 'DATAICONSDIR'"
msibuild "$out" -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 1410 WHERE \`Action\` = 'RemoveExistingProducts'"
# wixl's sort can put custom actions after InstallFinalize whatever
# After= says: quoting goes between InstallServices and StartServices,
# waiting for stopped services between StopServices and DeleteServices.
msibuild "$out" -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 5850 WHERE \`Action\` = 'CA_QuoteServicePaths'"
msibuild "$out" -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 1950 WHERE \`Action\` = 'CA_WaitServicesStopped'"
# ProgramData's DACL right after the files are in place.
msibuild "$out" -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 4010 WHERE \`Action\` = 'CA_ProtectData'"

# Recovery, as "procnet-* install" sets it (common/service.h): restart
# after 5 s, 30 s, 60 s, failure count reset after a day, also when a
# service stops with an error status (the failure-actions flag); webd's
# service SID unrestricted, so the pipe's DACL can name NT SERVICE\procnetwebd.
# Windows Installer 5 runs these in MsiConfigureServices (after
# InstallServices).  Event 1 = on install (a reinstall is 4; an upgrade
# installs afresh).
msibuild "$out" -q "CREATE TABLE \`MsiServiceConfig\` (\`MsiServiceConfig\` CHAR(72) NOT NULL, \`Name\` CHAR(255) NOT NULL, \`Event\` SHORT NOT NULL, \`ConfigType\` LONG NOT NULL, \`Argument\` CHAR(0), \`Component_\` CHAR(72) NOT NULL PRIMARY KEY \`MsiServiceConfig\`)"
msibuild "$out" -q "CREATE TABLE \`MsiServiceConfigFailureActions\` (\`MsiServiceConfigFailureActions\` CHAR(72) NOT NULL, \`Name\` CHAR(255) NOT NULL, \`Event\` SHORT NOT NULL, \`ResetPeriod\` LONG, \`RebootMessage\` CHAR(0), \`Command\` CHAR(0), \`Actions\` CHAR(0), \`DelayActions\` CHAR(0), \`Component_\` CHAR(72) NOT NULL PRIMARY KEY \`MsiServiceConfigFailureActions\`)"
# ConfigType 4 = SERVICE_CONFIG_FAILURE_ACTIONS_FLAG (1 = on),
# 5 = SERVICE_CONFIG_SERVICE_SID_INFO (1 = SERVICE_SID_TYPE_UNRESTRICTED).
msibuild "$out" -q "INSERT INTO \`MsiServiceConfig\` (\`MsiServiceConfig\`, \`Name\`, \`Event\`, \`ConfigType\`, \`Argument\`, \`Component_\`) VALUES ('MSC_CollectorFlag', 'procnetcollector', 1, 4, '1', 'C_Collector')"
msibuild "$out" -q "INSERT INTO \`MsiServiceConfig\` (\`MsiServiceConfig\`, \`Name\`, \`Event\`, \`ConfigType\`, \`Argument\`, \`Component_\`) VALUES ('MSC_WebdFlag', 'procnetwebd', 1, 4, '1', 'C_Webd')"
msibuild "$out" -q "INSERT INTO \`MsiServiceConfig\` (\`MsiServiceConfig\`, \`Name\`, \`Event\`, \`ConfigType\`, \`Argument\`, \`Component_\`) VALUES ('MSC_WebdSid', 'procnetwebd', 1, 5, '1', 'C_Webd')"
# Actions: 1 = SC_ACTION_RESTART, delays in ms, separated by [~].
for svc in Collector:procnetcollector Webd:procnetwebd; do
	msibuild "$out" -q "INSERT INTO \`MsiServiceConfigFailureActions\` (\`MsiServiceConfigFailureActions\`, \`Name\`, \`Event\`, \`ResetPeriod\`, \`Actions\`, \`DelayActions\`, \`Component_\`) VALUES ('MSFA_${svc%%:*}', '${svc#*:}', 1, 86400, '1[~]1[~]1', '5000[~]30000[~]60000', 'C_${svc%%:*}')"
done
msibuild "$out" -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('MsiConfigureServices', 5870)"
# The Event Log sources' message file as REG_EXPAND_SZ ("#%"), which is
# what the Event Log reads; wixl writes type="expandable" as a plain
# string, and a trailing backslash on the key.
for svc in Collector:procnet-collector Webd:procnet-webd; do
	msibuild "$out" -q "UPDATE \`Registry\` SET \`Value\` = '#%[#F_${svc%%:*}]', \`Key\` = 'SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\${svc#*:}' WHERE \`Component_\` = 'C_${svc%%:*}' AND \`Name\` = 'EventMessageFile'"
	msibuild "$out" -q "UPDATE \`Registry\` SET \`Key\` = 'SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\${svc#*:}' WHERE \`Component_\` = 'C_${svc%%:*}' AND \`Name\` = 'TypesSupported'"
done

# --- check the tables that matter -------------------------------------------------
msiinfo export "$out" Component | tr -d '\r' >"$work/Component.idt"
n_user=$(awk -F '\t' '$3 == "DATADIR" || $3 == "DATAICONSDIR"' "$work/Component.idt" | wc -l)
n_kept=$(awk -F '\t' '($3 == "DATADIR" || $3 == "DATAICONSDIR") && $4 == 400' "$work/Component.idt" | wc -l)
[ "$n_user" -eq 9 ] && [ "$n_kept" -eq 9 ] ||
    die "ProgramData components: $n_kept of $n_user marked Permanent+NeverOverwrite (want 9 of 9)"
msiinfo export "$out" InstallExecuteSequence | tr -d '\r' >"$work/InstallExecuteSequence.idt"
seq_of() { awk -F '\t' -v a="$1" '$1 == a { print $3 }' "$work/InstallExecuteSequence.idt"; }
[ "$(seq_of RemoveExistingProducts)" = 1410 ] && [ "$(seq_of InstallValidate)" = 1400 ] &&
    [ "$(seq_of InstallInitialize)" = 1500 ] ||
    die "RemoveExistingProducts not between InstallValidate and InstallInitialize"
[ "$(seq_of InstallServices)" -lt 5850 ] && [ "$(seq_of StartServices)" -gt 5850 ] &&
    [ "$(seq_of CA_QuoteServicePaths)" = 5850 ] ||
    die "CA_QuoteServicePaths not between InstallServices and StartServices"
[ "$(seq_of StopServices)" -lt 1950 ] && [ "$(seq_of DeleteServices)" -gt 1950 ] &&
    [ "$(seq_of CA_WaitServicesStopped)" = 1950 ] ||
    die "CA_WaitServicesStopped not between StopServices and DeleteServices"
[ "$(seq_of InstallFiles)" -lt 4010 ] && [ "$(seq_of CA_ProtectData)" = 4010 ] &&
    [ "$(seq_of StartServices)" -gt 4010 ] ||
    die "CA_ProtectData not between InstallFiles and StartServices"
msiinfo export "$out" ServiceInstall | tr -d '\r' >"$work/ServiceInstall.idt"
grep -q "^SI_Collector	procnetcollector	Procnet Live Collector	16	2	.*LocalSystem" "$work/ServiceInstall.idt" ||
    die "collector ServiceInstall row is not as intended"
grep -q "^SI_Webd	procnetwebd	.*	16	2	.*NT AUTHORITY\\\\LocalService" "$work/ServiceInstall.idt" ||
    die "webd ServiceInstall row is not as intended"
msiinfo export "$out" CustomAction | tr -d '\r' >"$work/CustomAction.idt"
grep -q "^CA_QuoteServicePaths	3090	F_SvcPath	quote " "$work/CustomAction.idt" ||
    die "the service-path quoting custom action is missing"
# 3090 = exe from an installed file (18) + deferred (1024) + no
# impersonation (2048); 3154 the same + continue on error (64).
grep -q "^CA_WaitServicesStopped	3154	F_SvcPath	wait-stopped " "$work/CustomAction.idt" ||
    die "the wait-for-stopped-services custom action is missing"

msiinfo export "$out" MsiServiceConfigFailureActions | tr -d '\r' >"$work/MsiServiceConfigFailureActions.idt"
[ "$(grep -c '	1	86400	.*1\[~\]1\[~\]1	5000\[~\]30000\[~\]60000	C_' "$work/MsiServiceConfigFailureActions.idt")" = 2 ] ||
    die "MsiServiceConfigFailureActions rows are not as intended"
[ "$(seq_of InstallServices)" -lt "$(seq_of MsiConfigureServices)" ] &&
    [ "$(seq_of MsiConfigureServices)" -lt "$(seq_of StartServices)" ] ||
    die "MsiConfigureServices not between InstallServices and StartServices"

echo "build-msi: $out (version $version, ProductCode $product_code, port $port)"
