#!/bin/bash
# beamrun's command-line tests without a VM: bad input gets one clear
# "beamrun:" line, a non-zero exit, and leaves nothing half-written.
set -u
. "$(dirname "$0")/../lib.sh"

W="$WORK/cli"
rm -rf "$W"
mkdir -p "$W/empty" "$W/app" "$W/out"
cp "$ROOT/examples/helloworld/helloworld.erl" "$W/app/"
printf 'not an image\n' >"$W/notimage.img"

# --- bake -----------------------------------------------------------------
expect_fail "bake: a directory with no Erlang code" 1 "no .erl or .beam" \
	"$BEAMRUN" bake "$W/empty" -o "$W/out/x.img"
expect_fail "bake: an unknown start module" 1 "-s nosuch: no such module" \
	"$BEAMRUN" bake -s nosuch "$W/app" -o "$W/out/x.img"
expect_fail "bake: a missing directory" 1 "no such directory" \
	"$BEAMRUN" bake "$W/nonexistent" -o "$W/out/x.img"
expect_fail "bake: no output" 2 "no output" \
	"$BEAMRUN" bake "$W/app"
expect_fail "bake: unknown configuration" 2 "not a directory nor a known" \
	"$BEAMRUN" bake xen_foo "$W/out/x.img"
expect_fail "bake: output in a missing directory" 1 "cannot write" \
	"$BEAMRUN" bake "$W/app" -o "$W/nodir/x.img"
mkdir -p "$W/badsrc"
printf -- '-module(badsrc).\nthis is not erlang\n' >"$W/badsrc/badsrc.erl"
expect_fail "bake: code that does not compile" 1 "erlc failed" \
	bash -c "'$BEAMRUN' bake '$W/badsrc' -o '$W/out/x.img' 2>&1 >/dev/null | grep '^beamrun' >&2; exit \${PIPESTATUS[0]}"
mkdir -p "$W/nostart"
printf -- '-module(nostart).\n-export([go/0]).\ngo() -> ok.\n' \
	>"$W/nostart/nostart.erl"
expect_fail "bake: a module without start/0" 1 "does not export start/0" \
	"$BEAMRUN" bake "$W/nostart" -o "$W/out/x.img"
expect_fail "bake: an unknown --flavor" 2 "--flavor x: expected emu or jit" \
	"$BEAMRUN" bake --flavor x "$W/app" -o "$W/out/x.img"
# A library directory with the kernel, the init and bake's helper but
# no interpreter build: --flavor emu must say how to make one.
mkdir -p "$W/lib/kernel" "$W/lib/init"
ln -sf "$ROOT/build/kernel/bzImage" "$W/lib/kernel/bzImage"
ln -sf "$ROOT/build/init/beamrun-init" "$W/lib/init/beamrun-init"
ln -sf "$ROOT/host/bake.escript" "$W/lib/bake.escript"
expect_fail "bake: --flavor emu without an interpreter build" 1 \
	"no interpreter build of ERTS .*make erts" \
	env BEAMRUN_LIBDIR="$W/lib" "$BEAMRUN" bake --flavor emu "$W/app" \
	-o "$W/out/x.img"
expect_fail "bake: --cacerts with a missing file" 1 \
	"--cacerts $W/nocerts.pem: No such file or directory" \
	"$BEAMRUN" bake --cacerts "$W/nocerts.pem" "$W/app" -o "$W/out/x.img"
expect_fail "bake: --cacerts with a file that holds no certificate" 1 \
	"--cacerts $W/notimage.img: no PEM certificate in it" \
	"$BEAMRUN" bake --cacerts "$W/notimage.img" "$W/app" -o "$W/out/x.img"

# --- bake: OTP releases -----------------------------------------------------
# A release without ERTS (tests/apps/reltest, relx's minimal mode), made
# once; each bad case is a copy with one thing wrong.
cp -r "$ROOT/tests/apps/reltest" "$W/reltest"
(cd "$W/reltest" && HOME="$W/home" rebar3 as noerts release) \
	>"$W/rebar3.log" 2>&1
R=$W/reltest/_build/noerts/rel/reltest
HOST_ERTS=$(erl -noshell -eval 'io:put_chars(erlang:system_info(version)), halt().')
mkdir -p "$W/notrel/releases"
expect_fail "bake: a directory that is not a release" 1 \
	"not a release \(no releases/VSN/start.boot\)" \
	"$BEAMRUN" bake "$W/notrel" -o "$W/out/x.img"
cp -r "$R" "$W/badvsn"
printf '99.0 0.1.0\n' >"$W/badvsn/releases/start_erl.data"
sed -i 's/{erts,"[^"]*"}/{erts,"99.0"}/' "$W/badvsn/releases/0.1.0/reltest.rel"
expect_fail "bake: a release whose ERTS is neither bundled nor the host's" 1 \
	"release reltest-0.1.0 needs ERTS 99.0: it bundles none and the host's is $HOST_ERTS" \
	"$BEAMRUN" bake "$W/badvsn" -o "$W/out/x.img"
mkdir -p "$W/badvsn/erts-98.0/bin"
expect_fail "bake: a release that bundles another ERTS than it needs" 1 \
	"needs ERTS 99.0: it bundles erts-98.0 and the host's" \
	"$BEAMRUN" bake "$W/badvsn" -o "$W/out/x.img"
cp -r "$R" "$W/twovsn"
printf '99.0 0.1.0\n' >"$W/twovsn/releases/start_erl.data"
expect_fail "bake: start_erl.data and the .rel disagree on ERTS" 1 \
	"start_erl.data names ERTS 99.0 but reltest.rel needs" \
	"$BEAMRUN" bake "$W/twovsn" -o "$W/out/x.img"
