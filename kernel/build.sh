#!/bin/sh
# Build the beamrun guest kernel (bzImage + stripped vmlinux) from linux-source-6.1 + kernel/beamrun.config,
# with the patches in kernel/patches/ applied (each says why at its top).
set -eu

TARBALL=/usr/src/linux-source-6.1.tar.xz
HERE=$(cd "$(dirname "$0")" && pwd)
FRAG="$HERE/beamrun.config"
SELF="$HERE/build.sh"
PATCHES=$(ls "$HERE"/patches/*.patch 2>/dev/null || true)
OUT=${1:-"$HERE/../build/kernel"}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC="$OUT/src"

# Cache: the stamp is the sha256 of the fragment, this script and the patches.
stamp=$(cat "$FRAG" "$SELF" $PATCHES | sha256sum | cut -d' ' -f1)
patched=$(cat /dev/null $PATCHES | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/bzImage" ] && [ -f "$OUT/bzImage.stamp" ] &&
   [ "$(cat "$OUT/bzImage.stamp")" = "$stamp" ]; then
	echo "kernel: up to date"
	exit 0
fi

if [ ! -f "$TARBALL" ]; then
	echo "kernel: $TARBALL not found: apt-get install linux-source-6.1" >&2
	exit 1
fi

start=$(date +%s)

# Extract and patch once; a half-finished extraction (no marker) or one
# made with other patches (the marker holds their sha256) is redone.
if [ "$(cat "$SRC/.beamrun-extracted" 2>/dev/null)" != "$patched" ]; then
	echo "kernel: extracting $TARBALL into $SRC (once, ~1 min)"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$TARBALL" -C "$SRC.tmp" --strip-components=1
	for p in $PATCHES; do
		echo "kernel: applying $(basename "$p")"
		patch -d "$SRC.tmp" -p1 -s <"$p" || {
			echo "kernel: $p does not apply" >&2
			exit 1
		}
	done
	mv "$SRC.tmp" "$SRC"
	echo "$patched" >"$SRC/.beamrun-extracted"
fi

# -Os with memset/memcpy inlined as 8-byte string instructions (see
# CONFIG_CC_OPTIMIZE_FOR_SIZE in the fragment).
MAKE="make -C $SRC ARCH=x86_64 KCFLAGS=-mstringop-strategy=rep_8byte KBUILD_BUILD_USER=beamrun KBUILD_BUILD_HOST=beamrun"
LOG="$OUT/build.log"
: >"$LOG"

echo "kernel: configuring (tinyconfig + $(basename "$FRAG"))"
if ! { $MAKE tinyconfig &&
       (cd "$SRC" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config "$FRAG") &&
       $MAKE olddefconfig; } >>"$LOG" 2>&1; then
	tail -n 20 "$LOG" >&2
	echo "kernel: configuration failed (full log: $LOG)" >&2
	exit 1
fi

# Every setting of the fragment must survive olddefconfig (unmet dependencies
# silently drop symbols).
bad=$(grep -E '^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set)$' "$FRAG" |
	while IFS= read -r line; do
		case $line in
		"# "*)
			sym=${line#"# "}
			sym=${sym%% *}
			if grep -q "^$sym=" "$SRC/.config"; then echo "  $line (but .config has it set)"; fi
			;;
		*)
			grep -qxF "$line" "$SRC/.config" || echo "  $line (.config: $(grep -E "^(# )?${line%%=*}[= ]" "$SRC/.config" || echo 'absent'))"
			;;
		esac
	done)
if [ -n "$bad" ]; then
	echo "kernel: these fragment settings did not survive olddefconfig:" >&2
	echo "$bad" >&2
	exit 1
fi

# Build, printing one progress line per 250 make steps and every error line.
jobs=$(nproc 2>/dev/null || echo 2)
echo "kernel: building bzImage with -j$jobs (log: $LOG)"
rcfile="$OUT/.make.rc"
{ $MAKE -j"$jobs" bzImage 2>&1; echo $? >"$rcfile"; } | tee -a "$LOG" | awk '
	/ error: |Error [0-9]|\*\*\*/ { print "kernel: " $0; next }
	/^  [A-Z]/ { n++; if (n % 250 == 0) { printf "kernel: %5d steps, %s\n", n, $0; fflush() } }
'
rc=$(cat "$rcfile")
rm -f "$rcfile"
if [ "$rc" -ne 0 ]; then
	tail -n 30 "$LOG" >&2
	echo "kernel: make bzImage failed (full log: $LOG)" >&2
	exit 1
fi

cp "$SRC/arch/x86/boot/bzImage" "$OUT/bzImage.tmp"
mv "$OUT/bzImage.tmp" "$OUT/bzImage"
# Stripped ELF vmlinux keeps its PVH note: qemu -kernel vmlinux boots it directly.
strip -o "$OUT/vmlinux.tmp" "$SRC/vmlinux"
mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
cp "$SRC/.config" "$OUT/config"
echo "$stamp" >"$OUT/bzImage.stamp"

echo "kernel: done in $(($(date +%s) - start))s: $OUT/bzImage ($(wc -c <"$OUT/bzImage") bytes), $OUT/vmlinux"
