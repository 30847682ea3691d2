#!/bin/sh
# beamrun: build each fuzz target with clang's libFuzzer and run it for
# SECONDS (60 by default). "sh fuzz/run.sh [SECONDS [TARGET...]]".
# Prints a line per target; exits 1 when one crashed, naming the input.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=fuzz/targets.sh
. fuzz/targets.sh

OUT=build/fuzz
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined"
CFLAGS="$CFLAGS -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-$FUZZ_TARGETS}
case $secs in
'' | *[!0-9]*)
	echo "fuzz: SECONDS must be a whole number, not \"$secs\"" >&2
	exit 2
	;;
esac
for t in $targets; do
	case " $FUZZ_TARGETS " in
	*" $t "*) ;;
	*)
		echo "fuzz: no target $t ($FUZZ_TARGETS)" >&2
		exit 2
		;;
	esac
done
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang not found; apt-get install clang" >&2
	exit 2
fi
mkdir -p "$OUT/crash"
# libFuzzer comes with libclang-rt-dev, which clang only recommends.
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)
{ (void)d; (void)n; return 0; }' >"$OUT/probe.c"
if ! clang -fsanitize=fuzzer -o "$OUT/probe" "$OUT/probe.c" 2>/dev/null; then
	echo "fuzz: clang cannot link libFuzzer; apt-get install libclang-rt-dev" >&2
	exit 2
fi

crashed=
for t in $targets; do
	# shellcheck disable=SC2046,SC2086
	clang $CFLAGS $FUZZ_CFLAGS -o "$OUT/$t" "fuzz/$t.c" $(fuzz_sources "$t")
	# New inputs go to the first directory; the seeds stay as they are.
	mkdir -p "$OUT/corpus/$t"
	log=$OUT/$t.log
	start=$(date +%s)
	rc=0
	"$OUT/$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$OUT/crash/$t-" "$OUT/corpus/$t" \
	    "fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	[ -n "$execs" ] ||
	    execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $t: $took s, ${execs:-?} executions, no crash"
		continue
	fi
	input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
	    tail -n 1)
	echo "fuzz: $t: $took s, ${execs:-?} executions, CRASHED" \
	    "(exit $rc) on ${input:-an input not written out}; see $log"
	[ -z "$input" ] || echo "fuzz: $t: again: $OUT/$t $input"
	crashed="$crashed $t"
done
if [ -n "$crashed" ]; then
	echo "fuzz: crashed:$crashed" >&2
	exit 1
fi