cp -r "$R" "$W/noapp"
rm -rf "$W/noapp/lib/reltest-0.1.0"
expect_fail "bake: a release without one of its applications" 1 \
	"application reltest-0.1.0 is neither in .*/lib nor on the host" \
	"$BEAMRUN" bake "$W/noapp" -o "$W/out/x.img"
cp -r "$R" "$W/srcargs"
mv "$W/srcargs/releases/0.1.0/vm.args" "$W/srcargs/releases/0.1.0/vm.args.src"
expect_fail "bake: a release with only vm.args.src" 1 \
	"vm.args.src needs substitution at start time" \
	"$BEAMRUN" bake "$W/srcargs" -o "$W/out/x.img"
expect_fail "bake: -s with a release" 2 "is an OTP release" \
	"$BEAMRUN" bake -s reltest_app "$R" -o "$W/out/x.img"
# A NIF linked against a library that is then hidden: the bake names it.
mkdir -p "$W/nif"
printf 'int brgone_answer(void) { return 42; }\n' >"$W/nif/gone.c"
cat >"$W/nif/reltest_nif.c" <<-'EOF'
	#include <erl_nif.h>
	int brgone_answer(void);
	static ERL_NIF_TERM answer(ErlNifEnv *env, int argc,
				   const ERL_NIF_TERM argv[])
	{
		(void)argc;
		(void)argv;
		return enif_make_int(env, brgone_answer());
	}
	static ErlNifFunc funcs[] = {{"answer", 0, answer, 0}};
	ERL_NIF_INIT(reltest_nif, funcs, NULL, NULL, NULL, NULL)
	EOF
ERL_INC=$(erl -noshell -eval 'io:put_chars(filename:join([code:root_dir(), "usr", "include"])), halt().')
cp -r "$R" "$W/nifrel"
mkdir -p "$W/nifrel/lib/reltest-0.1.0/priv"
cc -shared -fPIC -o "$W/nif/libbrgone.so" "$W/nif/gone.c" &&
	cc -shared -fPIC -I"$ERL_INC" -o "$W/nifrel/lib/reltest-0.1.0/priv/reltest_nif.so" \
		"$W/nif/reltest_nif.c" -L"$W/nif" -lbrgone
rm -f "$W/nif/libbrgone.so"
expect_fail "bake: a NIF whose library is missing" 1 \
	"reltest_nif.so needs libbrgone.so, which is not installed" \
	"$BEAMRUN" bake "$W/nifrel" -o "$W/out/x.img"
check "bake: failures left no file behind" \
	test -z "$(ls -A "$W/out")"
check "bake: the good release bakes (the cases above fail for their reason)" \
	"$BEAMRUN" bake "$R" -o "$W/rel.img"
# A bundled ERTS of another version than the host's (faked: the host's
# programs under another name) brings its own beam.smp: the interpreter
# build matches the host's ERTS only.
cp -r "$R" "$W/otherts"
mkdir -p "$W/otherts/erts-99.0/bin"
for f in beam.smp erl_child_setup inet_gethost; do
	cp "$(erl -noshell -eval 'io:put_chars(code:root_dir()), halt().')/erts-$HOST_ERTS/bin/$f" \
		"$W/otherts/erts-99.0/bin/"
done
printf '99.0 0.1.0\n' >"$W/otherts/releases/start_erl.data"
sed -i 's/{erts,"[^"]*"}/{erts,"99.0"}/' "$W/otherts/releases/0.1.0/reltest.rel"
check "bake: a bundled ERTS of another version uses its own beam.smp" bash -c "
	'$BEAMRUN' bake --list '$W/otherts' -o '$W/other.img' >'$W/other.list' &&
	grep -q 'emulator (beam.smp bundled, erts-99.0)' '$W/other.list' &&
	'$BEAMRUN' inspect '$W/other.img' | grep -Eq '^emulator: +bundled$'"
expect_fail "bake --flavor emu: no interpreter build for a bundled ERTS 99.0" 1 \
	"no interpreter build of ERTS 99.0" \
	"$BEAMRUN" bake --flavor emu "$W/otherts" -o "$W/out/x.img"

# --- images -----------------------------------------------------------------
expect_fail "run: a missing image" 125 "no such image" \
	"$BEAMRUN" run "$W/missing.img"
expect_fail "run: a file that is not an image" 125 "not a beamrun image" \
	"$BEAMRUN" run "$W/notimage.img"
check "bake: a good image" \
	"$BEAMRUN" bake "$W/app" -o "$W/good.img"
check "bake: the image names its emulator (emu when built, else jit)" \
	bash -c "'$BEAMRUN' inspect '$W/good.img' | grep -Eq '^emulator: +(emu|jit)$'"
check "bake: the image's init takes stops on the stop line" \
	bash -c "'$BEAMRUN' inspect '$W/good.img' | grep -Eq '^stop: +the stop line'"
# Its header without "stop_line" (as before it existed): ACPI's button.
cp "$W/good.img" "$W/old.img"
perl -pi -e 's/"stop_line"/"stop_lin_"/' "$W/old.img"
check "inspect: an image from before the stop line keeps ACPI's button" \
	bash -c "'$BEAMRUN' inspect '$W/old.img' | grep -Eq '^stop: +ACPI'"
check "run: such an image boots with ACPI, its devices unnamed" \
	bash -c "'$BEAMRUN' run --dry-run '$W/old.img' |
		grep -v -e acpi=off -e virtio_mmio -e stop0 -e STOP | grep -q ' -M microvm '"
