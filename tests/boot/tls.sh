#!/bin/bash
# TLS and a real application in the guest: examples/tls_echo answers
# openssl s_client through the port forward; tests/apps/tlscheck shows
# the crypto NIF, libcrypto, the entropy and the CA bundle at work
# (CASES.md: TLS-RUNTIME-DEPS, CRNG-GETRANDOM-STALL); examples/httpd
# (OTP's inets httpd) serves a page to curl.
set -u
. "$(dirname "$0")/../lib.sh"

W="$WORK/tls"
rm -rf "$W"
mkdir -p "$W/certs" "$W/pki"
trap 'boot_cleanup; [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null' EXIT

# has FILE REGEX: a console line (carriage returns dropped) matches.
has() { tr -d '\r' <"$1" | grep -qE -- "$2"; }

# A self-signed server certificate for tls_echo, and a CA with a server
# certificate for 10.0.2.2 (the host, seen from the guest) for tlscheck.
(cd "$W/certs" &&
 openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \
	-days 2 -subj "/CN=localhost" &&
 cd "$W/pki" &&
 openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
	-days 2 -subj "/CN=beamrun test CA" &&
 openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
	-subj "/CN=10.0.2.2" &&
 printf 'subjectAltName=DNS:10.0.2.2,IP:10.0.2.2\n' >san &&
 openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out srv.pem -days 2 -extfile san) >"$W/openssl.log" 2>&1
"$BEAMRUN" volume iso "$W/certs" "$W/certs.iso" >/dev/null 2>&1
check "tls: certificate volume made" test -s "$W/certs.iso"

# --- tls_echo: bake; the crypto NIF brings libcrypto into the image -------
"$BEAMRUN" bake -v "$ROOT/examples/tls_echo" -o "$W/tls.img" >"$W/bake.log" 2>&1
check "tls: bake examples/tls_echo" test -s "$W/tls.img"
check "TLS-RUNTIME-DEPS: the ELF closure of crypto.so puts libcrypto.so.3 in" \
	grep -q "^beamrun: library .*/libcrypto\.so\.3$" "$W/bake.log"
check "TLS-RUNTIME-DEPS: the host's CA bundle goes in by default" \
	grep -q "^beamrun: CA certificates: /etc/ssl/certs/ca-certificates.crt" \
	"$W/bake.log"

port=$(free_port)
boot_bg "$W/tls.log" run -p "$port:8443" -b "$W/certs.iso,/srv" "$W/tls.img"
pid=$BG
if wait_for "$W/tls.log" "^TLS echo server started on port 8443" 120; then
	ok "tls: tls_echo starts with its certificate from the volume"
	(printf 'hello over tls\n'; sleep 5) |
		timeout 60 openssl s_client -connect "127.0.0.1:$port" \
			-CAfile "$W/certs/cert.pem" -verify_return_error \
			>"$W/s_client.out" 2>&1
	check "tls: openssl s_client gets its line back" \
		grep -qx "hello over tls" "$W/s_client.out"
	check "tls: ... over TLSv1.3" \
		grep -q "^New, TLSv1\.3, Cipher is " "$W/s_client.out"
	check "tls: ... and verifies the volume's certificate" \
		grep -q "Verify return code: 0 (ok)" "$W/s_client.out"
	check "tls: the guest saw a TLSv1.3 client" \
		wait_for "$W/tls.log" "tls_echo: client connected \(tlsv1\.3\)" 10
else
	not_ok "tls: tls_echo starts with its certificate from the volume" \
		"$(tail -5 "$W/tls.log")"
fi
kill -INT "$pid"
wait_exit "$pid" 60
check "tls: Ctrl-C stops tls_echo (status 0)" test "$RC" = 0

# Without the volume: a clear error and a failed boot, not a hang.
boot_bg "$W/tls-novol.log" run "$W/tls.img"
wait_exit "$BG" 120
check "tls: without its volume tls_echo says which file is missing" \
	grep -q "tls_echo: /srv/cert.pem: no such file or directory" \
	"$W/tls-novol.log"
check "tls: ... and the guest exits non-zero" \
	test "$RC" != 0 -a "$RC" != hung

# --- tlscheck: crypto, entropy, CA bundle, peer verification -------------
# A TLS server on the host (127.0.0.1, which the guest reaches as
# 10.0.2.2) with a certificate of the test CA.
sport=$(free_port)
openssl s_server -accept "127.0.0.1:$sport" -cert "$W/pki/srv.pem" \
	-key "$W/pki/srv.key" -www </dev/null >"$W/s_server.log" 2>&1 &
SRV=$!
"$BEAMRUN" bake "$ROOT/tests/apps/tlscheck" -o "$W/check.img" >/dev/null 2>&1
"$BEAMRUN" bake --cacerts "$W/pki/ca.pem" "$ROOT/tests/apps/tlscheck" \
	-o "$W/check-ca.img" >/dev/null 2>&1
"$BEAMRUN" bake --cacerts none "$ROOT/tests/apps/tlscheck" \
	-o "$W/check-none.img" >/dev/null 2>&1
