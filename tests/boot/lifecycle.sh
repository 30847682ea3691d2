#!/bin/bash
# beamrun's lifecycle boot tests: how a guest's Erlang VM stops (gracefully,
# by halt, by a crash, past its deadline) and that its PID 1 reaps orphans.
# Real guests under qemu (TCG), checked by console markers, beamrun's exit
# status and, for crash dumps, the volume's contents on the host.
set -u
. "$(dirname "$0")/../lib.sh"

W="$WORK/lifecycle"
rm -rf "$W"
mkdir -p "$W"
trap boot_cleanup EXIT

# console LOG PATTERN: LOG has a line matching PATTERN (ERE); the guest's
# console ends its lines with \r\n.
console() {
	tr -d '\r' <"$1" | grep -qE -- "$2"
}

# line_no LOG PATTERN: the number of the first line matching PATTERN.
line_no() {
	tr -d '\r' <"$1" | grep -nE -- "$2" | head -1 | cut -d: -f1
}

now_ms() { date +%s%3N; }

"$BEAMRUN" bake "$ROOT/tests/apps/lifecycle" -o "$W/life.img" \
	>"$W/bake.log" 2>&1
check "bake: tests/apps/lifecycle (an application and its callback)" \
	test -s "$W/life.img"

# --- graceful stop: Ctrl-C runs the application's prep_stop/1 and stop/1 --
for sig in INT TERM; do
	boot_bg "$W/stop-$sig.log" run "$W/life.img"
	pid=$BG
	if wait_for "$W/stop-$sig.log" "^lifecycle: started" 90; then
		kill -"$sig" "$pid"
		wait_exit "$pid" 60
	else
		kill -9 "$pid"
		RC="never started"
	fi
	log=$W/stop-$sig.log
	check "stop (SIG$sig): beamrun exits 0" test "$RC" = 0
	check "stop (SIG$sig): prep_stop/1 ran" console "$log" \
		"^lifecycle: prep_stop$"
	check "stop (SIG$sig): stop/1 ran" console "$log" "^lifecycle: stop$"
	prep=$(line_no "$log" "^lifecycle: prep_stop$")
	stop=$(line_no "$log" "^lifecycle: stop$")
	check "stop (SIG$sig): prep_stop/1 came before stop/1" \
		test "${prep:-0}" -gt 0 -a "${prep:-0}" -lt "${stop:-0}"
done

check "stop: without ACPI, the request came on the stop line" \
	console "$W/stop-INT.log" "stop requested \(the host's stop line\)"
check "stop: the guest booted without ACPI" \
	bash -c "'$BEAMRUN' run --dry-run '$W/life.img' | grep -q ' acpi=off '"

# --- an image baked before the stop line keeps ACPI's power button ----------
# Its header lacks "stop_line", as every image's did; its init would
# refuse the configuration's "stop" key. Same length: the header stays.
cp "$W/life.img" "$W/old.img"
perl -pi -e 's/"stop_line"/"stop_lin_"/' "$W/old.img"
check "old image: booted with ACPI, no stop line" \
	bash -c "'$BEAMRUN' run --dry-run '$W/old.img' |
		grep -v -e acpi=off -e stop0 -e '\"stop\"' | grep -q microvm"
boot_bg "$W/stop-old.log" run "$W/old.img"
if wait_for "$W/stop-old.log" "^lifecycle: started" 90; then
	kill -INT "$BG"
	wait_exit "$BG" 60
else
	kill -9 "$BG"
	RC="never started"
fi
check "old image: ^C still stops it (beamrun exits 0)" test "$RC" = 0
check "old image: by the power button" \
	console "$W/stop-old.log" "stop requested \(power button\)"
check "old image: stop/1 ran" console "$W/stop-old.log" "^lifecycle: stop$"

# --- halt(5) gives 5 ---------------------------------------------------------
boot_bg "$W/halt5.log" run "$W/life.img" halt 5
wait_exit "$BG" 90
check "halt(5): beamrun exits 5" test "$RC" = 5

# --- a crash without a writable volume: the slogan, no dump in RAM -----------
boot_bg "$W/crash.log" run "$W/life.img" crash
wait_exit "$BG" 90
check "crash: beamrun exits 1" test "$RC" = 1
check "crash: the slogan is on the console" \
	console "$W/crash.log" "^lifecycle crash slogan$"