check "run --dry-run: the stop line and the guest's \"stop\", as run has them" \
	bash -c "'$BEAMRUN' run --dry-run '$W/good.img' |
		grep -F 'path=STOP-SOCKET,server=on' | grep -F '\"stop\":\"/dev/ttyS1\"' |
		grep -q ' acpi=off '"
check "bake --flavor jit: the host's emulator" \
	bash -c "'$BEAMRUN' bake --flavor jit '$W/app' -o '$W/jit.img' &&
		'$BEAMRUN' inspect '$W/jit.img' | grep -Eq '^emulator: +jit$'"
head -c 100000 "$W/good.img" >"$W/truncated.img"
expect_fail "run: a truncated image" 125 "truncated image" \
	"$BEAMRUN" run "$W/truncated.img"
cp "$W/good.img" "$W/flipped.img"
size=$(stat -c %s "$W/flipped.img")
printf '\377' | dd of="$W/flipped.img" bs=1 seek=$((size - 5000)) \
	conv=notrunc status=none
expect_fail "run: a damaged image" 125 "damaged" \
	"$BEAMRUN" run "$W/flipped.img"

"$BEAMRUN" bake "$ROOT/examples/helloworld" -o "$W/hello-args.img" >/dev/null

# --- launcher options ---------------------------------------------------------
G="$W/good.img"
expect_fail "qemu: malformed -b" 125 "expected IMAGE" \
	"$BEAMRUN" qemu -b ",/mnt" "$G"
expect_fail "qemu: -b with a missing image" 125 "no such file" \
	"$BEAMRUN" qemu -b "$W/nothere.iso,/mnt" "$G"
expect_fail "qemu: -b with a relative mount point" 125 "absolute path" \
	"$BEAMRUN" qemu -b "$W/notimage.img,mnt" "$G"
expect_fail "qemu: -b with no known file system" 125 "no file system" \
	"$BEAMRUN" qemu -b "$W/notimage.img,/mnt" "$G"
expect_fail "qemu: malformed -I" 125 "expected TAG,BASE,BACKEND" \
	"$BEAMRUN" qemu -I "net0,vioif" "$G"
expect_fail "qemu: -I with an unknown backend" 125 "not a qemu network" \
	"$BEAMRUN" qemu -I "net0,vioif,-net bogus" "$G"
expect_fail "qemu: -W for an undefined tag" 125 "no interface tagged" \
	"$BEAMRUN" qemu -W "net0,inet,dhcp" "$G"
expect_fail "qemu: -W address without a prefix" 125 "needs a prefix" \
	"$BEAMRUN" qemu -I "net0,vioif,-net user" \
	-W "net0,inet,static,10.0.2.15" "$G"
expect_fail "qemu: -W gateway outside the subnet" 125 "outside" \
	"$BEAMRUN" qemu -I "net0,vioif,-net user" \
	-W "net0,inet,static,10.0.2.15/24,10.0.3.2" "$G"
expect_fail "qemu: -W with an unknown method" 125 "method must be" \
	"$BEAMRUN" qemu -I "net0,vioif,-net user" -W "net0,inet,bootp" "$G"
expect_fail "qemu: two interfaces with one address" 125 "both have" \
	"$BEAMRUN" qemu -I "a,vioif,-net user" -I "b,vioif,-net user" \
	-W "a,inet,static,10.0.2.15/24" -W "b,inet,static,10.0.2.15/24" "$G"
expect_fail "qemu: -M that is not a number" 125 "expected a number" \
	"$BEAMRUN" qemu -M lots "$G"
expect_fail "qemu: unknown option" 125 "unknown option" \
	"$BEAMRUN" qemu -Z "$G"
expect_fail "qemu: -d is Xen only" 125 "not supported" \
	"$BEAMRUN" qemu -d "$G"
# --- other platforms: xen, iso, disk, virsh-xml (rumprun's option table) ------
expect_fail "xen: -b with a missing volume" 125 "-b $W/nosuch.img.*no such file" \
	"$BEAMRUN" -D xen -b "$W/nosuch.img,/data" "$G"
expect_fail "iso: -b with a missing volume" 125 "no such file" \
	"$BEAMRUN" iso -b "$W/nosuch.img,/data" "$G" -o "$W/out/x.iso"
expect_fail "iso: -D (dump) as rumprun refuses it" 2 "-D is not supported on iso" \
	"$BEAMRUN" -D iso "$G" -o "$W/out/x.iso"
expect_fail "iso: -D PORT (debugger)" 125 "-D is not supported on iso" \
	"$BEAMRUN" iso -D 1234 "$G" -o "$W/out/x.iso"
expect_fail "iso: -M (memory is the hypervisor's)" 125 "-M is not supported on iso" \
	"$BEAMRUN" iso -M 128 "$G" -o "$W/out/x.iso"
expect_fail "iso: -i" 125 "-i is not supported on iso" \
	"$BEAMRUN" iso -i "$G" -o "$W/out/x.iso"
expect_fail "iso: -g" 125 "-g is not supported on iso" \
	"$BEAMRUN" iso -g "-S" "$G" -o "$W/out/x.iso"
expect_fail "disk: -M" 125 "-M is not supported on disk" \
	"$BEAMRUN" disk -M 128 "$G" -o "$W/out/x.img"
expect_fail "disk: -p" 125 "-p is not supported on disk" \
	"$BEAMRUN" disk -p "$G" -o "$W/out/x.img"
expect_fail "disk: an extension that names no disk format" 125 \
	"no disk format is named .foo" \
	"$BEAMRUN" disk "$G" -o "$W/out/x.foo"
