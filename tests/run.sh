#!/bin/sh
# Run beamrun's tests: unit (cmocka, no VM), init (the guest's PID 1
# under a fake PID 1, no VM), cli (bad input, no VM) and boot (real
# guests under qemu TCG). "tests/run.sh [unit|init|cli|boot]...".
set -u
cd "$(dirname "$0")/.."

suites=${*:-unit init cli boot}
failed=""
for s in $suites; do
	echo "=== $s tests"
	case $s in
	unit) sh tests/unit/build.sh ;;
	init) bash tests/init/run.sh ;;
	cli) bash tests/cli/run.sh ;;
	boot) bash tests/boot/run.sh ;;
	*) echo "tests: unknown suite $s (unit, init, cli, boot)" >&2; exit 2 ;;
	esac || failed="$failed $s"
done
if [ -n "$failed" ]; then
	echo "=== FAILED:$failed"
	exit 1
fi
echo "=== all test suites passed ($suites)"
