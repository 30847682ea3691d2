#!/bin/bash
# Boot tests for distribution between unikernels: a three-node cluster on
# a vde segment, a node on the host, vCPUs and schedulers.
set -u
. "$(dirname "$0")/../lib.sh"

W="$WORK/cluster"
rm -rf "$W"
mkdir -p "$W"
cleanup() {
	"$BEAMRUN" cluster down t >/dev/null 2>&1
	"$BEAMRUN" kill dist >/dev/null 2>&1
	return 0
}
trap cleanup EXIT

"$BEAMRUN" bake "$ROOT/tests/apps/cluster" -o "$W/cl.img" >"$W/bake.log" 2>&1
check "cluster: bake the test node" test -s "$W/cl.img"

# --- three nodes on one segment -------------------------------------------------
printf 'clustercookie%s\n' "$$" >"$W/cookie"
"$BEAMRUN" cluster up -n 3 --name t --cookie-file "$W/cookie" "$W/cl.img" \
	>"$W/up.out" 2>"$W/up.err"
check "cluster up: starts t-1, t-2 and t-3" \
	test "$(tr '\n' ' ' <"$W/up.out")" = "t-1 t-2 t-3 "
check "cluster up: the three run" \
	test "$("$BEAMRUN" ps | grep -c '^t-[123] .*running')" = 3
seen=0
for i in $(seq 1 900); do
	seen=0
	for n in 1 2 3; do
		"$BEAMRUN" logs "t-$n" 2>/dev/null |
			grep -q "^cluster: leader seen at 'node@10.0.3.1'" &&
			seen=$((seen + 1))
	done
	[ $seen = 3 ] && break
	sleep 0.2
done
check "cluster: a global name registered on node 1 is seen on all three" \
	test "$seen" = 3
for n in 1 2 3; do
	check "cluster: node $n is connected to the other two" \
		bash -c "'$BEAMRUN' logs t-$n | tr -d '\r\n ' |
			 grep -q 'connectedto\[.node@10.0.3.[123].,.node@10.0.3.[123].\]'"
done
for i in $(seq 1 100); do
	"$BEAMRUN" logs t-1 | tr -d '\r\n ' >"$W/t1.flat"
	grep -q "bad\[" "$W/t1.flat" && break
	sleep 0.2
done
check "cluster: the connections are plain TCP" grep -q "protocols\[tcp\]" "$W/t1.flat"
check "cluster: rpc:multicall answers from all three" \
	grep -q "multicall\[{'node@10.0.3.1',1},{'node@10.0.3.2',1},{'node@10.0.3.3',1}\]bad\[\]" \
	"$W/t1.flat"

# --- a lost node: nodedown on the others within the tick time (4 s) ----------------
"$BEAMRUN" kill t-3
down=0
for i in $(seq 1 100); do
	down=0
	for n in 1 2; do
		"$BEAMRUN" logs "t-$n" | grep -q "^cluster: nodedown 'node@10.0.3.3'" &&
			down=$((down + 1))
	done
	[ $down = 2 ] && break
	sleep 0.2
done
check "cluster: killing node 3 gives nodedown on 1 and 2 within 20 s" \
	test "$down" = 2
"$BEAMRUN" cluster down t >"$W/down.out" 2>&1
check "cluster down: stops the nodes and forgets them" \
	bash -c "! '$BEAMRUN' ps -a | grep -q '^t-'"
check "cluster down: the segment's switch is gone" \
	test ! -e "$BEAMRUN_STATE_DIR/.cluster-t"

# --- a node on the host: the right cookie gets pong, a wrong one pang --------------
port=$(free_port)
cookie="hostcookie$$"
"$BEAMRUN" run -d --name dist --node "app@127.0.0.1" --cookie "$cookie" \
	-p "$port:4370" -c 2 "$W/cl.img" >/dev/null 2>"$W/dist.err" &
runpid=$!
# While beamrun and qemu run, the cookie is in no process's arguments.
sleep 0.5
check "cookie: not in any process's arguments" \
	bash -c "! ps -eo args | grep -v grep | grep -q '$cookie'"