expect_fail "iso: -I with a qemu backend" 125 "TAG,BASE only" \
	"$BEAMRUN" iso -I "n,vioif,-net user" "$G" -o "$W/out/x.iso"
expect_fail "iso: -d is Xen only" 125 "-d is not supported on iso" \
	"$BEAMRUN" iso -d "$G" -o "$W/out/x.iso"
expect_fail "iso: not an image" 125 "not a beamrun image" \
	"$BEAMRUN" iso "$W/notimage.img" -o "$W/out/x.iso"
expect_fail "xen: -g (no qemu under xl)" 125 "-g is not supported on xen" \
	"$BEAMRUN" -D xen -g "-S" "$G"
expect_fail "xen: -I with virtio's base" 125 "not xenif" \
	"$BEAMRUN" -D xen -I "n,vioif,bridge=xenbr0" "$G"
expect_fail "xen: -W for an undefined tag" 125 "no interface tagged" \
	"$BEAMRUN" -D xen -W "n,inet,dhcp" "$G"
expect_fail "virsh-xml: -i" 125 "-i is not supported on virsh-xml" \
	"$BEAMRUN" virsh-xml -i "$G"
expect_fail "virsh-xml: a tap backend" 125 "user\\[,hostfwd" \
	"$BEAMRUN" virsh-xml -I "n,vioif,tap" "$G"
expect_fail "virsh-xml: -b with a missing volume" 125 "no such file" \
	"$BEAMRUN" virsh-xml -b "$W/nosuch.img" "$G"
expect_fail "virsh-xml: output in a missing directory" 125 "cannot write" \
	"$BEAMRUN" virsh-xml "$G" -o "$W/nodir/x.xml"
check "other platforms: the failures left no file behind" \
	test -z "$(ls -A "$W/out")"
# The good path, no VM: the vmlinux comes out of the bzImage.
check "xen: -D prints a PVH configuration with the vmlinux" \
	bash -c "'$BEAMRUN' -D xen '$G' >'$W/xen.out' &&
		 grep -qx 'type = \"pvh\"' '$W/xen.out' &&
		 grep -q '^kernel = \".*/vmlinux-' '$W/xen.out'"
check "run --pvh --dry-run names the vmlinux" \
	bash -c "'$BEAMRUN' run --pvh --dry-run '$G' | grep -q -- '-kernel [^ ]*/vmlinux-'"
# The host's TSC rate is measured once per host boot and then read from
# the cache: an entry of this boot is used as it is; one of another boot
# is measured again and replaced.
TC=$W/tsc-cache
mkdir -p "$TC"
boot_id=$(cat /proc/sys/kernel/random/boot_id)
echo "$boot_id 1234567" >"$TC/tsc-khz"
check "run: the TSC rate of this host boot comes from the cache" \
	bash -c "BEAMRUN_CACHE_DIR='$TC' '$BEAMRUN' run --dry-run '$G' | grep -q ' tsc_early_khz=1234567 '"
echo "not-this-boot 1234567" >"$TC/tsc-khz"
check "run: a cached TSC rate of another host boot is measured again" \
	bash -c "BEAMRUN_CACHE_DIR='$TC' '$BEAMRUN' run --dry-run '$G' | grep -q ' tsc_early_khz=[0-9]* ' &&
		 ! BEAMRUN_CACHE_DIR='$TC' '$BEAMRUN' run --dry-run '$G' | grep -q 'tsc_early_khz=1234567' &&
		 grep -q '^$boot_id [0-9]*\$' '$TC/tsc-khz'"
expect_fail "unknown platform" 2 "unknown command or platform" \
	"$BEAMRUN" xenon -i "$G"
expect_fail "run: bad -p" 125 "HOSTPORT" \
	"$BEAMRUN" run -p 99999 "$G"
expect_fail "run: -p with --net none" 125 "cannot go with --net none" \
	"$BEAMRUN" run --net none -p 8080 "$G"
expect_fail "run: bad BEAMRUN_ACCEL" 125 "expected tcg or kvm" \
	env BEAMRUN_ACCEL=hvf "$BEAMRUN" run "$G"
expect_fail "run: unbalanced quote in --erl-args" 125 "unterminated" \
	"$BEAMRUN" run --erl-args "-s 'x" "$G"
long=$(head -c 3000 /dev/zero | tr '\0' x)
expect_fail "run: a configuration too long for the kernel" 125 "too long" \
	"$BEAMRUN" run --dry-run -e "LONG=$long" "$G"

# --- volumes -----------------------------------------------------------------
expect_fail "volume iso: a missing directory" 1 "no such directory" \
	"$BEAMRUN" volume iso "$W/nonexistent" "$W/out/v.iso"
expect_fail "volume create: a bad size" 2 "size in MiB" \
	"$BEAMRUN" volume create "$W/out/v.img" big
expect_fail "volume: unknown kind" 2 "unknown kind" \
	"$BEAMRUN" volume floppy "$W/out/v.img"
check "volume: failures left no file behind" \
	test -z "$(ls -A "$W/out")"

# --- found by a newcomer trying to break it ---------------------------------
expect_fail "run: -m below the minimum" 125 "too little" \
	"$BEAMRUN" run -m 27 "$G"
expect_fail "run: --swap 0 (off is spelled off)" 125 "--swap 0: expected a size" \
	"$BEAMRUN" run --swap 0 "$G"
expect_fail "run: --swap with a unit it does not know" 125 "--swap 5T" \
	"$BEAMRUN" run --swap 5T "$G"
