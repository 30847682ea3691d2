#!/bin/bash
# beamrun's boot test for what runs other programs (CASES:
# OSMON-AND-OSCMD-WITHOUT-SHELL): the guest has no /bin/sh, and OTP
# starts os:cmd/1's shell and os_mon's port programs (memsup, cpu_sup,
# disksup's df) through /bin/sh. tests/apps/osmon makes each call under
# a 10 s deadline and prints "osmon CALL RESULT MS"; the test reads the
# console.
set -u
. "$(dirname "$0")/../lib.sh"

W="$WORK/osmon"
rm -rf "$W"
mkdir -p "$W/osmon"
trap boot_cleanup EXIT
cp "$ROOT/tests/apps/osmon/osmon.erl" "$W/osmon/"

console() {
	tr -d '\r' <"$1" | grep -qE -- "$2"
}

# answered LOG CALL PATTERN: CALL's result matches PATTERN (from its
# start) and came within 5 s.
answered() {
	local ms
	ms=$(tr -d '\r' <"$1" | grep -E -- "^osmon $2 $3" |
		sed -n 's/.* \([0-9][0-9]*\)$/\1/p' | head -1)
	[ -n "$ms" ] && [ "$ms" -lt 5000 ]
}

# boot LOG ARGS...: boot and wait for the VM to end; RC its status.
boot() {
	local log=$1
	shift
	boot_bg "$log" run -m 128 "$@"
	wait_exit "$BG" 120
}

"$BEAMRUN" bake --list "$W/osmon" -o "$W/osmon.img" >"$W/bake.log" 2>&1
check "bake: os_mon goes in, found by the calls to it" \
	grep -q "application os_mon-" "$W/bake.log"

# --- os_mon as a temporary application (application:ensure_all_started) ----
L=$W/temporary.log
boot "$L" "$W/osmon.img"
check "temporary: the VM exits 0 within the bound" test "$RC" = 0
check "temporary: every call answered (no timeout)" bash -c \
	"tr -d '\r' <'$L' | grep -c '^osmon ' | grep -qx 11 &&
	 ! tr -d '\r' <'$L' | grep -q '^osmon [a-z_0-9]* timeout'"
# os:cmd/1 runs /bin/sh; the exec fails in erl_child_setup and the
# port ends at once: the result is empty, not an error.
check "os:cmd(\"true\") returns [] promptly" answered "$L" cmd_true '\[\] '
check "os:cmd(\"echo hi\") returns [] promptly" answered "$L" cmd_echo '\[\] '
check "os_mon starts" console "$L" '^osmon start \{ok,\[sasl,os_mon\]\} '
# memsup's port program is started through /bin/sh too: it never runs,
# memsup stops with port_died, so no memory data (from /proc or not).
check "memsup:get_system_memory_data() fails fast" \
	answered "$L" system_memory "\{'EXIT',"
check "memsup: no total_memory anywhere" bash -c \
	"! tr -d '\r' <'$L' | grep -q 'total_memory'"
check "memsup: the port program died (port_died)" console "$L" \
	"^osmon system_memory \{'EXIT',\{\{port_died,normal\},"
check "memsup:get_memory_data() fails fast" answered "$L" memory "\{'EXIT',"
# disksup runs df through /bin/sh when it starts and dies of it; a call
# that comes first gets its empty table, one that comes after an EXIT.
# Either way, at once and without a disk in it.
check "disksup:get_disk_data() fails fast, with no disk" \
	answered "$L" disk "(\[\] |\{'EXIT',)"
check "cpu_sup:util() fails fast" answered "$L" util "\{'EXIT',"
check "cpu_sup:avg1() fails fast" answered "$L" avg1 "\{'EXIT',"
check "os_mon_sup gives up (no endless restart loop)" console "$L" \
	"reason: reached_max_restart_intensity"
check "temporary: os_mon has stopped, the node is up" bash -c \
	"tr -d '\r' <'$L' | grep -qx 'osmon running false' &&
	 tr -d '\r' <'$L' | grep -qx 'osmon alive true'"

# --- os_mon as a permanent application, as in a release ---------------------
L=$W/permanent.log
boot "$L" "$W/osmon.img" permanent
check "permanent: os_mon's exit takes the node down, status 1" \
	test "$RC" = 1
check "permanent: the application controller says why" console "$L" \
	'^Kernel pid terminated \(application_controller\) \(\{application_terminated,os_mon,shutdown\}\)'
check "permanent: os:cmd still answered first" \
	answered "$L" cmd_true '\[\] '

# --- the workaround: os_mon without its three servers -----------------------
"$BEAMRUN" bake --erl-args '-os_mon start_memsup false
	-os_mon start_cpu_sup false -os_mon start_disksup false' \
	"$W/osmon" -o "$W/off.img" >"$W/bake-off.log" 2>&1
check "bake --erl-args: os_mon's servers off" test -s "$W/off.img"
L=$W/off.log
boot "$L" "$W/off.img" permanent
check "servers off: a permanent os_mon, the VM exits 0" test "$RC" = 0
check "servers off: memsup's stub answers [] and warns" bash -c \
	"tr -d '\r' <'$L' | grep -qE '^osmon system_memory \[\] [0-9]+$' &&
	 tr -d '\r' <'$L' | grep -q '^OS_MON (memsup) called by .*unavailable'"
check "servers off: get_memory_data() is {0,0,{Pid,0}}" console "$L" \
	'^osmon memory \{0,0,\{<[0-9.]+>,0\}\} [0-9]+$'
check "servers off: get_disk_data() is [{\"none\",0,0}]" console "$L" \
	'^osmon disk \[\{"none",0,0\}\] [0-9]+$'
check "servers off: cpu_sup's util() and avg1() are 0" bash -c \
	"tr -d '\r' <'$L' | grep -qE '^osmon util 0 [0-9]+$' &&
	 tr -d '\r' <'$L' | grep -qE '^osmon avg1 0 [0-9]+$'"
check "servers off: os_mon stays, no restarts, the node is up" bash -c \
	"tr -d '\r' <'$L' | grep -qx 'osmon running true' &&
	 tr -d '\r' <'$L' | grep -qx 'osmon same_servers true' &&
	 tr -d '\r' <'$L' | grep -qx 'osmon alive true'"
check "servers off: no crash report" bash -c \
	"! tr -d '\r' <'$L' | grep -q 'CRASH REPORT'"

finish
