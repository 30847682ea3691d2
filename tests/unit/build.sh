#!/bin/sh
# beamrun: build the cmocka unit tests into build/tests/ and run them all.
# Run from the repository root: sh tests/unit/build.sh
set -eu

CC=${CC:-cc}
OUT=build/tests
CFLAGS="-Wall -Wextra -g -fsanitize=address,undefined"
CFLAGS="$CFLAGS -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# The project's own warning exceptions (see the Makefile's WARN).
CFLAGS="$CFLAGS -Wno-format-truncation"
# The host tool's libraries as the Makefile links them, and cmocka.
HOST_LIBS=$(sed -n 's/^HOST_LIBS[[:blank:]]*=[[:blank:]]*//p' Makefile)
HOST_LIBS="${HOST_LIBS:--ljson-c -larchive -lelf -lz} -lcmocka"
INIT_LIBS="-ljson-c -lcmocka"

if [ ! -d host ] || [ ! -d init ] || [ ! -d tests/unit ] || [ ! -d fuzz ]; then
	echo "build.sh: run me from the repository root" >&2
	exit 2
fi
mkdir -p "$OUT"

# The host tool's sources, less its main().
HOST_SRC=
for f in host/*.c; do
	[ "$f" = host/main.c ] || HOST_SRC="$HOST_SRC $f"
done
INIT_SRC="init/config.c init/beam.c init/log.c init/etc.c"

tests=
for t in tests/unit/test_*.c; do
	name=$(basename "$t" .c)
	case $name in
	test_init)
		# shellcheck disable=SC2086
		$CC $CFLAGS -Iinit -o "$OUT/$name" "$t" $INIT_SRC $INIT_LIBS
		;;
	*)
		# shellcheck disable=SC2086
		$CC $CFLAGS -Ihost -o "$OUT/$name" "$t" $HOST_SRC $HOST_LIBS
		;;
	esac
	tests="$tests $name"
done

# The fuzz targets through the replay driver, over their seed corpus
# (fuzz/README.md): built with any compiler, so they cannot rot.
# shellcheck source=fuzz/targets.sh
. fuzz/targets.sh
for t in $FUZZ_TARGETS; do
	# shellcheck disable=SC2046,SC2086
	$CC $CFLAGS $FUZZ_CFLAGS -o "$OUT/fuzz_$t" fuzz/replay.c "fuzz/$t.c" \
	    $(fuzz_sources "$t")
	tests="$tests fuzz_$t"
done

failed=
for name in $tests; do
	echo "==> $name"
	case $name in
	fuzz_*) set -- fuzz/corpus/"${name#fuzz_}"/* ;;
	*) set -- ;;
	esac
	if ! "$OUT/$name" "$@"; then
		failed="$failed $name"
	fi
done

if [ -n "$failed" ]; then
	echo "unit tests failed:$failed" >&2
	exit 1
fi
echo "unit tests passed:$tests"