check "run --swap 48 puts 48 MiB of swap in the guest's configuration" \
	bash -c "'$BEAMRUN' run --swap 48 --dry-run '$G' | grep -q '\"swap\":48[,}]'"
check "run --swap off turns it off there" \
	bash -c "'$BEAMRUN' run --swap off --dry-run '$G' | grep -q '\"swap\":0[,}]'"
check "run without --swap leaves it to the guest (no key)" \
	bash -c "! '$BEAMRUN' run --dry-run '$G' | grep -q '\"swap\"'"
# Arguments after the image go to start/1: refused before boot when the
# module has only start/0 (it failed in the guest with undef).
expect_fail "run: arguments for a module without start/1" 125 \
	"helloworld exports no start/1 to take the arguments after the image \(a \.\.\.\)" \
	"$BEAMRUN" run "$W/hello-args.img" a b
check "inspect says so" bash -c "'$BEAMRUN' inspect '$W/hello-args.img' |
	grep -qx \"run's ARGs:   refused (no start/1)\""
# Outputs never replace inputs.
cp "$ROOT/examples/helloworld/helloworld.erl" "$W/hsrc.erl"
mkdir -p "$W/hsrc" && cp "$W/hsrc.erl" "$W/hsrc/helloworld.erl"
expect_fail "bake: -o naming a source file is refused" 1 \
	"helloworld.erl: exists and is not a beamrun image; not replacing it" \
	"$BEAMRUN" bake "$W/hsrc" -o "$W/hsrc/helloworld.erl"
check "bake: ... and the source file is intact" \
	cmp -s "$W/hsrc.erl" "$W/hsrc/helloworld.erl"
cp "$G" "$W/out/in.img"
expect_fail "disk: -o naming the input image is refused" 125 \
	"that is a beamrun image \(the input\); not replacing it" \
	"$BEAMRUN" disk "$W/out/in.img" -o "$W/out/in.img"
check "disk: ... and the image is intact" cmp -s "$G" "$W/out/in.img"
expect_fail "iso: -o with a disk format's extension" 125 \
	"an ISO is named .iso" "$BEAMRUN" iso "$G" -o "$W/out/y.qcow2"
mkdir -p "$W/vdir" && echo x >"$W/vdir/a"
expect_fail "volume iso: the output inside the directory it packs" 1 \
	"is inside .*vdir, which goes into it" \
	"$BEAMRUN" volume iso "$W/vdir" "$W/vdir/out.iso"
rm -f "$W/out/in.img"
expect_fail "bake: a file where a directory belongs" 1 "not a directory" \
	"$BEAMRUN" bake "$G" -o "$W/out/x.img"
# Sizes the guest or the host cannot have, refused before boot.
expect_fail "run: --swap above 4 times the RAM" 125 \
	"--swap 4096: more than 4 times the guest's 28 MiB" \
	"$BEAMRUN" run --swap 4G -m 28 "$G"
expect_fail "run: -m above the host's RAM and swap" 125 \
	"more than this host has" "$BEAMRUN" run -m 1024G "$G"
expect_fail "run: -m above 1024G" 125 "at most 1024G" \
	"$BEAMRUN" run -m 4T "$G"
expect_fail "run: -e ERL_FLAGS with an unbalanced quote" 125 \
	"-e ERL_FLAGS: unterminated \" quote" \
	"$BEAMRUN" run -e 'ERL_FLAGS=+S 1 "open' "$G"
# One line: the accelerator is said only once qemu is about to start.
expect_fail "run: an unusable BEAMRUN_CACHE_DIR, in one line" 125 \
	"mkdir /proc/nope" env BEAMRUN_CACHE_DIR=/proc/nope "$BEAMRUN" run "$G"
expect_fail "run: the same host port twice" 125 "forwarded twice" \
	"$BEAMRUN" run -p 18123 -p 18123:80 "$G"
"$BEAMRUN" volume create "$W/d.img" 8M
expect_fail "run: one volume attached twice" 125 "attached twice" \
	"$BEAMRUN" run -b "$W/d.img,/data" -b "$W/d.img,/mnt" "$G"
expect_fail "qemu: -I with a base other than vioif" 125 "is not vioif" \
	"$BEAMRUN" qemu -I "if,xenif,-net user" "$G"
expect_fail "-D before a command other than qemu or kvm" 2 "goes before" \
	"$BEAMRUN" -D run "$G"
# A second newcomer's finds (2026-12-04): FIFOs are refused, not waited
# on; a stop signal reaches a bake that is blocked in one of its tools.
mkfifo "$W/in.fifo"
expect_fail "run: -b with a device, not a regular file" 125 \
	"/dev/null: not a regular file" "$BEAMRUN" run -b /dev/null,/srv "$G"
expect_fail "run: an image that is a FIFO" 125 "not a regular file" \
	timeout 20 "$BEAMRUN" run "$W/in.fifo"
expect_fail "run: --cookie-file that is a FIFO" 125 "not a regular file" \
	timeout 20 "$BEAMRUN" run --cookie-file "$W/in.fifo" "$G"
expect_fail "bake: --cacerts that is a FIFO" 1 "not a regular file" \
	timeout 20 "$BEAMRUN" bake --cacerts "$W/in.fifo" "$W/app" -o "$W/out/x.img"
expect_fail "run: a second IPv4 -W for one interface" 125 \
	"has an IPv4 -W already" "$BEAMRUN" run --dry-run \
	-I s,vioif,socket,listen=127.0.0.1:7100 \
	-W s,inet,static,10.0.5.1/24 -W s,inet,static,10.0.5.2/24 "$G"