wait "$runpid"
check "cookie: not in the image" bash -c "! grep -q '$cookie' '$W/cl.img'"
host_ping() {
	timeout 60 erl -noshell -name "host$1@127.0.0.1" -setcookie "$2" \
		-start_epmd false -erl_epmd_port "$port" -dist_listen false \
		-hidden -eval "
			N = list_to_atom(\"app@127.0.0.1\"),
			R = net_adm:ping(N),
			S = case R of pong -> rpc:call(N, erlang, system_info, [schedulers_online]); _ -> none end,
			io:format(\"~p ~p~n\", [R, S]), halt()." 2>/dev/null
}
answer=""
for i in $(seq 1 60); do
	answer=$(host_ping 1 "$cookie")
	[ "$answer" = "pong 2" ] && break
	sleep 1
done
check "host node: the same cookie gets pong" test "${answer%% *}" = pong
check "vCPUs: -c 2 gives the Erlang VM 2 schedulers online" \
	test "$answer" = "pong 2"
check "host node: a wrong cookie gets pang" \
	test "$(host_ping 2 "not$cookie")" = "pang none"
"$BEAMRUN" stop dist
check "host node: the guest logged the refused connection" \
	bash -c "'$BEAMRUN' logs dist | grep -q \"Connection attempt from node 'host2@127.0.0.1' rejected\""
"$BEAMRUN" rm dist

# --- distribution over TLS: two nodes, certificates on an ISO volume ----------------
# One CA; one node certificate naming both addresses. OTP 25's
# inet_tls_dist checks the host part as a DNS name, so the addresses are
# DNS entries too.
mkdir -p "$W/tls"
(cd "$W/tls" &&
 openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out cacert.pem \
	-days 2 -subj "/CN=beamrun test CA" &&
 openssl req -newkey rsa:2048 -nodes -keyout key.pem -out node.csr \
	-subj "/CN=beamrun test node" &&
 printf 'subjectAltName=DNS:10.0.4.1,DNS:10.0.4.2,IP:10.0.4.1,IP:10.0.4.2\n' >san &&
 openssl x509 -req -in node.csr -CA cacert.pem -CAkey ca.key \
	-CAcreateserial -out cert.pem -days 2 -extfile san &&
 mkdir -p vol && cp cert.pem key.pem cacert.pem vol/) >"$W/tls.log" 2>&1
"$BEAMRUN" volume iso "$W/tls/vol" "$W/certs.iso" >/dev/null 2>&1
"$BEAMRUN" bake --app ssl "$ROOT/tests/apps/cluster" -o "$W/cltls.img" \
	>"$W/baketls.log" 2>&1
check "tls: certificates and an image with ssl" \
	test -s "$W/certs.iso" -a -s "$W/cltls.img"
"$BEAMRUN" cluster up -n 2 --name t --subnet 10.0.4 --dist-tls /srv \
	-b "$W/certs.iso,/srv" "$W/cltls.img" >/dev/null 2>"$W/uptls.err"
for i in $(seq 1 100); do
	"$BEAMRUN" logs t-1 | tr -d '\r\n ' >"$W/tls1.flat"
	grep -q "bad\[" "$W/tls1.flat" && break
	sleep 0.3
done
check "tls: two nodes connect over TLS and answer rpc:multicall" \
	grep -q "multicall\[{'node@10.0.4.1',1},{'node@10.0.4.2',1}\]bad\[\]" \
	"$W/tls1.flat"
check "tls: the connection is TLS" grep -q "protocols\[tls\]" "$W/tls1.flat"
"$BEAMRUN" cluster down t >/dev/null 2>&1

# --- CASES: EPMD-MISSING (b), HOME-AND-COOKIE-FILE, SCHEDULERS-CPU-COUNT -----------
# No --node: distribution started later by the app itself, no epmd, no
# cookie given (beam writes a random one to the writable HOME).
"$BEAMRUN" run --erl-args "-noshell -eval '
	{ok, _} = net_kernel:start([list_to_atom(\"late@10.0.2.15\"), longnames]),
	io:format(\"late node ~p cookie ~p~n\", [node(), erlang:get_cookie() =/= nocookie]),
	halt()'" "$W/cl.img" >"$W/late.log" 2>&1
check "epmd: a node started later by net_kernel:start/2 needs no epmd" \
	grep -q "^late node 'late@10.0.2.15' cookie true" "$W/late.log"
# NODENAME-DHCP-ADDR: the node's name carries the address DHCP leased.
"$BEAMRUN" run --net dhcp --node 'app@%eth0' --erl-args "-noshell -eval '
	io:format(\"dhcp node ~p~n\", [node()]), halt()'" "$W/cl.img" \
	>"$W/dhcpnode.log" 2>&1
check "node name: app@%eth0 becomes the address from DHCP" \
	grep -q "^dhcp node 'app@10.0.2.15'" "$W/dhcpnode.log"
"$BEAMRUN" run --net none --node 'app@%eth0' "$W/cl.img" >"$W/noif.log" 2>&1
check "node name: an interface without an address stops the boot (123)" \
	test "$?" = 123
check "node name: ... saying which" \
	grep -q "^beamrun-init: error: network: node name: eth0 has no IPv4 address" \
	"$W/noif.log"
sched() {
	"$BEAMRUN" run -c "$1" --erl-args "-noshell $2 -eval '
		io:format(\"sched ~p ~p ~p~n\", [erlang:system_info(logical_processors_available),
			erlang:system_info(schedulers_online),
			erlang:system_info(dirty_cpu_schedulers_online)]),
		halt()'" "$W/cl.img" 2>&1 | tr -d '\r' | sed -n 's/^sched //p'
}
check "schedulers: 4 vCPUs give 4 schedulers online (and 4 dirty)" \
	test "$(sched 4 "")" = "4 4 4"
check "schedulers: an explicit +S 2:2 wins over 4 vCPUs" \
	test "$(sched 4 "+S 2:2")" = "4 2 2"

finish
