#!/bin/sh
# Run beamrun's tests: unit (cmocka, no VM), init (the guest's PID 1
# under a fake PID 1, no VM), cli (bad input, no VM), boot (real guests
# under qemu TCG) and bench (the benchmark in its quick mode, so that it
# cannot rot; its figures are not checked). "tests/run.sh [SUITE]...".
set -u
cd "$(dirname "$0")/.."

suites=${*:-unit init cli boot bench}
failed=""
for s in $suites; do
	echo "=== $s tests"
	case $s in
	unit) sh tests/unit/build.sh ;;
	init) bash tests/init/run.sh ;;
	cli) bash tests/cli/run.sh ;;
	boot)
		# run.sh first (the core), then each feature's own file.
		rc=0
		for f in tests/boot/run.sh $(ls tests/boot/*.sh | grep -v '/run.sh$'); do
			echo "--- $f"
			bash "$f" || rc=1
		done
		[ $rc = 0 ] ;;
	bench)
		# Each benchmark in its quick mode, so that none can rot.
		rc=0
		for b in run load smp size; do
			bash "bench/$b.sh" --quick || rc=1
		done
		[ $rc = 0 ] ;;
	*) echo "tests: unknown suite $s (unit, init, cli, boot, bench)" >&2; exit 2 ;;
	esac || failed="$failed $s"
done
if [ -n "$failed" ]; then
	echo "=== FAILED:$failed"
	exit 1
fi
echo "=== all test suites passed ($suites)"