expect_fail "run: -W with the subnet's broadcast address" 125 \
	"broadcast address of the subnet" "$BEAMRUN" run --dry-run \
	-I s,vioif,socket,listen=127.0.0.1:7100 -W s,inet,static,10.0.5.255/24 "$G"
mkdir -p "$W/fifoapp"
mkfifo "$W/fifoapp/fifoapp.erl"
stage_before=$(ls -d /tmp/beamrun-bake-* 2>/dev/null | wc -l)
"$BEAMRUN" bake "$W/fifoapp" -o "$W/out/x.img" >/dev/null 2>"$W/fifo.err" &
bake_pid=$!
sleep 2
kill -TERM "$bake_pid"
t0=$(date +%s)
wait "$bake_pid"
rc=$?
check "bake: SIGTERM while erlc blocks stops it (status $rc) within 5 s" \
	test "$rc" != 0 -a $(($(date +%s) - t0)) -le 5
check "bake: ... says it was interrupted and leaves no stage behind" \
	bash -c "grep -q 'interrupted' '$W/fifo.err' &&
		 test \$(ls -d /tmp/beamrun-bake-* 2>/dev/null | wc -l) -le $stage_before"
check "bake: ... and no erlc of its own runs on" \
	bash -c "! pgrep -f '[e]rlc.*fifoapp' >/dev/null"
mkfifo "$W/out/fifo"
expect_fail "bake: an output that is not a regular file" 1 \
	"not a regular file" "$BEAMRUN" bake "$W/app" -o "$W/out/fifo"
expect_fail "volume create: an output that is not a regular file" 1 \
	"not a regular file" "$BEAMRUN" volume create "$W/out/fifo" 8M
rm -f "$W/out/fifo"
expect_fail "bake: an empty output name" 1 "empty output" \
	"$BEAMRUN" bake "$W/app" -o ""
expect_fail "volume iso: a prefix with .." 2 "relative path" \
	"$BEAMRUN" volume iso --prefix a/../../b "$W/app" "$W/out/v.iso"
expect_fail "volume create: too small for ext4" 2 "at least 8M" \
	"$BEAMRUN" volume create "$W/out/v.img" 1M
mkdir -p "$W/colon"
cp "$G" "$W/colon/a:b.img"
check "run: an image path with a colon reaches qemu whole" \
	bash -c "cd '$W/colon' && '$BEAMRUN' run --dry-run a:b.img | grep -q 'file=/'"
check "inspect --help" "$BEAMRUN" inspect --help
expect_fail "inspect: an unknown option is not taken for an image" 2 \
	"unknown option --bogus" "$BEAMRUN" inspect --bogus
mkdir -p "$W/garbage"
head -c 500 /dev/urandom >"$W/garbage/garbage.beam"
expect_fail "bake: a .beam file that is garbage" 1 "not a usable .beam" \
	"$BEAMRUN" bake "$W/garbage" -o "$W/out/x.img"
expect_fail "bake: an OTP application that is not installed" 1 \
	"nosuch is not installed" \
	"$BEAMRUN" bake --app nosuch "$W/app" -o "$W/out/x.img"
expect_fail "bake hw_virtio without an image" 2 "expected the image" \
	"$BEAMRUN" bake hw_virtio
expect_fail "run: --ro with no -b after it" 125 "no -b follows" \
	"$BEAMRUN" run --ro "$G"
check "no file left behind by the failures above" \
	test -z "$(ls -A "$W/out")"

# --- detached instances -----------------------------------------------------
expect_fail "run: --name without -d" 125 "add -d" \
	"$BEAMRUN" run --name web "$G"
expect_fail "run: an instance name with a slash" 125 "--name a/b: use letters" \
	"$BEAMRUN" run -d --name a/b "$G"
expect_fail "run: an instance name starting with a dot" 125 "--name .x" \
	"$BEAMRUN" run -d --name .x "$G"
expect_fail "stop: no such instance" 1 "no running instance named nosuch" \
	"$BEAMRUN" stop nosuch
expect_fail "kill: no such instance" 1 "no running instance named nosuch" \
	"$BEAMRUN" kill nosuch
expect_fail "stop: no name" 2 "no instance named" "$BEAMRUN" stop
expect_fail "stop: a name that is a path" 1 "not an instance name" \
	"$BEAMRUN" stop ../etc
expect_fail "logs: no such instance" 1 "no instance named nosuch" \
	"$BEAMRUN" logs nosuch
expect_fail "logs: two names" 2 "one instance name" \
	"$BEAMRUN" logs a b
expect_fail "logs: an unknown option" 2 "unknown option" \
	"$BEAMRUN" logs -x a
expect_fail "wait: no such instance" 1 "no instance named nosuch" \
	"$BEAMRUN" wait nosuch
expect_fail "rm: no such instance" 1 "no instance named nosuch" \
	"$BEAMRUN" rm nosuch
expect_fail "ps: an unknown argument" 2 "unexpected argument" \
	"$BEAMRUN" ps -z
mkdir -p "$W/shared-state"
chmod 777 "$W/shared-state"
expect_fail "ps: a state directory others can write" 1 "not a private" \
	env BEAMRUN_STATE_DIR="$W/shared-state" "$BEAMRUN" ps
# What a host crash leaves: a directory whose lock nobody holds and
# that has no exit status. ps says so and cleans it up.
mkdir -p "$BEAMRUN_STATE_DIR/crashed"
: >"$BEAMRUN_STATE_DIR/crashed/lock"
printf '{"name":"crashed","pid":1,"qemu_pid":1}' \
	>"$BEAMRUN_STATE_DIR/crashed/info.json"
