#!/bin/bash
# SMP: the same parallel CPU-bound Erlang job (tests/apps/cpujob: 64
# processes computing fib(N)) in a guest with 1 and with 2 vCPUs, timed
# inside the guest; qemu's multi-threaded TCG runs one host thread per
# vCPU. Writes a markdown table to build/bench/smp.md.
#
#   bash bench/smp.sh           median of 3 runs each, fib(24)
#   bash bench/smp.sh --quick   one run each, fib(18): a smoke test
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

RUNS=3 FIB=24 MODE=full
case ${1:-} in
--quick) RUNS=1 FIB=18 MODE=quick ;;
"") ;;
-h | --help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) echo "smp: unknown argument '$1' (--quick, --help)" >&2; exit 2 ;;
esac

OUT=$ROOT/build/bench
BEAMRUN=$ROOT/build/bin/beamrun
export BEAMRUN_ACCEL=tcg BEAMRUN_CACHE_DIR=$OUT/cache
mkdir -p "$OUT"
"$BEAMRUN" bake "$ROOT/tests/apps/cpujob" -o "$OUT/cpujob.img" >/dev/null 2>&1 ||
	{ echo "smp: bake failed" >&2; exit 1; }

# job CPUS: the job's time in ms, one line per run.
job() {
	local i ms
	for i in $(seq 1 "$RUNS"); do
		ms=$("$BEAMRUN" run -c "$1" -m 256 "$OUT/cpujob.img" "$FIB" 2>/dev/null |
			tr -d '\r' | sed -n "s/^cpujob: $1 schedulers, \([0-9]*\) ms$/\1/p")
		[ -n "$ms" ] || { echo "smp: no result with $1 vCPU(s)" >&2; exit 1; }
		echo "$ms"
	done
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

one=$(job 1 | median) || exit 1
two=$(job 2 | median) || exit 1
speedup=$(awk "BEGIN { printf \"%.2f\", $one / $two }")
{
	echo "| vCPUs | schedulers | 64 x fib($FIB), ms (median of $RUNS) |"
	echo "|---:|---:|---:|"
	echo "| 1 | 1 | $one |"
	echo "| 2 | 2 | $two |"
	echo
	echo "Speed-up at 2 vCPUs: ${speedup}x ($MODE; \`bash bench/smp.sh${1:+ $1}\`," \
		"TCG, host: $(nproc) cores)."
} | tee "$OUT/smp.md"
