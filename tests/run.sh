#!/bin/sh
# Run beamrun's tests: unit (cmocka, no VM), init (the guest's PID 1
# under a fake PID 1, no VM), cli (bad input, no VM), boot (real guests
# under qemu TCG) and bench (the benchmark in its quick mode, so that it
# cannot rot; its figures are not checked). "tests/run.sh [SUITE]...".
# Each part's output is also kept in build/tests/logs/; the last lines
# printed name every part that failed and what it said, so that the
# tail of a CI log is enough to know what broke.
set -u
cd "$(dirname "$0")/.."

suites=${*:-unit init cli boot bench}
LOGS=build/tests/logs
mkdir -p "$LOGS"
failed=""
parts=""

# part NAME COMMAND...: run one part, its output on stdout and in its log.
# Its variables are its own (part_*): the suites' loops keep their rc.
part() {
	part_name=$1
	shift
	part_log="$LOGS/$(echo "$part_name" | tr '/ ' '__').log"
	{ "$@"; echo "rc=$?" >"$part_log.rc"; } 2>&1 | tee "$part_log"
	part_rc=$(sed 's/^rc=//' "$part_log.rc")
	rm -f "$part_log.rc"
	[ "$part_rc" = 0 ] || parts="$parts $part_name:$part_log"
	return "$part_rc"
}

for s in $suites; do
	echo "=== $s tests"
	case $s in
	unit) part unit sh tests/unit/build.sh ;;
	init) part init bash tests/init/run.sh ;;
	cli) part cli bash tests/cli/run.sh ;;
	boot)
		# run.sh first (the core), then each feature's own file.
		rc=0
		for f in tests/boot/run.sh $(ls tests/boot/*.sh | grep -v '/run.sh$'); do
			echo "--- $f"
			part "$f" bash "$f" || rc=1
		done
		[ $rc = 0 ] ;;
	bench)
		# Each benchmark in its quick mode, so that none can rot.
		rc=0
		for b in run load smp size; do
			part "bench/$b.sh" bash "bench/$b.sh" --quick || rc=1
		done
		[ $rc = 0 ] ;;
	*) echo "tests: unknown suite $s (unit, init, cli, boot, bench)" >&2; exit 2 ;;
	esac || failed="$failed $s"
done
if [ -n "$failed" ]; then
	for p in $parts; do
		echo "=== failed: ${p%%:*} (log: ${p#*:}); what it said:"
		grep -E '^not ok|^#   |^bench: .*(fail|not |no |cannot|missing|did|FAIL)|FAIL|rror' \
			"${p#*:}" | tail -8
	done
	echo "=== FAILED:$failed"
	exit 1
fi
echo "=== all test suites passed ($suites)"