"$BEAMRUN" ps >"$W/ps.out" 2>"$W/ps.err"
check "ps: state left by a crash is reported" \
	grep -q "^beamrun: crashed: its supervisor is gone" "$W/ps.err"
check "ps: state left by a crash is cleaned up" \
	test ! -e "$BEAMRUN_STATE_DIR/crashed"
check "ps: it is not listed" bash -c "! grep -q crashed '$W/ps.out'"
# An instance that ended keeps its log and status until rm.
mkdir -p "$BEAMRUN_STATE_DIR/ended"
: >"$BEAMRUN_STATE_DIR/ended/lock"
echo 3 >"$BEAMRUN_STATE_DIR/ended/exit"
echo "last words" >"$BEAMRUN_STATE_DIR/ended/console.log"
check "ps -a: an ended instance shows its status" \
	bash -c "'$BEAMRUN' ps -a | grep -q '^ended .*exited (3)'"
check "ps: an ended instance is not running" \
	bash -c "! '$BEAMRUN' ps | grep -q '^ended'"
check "logs: an ended instance's console" \
	bash -c "'$BEAMRUN' logs ended | grep -qx 'last words'"
"$BEAMRUN" wait ended >"$W/wait.out" 2>&1
check "wait: an ended instance's status is its exit code" \
	test "$?" = 3 -a "$(cat "$W/wait.out")" = 3
check "rm: an ended instance is forgotten" \
	bash -c "'$BEAMRUN' rm ended && test ! -e '$BEAMRUN_STATE_DIR/ended'"
# A running instance: its supervisor holds the lock (flock stands in).
mkdir -p "$BEAMRUN_STATE_DIR/busy"
: >"$BEAMRUN_STATE_DIR/busy/lock"
flock "$BEAMRUN_STATE_DIR/busy/lock" sleep 30 &
holder=$!
sleep 0.3
expect_fail "rm: a running instance" 1 "busy is running" \
	"$BEAMRUN" rm busy
"$BEAMRUN" run -d --name busy "$G" >"$W/busy.out" 2>"$W/busy.err"
check "run -d: a name that is running is refused" test "$?" = 125
check "run -d: ... saying so" grep -q "^beamrun: an instance named busy is already running" "$W/busy.err"
check "run -d: ... and printing no name" test ! -s "$W/busy.out"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
rm -rf "$BEAMRUN_STATE_DIR/busy"
PATH=/nonexistent "$BEAMRUN" run -d --name noqemu --accel tcg "$G" \
	>/dev/null 2>"$W/noqemu.err"
rc=$?
check "run -d: a missing qemu exits 126" test "$rc" = 126
check "run -d: a missing qemu is named" \
	grep -q "^beamrun: qemu-system-x86_64: not found" "$W/noqemu.err"
# qemu under TCG runs without transparent huge pages (the launcher's
# prctl, kept across exec); under KVM with the host's setting. A fake
# qemu records what its process was given and exits.
mkdir -p "$W/fakeqemu"
cat >"$W/fakeqemu/qemu-system-x86_64" <<EOF
#!/bin/sh
grep '^THP_enabled:' /proc/\$\$/status >"$W/fakeqemu/thp"
echo "\$*" >"$W/fakeqemu/argv"
EOF
chmod +x "$W/fakeqemu/qemu-system-x86_64"
host_thp=$(awk '/^THP_enabled:/ { print $2 }' /proc/self/status)
for acc in tcg kvm; do
	if [ "$host_thp" != 1 ]; then
		ok "run --accel $acc: qemu's THP_enabled # SKIP this shell has THP_enabled ${host_thp:-absent}, 0 would prove nothing"
		continue
	fi
	rm -f "$W/fakeqemu/thp" "$W/fakeqemu/argv"
	PATH="$W/fakeqemu:$PATH" "$BEAMRUN" run --accel $acc "$G" \
		>/dev/null 2>&1 </dev/null
	want=0
	[ $acc = kvm ] && want=$host_thp
	check "run --accel $acc: qemu's THP_enabled is $want" \
		grep -qx "THP_enabled:[[:space:]]*$want" "$W/fakeqemu/thp"
	check "run --accel $acc: ... and it was that qemu's accelerator" \
		grep -q -- "-accel $acc" "$W/fakeqemu/argv"
done
expect_fail "run: an unknown --net" 125 "expected user, dhcp or none" \
	"$BEAMRUN" run --net bridge "$G"

# --- distribution and clusters ------------------------------------------------
expect_fail "run: --cookie without --node" 125 "add --node" \
	"$BEAMRUN" run --cookie abc "$G"
expect_fail "run: --dist-port out of range" 125 "dist-port" \
	"$BEAMRUN" run --dist-port 70000 "$G"
expect_fail "run: a node name with a space" 125 "the name part takes" \
	"$BEAMRUN" run --node "a b@127.0.0.1" "$G"
expect_fail "run: a node with an empty host" 125 "empty host" \
	"$BEAMRUN" run --node "app@" "$G"
expect_fail "run: a node on something that is not an interface" 125 "after @% comes an interface" \
	"$BEAMRUN" run --node "app@%wlan0" "$G"
expect_fail "run: a cookie with a space" 125 "without spaces" \
	"$BEAMRUN" run --node app --cookie "a b" "$G"
expect_fail "run: a missing cookie file" 125 "cookie-file .*No such file" \
	"$BEAMRUN" run --node app --cookie-file "$W/nocookie" "$G"
