# free_port: print a TCP port in 20000-40000 that nothing on the
# loopback listens on (sourced by tests/lib.sh and bench/run.sh).
free_port() {
	local p
	for p in $(shuf -i 20000-40000 -n 50); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
