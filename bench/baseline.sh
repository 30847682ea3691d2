#!/bin/bash
# Build (once, cached) the conventional VM the benchmark compares with:
# Debian 12 minbase + systemd + erlang-base + the cloud kernel, with a
# systemd service running examples/echoserver. Output in $1 (default
# build/bench/baseline): vmlinuz, initrd.img, rootfs.img (ext4, raw),
# sizes (du of the root tree). Needs root and the Debian archive.
# Exits non-zero, with one "bench: baseline: ..." line, when it cannot.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/bench/baseline}
CACHE=$(dirname "$OUT")/debs
SUITE=bookworm
PKGS=systemd,systemd-sysv,udev,erlang-base,linux-image-cloud-amd64,initramfs-tools

die() { echo "bench: baseline: $*" >&2; exit 1; }

# Whatever debootstrap left mounted under DIR (after a failed run).
unmount_all() {
	local m
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# The Debian mirror apt uses (one-line or deb822 sources), for the suite.
mirror() {
	local f m=""
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		m=$(sed -e 's/\[[^]]*\]//' "$f" | awk -v s=$SUITE \
			'$1 == "deb" && $3 == s && $2 ~ /debian\/?$/ { print $2; exit }')
		[ -n "$m" ] && break
	done
	if [ -z "$m" ]; then
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			m=$(awk -v s=$SUITE '
				/^[ \t]*$/ { if (ok && u != "") { print u; exit } ok = 0; u = "" }
				tolower($1) == "uris:" { u = $2 }
				tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
				END { if (ok && u != "") print u }' "$f" | head -1)
			[ -n "$m" ] && break
		done
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
MIRROR=$(mirror)
# The cache key: this script, the app and the mirror.
KEY=$(cat "$0" "$ROOT/examples/echoserver/echoserver.erl" <(echo "$MIRROR") |
	sha256sum | cut -c1-16)
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$KEY" ] &&
   [ -s "$OUT/rootfs.img" ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ]; then
	exit 0
fi

mkdir -p "$(dirname "$OUT")"
if ! command -v debootstrap >/dev/null; then
	echo "bench: baseline: installing debootstrap (apt-get)" >&2
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q debootstrap; } >"$(dirname "$OUT")/apt.log" 2>&1 ||
		die "debootstrap is missing and apt-get could not install it (see $(dirname "$OUT")/apt.log)"
fi
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 is missing (apt-get install e2fsprogs)"
command -v erlc >/dev/null || die "erlc is missing (apt-get install erlang-nox)"

unmount_all "$OUT"
rm -rf --one-file-system "$OUT"
mkdir -p "$OUT" "$CACHE"
R=$OUT/root
LOG=$OUT/build.log
echo "bench: baseline: debootstrap --variant=minbase $SUITE from $MIRROR (log: $LOG)" >&2
t0=$(date +%s)
if ! debootstrap --variant=minbase --include=$PKGS --cache-dir="$CACHE" \
	"$SUITE" "$R" "$MIRROR" >"$LOG" 2>&1; then
	tail -5 "$LOG" >&2
	unmount_all "$OUT"
	die "debootstrap failed (no archive access at $MIRROR?); see $LOG"
fi
echo "bench: baseline: debootstrap took $(( $(date +%s) - t0 )) s" >&2

KVER=$(ls "$R/lib/modules" | grep cloud | sort -V | tail -1)
[ -n "$KVER" ] || die "no cloud kernel in the root tree"
if [ ! -s "$R/boot/initrd.img-$KVER" ]; then
	chroot "$R" update-initramfs -c -k "$KVER" >>"$LOG" 2>&1 ||
		die "update-initramfs failed; see $LOG"
fi

# The application and its service, the network (systemd-networkd,
# static: the address qemu's user network expects), the fstab.
mkdir -p "$R/opt/echoserver"
erlc -o "$R/opt/echoserver" "$ROOT/examples/echoserver/echoserver.erl"
cat >"$R/etc/systemd/system/echoserver.service" <<'EOF'
[Unit]
Description=Erlang echo server (examples/echoserver)

[Service]
Environment=HOME=/root
ExecStart=/usr/bin/erl -noshell -pa /opt/echoserver -run echoserver start
StandardOutput=journal+console
Restart=no

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$R/etc/systemd/network"
cat >"$R/etc/systemd/network/10-vm.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
DNS=10.0.2.3
EOF
echo "/dev/vda / ext4 errors=remount-ro 0 1" >"$R/etc/fstab"
echo baseline >"$R/etc/hostname"
chroot "$R" systemctl enable systemd-networkd echoserver >>"$LOG" 2>&1 ||
	die "systemctl enable failed; see $LOG"

# Kernel and initramfs boot through qemu -kernel/-initrd: out of the tree.
mv "$R/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
mv "$R/boot/initrd.img-$KVER" "$OUT/initrd.img"
rm -rf "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb \
	"$R"/var/lib/apt/lists/* "$R"/var/log/*.log
echo "$KVER" >"$OUT/kernel-version"
du -sx -B1 "$R" | cut -f1 >"$OUT/rootfs-du"

used=$(cat "$OUT/rootfs-du")
mb=$(( used * 5 / 4 / 1048576 + 64 ))
mkfs.ext4 -q -F -L root -d "$R" "$OUT/rootfs.img" "${mb}M" >>"$LOG" 2>&1 ||
	die "mkfs.ext4 -d failed; see $LOG"
rm -rf --one-file-system "$R"
echo "$KEY" >"$OUT/stamp"
echo "bench: baseline: built in $(( $(date +%s) - t0 )) s: kernel $KVER, root tree $((used / 1048576)) MiB, image ${mb} MiB" >&2
