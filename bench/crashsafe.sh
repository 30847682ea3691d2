#!/bin/bash
# Crash consistency, long run: tests/boot/crashsafe.sh with many kills
# (qemu SIGKILLed at random moments while tests/apps/ledger appends and
# acknowledges synced records on an ext4 volume). Prints a summary and
# writes it as markdown to build/bench/crashsafe.md.
#
#   bash bench/crashsafe.sh [KILLS]     (50 by default)
#
# Exits non-zero when an acknowledged record was lost or a check failed.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

KILLS=${1:-50}
case $KILLS in
'' | *[!0-9]* | 0) echo "bench: KILLS must be a positive number, not '$KILLS'" >&2; exit 2 ;;
esac
OUT=$ROOT/build/bench
MD=$OUT/crashsafe.md
CMDLINE="bash bench/crashsafe.sh $KILLS"
mkdir -p "$OUT"
[ -x build/bin/beamrun ] && [ -s build/kernel/bzImage ] || {
	echo "bench: build/bin/beamrun or the kernel is missing: run 'make all'" >&2
	exit 1
}

T0=$EPOCHREALTIME
WORK=$OUT/work-crashsafe bash tests/boot/crashsafe.sh "$KILLS" |
	tee "$OUT/crashsafe.tap"
RC=${PIPESTATUS[0]}
SECS=$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# "# crashsafe: kills=K boot_kills=B acked=A lost=L ..." into F[key].
declare -A F
for kv in $(sed -n 's/^# crashsafe: //p' "$OUT/crashsafe.tap"); do
	F[${kv%%=*}]=${kv#*=}
done
if [ -z "${F[lost]:-}" ]; then
	echo "bench: crashsafe.sh printed no summary (status $RC)" >&2
	exit 1
fi
VERDICT=pass
[ "$RC" = 0 ] && [ "${F[lost]}" = 0 ] || VERDICT=FAIL

{
	echo "# Crash consistency: qemu SIGKILLed under an appending ledger"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), $SECS s"
	echo "- machine: $(uname -srm), $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- $(qemu-system-x86_64 --version | head -1), TCG, beamrun's defaults (-m 128), ext4 volume of 32 MiB"
	echo "- app: tests/apps/ledger, one file:datasync/1 per record before its ack"
	echo "- kills: while appending, 0-3 s after the host asked for records; every fifth during the boot"
	echo "- command: \`$CMDLINE\`"
	echo
	echo "| kills | during boot | records acked | records lost | torn tails cut | synced, not acked, kept | records at the end | checks |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---|"
	echo "| ${F[kills]} | ${F[boot_kills]} | ${F[acked]} | ${F[lost]} | ${F[torn_tails]} | ${F[unacked_kept]} | ${F[records]} | $VERDICT ($(grep -c '^ok' "$OUT/crashsafe.tap") ok, ${F[failed]} failed) |"
	echo
	if [ "${F[boot_kills]}" -gt 0 ]; then
		echo "Kills during the boot, by the last step the guest had printed: $(sed -n 's/.*(during boot, after: \(.*\)): .*/\1/p' "$OUT/crashsafe.tap" |
			sed 's/exec .*/exec beam.smp/' | sort | uniq -c |
			awk '{ n = $1; $1 = ""; printf "%s%s %s", sep, substr($0, 2), n; sep = ", " }')."
		echo
	fi
	if grep -q '^ok .* control: acks before the sync lose records' "$OUT/crashsafe.tap"; then
		echo "Control: the same ledger acknowledging before its sync, killed after ${F[control_acked]} acks, came back without them: the check does see a loss."
	else
		echo "Control FAILED: the ledger acknowledging before its sync lost nothing, so this run could not have seen a loss."
	fi
} >"$MD"

echo
echo "crashsafe: kills ${F[kills]} (${F[boot_kills]} during boot), records acked ${F[acked]}, records lost ${F[lost]}, torn tails cut ${F[torn_tails]}, $SECS s: $VERDICT"
echo "command: $CMDLINE"
echo "written: ${MD#$ROOT/}"
[ "$VERDICT" = pass ]
