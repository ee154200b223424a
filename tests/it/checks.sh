# Counting checks for the shell integration tests (it_units.sh, it_msi.sh):
# source it, call check/ok/bad, end with finish (exit 0 only when none
# failed).
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
