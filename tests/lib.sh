# Shared helpers for beamrun's shell tests: TAP output and boot helpers.
# Sourced by tests/cli/run.sh and tests/boot/*.sh (bash).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BEAMRUN=${BEAMRUN:-$ROOT/build/bin/beamrun}
WORK=${WORK:-$ROOT/build/tests/work}
# Guests here hang under KVM (nested virtualisation): force TCG.
export BEAMRUN_ACCEL=tcg
export BEAMRUN_CACHE_DIR="$WORK/cache"
# Detached instances of the tests live apart from the user's own.
export BEAMRUN_STATE_DIR="$WORK/state"
# A beamrun killed by a test leaves its QMP socket's directory: here,
# not in /tmp.
export TMPDIR="$WORK/tmp"
mkdir -p "$WORK" "$TMPDIR"

T_N=0
T_FAIL=0

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
not_ok() {
	T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $1"
	shift
	for l in "$@"; do echo "#   $l"; done
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# expect_fail NAME WANT_RC PATTERN COMMAND...: COMMAND must exit WANT_RC
# (or any non-zero with WANT_RC=nz), print exactly one stderr line that
# starts with "beamrun:" and matches PATTERN.
expect_fail() {
	local name=$1 want=$2 pat=$3; shift 3
	local err="$WORK/stderr.$$" rc=0
	"$@" >/dev/null 2>"$err" || rc=$?
	local lines; lines=$(wc -l <"$err")
	if { [ "$want" = nz ] && [ $rc -ne 0 ]; } || [ "$rc" = "$want" ]; then
		if [ "$lines" -eq 1 ] && grep -q "^beamrun: " "$err" &&
		   grep -qE -- "$pat" "$err"; then
			ok "$name"
		else
			not_ok "$name" "stderr ($lines lines) does not match" \
				"/$pat/: $(head -c 300 "$err")"
		fi
	else
		not_ok "$name" "exit $rc, wanted $want" "$(head -c 300 "$err")"
	fi
	rm -f "$err"
}

# wait_for FILE PATTERN SECONDS: until FILE has a line matching PATTERN.
wait_for() {
	local i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# echo_roundtrip PORT TEXT: send TEXT to 127.0.0.1:PORT, print the reply.
echo_roundtrip() {
	local reply
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf '%s\n' "$2" >&3
	IFS= read -r -t 10 reply <&3
	exec 3<&- 3>&-
	printf '%s\n' "$reply"
}

# boot_bg LOG ARGS...: start beamrun in the background, output to LOG;
# its PID in BG. boot_cleanup (for an EXIT trap) kills what is left.
BOOT_PIDS=()
boot_bg() {
	local log=$1; shift
	"$BEAMRUN" "$@" >"$log" 2>&1 &
	BG=$!
	BOOT_PIDS+=("$BG")
}
boot_cleanup() {
	local p
	for p in "${BOOT_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	return 0
}

# wait_exit PID SECONDS: wait for a background beamrun; its status in RC,
# or "hung" (then it is killed).
wait_exit() {
	local i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1" 2>/dev/null
		RC=hung
		return
	fi
	wait "$1"
	RC=$?
}

# qemu_of PID SECONDS: print the pid of the qemu that the foreground
# beamrun PID started (its child, once it has exec'd qemu).
qemu_of() {
	local i=0 q
	while [ $i -lt $(($2 * 10)) ]; do
		for q in $(pgrep -P "$1"); do
			case $(cat "/proc/$q/comm" 2>/dev/null) in
			qemu-system-*) echo "$q"; return 0 ;;
			esac
		done
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

. "$ROOT/tests/port.sh"

finish() {
	echo "1..$T_N"
	if [ "$T_FAIL" -ne 0 ]; then
		echo "# $T_FAIL of $T_N failed"
		exit 1
	fi
	echo "# all $T_N passed"
}
