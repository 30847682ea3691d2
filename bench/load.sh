#!/bin/bash
# Load on one beamrun guest: many concurrent TCP connections to
# examples/echoserver through the -p forward, every echo checked byte
# for byte, and the guest's memory sampled over the run (the echoserver
# is baked with tests/apps/loadecho, which prints it on the console).
#
#   bash bench/load.sh                1000 connections for 60 s
#   bash bench/load.sh --quick        100 connections for 5 s
#   bash bench/load.sh -c N -t S -m MIB
#
# The connections open one after the other (each makes a round trip
# before the next connects; the guest kernel has no SYN cookies), then
# all make 1 KiB round trips for S seconds. Guest RAM: -m, else
# BENCH_MEM, else 256 MiB (as bench/run.sh). Writes build/bench/load.md.
# Exits non-zero on any echo error, when the guest stops answering, or
# (except in a quick run) when its memory grows by more than 10% (and
# 4 MiB) from mid-load to the end of the load.
#
# XXX: the memory check takes the growth before mid-load for the clients
# warming up (about 20-30 s for 1000 on a busy 2-core host); on a host so
# loaded that the warm-up lasts past mid-load it reports growth that is
# not a leak. Pass a longer -t there.
# TODO: the connections open one by one; a burst of simultaneous
# connects (which the guest, without SYN cookies, may drop) is not
# measured.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

CONNS=1000 SECS=60 MEM=${BENCH_MEM:-256} MODE=full
while [ $# -gt 0 ]; do
	case $1 in
	--quick) CONNS=100 SECS=5 MODE=quick ;;
	-c) CONNS=${2:-}; shift ;;
	-t) SECS=${2:-}; shift ;;
	-m) MEM=${2:-}; shift ;;
	-h | --help) sed -n '2,/^set -u/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument '$1' (--quick, -c N, -t S, -m MIB)" >&2; exit 2 ;;
	esac
	shift
done
for v in "$CONNS" "$SECS" "$MEM"; do
	case $v in
	'' | *[!0-9]* | 0) echo "bench: -c, -t and -m take positive numbers, not '$v'" >&2; exit 2 ;;
	esac
done
CMDLINE="bash bench/load.sh -c $CONNS -t $SECS -m $MEM"

OUT=$ROOT/build/bench
W=$OUT/work-load
BEAMRUN=$ROOT/build/bin/beamrun
CLIENT=$OUT/echoclient
IMG=$OUT/loadecho.img
MD=$OUT/load.md
LOG=$W/console.log
export BEAMRUN_ACCEL=tcg
export BEAMRUN_CACHE_DIR=$OUT/cache
# A sample every 5 s, or ten over a short run.
PERIOD=$((SECS >= 50 ? 5 : SECS / 10 > 1 ? SECS / 10 : 1))

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }
. "$ROOT/tests/port.sh"

# --- what is needed ---------------------------------------------------------
[ -x "$BEAMRUN" ] && [ -s build/kernel/bzImage ] ||
	die "build/bin/beamrun or the kernel is missing: run 'make all'"