check "crash: without a writable volume no dump is written" \
	bash -c "! grep -q 'Crash dump is being written' '$W/crash.log'"

# --- a crash with a writable volume: the dump lands on it (CRASHDUMP-READONLY)
"$BEAMRUN" volume create "$W/data.img" 16M >/dev/null 2>&1
boot_bg "$W/crash-vol.log" run -b "$W/data.img,/data" "$W/life.img" crash
wait_exit "$BG" 90
check "crash, volume: beamrun exits 1" test "$RC" = 1
check "crash, volume: the slogan is on the console" \
	console "$W/crash-vol.log" "^lifecycle crash slogan$"
check "crash, volume: beam writes its dump to /data/erl_crash.dump" \
	console "$W/crash-vol.log" \
	"^Crash dump is being written to: /data/erl_crash.dump\.\.\.done"
debugfs -R 'ls -l /' "$W/data.img" >"$W/data.ls" 2>&1
check "crash, volume: erl_crash.dump is on the volume after the VM is gone" \
	grep -qE ' erl_crash\.dump$' "$W/data.ls"
debugfs -R 'cat /erl_crash.dump' "$W/data.img" 2>/dev/null |
	head -20 >"$W/data.dump"
check "crash, volume: the dump carries the slogan" \
	grep -q '^Slogan: lifecycle crash slogan' "$W/data.dump"

# The user's ERL_CRASH_DUMP (-e) wins over the init's choice.
boot_bg "$W/crash-user.log" run -b "$W/data.img,/data" \
	-e ERL_CRASH_DUMP=/data/mine.dump "$W/life.img" crash
wait_exit "$BG" 90
check "crash, -e ERL_CRASH_DUMP: beamrun exits 1" test "$RC" = 1
check "crash, -e ERL_CRASH_DUMP: the dump goes where the user said" \
	bash -c "debugfs -R 'ls -l /' '$W/data.img' 2>/dev/null |
		grep -qE ' mine\.dump$'"

# --- 500 orphaned grandchildren are all reaped (PID1-REAP-ZOMBIES) ----------
mkdir -p "$W/orphans"
if gcc -static -O2 -o "$W/orphans/orphans" \
	"$ROOT/tests/apps/orphans/orphans.c" 2>"$W/orphans.cc.log" &&
   "$BEAMRUN" volume iso "$W/orphans" "$W/orphans.iso" >/dev/null 2>&1; then
	ok "orphans: the static helper is on an ISO volume"
else
	not_ok "orphans: the static helper is on an ISO volume" \
		"$(head -3 "$W/orphans.cc.log")"
fi
boot_bg "$W/orphans.log" run -b "$W/orphans.iso,/mnt" "$W/life.img" \
	orphans /mnt/orphans
wait_exit "$BG" 180
check "orphans: beamrun exits 0" test "$RC" = 0
check "orphans: 500 grandchildren were orphaned to PID 1" console \
	"$W/orphans.log" "^lifecycle: helper: orphans 500 reparented-to-pid1 500$"
check "orphans: no zombie is left" console "$W/orphans.log" \
	"^lifecycle: zombies first [0-9]+ max [0-9]+ left 0$"

# --- a stop that hangs: SIGKILL at the deadline, 128+9 -----------------------
boot_bg "$W/hang.log" run --stop-timeout 2 "$W/life.img" hang
pid=$BG
elapsed=
if wait_for "$W/hang.log" "^lifecycle: started" 90; then
	t0=$(now_ms)
	kill -INT "$pid"
	wait_exit "$pid" 60
	elapsed=$(($(now_ms) - t0))
else
	kill -9 "$pid"
	RC="never started"
fi
check "hang: beamrun exits 137 (the Erlang VM was killed by SIGKILL)" \
	test "$RC" = 137
check "hang: the application's stop began and hung" \
	console "$W/hang.log" "^lifecycle: prep_stop hangs$"
check "hang: the init says it forced the stop" console "$W/hang.log" \
	"^beamrun-init: the Erlang VM did not stop within 2s: SIGKILL$"
# The deadline (2 s) plus the power button's way in and the power-off;
# beamrun itself would end qemu after 2 + 10 s (status 124).
check "hang: beamrun is done within 10 s of Ctrl-C (took ${elapsed:-?} ms)" \
	test "${elapsed:-99999}" -le 10000

finish
