#!/bin/bash
# The README's demo: bake examples/echoserver, boot it, echo a line
# through the port forward, then stop the VM the way Ctrl-C would.
set -eu
cd "$(dirname "$0")/.."
BEAMRUN=build/bin/beamrun
OUT=build/demo
PORT=${PORT:-8080}
# /dev/kvm exists on many hosts where guests hang (nested
# virtualisation); the demo forces software emulation unless told.
export BEAMRUN_ACCEL=${BEAMRUN_ACCEL:-tcg}
mkdir -p "$OUT"

echo "demo: beamrun bake examples/echoserver -o $OUT/echo.img"
"$BEAMRUN" bake examples/echoserver -o "$OUT/echo.img"
echo "demo: $(du -h "$OUT/echo.img" | cut -f1) image"

echo "demo: beamrun run -p $PORT:8080 $OUT/echo.img"
start=$(date +%s.%N)
"$BEAMRUN" run -p "$PORT:8080" "$OUT/echo.img" >"$OUT/console.log" 2>&1 &
vm=$!
trap 'kill -9 $vm 2>/dev/null || true' EXIT
for _ in $(seq 600); do
	grep -q "^Echo server started" "$OUT/console.log" && break
	kill -0 $vm 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "^Echo server started" "$OUT/console.log"; then
	cat "$OUT/console.log"
	echo "demo: the echo server did not start" >&2
	exit 1
fi
ready=$(date +%s.%N)
sed 's/^/  guest| /' "$OUT/console.log"
printf 'demo: ready %.1f s after beamrun run started\n' \
	"$(echo "$ready - $start" | bc)"

exec 3<>"/dev/tcp/127.0.0.1/$PORT"
echo "demo: sending: hello, unikernel"
printf 'hello, unikernel\n' >&3
IFS= read -r -t 10 reply <&3
exec 3<&- 3>&-
echo "demo: echoed:  $reply"

echo "demo: stopping the VM (as Ctrl-C does: the guest's power button)"
kill -INT $vm
rc=0
wait $vm || rc=$?
trap - EXIT
sed -n '/Echo server started/,$p' "$OUT/console.log" | tail -n +2 |
	sed 's/^/  guest| /'
echo "demo: beamrun exited with status $rc"
[ "$reply" = "hello, unikernel" ] && [ $rc -eq 0 ]
