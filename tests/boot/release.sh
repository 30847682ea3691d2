#!/bin/bash
# beamrun's release boot tests: OTP releases made the usual way (rebar3's
# relx, with and without a bundled ERTS; an Elixir mix release) baked and
# booted under qemu (TCG). The guest prints what it booted with
# (tests/apps/reltest, tests/apps/mixtest); the tests read the console.
set -u
. "$(dirname "$0")/../lib.sh"

W="$WORK/release"
rm -rf "$W"
mkdir -p "$W"
trap boot_cleanup EXIT
# rebar3 and mix keep their caches under HOME; the tests' own one.
export HOME="$W/home"
mkdir -p "$HOME"

console() {
	tr -d '\r' <"$1" | grep -qE -- "$2"
}

# boot_stop LOG ARGS...: boot, wait for the app's line, stop with SIGTERM
# as an orchestrator would; RC is beamrun's status.
boot_stop() {
	local log=$1 marker=$2
	shift 2
	boot_bg "$log" "$@"
	if wait_for "$log" "$marker" 120; then
		kill -TERM "$BG"
		wait_exit "$BG" 60
	else
		kill -9 "$BG"
		RC="never started"
	fi
}

# --- a rebar3 release with its ERTS bundled (include_erts true) -----------
cp -r "$ROOT/tests/apps/reltest" "$W/reltest"
(cd "$W/reltest" && rebar3 as bundled release && rebar3 as noerts release) \
	>"$W/rebar3.log" 2>&1
REL=$W/reltest/_build/bundled/rel/reltest
MIN=$W/reltest/_build/noerts/rel/reltest
check "rebar3: a release with its ERTS" test -d "$REL/erts-$(ls "$REL" |
	sed -n 's/^erts-//p')/bin"
check "rebar3: a release without ERTS" test -z "$(ls -d "$MIN"/erts-* 2>/dev/null)"

"$BEAMRUN" bake --list "$REL" -o "$W/rel.img" >"$W/bake-rel.log" 2>&1
check "bake: the bundled release" test -s "$W/rel.img"
check "bake --list: per application, emulator, libraries, kernel" bash -c "
	grep -q 'application reltest-0.1.0' '$W/bake-rel.log' &&
	grep -q 'application sasl-' '$W/bake-rel.log' &&
	grep -q 'emulator (beam.smp' '$W/bake-rel.log' &&
	grep -q 'shared libraries' '$W/bake-rel.log' &&
	grep -q 'kernel (bzImage)' '$W/bake-rel.log' &&
	grep -q 'release reltest-0.1.0, ERTS .* (bundled)' '$W/bake-rel.log'"
check "inspect: the image names the release" bash -c \
	"'$BEAMRUN' inspect '$W/rel.img' | grep -Eq '^release: +reltest-0.1.0$'"
# vm.args travels in the image, not in its header nor on qemu's command line.
check "the cookie in vm.args is not in the image header" bash -c \
	"! head -c 4096 '$W/rel.img' | grep -q relcookie"
"$BEAMRUN" run --dry-run "$W/rel.img" >"$W/dry.txt" 2>&1
check "the cookie in vm.args is not on qemu's command line" bash -c \
	"grep -q args_file '$W/dry.txt' && ! grep -q relcookie '$W/dry.txt'"

L=$W/rel.log
boot_stop "$L" "^reltest: running=" run -c 2 "$W/rel.img"
check "bundled: the release's application prints its line" console "$L" \
	"^reltest: up "
check "bundled: vm.args +S 1 gives one scheduler on 2 vCPUs" console "$L" \
	"^reltest: up schedulers=1 "
check "bundled: vm.args -sname names the node" console "$L" \
	"node=reltest@"
check "bundled: vm.args -setcookie is the cookie" console "$L" \
	"^reltest: cookie=relcookie_in_vm_args$"
check "bundled: sys.config is read" console "$L" \
	"^reltest: greeting=from sys.config$"
check "bundled: the release's boot script, embedded mode" console "$L" \
	'^reltest: mode=embedded boot=\{ok,\[\["/rel/releases/0.1.0/start"\]\]\}'
check "bundled: the .rel's applications ran (sasl)" console "$L" \
	"^reltest: running=.*sasl"
