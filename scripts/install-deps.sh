#!/bin/sh
# Install what beamrun needs to build, bake, boot and test (Debian 12).
set -eu

PKGS="build-essential pkg-config
qemu-system-x86 qemu-utils
erlang-nox erlang-dev
linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils cpio dwarves
erofs-utils e2fsprogs vde2
libjson-c-dev libarchive-dev libblkid-dev zlib1g-dev libcmocka-dev
debootstrap"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
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
