#!/bin/bash
# beamrun's other platforms, booted for real under qemu (TCG): `beamrun
# iso` and `beamrun disk` media through the firmware (SeaBIOS and OVMF),
# `beamrun run --pvh` (the PVH entry Xen uses), a libvirt domain made by
# `beamrun virsh-xml`, and the configuration `beamrun xen` prints. Each
# guest is the echoserver: bytes through a user-net forward, then a
# graceful stop through ACPI, and the hypervisor must end.
# PLATFORMS="iso disk pvh xen libvirt" (the default) picks the parts.
set -u
. "$(dirname "$0")/../lib.sh"

PLATFORMS=${PLATFORMS:-iso disk pvh xen libvirt}
want() { case " $PLATFORMS " in *" $1 "*) return 0 ;; esac; return 1; }

W="$WORK/platforms"
rm -rf "$W"
mkdir -p "$W"

QEMU=qemu-system-x86_64
OVMF_CODE=/usr/share/OVMF/OVMF_CODE.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS.fd
# Through the firmware, GRUB and a pc machine under TCG: slower than
# beamrun's own microvm boot.
BOOT_S=240

# Every qemu this file starts itself; killed when it ends.
QEMU_PIDS=()
DOMAIN=""
LV_STARTED=()
LVDIR=""
cleanup() {
	local p
	boot_cleanup
	for p in "${QEMU_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	if [ -n "$DOMAIN" ]; then
		$VIRSH destroy "$DOMAIN" >/dev/null 2>&1
		$VIRSH undefine "$DOMAIN" >/dev/null 2>&1
	fi
	[ -z "$LVDIR" ] || rm -rf "$LVDIR"
	# Only the daemons this file started (their pid files).
	for p in "${LV_STARTED[@]}"; do
		kill "$p" 2>/dev/null
		for i in $(seq 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
	done
	return 0
}
trap cleanup EXIT

skip() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1 # SKIP $2"
}

# qmp_powerdown PORT: press the ACPI power button through qemu's QMP
# socket on 127.0.0.1:PORT.
qmp_powerdown() {
	local line
	exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
	IFS= read -r -t 10 line <&4 # the greeting
	printf '{"execute":"qmp_capabilities"}\n' >&4
	IFS= read -r -t 10 line <&4
	printf '{"execute":"system_powerdown"}\n' >&4
	# Its reply, after any events (POWERDOWN).
	while IFS= read -r -t 10 line <&4; do
		case $line in *'"return"'*) break ;; esac
	done
	exec 4<&- 4>&-
	case $line in *'"return"'*) return 0 ;; esac
	return 1
}