# CASES: BEAM-DIRECT-EXEC-ENV, for a release root.
check "bundled: BINDIR, root, progname and home as erlexec sets them" \
	console "$L" \
	'^reltest: exec bindir=/rel/erts-[0-9.]+/bin root=/rel progname=erl home=/tmp$'
check "bundled: no shell on the console (-noinput)" bash -c \
	"! tr -d '\r' <'$L' | grep -q '^Eshell'"
# CASES: SIGTERM-NOT-GRACEFUL: relx's foreground adds +Bd, and so does bake.
check "bundled (+Bd): SIGTERM stops the release, beamrun exits 0" \
	test "$RC" = 0
check "bundled (+Bd): prep_stop/1 and stop/1 ran" bash -c \
	"tr -d '\r' <'$L' | grep -q '^reltest: prep_stop$' &&
	 tr -d '\r' <'$L' | grep -q '^reltest: stop$'"

# run's options on a release image: --node and --cookie replace vm.args'
# name and cookie, --erl-args come after vm.args (+S 2 wins), words after
# the image are plain arguments, -e sets the environment.
printf 'cookie_from_run%s\n' "$$" >"$W/cookie"
L=$W/rel-opts.log
boot_stop "$L" "^reltest: running=" run -c 2 --node other@127.0.0.1 \
	--cookie-file "$W/cookie" --erl-args '+S 2' -e RELTEST_ENV=yes \
	"$W/rel.img" one two
check "run --erl-args '+S 2' after vm.args' +S 1" console "$L" \
	"^reltest: up schedulers=2 "
check "run --node replaces vm.args' -sname" console "$L" \
	"node='other@127.0.0.1'"
check "run --cookie-file replaces vm.args' -setcookie" console "$L" \
	"^reltest: cookie=cookie_from_run$$$"
check "run: words after the image are plain arguments, -e the env" \
	console "$L" '^reltest: plain=\["one","two"\] env="yes"$'
check "run with options: a graceful stop, status 0" test "$RC" = 0

# --- a rebar3 release without ERTS: the host's runs it ------------------------
"$BEAMRUN" bake "$MIN" -o "$W/min.img" >"$W/bake-min.log" 2>&1
check "bake: the release without ERTS" test -s "$W/min.img"
L=$W/min.log
boot_stop "$L" "^reltest: running=" run "$W/min.img"
check "host's ERTS: the release prints its line" console "$L" \
	"^reltest: up schedulers=1 node=reltest@"
check "host's ERTS: sys.config is read" console "$L" \
	"^reltest: greeting=from sys.config$"
# CASES: SIGTERM-NOT-GRACEFUL with +Bi in vm.args.
check "host's ERTS (+Bi): SIGTERM stops the release, beamrun exits 0" \
	test "$RC" = 0
check "host's ERTS (+Bi): prep_stop/1 and stop/1 ran" bash -c \
	"tr -d '\r' <'$L' | grep -q '^reltest: prep_stop$' &&
	 tr -d '\r' <'$L' | grep -q '^reltest: stop$'"

# --- an Elixir mix release -----------------------------------------------------
cp -r "$ROOT/tests/apps/mixtest" "$W/mixtest"
(cd "$W/mixtest" && MIX_ENV=prod mix release --overwrite) \
	>"$W/mix.log" 2>&1
MIX=$W/mixtest/_build/prod/rel/mixtest
check "mix release: made offline" test -f "$MIX/releases/0.1.0/start.boot"
"$BEAMRUN" bake --list "$MIX" -o "$W/mix.img" >"$W/bake-mix.log" 2>&1
check "bake: the mix release" test -s "$W/mix.img"
check "bake --list: the mix release's elixir application" \
	grep -q "application elixir-" "$W/bake-mix.log"
check "the mix release's cookie is not in the image header" bash -c \
	"! head -c 4096 '$W/mix.img' | grep -qF \"\$(cat '$MIX/releases/COOKIE')\""
L=$W/mix.log
boot_stop "$L" "^mixtest: hello" run "$W/mix.img"
check "mix: the Elixir application prints its line" console "$L" \
	'^mixtest: hello from Elixir [0-9.]+ on nonode@nohost, argv \[\]$'
check "mix: SIGTERM stops it (stop/1 ran), beamrun exits 0" bash -c \
	"test '$RC' = 0 && tr -d '\r' <'$L' | grep -q '^mixtest: stop$'"

finish
