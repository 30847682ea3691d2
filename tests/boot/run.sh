#!/bin/bash
# beamrun's boot tests: real guests under qemu (TCG), checked by what
# they print on the console, what they answer and how beamrun exits.
set -u
. "$(dirname "$0")/../lib.sh"

W="$WORK/boot"
rm -rf "$W"
mkdir -p "$W"
trap boot_cleanup EXIT

# --- the quick workflow: bake a directory, run it, echo through -p --------
"$BEAMRUN" bake "$ROOT/examples/echoserver" -o "$W/echo.img" >"$W/bake.log" 2>&1
check "quick: bake examples/echoserver" test -s "$W/echo.img"
port=$(free_port)
boot_bg "$W/echo.log" run -p "$port:8080" "$W/echo.img"
pid=$BG
if wait_for "$W/echo.log" "^Echo server started" 90; then
	ok "quick: the echo server starts"
	reply=$(echo_roundtrip "$port" "hello beamrun")
	if [ "$reply" = "hello beamrun" ]; then
		ok "quick: bytes come back through the port forward"
	else
		not_ok "quick: bytes come back through the port forward" \
			"reply: '$reply'"
	fi
	# Several clients at once, each on its own connection.
	good=0
	for i in 1 2 3 4 5; do
		(r=$(echo_roundtrip "$port" "client $i")
		 [ "$r" = "client $i" ]) &
	done
	for j in 1 2 3 4 5; do wait -n && good=$((good + 1)); done
	check "quick: five concurrent clients all get their bytes" \
		test "$good" -eq 5
else
	not_ok "quick: the echo server starts" "$(tail -5 "$W/echo.log")"
fi
kill -INT "$pid"
wait_exit "$pid" 60
check "quick: Ctrl-C stops the guest gracefully (status 0)" test "$RC" = 0
check "quick: the Erlang VM got SIGTERM and shut down" \
	grep -q "SIGTERM received - shutting down" "$W/echo.log"
check "quick: no kernel farewell after the status" \
	bash -c "! grep -q 'reboot: Restarting' '$W/echo.log'"

# --- helloworld exits 0 --------------------------------------------------------
"$BEAMRUN" bake "$ROOT/examples/helloworld" -o "$W/hello.img" >/dev/null 2>&1
boot_bg "$W/hello.log" run "$W/hello.img"
wait_exit "$BG" 90
check "helloworld: prints Hello, world!" grep -q "^Hello, world!" "$W/hello.log"
check "helloworld: beamrun exits 0 after init:stop()" test "$RC" = 0
check "helloworld: no status line leaks to the output" \
	bash -c "! grep -q 'beamrun-init: exit' '$W/hello.log'"

# --- halt(3) gives 3 ----------------------------------------------------------
"$BEAMRUN" bake "$ROOT/tests/apps/halt3" -o "$W/halt3.img" >/dev/null 2>&1
boot_bg "$W/halt3.log" run "$W/halt3.img"
wait_exit "$BG" 90
check "halt(3): beamrun exits 3" test "$RC" = 3

# --- a crashing start function: non-zero, the reason on the console ----------
"$BEAMRUN" bake "$ROOT/tests/apps/crasher" -o "$W/crash.img" >/dev/null 2>&1
boot_bg "$W/crash.log" run "$W/crash.img"
wait_exit "$BG" 90
check "crash: beamrun exits non-zero" test "$RC" != 0 -a "$RC" != hung
check "crash: the reason is on the console" \
	grep -q "beamrun_test_crash" "$W/crash.log"

# --- arguments after the image reach start/1 as strings ------------------------
port=$(free_port)
boot_bg "$W/args.log" run -p "$port:9099" "$W/echo.img" 9099
pid=$BG
if wait_for "$W/args.log" "^Echo server started" 90 &&
   [ "$(echo_roundtrip "$port" ping)" = ping ]; then
	ok "args: run IMAGE 9099 makes the server listen on 9099"
else
	not_ok "args: run IMAGE 9099 makes the server listen on 9099" \
		"$(tail -3 "$W/args.log")"
fi
kill -TERM "$pid"
wait_exit "$pid" 30

# --- the rumprun workflow: generic image, two ISO volumes, qemu -i -----------
mkdir -p "$W/appdir"
erlc -o "$W/appdir" "$ROOT/examples/echoserver/echoserver.erl"
"$BEAMRUN" bake hw_virtio "$W/beam.hw.bin" >/dev/null 2>&1
"$BEAMRUN" volume otp "$W/erlang.iso" >/dev/null 2>&1
"$BEAMRUN" volume iso "$W/appdir" "$W/app.iso" >/dev/null 2>&1
check "rumprun: images made" \
	test -s "$W/beam.hw.bin" -a -s "$W/erlang.iso" -a -s "$W/app.iso"
port=$(free_port)
boot_bg "$W/rump.log" qemu -i \
	-I "if,vioif,-net user,hostfwd=tcp:127.0.0.1:$port-:8080" \
	-W if,inet,static,10.0.2.15/24,10.0.2.2 \
	-e ERL_INETRC=/opt/erlang/erl_inetrc \
	-b "$W/erlang.iso,/opt/erlang" -b "$W/app.iso,/apps/erlang" \
	-M 256 "$W/beam.hw.bin" \
	"-- -no_epmd -root /opt/erlang/lib/erlang -progname erl -- -home /tmp -noshell -pa /apps/erlang -s echoserver start"
