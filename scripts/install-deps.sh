#!/bin/sh
# Install what beamrun needs to build, bake, boot and test (Debian 12).
set -eu

PKGS="build-essential pkg-config
qemu-system-x86 qemu-utils
erlang-nox erlang-dev
linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils cpio dwarves
erofs-utils e2fsprogs vde2 dnsmasq-base
libjson-c-dev libarchive-dev libblkid-dev zlib1g-dev libcmocka-dev
debootstrap dpkg-dev patch
dnsmasq-base rebar3 elixir openssl curl ca-certificates
liblz4-dev libzstd-dev grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools ovmf
libvirt-daemon-system libvirt-clients"

# erts/build.sh builds the emulator's interpreter flavour from Debian's
# source package of erlang: apt-get source needs a deb-src entry.
SRCLIST=/etc/apt/sources.list.d/beamrun-src.sources
need_src=""
grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list \
	/etc/apt/sources.list.d/ || need_src=1

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$need_src" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: no deb-src entry for apt-get source; run as root or add one ($SRCLIST)" >&2
		exit 1
	fi
	echo "deps: adding a deb-src entry ($SRCLIST)"
	cat >"$SRCLIST" <<-EOF
	Types: deb-src
	URIs: http://deb.debian.org/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb-src
	URIs: http://deb.debian.org/debian-security
	Suites: bookworm-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	apt-get update -q >/dev/null
fi
if [ -z "$missing" ]; then
	echo "deps: all installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing; run as root or: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "deps: done"