mkdir -p "$W"
rm -rf "${W:?}"/*
# Its guests are killed (-9) between boots, which leaves their QMP and
# stop-line sockets' directories: here, not in /tmp.
export TMPDIR=$OUT/tmp
mkdir -p "$TMPDIR"
rm -rf "$TMPDIR"/beamrun-*
if [ ! -x "$CLIENT" ] || [ bench/echoclient.c -nt "$CLIENT" ]; then
	gcc -O2 -Wall -pthread -o "$CLIENT" bench/echoclient.c ||
		die "cannot build the load client"
fi
# The client raises its own limit; qemu holds one host socket per
# connection too, and inherits this shell's.
want=$((CONNS + 256))
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt $want ]; then
	ulimit -Sn $want 2>/dev/null ||
		die "$CONNS connections need $want open files; the hard limit is $(ulimit -Hn)"
fi
mkdir -p "$W/app"
cp examples/echoserver/echoserver.erl tests/apps/loadecho/loadecho.erl "$W/app/"
"$BEAMRUN" bake -s loadecho "$W/app" -o "$IMG" >"$W/bake.log" 2>&1 ||
	die "beamrun bake failed: $(tail -3 "$W/bake.log")"

# --- the guest ------------------------------------------------------------------
VM_PID=
vm_stop() {
	[ -n "$VM_PID" ] || return 0
	kill -9 "$VM_PID" 2>/dev/null
	wait "$VM_PID" 2>/dev/null
	VM_PID=
}
trap vm_stop EXIT
trap 'exit 130' INT TERM

# samples: the guest's memory lines, "WALL total rss_kb used_kb procs ports".
samples() {
	tr -d '\r' <"$LOG" | sed -n 's/^\([0-9.]*\) loadecho: total=\([0-9]*\) rss_kb=\([0-9]*\) used_kb=\([0-9]*\) processes=\([0-9]*\) ports=\([0-9]*\)$/\1 \2 \3 \4 \5 \6/p'
}

PORT=$(free_port) || die "no free port"
say "booting: beamrun run -m $MEM -p $PORT:8080 loadecho.img $PERIOD"
"$BEAMRUN" run -m "$MEM" -p "$PORT:8080" "$IMG" "$PERIOD" \
	> >("$CLIENT" stamp >"$LOG") 2>&1 </dev/null &
VM_PID=$!
"$CLIENT" probe "$PORT" 180 "$VM_PID" >/dev/null 2>"$W/probe.log" ||
	die "the guest did not echo within 180 s: $(tail -3 "$LOG")"
# Two idle samples: the first comes as the app starts.
for _ in $(seq $((PERIOD * 10 + 100))); do
	[ "$(samples | wc -l)" -ge 2 ] && break
	sleep 0.1
done
[ "$(samples | wc -l)" -ge 2 ] || die "no memory lines on the console ($LOG)"

# --- the load ---------------------------------------------------------------------
say "load: $CONNS connections, then $SECS s of 1 KiB echoes"
"$CLIENT" load "$PORT" "$CONNS" "$SECS" >"$W/load.out" 2>"$W/load.err"
LOAD_RC=$?
RES=$(tail -1 "$W/load.out")
[ -n "$RES" ] || die "the load client printed nothing: $(cat "$W/load.err")"
declare -A L
for kv in $RES; do L[${kv%%=*}]=${kv#*=}; done
# Samples after the load, then the guest must still answer and stop.
sleep $((2 * PERIOD + 2))
"$CLIENT" probe "$PORT" 30 "$VM_PID" >/dev/null 2>>"$W/probe.log"
ALIVE=$?
HALT_AT=$EPOCHREALTIME
kill -INT "$VM_PID"
for _ in $(seq 600); do
	kill -0 "$VM_PID" 2>/dev/null || break
	sleep 0.1
done
wait "$VM_PID"
STOP_RC=$?
VM_PID=

# --- the figures ----------------------------------------------------------------
# Samples by phase: before the load, during its steady part (all
# connected) and after; start is the last idle one, mid the steady one
# nearest the middle, end the last steady one, after the last one
# before the guest was asked to stop (the connections have closed).
samples >"$W/samples.txt"
read -r START MID END AFTER N_STEADY GROWTH KGROWTH STABLE < <(awk \
	-v ramp="${L[ramp_end]:-0}" -v ramp_s="${L[ramp_s]:-0}" \
	-v stop="${L[stop]:-0}" -v halt="$HALT_AT" '
	{ t[NR] = $1; line[NR] = $2 " " $3 " " $4 " " $5 " " $6 }
	$1 < ramp - ramp_s { start = NR }
	$1 >= ramp && $1 <= stop { if (!first) first = NR; last = NR; n++ }
	$1 > stop && $1 < halt { after = NR }
	END {
		if (!first) { print "- - - - 0 0 0 no"; exit }
		mid = first; want = (ramp + stop) / 2
		for (i = first; i <= last; i++)
			if ((t[i] - want) ^ 2 < (t[mid] - want) ^ 2) mid = i
		# Heaps and buffers grow while the clients warm up; a leak
		# would go on growing in the second half: mid to end, VmRSS
		# and the kernel figure, KiB.
		split(line[mid], a); split(line[last], b)
		g = b[2] - a[2]; k = b[3] - a[3]
		stable = n >= 2 && (g <= 4096 || g <= a[2] / 10) &&
			(k <= 4096 || k <= a[3] / 10) ? "yes" : "no"
		printf "%d %d %d %d %d %d %d %s\n", start, mid, last, after, n, g, k, stable
	}' "$W/samples.txt")
# col N FIELD: a sample's field (1 total, 2 rss, 3 used, 4 procs, 5 ports).
col() {
	[ "$1" -gt 0 ] 2>/dev/null || { echo "-"; return; }
	awk -v n="$1" -v f="$2" 'NR == n {
		v = $(f + 1)
		if (f == 1) printf "%.1f", v / 1048576
		else if (f <= 3) printf "%.1f", v / 1024
		else print v }' "$W/samples.txt"
}
mib() { awk -v k="$1" 'BEGIN { printf "%+.1f", k / 1024 }'; }
ECHO_S=$(awk -v e="${L[roundtrips]}" -v s="$SECS" 'BEGIN { printf "%.0f", e / s }')
# A quick run (5 s) is too short to tell the clients' warm-up from a
# leak on a busy host, so there the memory figure is shown, not judged.
JUDGED=$STABLE
[ "$MODE" = quick ] && JUDGED=yes STABLE="$STABLE (not judged in a quick run)"
VERDICT=pass
[ "$LOAD_RC" = 0 ] && [ "${L[errors]}" = 0 ] && [ "$ALIVE" = 0 ] &&
	[ "$STOP_RC" = 0 ] && [ "$JUDGED" = yes ] || VERDICT=FAIL

{
	echo "# Load: $CONNS connections to the echoserver for $SECS s"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), $MODE mode"
	echo "- machine: $(uname -srm), $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- $(qemu-system-x86_64 --version | head -1), TCG, \`beamrun run -m $MEM -p PORT:8080\` (1 vCPU, user-mode network)"
	echo "- app: examples/echoserver with tests/apps/loadecho (memory every $PERIOD s)"
	echo "- load: bench/echoclient load: connections opened one by one (ramp), then each makes 1 KiB round trips, every byte checked, 10 s timeout"
	echo "- command: \`$CMDLINE\`"
	echo
	echo "| connections | seconds | ramp (s) | echoes | echoes/s | errors | idle connections | answers after | stops with 0 |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---|---|"
	echo "| $CONNS | $SECS | ${L[ramp_s]} | ${L[roundtrips]} | $ECHO_S | ${L[errors]} | ${L[idle]} | $([ "$ALIVE" = 0 ] && echo yes || echo NO) | $([ "$STOP_RC" = 0 ] && echo yes || echo "NO ($STOP_RC)") |"
	echo
	echo "Errors by kind: connect ${L[connect]}, write ${L[write]}, read timeout ${L[timeout]}, closed ${L[closed]}, wrong bytes ${L[wrong]}."
	echo
	echo "| guest memory (MiB) | start (idle) | mid-load | end of load | after |"
	echo "|---|---:|---:|---:|---:|"
	echo "| erlang:memory(total) | $(col "$START" 1) | $(col "$MID" 1) | $(col "$END" 1) | $(col "$AFTER" 1) |"
	echo "| beam.smp VmRSS | $(col "$START" 2) | $(col "$MID" 2) | $(col "$END" 2) | $(col "$AFTER" 2) |"
	echo "| kernel: MemTotal - MemAvailable | $(col "$START" 3) | $(col "$MID" 3) | $(col "$END" 3) | $(col "$AFTER" 3) |"
	echo "| Erlang processes (count) | $(col "$START" 4) | $(col "$MID" 4) | $(col "$END" 4) | $(col "$AFTER" 4) |"
	echo
	echo "Stable: $STABLE: from mid-load to the end of the load VmRSS changed by $(mib "$GROWTH") MiB and the kernel's figure by $(mib "$KGROWTH") MiB (at most +10% or +4 MiB each; $N_STEADY samples with all connections open; the growth before mid-load is the clients warming up). Verdict: $VERDICT."
} >"$MD"

echo "load: $CONNS connections, $SECS s (ramp ${L[ramp_s]} s), -m $MEM: ${L[roundtrips]} echoes ($ECHO_S/s), ${L[errors]} errors"
echo "guest VmRSS MiB: start $(col "$START" 2), mid $(col "$MID" 2), end $(col "$END" 2), after $(col "$AFTER" 2); stable: $STABLE ($(mib "$GROWTH") MiB mid to end)"
echo "command: $CMDLINE"
echo "written: ${MD#$ROOT/}: $VERDICT"
[ "$VERDICT" = pass ] || say "load: FAIL: load client rc $LOAD_RC, ${L[errors]:-?} errors, answers after: $ALIVE, stop status $STOP_RC, memory stable: $STABLE"
[ "$VERDICT" = pass ]