pid=$BG
if wait_for "$W/rump.log" "^Echo server started" 90; then
	ok "rumprun: the seed's command prints Echo server started"
	reply=$(echo_roundtrip "$port" "hello rumprun")
	check "rumprun: a TCP client gets its bytes back" \
		test "$reply" = "hello rumprun"
else
	not_ok "rumprun: the seed's command prints Echo server started" \
		"$(tail -5 "$W/rump.log")"
fi
kill -TERM "$pid"
wait_exit "$pid" 30

# --- rumprun without -i: detached, prints qemu:PID ---------------------------
out=$("$BEAMRUN" qemu "$W/hello.img" 2>"$W/rumpd.err")
qpid=${out#qemu:}
check "rumprun: without -i beamrun prints qemu:PID" \
	test -n "$qpid" -a "$out" = "qemu:$qpid"
name=$(sed -n 's/^beamrun: instance \([^:]*\):.*/\1/p' "$W/rumpd.err")
check "rumprun: ... and names the instance on stderr" test -n "$name"
"$BEAMRUN" wait "$name" >/dev/null 2>&1
check "rumprun: the detached guest's console is in its log" \
	bash -c "'$BEAMRUN' logs '$name' | grep -q '^Hello, world!'"
check "rumprun: its status is kept (0)" \
	bash -c "'$BEAMRUN' ps -a | grep -q '^$name .*exited (0)'"
"$BEAMRUN" rm "$name"

# --- detached instances: run -d, ps, logs, stop, kill -------------------------
port=$(free_port)
out=$("$BEAMRUN" run -d --name web -p "$port:8080" "$W/echo.img" 2>/dev/null)
check "detached: run -d prints the instance name" test "$out" = web
check "detached: ps lists it with its forward" \
	bash -c "'$BEAMRUN' ps | grep -q '^web .*echo.img .*127.0.0.1:$port->8080/tcp .*running'"
"$BEAMRUN" logs -f web >"$W/follow.log" 2>&1 &
follow=$!
BOOT_PIDS+=("$follow")
if wait_for "$W/follow.log" "^Echo server started" 90; then
	ok "detached: logs -f shows the console as it comes"
else
	not_ok "detached: logs -f shows the console as it comes" \
		"$("$BEAMRUN" logs web | tail -3)"
fi
check "detached: the server answers through the forward" \
	test "$(echo_roundtrip "$port" detached)" = detached
check "detached: stop returns once it has stopped" "$BEAMRUN" stop web
wait_exit "$follow" 10
check "detached: logs -f ends when the instance does" test "$RC" = 0
check "detached: ... gracefully (exited 0)" \
	bash -c "'$BEAMRUN' ps -a | grep -q '^web .*exited (0)'"
check "detached: the Erlang VM got SIGTERM" \
	bash -c "'$BEAMRUN' logs web | grep -q 'SIGTERM received - shutting down'"
check "detached: a stopped instance's name can be reused" \
	bash -c "test \"\$('$BEAMRUN' run -d --name web '$W/echo.img' 2>/dev/null)\" = web"
check "detached: kill ends it at once" "$BEAMRUN" kill web
"$BEAMRUN" wait web >/dev/null 2>&1
check "detached: a killed instance's status is 137" test "$?" = 137
"$BEAMRUN" rm web
check "detached: nothing left in ps -a" \
	bash -c "! '$BEAMRUN' ps -a | grep -q '^web '"

# --- the guest kernel panics: its own exit status ------------------------------
boot_bg "$W/panic.log" run --erl-args \
	"-noshell -eval 'file:write_file(\"/proc/sysrq-trigger\", <<\"c\">>)'" \
	"$W/hello.img"
wait_exit "$BG" 90
check "panic: beamrun exits 122" test "$RC" = 122
check "panic: and says the kernel panicked" \
	grep -q "^beamrun: the guest kernel panicked" "$W/panic.log"

# --- a guest that stops answering: the watchdog powers it off ---------------------
# Suspend-to-idle freezes init, so nothing pets the watchdog (30 s).
boot_bg "$W/wdt.log" run --erl-args \
	"-noshell -eval 'file:write_file(\"/sys/power/state\", <<\"freeze\">>)'" \
	"$W/hello.img"
wait_exit "$BG" 120
check "watchdog: a frozen guest ends with status 121" test "$RC" = 121
check "watchdog: beamrun says the guest stopped answering" \
	grep -q "^beamrun: the guest stopped answering" "$W/wdt.log"

# --- a bad configuration inside the guest ----------------------------------------
"$BEAMRUN" volume create "$W/data.img" 8M
boot_bg "$W/badmnt.log" run -b "$W/data.img,/no/such/dir" "$W/hello.img"
wait_exit "$BG" 90
check "guest error: a mount point not in the image exits 123" test "$RC" = 123
check "guest error: the reason is printed by beamrun-init" \
	grep -q "^beamrun-init: error: volume: mount point /no/such/dir" \
	"$W/badmnt.log"

# --- a writable ext4 volume ----------------------------------------------------
boot_bg "$W/vol.log" run -b "$W/data.img,/data" \
	--erl-args "-noshell -eval 'ok = file:write_file(\"/data/proof\", <<\"written in the guest\">>), init:stop().'" \
	"$W/hello.img"
wait_exit "$BG" 90
check "volume: the guest writes to an ext4 volume and exits 0" test "$RC" = 0
check "volume: the file is on the volume after the VM is gone" \
	bash -c "debugfs -R 'cat /proof' '$W/data.img' 2>/dev/null | grep -q 'written in the guest'"

# --- what erlexec would set up (CASES: BEAM-DIRECT-EXEC-ENV, DNS) ---------------
"$BEAMRUN" bake "$ROOT/tests/apps/envcheck" -o "$W/env.img" >/dev/null 2>&1
boot_bg "$W/env.log" run -N envhost "$W/env.img"
wait_exit "$BG" 90
check "env: the app ran and exited 0" test "$RC" = 0
env_is() {
	grep -qxF "envcheck $1 $2" <(tr -d '\r' <"$W/env.log")
}
erts=$(basename /usr/lib/erlang/erts-*)
check "env: ROOTDIR is the image's OTP root" env_is ROOTDIR '"/otp"'
check "env: BINDIR is the ERTS bin directory" \
	env_is BINDIR "\"/otp/$erts/bin\""
check "env: EMU and PROGNAME as erlexec sets them" \
	bash -c "grep -q 'envcheck EMU \"beam\"' '$W/env.log' &&
		 grep -q 'envcheck PROGNAME \"erl\"' '$W/env.log'"
check "env: HOME is writable /tmp" env_is HOME '"/tmp"'
check "env: LANG is C.UTF-8" env_is LANG '"C.UTF-8"'
check "env: code:root_dir() is /otp" env_is root_dir '"/otp"'
check "env: -progname, -home and -bindir reach init" \
	bash -c "grep -q 'envcheck progname {ok,\[\[\"erl\"\]\]}' '$W/env.log' &&
		 grep -q 'envcheck home {ok,\[\[\"/tmp\"\]\]}' '$W/env.log' &&
		 grep -q 'envcheck bindir {ok,\[\[\"/otp/$erts/bin\"\]\]}' '$W/env.log'"
# -m 128 (run's default): the port table follows the RAM (a port per 4
# KiB, init/beam.c); the open-file limit stays 65536.
check "env: the port table is sized to 128 MiB of RAM (16384)" \
	env_is port_limit 16384
check "env: localhost resolves through the hosts file" \
	env_is localhost '{ok,{hostent,"localhost",[],inet,4,[{127,0,0,1}]}}'
check "env: -N sets the host name" env_is hostname '"envhost"'
check "env: lookup uses the hosts file, then Erlang's DNS client" \
	env_is lookup '[file,dns]'
check "env: file names are UTF-8" env_is name_encoding utf8
check "env: a 128 MiB guest swaps to zram (init/swap.c)" \
	env_is swaps '[<<"/dev/zram0">>]'
check "env: the kernel is given qemu's APIC timer rate, not calibrating it" \
	env_is apic_timer '<<"APIC timer: 1000000 kHz given, not calibrated">>'
boot_bg "$W/env-noswap.log" run --swap off "$W/env.img"
wait_exit "$BG" 90
check "env: --swap off: no swap in the guest" \
	grep -qxF 'envcheck swaps []' <(tr -d '\r' <"$W/env-noswap.log")
check "env: what starting kernel loads comes in the boot's first load list" \
	env_is loaded_on_demand '[]'
check "env: the parser, evaluator and epp are not loaded after the boot" \
	env_is boot_only_loaded '[]'
check "env: ...and load on first use" \
	env_is scan '{ok,[{atom,1,ok},{dot,1}],1}'

# --- the console piped to a reader that goes away ---------------------------------
# | head -1 closes the pipe: the guest is stopped as by ^C, and nothing
# (qemu, its QMP directory) stays behind.
left_before=$(ls -d "$TMPDIR"/beamrun-* 2>/dev/null | wc -l)
"$BEAMRUN" run "$W/echo.img" 2>&1 | head -1 >/dev/null
check "pipe: beamrun ends with the guest's status when its reader goes" \
	test "${PIPESTATUS[0]}" = 0
check "pipe: no qemu of it is left" \
	bash -c "! pgrep -f '[q]emu-system.*$W/echo.img' >/dev/null"
check "pipe: nor its QMP directory" \
	test "$(ls -d "$TMPDIR"/beamrun-* 2>/dev/null | wc -l)" = "$left_before"

# --- a stop requested while the guest is still booting ---------------------------
boot_bg "$W/early.log" run "$W/echo.img"
pid=$BG
sleep 0.2
kill -INT "$pid"
wait_exit "$pid" 60
check "early stop: Ctrl-C during boot still ends gracefully (status 0)" \
	test "$RC" = 0

finish
