/*
 * beamrun-init: compressed swap in RAM (zram) for small guests.
 *
 * Much of what beam keeps in anonymous memory is written once and then
 * rarely read: the loaded code of modules that ran at boot, atoms, the
 * literals of configuration. In a guest of 32 MiB those pages compete
 * with the page cache that holds beam's own machine code, and the
 * kernel, with nowhere to put them, evicts the code instead and then
 * thrashes. A zram device gives them somewhere: the kernel compresses
 * them (LZ4, typically 3:1 for BEAM data) into RAM it takes only as it
 * needs it. No disk is involved and nothing leaves the guest.
 *
 * The launcher sets the size ("swap", MiB; 0 turns it off). Without it,
 * a guest below INIT_SWAP_AUTO_MIB of RAM gets a device as large as its
 * RAM, at most INIT_SWAP_AUTO_MAX_MIB (the compressed store takes only a
 * fraction of that; the device's table, 16 bytes a page, is allocated
 * and cleared at setup: 4 ms of boot under TCG for 64 MiB), a larger
 * guest none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#include "init.h"

#define ZRAM_DEV  "/dev/zram0"
#define ZRAM_SYS  "/sys/block/zram0"
#define SWAP_PAGE 4096

/*
 * The swap area's first page, as the kernel reads it (version 1): its
 * last usable page at byte 1028, no bad pages, and the signature in the
 * page's last 10 bytes.
 */
static int swap_header(const char *dev, unsigned long pages, char *err,
		       size_t errlen)
{
	unsigned char page[SWAP_PAGE] = {0};
	uint32_t version = 1, last = (uint32_t)(pages - 1);
	int fd = open(dev, O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", dev, strerror(errno));
		return -1;
	}
	memcpy(page + 1024, &version, sizeof(version));
	memcpy(page + 1028, &last, sizeof(last));
	memcpy(page + SWAP_PAGE - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, page, sizeof(page), 0) != (ssize_t)sizeof(page) ||
	    fsync(fd)) {
		snprintf(err, errlen, "write %s: %s", dev,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return close(fd);
}

int init_swap_setup(const struct init_cfg *cfg, char *err, size_t errlen)
{
	unsigned long mib = 0;
	char num[32];

	if (cfg->swap_mib >= 0)
		mib = (unsigned long)cfg->swap_mib;
	else if (cfg->mem_kib && cfg->mem_kib < INIT_SWAP_AUTO_MIB * 1024UL)
		mib = (cfg->mem_kib + 1023) / 1024;
	if (cfg->swap_mib < 0 && mib > INIT_SWAP_AUTO_MAX_MIB)
		mib = INIT_SWAP_AUTO_MAX_MIB;
	if (!mib)
		return 0;
	if (access(ZRAM_SYS, F_OK)) {
		/* A kernel without zram: only an explicit size is an error. */
		if (cfg->swap_mib < 0)
			return 0;
		snprintf(err, errlen, "this kernel has no zram device");
		return -1;
	}
	snprintf(num, sizeof(num), "%luM", mib);
	if (init_write_file(ZRAM_SYS "/disksize", num, err, errlen) ||
	    swap_header(ZRAM_DEV, mib * (1024 * 1024 / SWAP_PAGE), err,
			errlen))
		return -1;
	if (swapon(ZRAM_DEV, 0)) {
		snprintf(err, errlen, "swapon %s: %s", ZRAM_DEV,
			 strerror(errno));
		return -1;
	}
	/*
	 * One page at a time: read-ahead of neighbouring swap slots only
	 * pays for a disk's seeks, and here costs decompressions.
	 */
	if (init_write_file("/proc/sys/vm/page-cluster", "0", err, errlen))
		return -1;
	init_info("swap: %lu MiB of zram", mib);
	return 0;
}
