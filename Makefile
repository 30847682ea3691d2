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

# json-c linked in, libc shared with beam: every image carries beam's
# libc and loader anyway (bake adds the init's closure), and a static
# glibc made the init 1.1 MB (0.58 MB of the image) instead of 0.07 MB.
$(INIT): $(INIT_SRC) init/init.h
	@mkdir -p $(@D)
	$(CC) -Os -s -ffunction-sections -fdata-sections -Wl,--gc-sections \
		$(WARN) -o $@ $(INIT_SRC) -Wl,-Bstatic -ljson-c -Wl,-Bdynamic

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
