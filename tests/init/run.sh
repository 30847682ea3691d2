#!/bin/bash
# beamrun-init without a VM: run it under fakepid1.so, diff its transcripts.
#
# Each case runs build/tests/init/init as an ordinary process with the
# LD_PRELOAD fixture tests/init/fakepid1.c, which makes it PID 1 and logs
# instead of doing the calls that would touch this host (mount, reboot,
# kill -1, ...). The console, the call transcript and what the fake beam
# saw are compared with tests/init/expected/NAME.txt. TAP output; exit 1
# if any case fails. UPDATE=1 rewrites the expected files (bar TODO ones).
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
B=$TOP/build/tests/init
EXP=$TOP/tests/init/expected
UPDATE=${UPDATE:-0}

mkdir -p "$B"
cc -O1 -g -Wall -o "$B/init" init/*.c -ljson-c ||
	{ echo "Bail out! cannot build the init"; exit 1; }
cc -O1 -g -Wall -fPIC -shared -o "$B/fakepid1.so" tests/init/fakepid1.c \
	-ldl || { echo "Bail out! cannot build fakepid1.so"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/beamrun-init-test.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

T_N=0
T_FAIL=0
C=
IPID=
ETC=0
MOUNT_FAIL=
NO_SIGNALFD=
NO_CONSOLE=

# new_case NAME: a fresh directory C with an OTP root and a fake /etc,
# /sys and /dev/input (no block devices, no input devices).
# ETC=1 adds the /etc files the init wrote to the transcript,
# MOUNT_FAIL makes mounts fail (see FAKEPID1_MOUNT_FAIL in fakepid1.c)
# NO_SIGNALFD=1 takes signalfd away, and NO_CONSOLE (see
# FAKEPID1_NO_CONSOLE) starts the init with fds 0 and 1 closed, and
# MEM_KIB is the guest RAM the init sees (FAKEPID1_MEM_KIB).
new_case() {
	C=$W/$1
	ETC=0
	MOUNT_FAIL=
	NO_SIGNALFD=
	NO_CONSOLE=
	MEM_KIB=
	mkdir -p "$C/root/erts-1.0/bin" "$C/fake/etc" "$C/fake/sys/block" \
		"$C/fake/dev/input"
}

# fake_beam: the script on stdin becomes ROOT/erts-1.0/bin/beam.smp.
fake_beam() {
	{ echo '#!/bin/sh'; cat; } >"$C/root/erts-1.0/bin/beam.smp"
	chmod +x "$C/root/erts-1.0/bin/beam.smp"
}

# A fake beam that records its argv, environment, blocked and ignored
# signals and what its fds 0-2 are in $C/beam. This script runs the
# init in the background, so the init inherits SIGINT and SIGQUIT
# ignored: beam must not.
record_beam() {
	fake_beam <<EOF
for a in "\$0" "\$@"; do echo "argv: \$a"; done >"$C/beam"
env | sort | sed 's/^/env: /' >>"$C/beam"
grep -E '^Sig(Blk|Ign):' /proc/\$\$/status | sed 's/^/signals: /' >>"$C/beam"
fd0=\$(readlink /proc/\$\$/fd/0) fd1=\$(readlink /proc/\$\$/fd/1)
fd2=\$(readlink /proc/\$\$/fd/2)
printf 'fd 0: %s\nfd 1: %s\nfd 2: %s\n' "\$fd0" "\$fd1" "\$fd2" >>"$C/beam"
$1
EOF
}

# start_init ARG...: run the init in the background (its PID in IPID).
start_init() {
	local env=(LD_PRELOAD="$B/fakepid1.so" FAKEPID1_ROOT="$C/fake"
		FAKEPID1_LOG="$C/calls" FAKEPID1_MOUNT_FAIL="$MOUNT_FAIL"
		FAKEPID1_NO_SIGNALFD="$NO_SIGNALFD"
		FAKEPID1_NO_CONSOLE="$NO_CONSOLE" FAKEPID1_MEM_KIB="$MEM_KIB")

	: >"$C/calls"
	if [ -n "$NO_CONSOLE" ]; then
		env "${env[@]}" "$B/init" "$@" <&- >&- 2>"$C/console" &
	else
		env "${env[@]}" "$B/init" "$@" </dev/null >"$C/console" 2>&1 &
	fi
	IPID=$!
}

# cfg JSON: the init's argument that carries the configuration.
cfg() { printf 'beamrun=%s' "$1"; }

# wait_for FILE: until the fake beam has created it (5 s at most).
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "run.sh: $1 never appeared" >>"$C/console"
	return 1
}

# finish: wait for the init to "reboot" (10 s at most, then SIGKILL).
finish() {
	local i st=
	for ((i = 0; i < 200; i++)); do
		st=
		read -r _ _ st _ 2>/dev/null <"/proc/$IPID/stat"
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.05
	done
	if [ -n "$st" ] && [ "$st" != Z ]; then
		kill -KILL "$IPID"
		echo "run.sh: the init hung; killed" >>"$C/console"
	fi
	wait "$IPID"
	echo "run.sh: the init exited $?" >>"$C/console"
}

# Temp paths and boot timestamps vary from run to run.
norm() { sed -e "s|$C|CASE|g" -e 's/\[[0-9]* ms\]/[T ms]/'; }

# check NAME [TODO-REASON]: compare the case's transcripts with
# expected/NAME.txt. A TODO case documents a known init bug: its
# expected file holds the right behaviour, and TAP does not count it.
check() {
	local name=$1 todo=${2:-} f act=$C/actual exp=$EXP/$1.txt
	{
		echo "== console"
		norm <"$C/console"
		echo "== calls"
		norm <"$C/calls"
		if [ -e "$C/beam" ]; then
			echo "== beam"
			norm <"$C/beam"
		fi
		for f in hosts resolv.conf hostname erl_inetrc; do
			if [ "$ETC" != 1 ] || [ ! -e "$C/fake/etc/$f" ]; then
				continue
			fi
			echo "== /etc/$f"
			norm <"$C/fake/etc/$f"
			echo
		done
	} >"$act"
	T_N=$((T_N + 1))
	# A TODO case's expected file is written by hand, not updated.
	if [ "$UPDATE" = 1 ] && [ -z "$todo" ]; then
		mkdir -p "$EXP"
		cp "$act" "$exp"
	fi
	if diff -u "$exp" "$act" >"$C/diff" 2>&1; then
		echo "ok $T_N - $name"
	elif [ -n "$todo" ]; then
		echo "not ok $T_N - $name # TODO $todo"
		sed 's/^/#   /' "$C/diff"
	else
		T_FAIL=$((T_FAIL + 1))
		echo "not ok $T_N - $name"
		sed 's/^/#   /' "$C/diff"
	fi
}

# 1. beam exits 3: its status is the VM's; setup and teardown in order.
# The kernel mounted /dev already (CONFIG_DEVTMPFS_MOUNT): EBUSY is fine.
new_case normal-run
ETC=1
MOUNT_FAIL=/dev:EBUSY
record_beam 'exit 3'
start_init "$(cfg '{"v":1,"verbose":true,"hostname":"h1","root":"'"$C/root"'",
"net":[{"if":"eth0","method":"static","addr":"10.0.2.15","prefix":24,
"gw":"10.0.2.2"},{"if":"eth1","method":"dhcp"},{"if":"eth2",
"method":"auto6"}],"dns":["10.0.2.3"],"args":["-sname","t"]}' |
	tr -d '\n')"
finish
check normal-run

# 2. SIGTERM to PID 1: beam gets SIGTERM and stops on its own.
new_case graceful-stop
fake_beam <<EOF
trap 'echo "fake beam: graceful"; exit 0' TERM
: >"$C/ready"
while :; do :; done
EOF
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
wait_for "$C/ready" && kill -TERM "$IPID"
finish
check graceful-stop

# A stop requested before beam handles SIGTERM (early in its boot):
# SIGTERM would kill it (143); the init waits until beam catches it.
new_case early-stop
fake_beam <<EOF
: >"$C/started"
sleep 1
trap 'echo "fake beam: graceful"; exit 0' TERM
while :; do sleep 0.1; done
EOF
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
wait_for "$C/started" && kill -TERM "$IPID"
finish
check early-stop

# 3. SIGPWR (what the kernel sends for a power failure) stops it too.
new_case sigpwr-stop
fake_beam <<EOF
trap 'echo "fake beam: graceful"; exit 0' TERM
: >"$C/ready"
while :; do :; done
EOF
start_init "$(cfg '{"v":1,"stop_timeout":5,"root":"'"$C/root"'"}')"
wait_for "$C/ready" && kill -PWR "$IPID"
finish
check sigpwr-stop

# A byte on the stop line (the launcher's power button for a guest
# without ACPI) stops it too; the line is a FIFO here, not a tty.
new_case stop-line
fake_beam <<EOF
trap 'echo "fake beam: graceful"; exit 0' TERM
: >"$C/ready"
while :; do :; done
EOF
mkfifo "$C/fake/dev/ttyS1"
start_init "$(cfg '{"v":1,"stop":"/dev/ttyS1","root":"'"$C/root"'"}')"
wait_for "$C/ready" && printf S >"$C/fake/dev/ttyS1"
finish
check stop-line

# A stop line that cannot be opened: said, and signals still stop it.
new_case stop-line-missing
fake_beam <<EOF
trap 'echo "fake beam: graceful"; exit 0' TERM
: >"$C/ready"
while :; do :; done
EOF
start_init "$(cfg '{"v":1,"stop":"/dev/ttyS1","root":"'"$C/root"'"}')"
wait_for "$C/ready" && kill -TERM "$IPID"
finish
check stop-line-missing

# 4. beam ignores SIGTERM: SIGKILL at the deadline, status 128+9.
new_case deadline
fake_beam <<EOF
trap '' TERM
: >"$C/ready"
exec sleep 30
EOF
start_init "$(cfg '{"v":1,"stop_timeout":1,"root":"'"$C/root"'"}')"
wait_for "$C/ready" && kill -TERM "$IPID"
finish
check deadline

# 5. beam killed by a signal: status 128+N.
new_case beam-signalled
fake_beam <<<'kill -USR1 $$'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check beam-signalled

# 6. Configuration errors: reported, beam never started, power off.
new_case malformed-json
record_beam 'exit 0'
start_init "$(cfg '{"v":1,')"
finish
check malformed-json

new_case unknown-key
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","bogus":1}')"
finish
check unknown-key

new_case wrong-version
record_beam 'exit 0'
start_init "$(cfg '{"v":2,"root":"'"$C/root"'"}')"
finish
check wrong-version

# No beamrun= in argv: the init reads this host's /proc/cmdline.
new_case missing-config
record_beam 'exit 0'
if grep -q 'beamrun=' /proc/cmdline; then
	echo "ok $((T_N += 1)) - missing-config # SKIP host has beamrun="
else
	start_init console=ttyS0 quiet
	finish
	check missing-config
fi

new_case no-emulator
rm -r "$C/root/erts-1.0"
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check no-emulator

new_case two-emulators
record_beam 'exit 0'
mkdir -p "$C/root/erts-2.0/bin"
cp "$C/root/erts-1.0/bin/beam.smp" "$C/root/erts-2.0/bin/"
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check two-emulators

new_case exec-fails
record_beam 'exit 0'
chmod -x "$C/root/erts-1.0/bin/beam.smp"
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check exec-fails

new_case proc-mount-fails
record_beam 'exit 0'
MOUNT_FAIL=/proc:EPERM
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check proc-mount-fails

# A volume whose serial no disk has. Nothing was mounted, so nothing
# should be unmounted at power off.
new_case missing-volume
record_beam 'exit 0'
mkdir -p "$C/fake/sys/block/vda"
echo other >"$C/fake/sys/block/vda/serial"
start_init "$(cfg '{"v":1,"root":"'"$C/root"'",
"blk":[{"serial":"nope","mnt":"/beamrun-fakepid1/x"}]}' | tr -d '\n')"
finish
check missing-volume

# A bad key after a good "blk": the half-parsed volume is not mounted
# and must not be unmounted either.
new_case bad-key-after-blk
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'",
"blk":[{"serial":"d0","mnt":"/beamrun-fakepid1/y"}],"bogus":1}' |
	tr -d '\n')"
finish
check bad-key-after-blk

# 7. Orphans come back to PID 1, which reaps every one of them.
new_case reaping
fake_beam <<'EOF'
i=0
while [ $i -lt 50 ]; do
	( sleep 0.1 & )
	i=$((i + 1))
done
sleep 1
exit 0
EOF
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check reaping

# beam leaves a process behind that outlives SIGTERM's 0.1 s (here no
# kill -1 is delivered): SIGKILL follows, and init waits for it to go.
# Without one (every other case), SIGTERM alone and no wait.
new_case leftover
fake_beam <<'EOF'
( sleep 0.5 & )
exit 0
EOF
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check leftover

# No /dev/console and fds 0 and 1 closed: beam gets /dev/null for
# them, and stderr, which works, is kept for the console.
new_case no-console
NO_CONSOLE=1
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check no-console

# Not even /dev/null until /dev is mounted: fds 0 and 1 hold a
# placeholder until then, and beam gets /dev/null, not the placeholder.
new_case no-dev
NO_CONSOLE=nodev
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check no-dev

# Without signalfd the init still reaps every orphan and reports
# beam's status: a blocking wait, not pause() (SIGCHLD is blocked).
new_case no-signalfd
NO_SIGNALFD=1
fake_beam <<'EOF'
i=0
while [ $i -lt 50 ]; do
	( sleep 0.1 & )
	i=$((i + 1))
done
sleep 1
exit 3
EOF
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check no-signalfd

# A volume with no file system the init knows, after a good one: only
# the good one was mounted, so only it should be unmounted.
new_case unknown-fs
record_beam 'exit 0'
for d in vda:data0 vdb:junk1; do
	mkdir -p "$C/fake/sys/block/${d%%:*}"
	echo "${d#*:}" >"$C/fake/sys/block/${d%%:*}/serial"
done
MOUNT_FAIL=/beamrun-fakepid1/junk:EINVAL
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","blk":[
{"serial":"data0","mnt":"/beamrun-fakepid1/data","fs":"ext4"},
{"serial":"junk1","mnt":"/beamrun-fakepid1/junk"}]}' | tr -d '\n')"
finish
check unknown-fs

# The image's /usr/etc (bake's CA bundle) is linked into the /etc tmpfs;
# a file init writes itself (hosts) is kept, not replaced.
new_case etc-image
ETC=1
fake_beam <<<'exit 0'
mkdir -p "$C/fake/usr/etc/ssl/certs"
echo pem >"$C/fake/usr/etc/ssl/certs/ca-certificates.crt"
echo "image hosts" >"$C/fake/usr/etc/hosts"
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
echo "run.sh: /etc/ssl -> $(readlink "$C/fake/etc/ssl")" >>"$C/console"
check etc-image

# 8. The configuration on the kernel command line rather than in argv.
new_case proc-cmdline
ETC=1
record_beam 'exit 0'
mkdir -p "$C/fake/proc"
cfg '{"v":1,"hostname":"fromcmdline","root":"'"$C/root"'"}' |
	sed 's/^/console=ttyS0 /; s/$/ quiet\n/' >"$C/fake/proc/cmdline"
start_init
finish
check proc-cmdline

# 9. Volumes by serial: mount flags, then unmounted in reverse order.
# vda's disk is read-only (qemu's readonly=on): a read-only retry.
new_case volumes
record_beam 'exit 0'
MOUNT_FAIL=/beamrun-fakepid1/data:EROFS
for d in vda:data0 vdb:iso1 vdc:ro2; do
	mkdir -p "$C/fake/sys/block/${d%%:*}"
	echo "${d#*:}" >"$C/fake/sys/block/${d%%:*}/serial"
done
start_init "$(cfg '{"v":1,"verbose":true,"root":"'"$C/root"'","blk":[
{"serial":"data0","mnt":"/beamrun-fakepid1/data","fs":"ext4"},
{"serial":"iso1","mnt":"/beamrun-fakepid1/iso","fs":"iso9660"},
{"serial":"ro2","mnt":"/beamrun-fakepid1/ro","ro":true}]}' | tr -d '\n')"
finish
check volumes

# Crash dumps go to the first volume mounted read-write (not to the
# ISO before it), not into /tmp, which is RAM.
new_case crash-dump-volume
record_beam 'exit 0'
for d in vda:iso0 vdb:data1; do
	mkdir -p "$C/fake/sys/block/${d%%:*}"
	echo "${d#*:}" >"$C/fake/sys/block/${d%%:*}/serial"
done
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","blk":[
{"serial":"iso0","mnt":"/beamrun-fakepid1/iso","fs":"iso9660"},
{"serial":"data1","mnt":"/beamrun-fakepid1/data","fs":"ext4"}]}' |
	tr -d '\n')"
finish
check crash-dump-volume

# 10. erl-style arguments: emulator flags, erlexec's own flags, -extra.
new_case erl-args
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","env":["LANG=en_US.UTF-8",
"APP=1"],"args":["+S","2:2","-home","/data","-env","FOO","bar","-s","m","f",
"-no_epmd","-extra","-x","y\u0020z"]}' | tr -d '\n')"
finish
check erl-args

# ERL_AFLAGS before the command line's flags, ERL_FLAGS and ERL_ZFLAGS
# after them and before -extra, split at blanks outside quotes.
new_case erl-flags-env
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","env":["ERL_AFLAGS=+A\u00204",
"ERL_FLAGS=-sname\u0020\u0022a\u0020b\u0022\u0020+S\u00201",
"ERL_ZFLAGS=-z1\u0020x\\\u0020y\u0020'"'"'p\u0020q'"'"'"],
"args":["-s","m","-extra","e1"]}' | tr -d '\n')"
finish
check erl-flags-env

# zram swap: a size from the launcher; by the RAM without one; none
# where the kernel has no zram (an error only when asked for).
# the_file NAME FILE WANT: a TAP line for FILE's contents.
the_file() {
	local got
	got=$(cat "$2" 2>/dev/null)
	T_N=$((T_N + 1))
	if [ "$got" = "$3" ]; then
		echo "ok $T_N - $1"
	else
		T_FAIL=$((T_FAIL + 1))
		echo "not ok $T_N - $1"
		echo "#   $2: '$got', wanted '$3'"
	fi
}
# fake_zram: the files a kernel with zram has (the fake maps them).
fake_zram() {
	mkdir -p "$C/fake/sys/block/zram0" "$C/fake/proc/sys/vm" "$C/fake/dev"
	: >"$C/fake/sys/block/zram0/disksize"
	: >"$C/fake/proc/sys/vm/page-cluster"
	: >"$C/fake/dev/zram0"
}
new_case swap-asked
fake_zram
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","swap":24}')"
finish
check swap-asked
the_file "swap-asked: the zram device is 24 MiB" \
	"$C/fake/sys/block/zram0/disksize" 24M
the_file "swap-asked: swap read-ahead is off" \
	"$C/fake/proc/sys/vm/page-cluster" 0

new_case swap-by-ram
fake_zram
MEM_KIB=30000
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check swap-by-ram
the_file "swap-by-ram: a 30000 KiB guest gets 30 MiB" \
	"$C/fake/sys/block/zram0/disksize" 30M

new_case swap-by-ram-capped
fake_zram
MEM_KIB=200000
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
the_file "swap-by-ram: a 200000 KiB guest gets 64 MiB, the most by default" \
	"$C/fake/sys/block/zram0/disksize" 64M

new_case swap-large-guest
fake_zram
MEM_KIB=$((512 * 1024))
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'"}')"
finish
check swap-large-guest

new_case swap-off
fake_zram
MEM_KIB=30000
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","swap":0}')"
finish
check swap-off

new_case swap-no-zram
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","swap":24}')"
finish
check swap-no-zram

new_case swap-bad
record_beam 'exit 0'
start_init "$(cfg '{"v":1,"root":"'"$C/root"'","swap":-1}')"
finish
check swap-bad

echo "1..$T_N"
if [ "$T_FAIL" -ne 0 ]; then
	echo "# $T_FAIL of $T_N init tests failed"
	exit 1
fi