# wait_guest LOG PATTERN SECONDS PID: wait_for, but give up as soon as
# the qemu PID has ended.
wait_guest() {
	local i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# fw_boot NAME FIRMWARE(bios|uefi) QEMU-MEDIA-ARGS...: boot media on a pc
# machine with a forward to the echo port; echo; power button; qemu ends.
# No -no-reboot: as on a real hypervisor, only a power-off ends the VM (a
# reboot would boot the media again); a guest panic ends qemu (pvpanic).
fw_boot() {
	local name=$1 fw=$2 port qport log pid reply
	shift 2
	local fwargs=()
	log="$W/$name.log"
	port=$(free_port)
	qport=$(free_port)
	if [ "$fw" = uefi ]; then
		cp "$OVMF_VARS" "$W/$name.vars.fd"
		fwargs=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$W/$name.vars.fd")
	fi
	$QEMU -machine pc -accel tcg -cpu max -m 256 -smp 1 \
		-nodefaults -no-user-config -display none \
		-device pvpanic -action panic=exit-failure \
		-serial "file:$log" \
		-qmp "tcp:127.0.0.1:$qport,server=on,wait=off" \
		-nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:8080" \
		"${fwargs[@]}" "$@" >"$W/$name.qemu" 2>&1 &
	pid=$!
	QEMU_PIDS+=("$pid")
	if ! wait_guest "$log" "Echo server started" "$BOOT_S" "$pid"; then
		not_ok "$name: boots to the echo server" \
			"$(tail -c 600 "$log" | tr -d '\r')" \
			"$(tail -3 "$W/$name.qemu")"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return
	fi
	ok "$name: boots to the echo server"
	reply=$(echo_roundtrip "$port" "hello $name")
	if [ "$reply" = "hello $name" ]; then
		ok "$name: bytes come back through the forward"
	else
		not_ok "$name: bytes come back through the forward" \
			"reply: '$reply'"
	fi
	check "$name: the power button is pressed (QMP)" qmp_powerdown "$qport"
	wait_exit "$pid" 60
	check "$name: qemu exits (status 0) after the guest powers off" \
		test "$RC" = 0
	check "$name: the Erlang VM stopped gracefully, exit status 0" \
		bash -c "grep -q 'SIGTERM received - shutting down' '$log' &&
			 tr -d '\r' <'$log' | grep -qx 'beamrun-init: exit 0'"
}

"$BEAMRUN" bake "$ROOT/examples/echoserver" -o "$W/echo.img" >"$W/bake.log" 2>&1
check "bake examples/echoserver" test -s "$W/echo.img"

# --- beamrun iso: a CD, BIOS and UEFI ----------------------------------------
if want iso; then
"$BEAMRUN" iso "$W/echo.img" -o "$W/echo.iso" >"$W/iso.out" 2>&1
check "iso: beamrun iso writes the CD image" \
	bash -c "test -s '$W/echo.iso' && file '$W/echo.iso' | grep -q 'ISO 9660'"
fw_boot iso-bios bios -cdrom "$W/echo.iso" -boot d
fw_boot iso-uefi uefi -cdrom "$W/echo.iso"
fi

# --- beamrun disk: raw and qcow2 ---------------------------------------------
if want disk; then
"$BEAMRUN" disk "$W/echo.img" -o "$W/disk.img" >"$W/disk.out" 2>&1
"$BEAMRUN" disk "$W/echo.img" -o "$W/disk.qcow2" >"$W/qcow2.out" 2>&1
check "disk: beamrun disk writes a raw disk with an MBR" \
	bash -c "file '$W/disk.img' | grep -q 'boot sector'"
check "disk: ... and a .qcow2 as qcow2" \
	bash -c "qemu-img info '$W/disk.qcow2' | grep -q '^file format: qcow2'"
"$BEAMRUN" disk "$W/echo.img" -o "$W/disk.vmdk" >"$W/vmdk.out" 2>&1
check "disk: ... and a .vmdk as VMDK (VMware, VirtualBox)" \
	bash -c "qemu-img info '$W/disk.vmdk' | grep -q '^file format: vmdk'"
fw_boot disk-raw-bios bios -drive "file=$W/disk.img,format=raw,if=ide"
fw_boot disk-qcow2-bios bios -drive "file=$W/disk.qcow2,format=qcow2,if=ide"
fw_boot disk-qcow2-uefi uefi -drive "file=$W/disk.qcow2,format=qcow2,if=ide,snapshot=on"
fi

# --- beamrun run --pvh: the ELF vmlinux at its PVH entry (as Xen) --------------
if want pvh; then
"$BEAMRUN" run --pvh --dry-run "$W/echo.img" >"$W/pvh.cmd" 2>&1
check "pvh: run --pvh boots the ELF vmlinux, not the bzImage" \
	grep -qE -- "-kernel '?[^ ]*/vmlinux-[^ /]* " "$W/pvh.cmd"
port=$(free_port)
boot_bg "$W/pvh.log" run --pvh -p "$port:8080" "$W/echo.img"
pid=$BG
if wait_for "$W/pvh.log" "^Echo server started" 120; then
	ok "pvh: the echo server starts"
	check "pvh: bytes come back through the forward" \
		test "$(echo_roundtrip "$port" "hello pvh")" = "hello pvh"
else
	not_ok "pvh: the echo server starts" "$(tail -5 "$W/pvh.log")"
fi
kill -INT "$pid"
wait_exit "$pid" 60
check "pvh: Ctrl-C stops the guest gracefully (status 0)" test "$RC" = 0
check "pvh: the Erlang VM got SIGTERM" \
	grep -q "SIGTERM received - shutting down" "$W/pvh.log"
fi

# --- beamrun xen: the xl configuration (no Xen host here) ----------------------
if want xen; then
"$BEAMRUN" -D xen -N plat-xen "$W/echo.img" >"$W/xen.out" 2>"$W/xen.err"
check "xen: -D prints the configuration and exits 0" test "$?" = 0
check "xen: a PVH domain" grep -qx 'type = "pvh"' "$W/xen.out"
xkernel=$(sed -n 's/^kernel = "\(.*\)"$/\1/p' "$W/xen.out")
check "xen: its kernel is the ELF vmlinux with Xen's PVH entry note" \
	bash -c "test -s '$xkernel' && readelf -n '$xkernel' | grep -q 'Unknown note type: (0x00000012)'"
xroot=$(sed -n 's/.*target=\([^"]*\)".*/\1/p' "$W/xen.out" | head -1)
check "xen: the root disk is the image's erofs" \
	bash -c "test -s '$xroot' && blkid -o value -s TYPE '$xroot' | grep -qx erofs"
check "xen: console and root on Xen's devices" \
	grep -q '^cmdline = "console=hvc0 .*root=/dev/xvda' "$W/xen.out"
check "xen: the xl command is printed" grep -qx 'xl create plat-xen.xl' "$W/xen.out"
if ! command -v xl >/dev/null; then
	(cd "$W" && "$BEAMRUN" xen -N plat-xen "$W/echo.img" -o "$W/plat.xl") \
		>/dev/null 2>"$W/xen-o.err"
	check "xen: without xl, -o writes the configuration and says so" \
		bash -c "grep -qx 'type = \"pvh\"' '$W/plat.xl' &&
			 grep -q 'xl is not installed here; wrote $W/plat.xl' '$W/xen-o.err'"
fi
fi

# --- libvirt: virsh-xml, define, start, echo, shutdown ---------------------------
VIRSH="virsh -q -c qemu:///system"
lv_reason=""
if ! want libvirt; then
	:
elif ! command -v virsh >/dev/null || ! [ -x /usr/sbin/libvirtd ]; then
	lv_reason="libvirt is not installed (libvirt-daemon-system)"
elif ! timeout 20 $VIRSH uri >/dev/null 2>&1; then
	# No systemd to socket-activate it: start the daemons here.
	for d in virtlogd libvirtd; do
		pgrep -x "$d" >/dev/null && continue
		if "/usr/sbin/$d" -d >"$W/$d.err" 2>&1; then
			for i in $(seq 50); do
				[ -s "/run/$d.pid" ] && break
				sleep 0.1
			done
			[ -s "/run/$d.pid" ] && LV_STARTED+=("$(cat "/run/$d.pid")")
		fi
	done
	for i in $(seq 60); do
		timeout 10 $VIRSH uri >/dev/null 2>&1 && break
		sleep 0.5
	done
	timeout 10 $VIRSH uri >/dev/null 2>"$W/virsh.err" ||
		lv_reason="libvirtd cannot start: $(head -1 "$W/libvirtd.err" "$W/virsh.err" 2>/dev/null | grep -v '^==>' | grep . | head -1)"
fi
if ! want libvirt; then
	:
elif [ -n "$lv_reason" ]; then
	skip "libvirt: a domain from virsh-xml boots and stops" "$lv_reason"
else
	DOMAIN="beamrun-plat-$$"
	port=$(free_port)
	# qemu:///system runs qemu as libvirt-qemu, which must reach the
	# kernel and the root in the cache (README's TODO): a cache of the
	# test's own under /var/tmp, where every directory above it can be
	# traversed (a checkout under a 0700 directory cannot).
	LVDIR=$(mktemp -d /var/tmp/beamrun-libvirt.XXXXXX)
	chmod 0711 "$LVDIR"
	clog="$LVDIR/console.log"
	BEAMRUN_CACHE_DIR="$LVDIR/cache" "$BEAMRUN" virsh-xml -N "$DOMAIN" \
		-I "net,vioif,user,hostfwd=tcp:127.0.0.1:$port-:8080" \
		--console-log "$clog" "$W/echo.img" -o "$W/dom.xml" \
		>"$W/virsh-xml.out" 2>&1
	check "libvirt: virsh-xml writes the domain" \
		grep -q "<name>$DOMAIN</name>" "$W/dom.xml"
	chmod 0711 "$LVDIR/cache"
	check "libvirt: virsh define" $VIRSH define "$W/dom.xml"
	if $VIRSH start "$DOMAIN" >"$W/virsh-start.log" 2>&1; then
		ok "libvirt: virsh start"
	else
		not_ok "libvirt: virsh start" "$(head -3 "$W/virsh-start.log")"
	fi
	if wait_for "$clog" "Echo server started" "$BOOT_S"; then
		ok "libvirt: the console log shows the echo server starting"
		check "libvirt: bytes come back through the forward" \
			test "$(echo_roundtrip "$port" "hello libvirt")" = "hello libvirt"
	else
		not_ok "libvirt: the console log shows the echo server starting" \
			"$(tail -c 600 "$clog" 2>/dev/null | tr -d '\r')"
	fi
	$VIRSH shutdown "$DOMAIN" >/dev/null 2>&1
	state=""
	for i in $(seq 600); do
		state=$($VIRSH domstate "$DOMAIN" 2>/dev/null)
		[ "$state" = "shut off" ] && break
		sleep 0.1
	done
	check "libvirt: virsh shutdown leaves the domain shut off" \
		test "$state" = "shut off"
	check "libvirt: the console log shows a graceful stop (exit 0)" \
		bash -c "grep -q 'SIGTERM received - shutting down' '$clog' &&
			 tr -d '\r' <'$clog' | grep -qx 'beamrun-init: exit 0'"
	cp "$clog" "$W/libvirt-console.log" 2>/dev/null
	check "libvirt: virsh undefine" $VIRSH undefine "$DOMAIN"
	DOMAIN=""
fi

finish