check "tlscheck: three images (host bundle, test CA, none)" \
	test -s "$W/check.img" -a -s "$W/check-ca.img" -a -s "$W/check-none.img"

boot_bg "$W/check.log" run "$W/check.img" 10.0.2.2 "$sport"
wait_exit "$BG" 180
check "tlscheck: the guest ran to init:stop() (status 0)" test "$RC" = 0
check "TLS-RUNTIME-DEPS: the crypto NIF loads and reports OpenSSL 3" \
	has "$W/check.log" "^tlscheck: crypto library OpenSSL 3\."
check "TLS-RUNTIME-DEPS: crypto:strong_rand_bytes(32) gives 32 bytes" \
	has "$W/check.log" "^tlscheck: strong_rand_bytes 32$"
check "TLS-RUNTIME-DEPS: crypto:hash(sha256, \"abc\") is right" \
	has "$W/check.log" "^tlscheck: sha256 abc BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD$"
want=$(grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt)
check "TLS-RUNTIME-DEPS: public_key:cacerts_get() has the host's $want certificates" \
	has "$W/check.log" "^tlscheck: cacerts $want$"
check "TLS-RUNTIME-DEPS: a server of an unknown CA is refused, cleanly" \
	has "$W/check.log" "^tlscheck: connection refused by verification .*unknown_ca"
# The guest has RDRAND (-cpu max) and a virtio-rng device: getrandom()
# never waits. A stalled CRNG would show as minutes here; the bound is
# generous, and the time is only printed.
ms=$(tr -d '\r' <"$W/check.log" |
	sed -n 's/^tlscheck: ssl started ok in \([0-9]*\) ms$/\1/p')
check "CRNG-GETRANDOM-STALL: ssl starts in bounded time (${ms:-?} ms < 30 s)" \
	test -n "$ms" -a "${ms:-99999}" -lt 30000

boot_bg "$W/check-ca.log" run "$W/check-ca.img" 10.0.2.2 "$sport"
wait_exit "$BG" 180
check "TLS-RUNTIME-DEPS: --cacerts FILE: cacerts_get() has its 1 certificate" \
	has "$W/check-ca.log" "^tlscheck: cacerts 1$"
check "TLS-RUNTIME-DEPS: ... and verify_peer accepts that CA's server" \
	has "$W/check-ca.log" "^tlscheck: verified connection tlsv1\.3$"

boot_bg "$W/check-none.log" run "$W/check-none.img" 10.0.2.2 "$sport"
wait_exit "$BG" 180
check "TLS-RUNTIME-DEPS: --cacerts none: the guest still runs (status 0)" \
	test "$RC" = 0
check "TLS-RUNTIME-DEPS: ... cacerts_get() raises (OTP 25: badmatch on enoent)" \
	has "$W/check-none.log" "^tlscheck: cacerts error \\{'EXIT',\\{badmatch,\\{error,enoent\\}\\}\\}$"
check "TLS-RUNTIME-DEPS: ... cacerts_load() is {error, enoent}" \
	has "$W/check-none.log" "^tlscheck: cacerts_load \\{error,enoent\\}$"
check "TLS-RUNTIME-DEPS: ... the verified connection fails cleanly" \
	has "$W/check-none.log" "^tlscheck: connection refused by verification"
kill "$SRV" 2>/dev/null
SRV=

# --- inets httpd: a static page to curl ------------------------------------
"$BEAMRUN" bake "$ROOT/examples/httpd" -o "$W/httpd.img" >/dev/null 2>&1
"$BEAMRUN" volume iso "$ROOT/examples/httpd/www" "$W/www.iso" >/dev/null 2>&1
check "httpd: image and page volume made" \
	test -s "$W/httpd.img" -a -s "$W/www.iso"
port=$(free_port)
boot_bg "$W/httpd.log" run -p "$port:8080" -b "$W/www.iso,/srv" "$W/httpd.img"
pid=$BG
if wait_for "$W/httpd.log" "^httpd serving /srv on port 8080" 120; then
	ok "httpd: inets httpd starts"
	code=$(curl -s -m 30 -o "$W/page.html" -w '%{http_code} %{content_type}' \
		"http://127.0.0.1:$port/")
	check "httpd: GET / is 200 text/html ($code)" test "$code" = "200 text/html"
	check "httpd: ... with the page from the volume" \
		cmp -s "$W/page.html" "$ROOT/examples/httpd/www/index.html"
	code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$port/no-such-page.html")
	check "httpd: a missing page is 404 ($code)" test "$code" = 404
	code=$(curl -s -m 30 -I -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$port/index.html")
	check "httpd: HEAD is 200 ($code)" test "$code" = 200
else
	not_ok "httpd: inets httpd starts" "$(tail -5 "$W/httpd.log")"
fi
kill -INT "$pid"
wait_exit "$pid" 60
check "httpd: Ctrl-C stops the server (status 0)" test "$RC" = 0

finish