: >"$W/emptycookie"
expect_fail "run: an empty cookie file" 125 "cookie-file .*1 to 255" \
	"$BEAMRUN" run --node app --cookie-file "$W/emptycookie" "$G"
expect_fail "run: --lan without an address" 125 "expected SWITCH,ADDR/BITS" \
	"$BEAMRUN" run --lan "$W" "$G"
expect_fail "run: --lan on a directory that is no switch" 125 "not a vde_switch" \
	"$BEAMRUN" run --lan "$W/nosw,10.0.3.1/24" "$G"
expect_fail "run: --lan with an address without a prefix" 125 "needs a prefix" \
	"$BEAMRUN" run --lan "$W,10.0.3.1" "$G"
# run's own network flags: the same checks before anything starts.
expect_fail "run: -W address without a prefix" 125 "needs a prefix" \
	"$BEAMRUN" run -I "s,vioif,socket,listen=127.0.0.1:1" \
	-W "s,inet,static,10.0.5.1" "$G"
expect_fail "run: -W gateway outside the subnet" 125 "gateway 10.0.6.1 is outside 10.0.5.1/24" \
	"$BEAMRUN" run -I "s,vioif,socket,listen=127.0.0.1:1" \
	-W "s,inet,static,10.0.5.1/24,10.0.6.1" "$G"
expect_fail "run: -W IPv6 gateway outside the subnet" 125 "outside fd00:9::15/64" \
	"$BEAMRUN" run -I "s,vioif,user,ipv6=on" \
	-W "s,inet6,static,fd00:9::15/64,fd00:8::2" "$G"
expect_fail "run: -W for an undefined tag" 125 "no interface tagged \"nosuch\"" \
	"$BEAMRUN" run -W "nosuch,inet,dhcp" "$G"
expect_fail "run: -I with a tag used twice" 125 "tag s is already used" \
	"$BEAMRUN" run -I "s,vioif,user" -I "s,vioif,user" "$G"
expect_fail "run: two interfaces with one address" 125 \
	"interfaces eth1 \(tag a\) and eth2 \(tag b\) both have address 10.0.5.1" \
	"$BEAMRUN" run -I "a,vioif,socket,listen=127.0.0.1:1" \
	-I "b,vioif,socket,listen=127.0.0.1:2" \
	-W "a,inet,static,10.0.5.1/24" -W "b,inet,static,10.0.5.1/24" "$G"
expect_fail "run: an interface at the user network's own address" 125 \
	"interfaces eth0 and eth1 \(tag a\) both have address 10.0.2.15" \
	"$BEAMRUN" run -I "a,vioif,socket,listen=127.0.0.1:1" \
	-W "a,inet,static,10.0.2.15/24" "$G"
expect_fail "run: a --lan at the user network's own address" 125 "both have address 10.0.2.15" \
	"$BEAMRUN" run --lan "$W,10.0.2.15/24" "$G"
expect_fail "run: two interfaces with one IPv6 address" 125 \
	"interfaces eth0 and eth1 \(tag a\) both have address fd00::15" \
	"$BEAMRUN" run -W eth0,inet6,static,fd00::15/64 -I "a,vioif,user" \
	-W "a,inet6,static,fd00::15/64" "$G"
expect_fail "run: two interfaces with DHCP" 125 "only one interface can use DHCP" \
	"$BEAMRUN" run --net dhcp -I "a,vioif,user" -W "a,inet,dhcp" "$G"
expect_fail "run: --dns that is no address" 125 "--dns ns1: ns1 is not an IPv4 or IPv6 address" \
	"$BEAMRUN" run --dns ns1 "$G"
expect_fail "run: --dns with a bad port" 125 "--dns 10.0.2.2#0: port must be 1-65535" \
	"$BEAMRUN" run --dns "10.0.2.2#0" "$G"
expect_fail "run: five --dns" 125 "at most 4 nameservers" \
	"$BEAMRUN" run --dns 10.0.2.3 --dns 10.0.2.4 --dns 10.0.2.5 \
	--dns 10.0.2.6 --dns 10.0.2.7 "$G"
expect_fail "run: --add-host without an address" 125 "expected NAME:ADDR" \
	"$BEAMRUN" run --add-host db "$G"
expect_fail "run: --add-host with a bad name" 125 "a_b is not a valid host name" \
	"$BEAMRUN" run --add-host a_b:10.0.2.9 "$G"
expect_fail "run: --add-host with a bad address" 125 "10.0.2 is not an IPv4 or IPv6" \
	"$BEAMRUN" run --add-host db:10.0.2 "$G"
expect_fail "cluster: no subcommand" 2 "expected up or down" \
	"$BEAMRUN" cluster
expect_fail "cluster up: no image" 125 "no image given" \
	"$BEAMRUN" cluster up -n 2
expect_fail "cluster up: -n 0" 125 "-n 0: expected 1-32" \
	"$BEAMRUN" cluster up -n 0 "$G"
expect_fail "cluster up: --node with a host" 125 "give the name only" \
	"$BEAMRUN" cluster up --node a@b "$G"
expect_fail "cluster up: a bad subnet" 125 "--subnet 10.0: expected" \
	"$BEAMRUN" cluster up --subnet 10.0 "$G"
expect_fail "cluster up: -d" 125 "not for a cluster" \
	"$BEAMRUN" cluster up -d "$G"
expect_fail "cluster down: no such cluster" 1 "no cluster named nosuch" \
	"$BEAMRUN" cluster down nosuch
check "cluster: the failures left no cluster behind" \
	bash -c "! ls -A '$BEAMRUN_STATE_DIR' | grep -q '^.cluster'"

finish
