# beamrun: build the host tool, the guest init and the kernel; run tests.
BUILD	?= build
CC	?= gcc
CFLAGS	?= -O2 -g
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-format-truncation
HOST_LIBS = -ljson-c -larchive -lelf -lblkid -lz -llz4 -lzstd

HOST_SRC = $(wildcard host/*.c)
INIT_SRC = $(wildcard init/*.c)

BEAMRUN	= $(BUILD)/bin/beamrun
INIT	= $(BUILD)/init/beamrun-init
KERNEL	= $(BUILD)/kernel/bzImage

.PHONY: all deps demo check unit boot bench fuzz format clean erts

all: $(BEAMRUN) $(INIT) $(KERNEL) erts

$(BEAMRUN): $(HOST_SRC) host/beamrun.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -o $@ $(HOST_SRC) $(HOST_LIBS)

# Static, glibc included: a dynamic init cost ~90 ms of boot under TCG
# (ld.so mapping and relocating libc before main; beam's exec came at
# 405 ms after the kernel's start, 314 ms static, medians of 7
# interleaved boots) for 0.38 MB more image (0.82 MB binary; 1.08 MB
# with glob, which brings in NSS, and scanf).
$(INIT): $(INIT_SRC) init/init.h Makefile
	@mkdir -p $(@D)
	$(CC) -Os -s -static -ffunction-sections -fdata-sections \
		-Wl,--gc-sections $(WARN) -o $@ $(INIT_SRC) -ljson-c

# Rebuilt only when the fragment or the script changes (see the script).
$(KERNEL): kernel/beamrun.config kernel/build.sh $(wildcard kernel/patches/*.patch)
	sh kernel/build.sh $(BUILD)/kernel

# The interpreter flavour of the host's emulator, for bake's default
# --flavor emu; the script keeps it until erlang-base or it changes.
erts:
	sh erts/build.sh $(BUILD)/erts

deps:
	sh scripts/install-deps.sh

demo: deps
	$(MAKE) all
	bash scripts/demo.sh

check: all
	sh tests/run.sh

unit: $(BEAMRUN) $(INIT)
	sh tests/run.sh unit

boot: all
	sh tests/run.sh boot

bench: all
	sh bench/run.sh

# Needs clang; FUZZ_SECONDS per target (fuzz/README.md).
fuzz:
	sh fuzz/run.sh $(FUZZ_SECONDS)

format:
	clang-format -i host/*.c host/*.h init/*.c init/*.h tests/unit/*.c \
	    fuzz/*.c fuzz/*.h

clean:
	rm -rf $(BUILD)/bin $(BUILD)/init $(BUILD)/tests $(BUILD)/examples \
	    $(BUILD)/fuzz
