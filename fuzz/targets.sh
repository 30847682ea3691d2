# beamrun: the fuzz targets and what each links, for fuzz/run.sh and
# tests/unit/build.sh (sourced by both, so the two builds agree).
# shellcheck disable=SC2034
FUZZ_TARGETS="init_cfg spec_opts spec_nic spec_vol guestcfg"
# shellcheck disable=SC2034
FUZZ_CFLAGS="-Ihost -Iinit -Ifuzz"

# fuzz_sources TARGET: the project's sources fuzz/TARGET.c needs, then
# the libraries they link.
fuzz_sources() {
	init="init/config.c init/beam.c init/log.c init/etc.c"
	spec="host/spec.c host/util.c"
	case $1 in
	init_cfg) echo "$init -ljson-c" ;;
	guestcfg) echo "$spec host/guestcfg.c $init -ljson-c -lblkid" ;;
	*) echo "$spec -lblkid" ;;
	esac
}
