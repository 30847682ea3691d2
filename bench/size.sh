#!/bin/bash
# Size: the echoserver image (everything it needs to boot: kernel, init,
# runtime, app) and where its bytes go, beside the host's full OTP tree
# that a conventional install carries. Each part of the image's root file
# system is counted by its on-disk (compressed) size, from dump.erofs.
# Writes a markdown table to build/bench/size.md.
#
#   bash bench/size.sh           bake, measure, then boot the image and
#                                check that it echoes (it is complete)
#   bash bench/size.sh --quick   bake and measure only: a smoke test
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

MODE=full
case ${1:-} in
--quick) MODE=quick ;;
"") ;;
-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) echo "size: unknown argument '$1' (--quick, --help)" >&2; exit 2 ;;
esac

OUT=$ROOT/build/bench
W=$OUT/size
BEAMRUN=$ROOT/build/bin/beamrun
export BEAMRUN_ACCEL=tcg BEAMRUN_CACHE_DIR=$OUT/cache
rm -rf "$W"
mkdir -p "$W"
die() { echo "size: $*" >&2; exit 1; }

IMG=$W/echo.img
"$BEAMRUN" bake "$ROOT/examples/echoserver" -o "$IMG" >"$W/bake.log" 2>&1 ||
	die "bake failed: $(tail -1 "$W/bake.log")"

# The header's JSON gives each part's offset and length.
field() { head -c 4096 "$IMG" | tr -d ' \n' | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
total=$(stat -c %s "$IMG")
klen=$(field kernel_length)
roff=$(field root_offset)
rlen=$(field root_length)
[ -n "$klen" ] && [ -n "$roff" ] && [ -n "$rlen" ] || die "cannot read the image header"
flavor=$("$BEAMRUN" inspect "$IMG" | sed -n 's/^emulator: *//p')
tail -c +$((roff + 1)) "$IMG" | head -c "$rlen" >"$W/root.erofs"
fsck.erofs --extract="$W/root" "$W/root.erofs" >/dev/null 2>&1 ||
	die "fsck.erofs cannot extract the root file system"

# part PATH: the part of the root a file belongs to.
part() {
	case $1 in
	/sbin/init) echo init ;;
	/otp/erts-*) echo emulator ;;
	/lib/* | /lib64/*) echo libs ;;
	/otp/*) echo otp ;;
	/app/*) echo app ;;
	*) echo other ;;
	esac
}
declare -A disk raw files
for p in init emulator libs otp app other; do disk[$p]=0 raw[$p]=0 files[$p]=0; done
while IFS= read -r f; do
	rel=${f#"$W/root"}
	line=$(dump.erofs --path="$rel" "$W/root.erofs" 2>/dev/null | grep -m1 '^Size:')
	sz=$(echo "$line" | sed -n 's/^Size: *\([0-9]*\).*/\1/p')
	od=$(echo "$line" | sed -n 's/.*On-disk size: *\([0-9]*\).*/\1/p')
	[ -n "$od" ] || die "dump.erofs gave no size for $rel"
	p=$(part "$rel")
	disk[$p]=$((disk[$p] + od)) raw[$p]=$((raw[$p] + sz))
	files[$p]=$((files[$p] + 1))
done < <(find "$W/root" -type f | sort)
parts=0
for p in init emulator libs otp app other; do parts=$((parts + disk[$p])); done
meta=$((rlen - parts))
hdr=$((total - klen - rlen))

# The conventional install: Debian's OTP tree and its packages.
otp_tree=$(du -sb /usr/lib/erlang | cut -f1)
pkgs=$(dpkg-query -W -f '${Package} ${Installed-Size} ${Status}\n' 'erlang*' 2>/dev/null |
	grep ' installed$' | cut -d' ' -f1,2)
npkg=$(echo "$pkgs" | grep -c .)
pkg_kib=$(echo "$pkgs" | awk '{ s += $2 } END { print s + 0 }')

mb() { awk "BEGIN { printf \"%.3f\", $1 / 1000000 }"; }
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
{
	echo "| part of the echoserver image | files | MB in the image | MB uncompressed |"
	echo "|---|---:|---:|---:|"
	row "kernel (bzImage)" 1 "$(mb "$klen")" "-"
	row "init (/sbin/init)" "${files[init]}" "$(mb "${disk[init]}")" "$(mb "${raw[init]}")"
	row "runtime: emulator ($flavor) and its helpers" "${files[emulator]}" \
		"$(mb "${disk[emulator]}")" "$(mb "${raw[emulator]}")"
	row "runtime: shared libraries" "${files[libs]}" "$(mb "${disk[libs]}")" "$(mb "${raw[libs]}")"
	row "runtime: OTP applications (kernel, stdlib), boot files" "${files[otp]}" \
		"$(mb "${disk[otp]}")" "$(mb "${raw[otp]}")"
	row "app (/app/ebin)" "${files[app]}" "$(mb "${disk[app]}")" "$(mb "${raw[app]}")"
	[ "${files[other]}" = 0 ] ||
		row "other files" "${files[other]}" "$(mb "${disk[other]}")" "$(mb "${raw[other]}")"
	row "erofs metadata, directories" "-" "$(mb "$meta")" "-"
	row "image header and alignment" "-" "$(mb "$hdr")" "-"
	row "**whole image**" "-" "**$(mb "$total")**" "-"
	echo
	echo "| a conventional install of the same OTP | MB |"
	echo "|---|---:|"
	echo "| the host's OTP tree (du -sb /usr/lib/erlang) | $(mb "$otp_tree") |"
	echo "| its $npkg installed erlang* packages (Installed-Size) | $(mb $((pkg_kib * 1024))) |"
	echo
	echo "The image is $(awk "BEGIN { printf \"%.1f\", $otp_tree / $total }")x smaller than" \
		"the OTP tree alone (no kernel, no libc). $MODE; \`bash bench/size.sh${1:+ $1}\`," \
		"$(date -u +%Y-%m-%d)."
} >"$W/table.md"

if [ "$MODE" = full ]; then
	. "$ROOT/tests/port.sh"
	port=$(free_port)
	"$BEAMRUN" run -p "$port:8080" "$IMG" >"$W/boot.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 900); do
		grep -q '^Echo server started' "$W/boot.log" && break
		sleep 0.1
	done
	reply=
	if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
		printf 'size check\n' >&3
		IFS= read -r -t 10 reply <&3
		exec 3<&- 3>&-
	fi
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	[ "$reply" = "size check" ] || die "the measured image did not echo (see $W/boot.log)"
	echo "The measured image boots and echoes." >>"$W/table.md"
fi
tee "$OUT/size.md" <"$W/table.md"
