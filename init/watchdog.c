/*
 * beamrun-init: pet the VM's watchdog (qemu's ib700, when the launcher
 * adds one). If the guest stops answering (a hung kernel, an init that
 * no longer runs), nobody pets it and qemu powers the VM off; the
 * launcher learns why from qemu and exits with its watchdog status.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

/* ib700 counts at most 30 s; init pets it every INIT_WATCHDOG_PET_S. */
#define WATCHDOG_TIMEOUT_S 30

int init_watchdog_open(void)
{
	int fd = open("/dev/watchdog", O_WRONLY | O_CLOEXEC), t;

	if (fd < 0) {
		if (errno != ENOENT)
			init_err("watchdog: %s", strerror(errno));
		return -1;
	}
	t = WATCHDOG_TIMEOUT_S;
	if (ioctl(fd, WDIOC_SETTIMEOUT, &t) < 0)
		init_err("watchdog: set timeout: %s", strerror(errno));
	init_info("watchdog armed: %ds", t);
	return fd;
}

void init_watchdog_pet(int fd)
{
	static time_t last;
	struct timespec now;

	if (fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last && now.tv_sec - last < INIT_WATCHDOG_PET_S)
		return;
	last = now.tv_sec;
	if (ioctl(fd, WDIOC_KEEPALIVE, 0) < 0)
		init_err("watchdog: keepalive: %s", strerror(errno));
}
