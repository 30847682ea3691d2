#!/bin/bash
# Networking boot tests: addresses (static IPv4, DHCP, static IPv6,
# SLAAC) as inet:getifaddrs/0 sees them, two NICs on two backends, two
# VMs on one socket segment, name resolution against a dnsmasq on the
# host's loopback, a user's own ERL_INETRC, entropy and the wall clock.
# Everything talks only to 127.0.0.1 and qemu's user networks.
set -u
. "$(dirname "$0")/../lib.sh"

W="$WORK/net"
rm -rf "$W"
mkdir -p "$W"
DNSMASQ_PID=""
cleanup() {
	boot_cleanup
	[ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null
	return 0
}
trap cleanup EXIT

# has LOG PATTERN: the console (lines end in \r\n) has a matching line.
has() { tr -d '\r' <"$1" | grep -qE -- "$2"; }
# field LOG PREFIX: what follows "netcheck PREFIX " on the first such line.
field() { tr -d '\r' <"$1" | sed -n "s/^netcheck $2 //p" | head -1; }

"$BEAMRUN" bake "$ROOT/tests/apps/netcheck" -o "$W/nc.img" >"$W/bake.log" 2>&1
check "bake: tests/apps/netcheck" test -s "$W/nc.img"

# --- a DNS server on the host's loopback, with a test zone -------------------
# The guest reaches the host's 127.0.0.1 as 10.0.2.2 through qemu's user
# network, on any port: no root, nothing on port 53.
command -v dnsmasq >/dev/null || PATH=$PATH:/usr/sbin
dport=$(free_port)
dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--user="$(id -un)" \
	--port="$dport" --host-record=svc.test,10.9.8.7 --local=/test/ \
	--log-queries --log-facility="$W/dnsmasq.log" \
	--pid-file="$W/dnsmasq.pid" >"$W/dnsmasq.out" 2>&1 &
DNSMASQ_PID=$!
for i in $(seq 1 50); do
	grep -q "started" "$W/dnsmasq.log" 2>/dev/null && break
	sleep 0.1
done
check "dnsmasq: serves the test zone on 127.0.0.1:$dport" \
	kill -0 "$DNSMASQ_PID"

# --- static IPv4, DNS, hosts file, entropy, clock: one guest --------------------
boot_bg "$W/dns.log" run -N myvm.test --dns "10.0.2.2#$dport" \
	--add-host extra.test:10.7.7.7 "$W/nc.img" \
	time ifs rc rng byname:svc.test res:svc.test byname:myvm.test \
	byname:myvm byname:extra.test nx:nosuch.test byname:svc
pid=$BG
# The host's clock the moment the guest's line is seen (polled every
# 0.1 s; the console's delay counts against the guest).
wait_for "$W/dns.log" "^netcheck time " 120
host_ms=$(date +%s%3N)
wait_exit "$pid" 120
check "boot: the guest ran its steps and stopped (0)" test "$RC" = 0
guest=$(field "$W/dns.log" time)
guest_ms=${guest##* }
skew=$(( ${guest_ms:-0} - host_ms ))
echo "# clock: guest ${guest% *} s, host $((host_ms / 1000)) s, guest - host = ${skew} ms"
check "clock: erlang:system_time(second) within 2 s of the host's date +%s" \
	test "${skew#-}" -le 2000
check "static IPv4: inet:getifaddrs/0 shows eth0 at 10.0.2.15" \
	has "$W/dns.log" "^netcheck if eth0 10\.0\.2\.15$"
check "DNS-NATIVE-RESOLVER: inet_db's lookup is [file,dns]" \
	test "$(field "$W/dns.log" lookup)" = "[file,dns]"
check "DNS-NATIVE-RESOLVER: the nameserver is --dns's, port and all" \
	test "$(field "$W/dns.log" nameservers)" = "[{{10,0,2,2},$dport}]"
byname=$(field "$W/dns.log" "byname svc.test")
res=$(field "$W/dns.log" "res svc.test")
check "DNS-NATIVE-RESOLVER: inet:gethostbyname(\"svc.test\") gives dnsmasq's 10.9.8.7" \
	test "$byname" = 10.9.8.7
check "DNS-NATIVE-RESOLVER: inet_res:lookup(\"svc.test\", in, a) agrees" \
	test "$res" = "$byname"
check "DNS: the queries reached the dnsmasq on the host" \
	grep -q "query\[A\] svc.test from 127.0.0.1" "$W/dnsmasq.log"
check "hosts file: the -N host name resolves to the guest's address" \
	test "$(field "$W/dns.log" "byname myvm.test")" = 10.0.2.15
check "hosts file: ... and so does its first label" \
	test "$(field "$W/dns.log" "byname myvm")" = 10.0.2.15
check "DNS-NATIVE-RESOLVER: a single-label name is tried with -N's domain (svc -> svc.test)" \
	test "$(field "$W/dns.log" "byname svc")" = 10.9.8.7
check "hosts file: an --add-host entry resolves" \
	test "$(field "$W/dns.log" "byname extra.test")" = 10.7.7.7
check "hosts file: ... without asking the DNS server" \
	bash -c "! grep -qE 'query.* (myvm|myvm.test|extra.test) ' '$W/dnsmasq.log'"
nx=$(field "$W/dns.log" "nx nosuch.test")
echo "# nxdomain: $nx (ms)"
check "DNS: an unknown name gives {error,nxdomain}" \
	test "${nx% *}" = "{error,nxdomain}"
check "DNS: ... quickly (under 5 s; no hang)" test "${nx##* }" -lt 5000
rng=$(field "$W/dns.log" rng)
echo "# first strong_rand_bytes (crypto loaded then): $rng"
check "CRNG-GETRANDOM-STALL: crypto:strong_rand_bytes/1 works at boot" \
	test "${rng%% bytes*}" = 32
check "CRNG-GETRANDOM-STALL: ... within 5 s" \
	test "$(echo "$rng" | sed 's/.* bytes \([0-9]*\) ms/\1/')" -lt 5000
check "CRNG-GETRANDOM-STALL: the kernel's hw RNG is virtio_rng" \
	bash -c "field() { tr -d '\r' <'$W/dns.log' | sed -n 's/^netcheck hwrng //p'; };
		 field | grep -q '^virtio_rng'"
check "CRNG-GETRANDOM-STALL: qemu gets a virtio-rng device by default" \
	bash -c "'$BEAMRUN' run --dry-run '$W/nc.img' 2>/dev/null | grep -q virtio-rng-device"

# --- a user's own ERL_INETRC wins ----------------------------------------------
mkdir -p "$W/rc"
printf '{host, {10,1,2,3}, ["mine.test"]}.\n{lookup, [file]}.\n' >"$W/rc/inetrc"
"$BEAMRUN" volume iso "$W/rc" "$W/rc.iso" >/dev/null 2>&1
boot_bg "$W/userrc.log" run --dns "10.0.2.2#$dport" -b "$W/rc.iso,/srv" \
	-e ERL_INETRC=/srv/inetrc "$W/nc.img" rc byname:mine.test \
	nx:svc.test
pid_rc=$BG

# --- DHCP: address and nameserver from the lease; the node name after it ---------
boot_bg "$W/dhcp.log" run --net none -N dhcpvm --node 'app@%eth0' \
	-I lease,vioif,'user,net=10.0.9.0/24,dhcpstart=10.0.9.50,dns=10.0.9.4' \
	-W lease,inet,dhcp "$W/nc.img" ifs rc node byname:dhcpvm
pid_dhcp=$BG
wait_exit "$pid_rc" 120
check "ERL_INETRC: the user's file wins: lookup [file]" \
	test "$(field "$W/userrc.log" lookup)" = "[file]"
check "ERL_INETRC: ... and its host entry resolves" \
	test "$(field "$W/userrc.log" "byname mine.test")" = 10.1.2.3
check "ERL_INETRC: ... and, without dns in lookup, svc.test does not" \
	has "$W/userrc.log" "^netcheck nx svc.test \{error,nxdomain\} "
wait_exit "$pid_dhcp" 120
check "DHCP: inet:getifaddrs/0 shows eth0 at the leased 10.0.9.50" \
	has "$W/dhcp.log" "^netcheck if eth0 10\.0\.9\.50$"
check "DHCP: the nameserver is the one the lease named" \
	test "$(field "$W/dhcp.log" nameservers)" = "[{{10,0,9,4},53}]"
check "NODENAME-DHCP-ADDR: app@%eth0 is named after the leased address" \
	test "$(field "$W/dhcp.log" node)" = "app@10.0.9.50"
check "DHCP: the host name resolves to the leased address (hosts file)" \
	test "$(field "$W/dhcp.log" "byname dhcpvm")" = 10.0.9.50

# --- IPv6: static, and SLAAC from qemu's router advertisements ------------------
# eth0: the user network's IPv4 and SLAAC beside it; eth1: a user network
# with its own prefixes, static IPv4 and IPv6; eth2: IPv6 only, SLAAC.
boot_bg "$W/v6.log" run -W eth0,inet6,auto \
	-I st,vioif,'user,net=10.0.8.0/24,ipv6-net=fd00:9::/64' \
	-W st,inet,static,10.0.8.15/24 -W st,inet6,static,fd00:9::15/64,fd00:9::2 \
	-I slaac,vioif,'user,ipv4=off,ipv6=on' -W slaac,inet6,auto \
	"$W/nc.img" wait6:eth0 wait6:eth2 ifs
pid_v6=$BG
wait_exit "$pid_v6" 150
check "IPv6: SLAAC gives eth2 (IPv6 only) an address in qemu's fec0::/64" \
	bash -c "tr -d '\r' <'$W/v6.log' | grep -qE '^netcheck wait6 eth2 fec0::[0-9a-f:]+$'"
check "IPv6: static fd00:9::15 on eth1, as inet:getifaddrs/0 shows" \
	has "$W/v6.log" "^netcheck if eth1 fd00:9::15$"
check "IPv6: ... beside eth1's static IPv4 10.0.8.15" \
	has "$W/v6.log" "^netcheck if eth1 10\.0\.8\.15$"
check "IPv6: SLAAC on eth0 (-W eth0,inet6,auto) beside its 10.0.2.15" \
	bash -c "tr -d '\r' <'$W/v6.log' | grep -qE '^netcheck wait6 eth0 fec0::[0-9a-f:]+$' &&
		 tr -d '\r' <'$W/v6.log' | grep -q '^netcheck if eth0 10.0.2.15$'"
check "IPv6: eth2 has no IPv4 address" \
	bash -c "! tr -d '\r' <'$W/v6.log' | grep -qE '^netcheck if eth2 [0-9.]+$'"

# --- two VMs on one socket segment; two NICs on two backends -----------------------
# vma: eth0 user network (with a -p forward), eth1 the segment's listening
# end; vmb: eth1 its connecting end. Node names resolve by --add-host.
seg=$(free_port)
hp=$(free_port)
printf 'segcookie%s\n' "$$" >"$W/cookie"
boot_bg "$W/vma.log" run -N vma --node a@vma --cookie-file "$W/cookie" \
	--add-host vmb:10.0.5.2 -p "$hp:7001" \
	-I seg,vioif,"socket,listen=127.0.0.1:$seg" \
	-W seg,inet,static,10.0.5.1/24 \
	"$W/nc.img" ifs echo:7001 serve:7000 ping:b@vmb sleep:3000
pid_a=$BG
# The listening end must be there before the other qemu connects.
wait_for "$W/vma.log" "^netcheck if" 120
boot_bg "$W/vmb.log" run -N vmb --node b@vmb --cookie-file "$W/cookie" \
	--add-host vma:10.0.5.1 \
	-I seg,vioif,"socket,connect=127.0.0.1:$seg" \
	-W seg,inet,static,10.0.5.2/24 \
	"$W/nc.img" ifs connect:10.0.5.1:7000 ping:a@vma sleep:3000
pid_b=$BG
wait_for "$W/vma.log" "^netcheck echo listening" 60
reply=$(echo_roundtrip "$hp" "through the user network")
check "two NICs: eth0 (user network) answers through its -p forward" \
	test "$reply" = "through the user network"
wait_exit "$pid_a" 180
wait_exit "$pid_b" 60
check "two NICs: vma has eth0 10.0.2.15 and eth1 10.0.5.1" \
	bash -c "tr -d '\r' <'$W/vma.log' | grep -q '^netcheck if eth0 10.0.2.15$' &&
		 tr -d '\r' <'$W/vma.log' | grep -q '^netcheck if eth1 10.0.5.1$'"
check "segment: vmb reached vma's 10.0.5.1:7000 from 10.0.5.2 over TCP" \
	has "$W/vmb.log" "^netcheck connect 10\.0\.5\.1:7000 from 10\.0\.5\.2 got served hello$"
check "segment: vma got the line from 10.0.5.2" \
	has "$W/vma.log" "^netcheck serve got hello from 10\.0\.5\.2$"
check "EPMDLESS-PORT-AND-RESOLUTION, EPMD-MISSING (a): -sname a@vma, no epmd, pings b@vmb by its hosts-file name" \
	has "$W/vma.log" "^netcheck ping b@vmb pong$"
check "EPMDLESS-PORT-AND-RESOLUTION: b@vmb pings a@vma" \
	has "$W/vmb.log" "^netcheck ping a@vma pong$"

finish
