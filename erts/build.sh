#!/bin/sh
# Build the interpreter flavour of the host's Erlang emulator (beam.smp
# without the JIT) from Debian's source package of the installed
# erlang-base, for `beamrun bake --flavor emu`. Output:
#   OUT/ERTS_VSN/beam.smp   stripped, same ERTS version as the host's
#
# Why: Debian ships only the JIT flavour. Under software emulation (TCG)
# the JIT compiles every module beam loads on an emulated CPU, and its
# code area and libstdc++ cost memory and image size; the interpreter
# loads modules without compiling them. The .beam files, NIFs and
# erl_child_setup stay the host's: the flavour is the emulator alone.
#
#   sh erts/build.sh [OUT]      (build/erts by default)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SELF="$HERE/build.sh"
OUT=${1:-"$HERE/../build/erts"}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

say() { echo "erts: $*"; }
die() { echo "erts: $*" >&2; exit 1; }

version=$(dpkg-query -W -f='${Version}' erlang-base 2>/dev/null) ||
	die "erlang-base is not installed: run scripts/install-deps.sh"
root=$(erl -noshell -eval 'io:put_chars(code:root_dir()), halt().') ||
	die "the host's erl does not run"
vsn=$(erl -noshell -eval 'io:put_chars(erlang:system_info(version)), halt().')

# Cache: rebuilt when the package version or this script changes.
stamp=$(printf '%s\n' "$version" | cat - "$SELF" | sha256sum | cut -d' ' -f1)
dest="$OUT/$vsn/beam.smp"
if [ -f "$dest" ] && [ "$(cat "$OUT/$vsn/stamp" 2>/dev/null)" = "$stamp" ]; then
	say "up to date ($dest)"
	exit 0
fi

start=$(date +%s)
# No colon (the epoch) in the path: configure cannot cope with one.
SRC="$OUT/src-$(printf %s "$version" | tr : _)"
LOG="$OUT/build.log"
: >"$LOG"

# Debian's source package, patches applied, once per version.
if [ ! -f "$SRC/.beamrun-extracted" ]; then
	say "fetching Debian's source of erlang $version (apt-get source)"
	dl="$OUT/dl"
	rm -rf "$dl" "$SRC"
	mkdir -p "$dl"
	(cd "$dl" && apt-get source --download-only "erlang=$version") >>"$LOG" 2>&1 ||
		die "apt-get source erlang=$version failed (needs a deb-src entry: run scripts/install-deps.sh; log: $LOG)"
	dpkg-source -x "$dl"/erlang_*.dsc "$SRC" >>"$LOG" 2>&1 ||
		die "dpkg-source could not unpack the source (log: $LOG)"
	rm -rf "$dl"
	: >"$SRC/.beamrun-extracted"
fi

# Only what the emulator itself needs: no JIT, no terminal (the guest
# has no shell), kernel poll, the socket NIF as Debian builds it.
say "configuring (--disable-jit)"
(cd "$SRC" && ./configure --disable-jit --without-termcap \
	--enable-kernel-poll --enable-esock --enable-clock-gettime \
	--enable-shared-zlib --disable-builtin-zlib --without-ssl \
	--without-javac --without-wx --without-odbc) >>"$LOG" 2>&1 ||
	{ tail -n 20 "$LOG" >&2; die "configure failed (log: $LOG)"; }
# zlib linked in statically (Debian's libz.a): beam uses a third of it, so
# the image carries 19 KB less than with libz.so beside it.
mk="$SRC/erts/emulator/$(cd "$SRC" && ./erts/autoconf/config.guess)/Makefile"
sed -i 's/^Z_LIB=-lz$/Z_LIB=-Wl,-Bstatic -lz -Wl,-Bdynamic/' "$mk"
grep -q '^Z_LIB=-Wl,-Bstatic' "$mk" || die "cannot link zlib statically ($mk)"

jobs=$(nproc 2>/dev/null || echo 2)
say "building the emulator with -j$jobs (log: $LOG)"
target=$(cd "$SRC" && ./erts/autoconf/config.guess)
(cd "$SRC/erts/emulator" && ERL_TOP="$SRC" make -j"$jobs" opt FLAVOR=emu) >>"$LOG" 2>&1 ||
	{ tail -n 30 "$LOG" >&2; die "make failed (log: $LOG)"; }

built="$SRC/bin/$target/beam.smp"
[ -f "$built" ] || die "no $built after the build (log: $LOG)"
mkdir -p "$OUT/$vsn"
strip -o "$dest.tmp" "$built"

# It must run the host's own code: start it as erl would, from a
# bin directory that is the host's but for the emulator.
bin="$OUT/$vsn/check-bin"
rm -rf "$bin"
mkdir -p "$bin"
ln -s "$root/erts-$vsn/bin/"* "$bin/"
rm -f "$bin/beam.smp"
ln -s "$dest.tmp" "$bin/beam.smp"
got=$(ROOTDIR="$root" BINDIR="$bin" EMU=beam PROGNAME=erl 	"$bin/erlexec" -noshell -eval \
	'io:format("~s ~s", [erlang:system_info(emu_flavor), erlang:system_info(version)]), halt().' 2>>"$LOG") || got="no start"
rm -rf "$bin"
[ "$got" = "emu $vsn" ] || die "the built emulator does not run the host's OTP ($got; log: $LOG)"
mv "$dest.tmp" "$dest"
echo "$stamp" >"$OUT/$vsn/stamp"
say "done in $(($(date +%s) - start))s: $dest ($(wc -c <"$dest") bytes, ERTS $vsn)"
