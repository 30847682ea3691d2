/*
 * beamrun-init: booted from firmware media (beamrun iso, beamrun disk).
 *
 * GRUB loads the kernel and one uncompressed cpio archive through the
 * firmware, so the kernel needs no driver for whatever CD or disk
 * controller the hypervisor emulates. The archive holds this program as
 * /init, the image's root file system as /root.erofs and the volumes as
 * /vol/1, /vol/2, ... The kernel unpacks it into its initial RAM file
 * system and runs /init: it attaches the root to /dev/loop0 and volume N
 * to /dev/loopN, mounts the root, makes it the root and execs the image's
 * own /sbin/init, which then boots as under qemu but powers off at the
 * end (INIT_ARG_POWEROFF): nothing outside would end a reboot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "init.h"

#define STAGE_ROOT "/root.erofs"
#define STAGE_NEW  "/newroot"
#define STAGE_CFG  "/beamrun.json"
/* As much configuration as init_cfg_parse is given anywhere. */
#define STAGE_CFG_MAX 65536

/* Attach file to /dev/loopN (created by number); read-only if ro. */
static int stage_loop(const char *file, int n, int ro)
{
	char dev[32];
	int ctl, fd, lo, rc = -1;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		init_err("/dev/loop-control: %s", strerror(errno));
		return -1;
	}
	/* EEXIST: already there (LOOP_MIN_COUNT). */
	if (ioctl(ctl, LOOP_CTL_ADD, n) < 0 && errno != EEXIST) {
		init_err("loop%d: %s", n, strerror(errno));
		close(ctl);
		return -1;
	}
	close(ctl);
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	fd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0 && !ro && errno == EROFS)
		fd = open(file, O_RDONLY | O_CLOEXEC);
	lo = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || lo < 0)
		init_err("attach %s to %s: %s", file, dev, strerror(errno));
	else if (ioctl(lo, LOOP_SET_FD, fd) < 0)
		init_err("attach %s to %s: %s", file, dev, strerror(errno));
	else
		rc = 0;
	if (fd >= 0)
		close(fd);
	if (lo >= 0)
		close(lo);
	return rc;
}

int init_stage_switch(char **argv)
{
	static char cfg[STAGE_CFG_MAX + sizeof("beamrun=")];
	char *args[4] = {argv[0], cfg, INIT_ARG_POWEROFF, NULL};
	struct statfs sf;
	char vol[32];
	ssize_t len;
	int n, fd;

	if (access(STAGE_ROOT, F_OK) || statfs("/", &sf) ||
	    (sf.f_type != RAMFS_MAGIC && sf.f_type != TMPFS_MAGIC))
		return 0;
	/* A failure here must not reboot into the media again either. */
	init_poweroff = 1;
	strcpy(cfg, "beamrun=");
	fd = open(STAGE_CFG, O_RDONLY | O_CLOEXEC);
	len = fd < 0 ? -1 : read(fd, cfg + 8, STAGE_CFG_MAX);
	if (fd >= 0)
		close(fd);
	if (len <= 0 || len == STAGE_CFG_MAX) {
		init_err("%s: %s", STAGE_CFG,
			 len < 0 ? strerror(errno) : "empty or too long");
		return -1;
	}
	cfg[8 + len] = '\0';
	cfg[8 + strcspn(cfg + 8, "\n")] = '\0';
	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL) &&
	    errno != EBUSY) {
		init_err("mount devtmpfs on /dev: %s", strerror(errno));
		return -1;
	}
	if (stage_loop(STAGE_ROOT, 0, 1))
		return -1;
	for (n = 1; n < 1 + INIT_MAX_VOL; n++) {
		snprintf(vol, sizeof(vol), "/vol/%d", n);
		if (access(vol, F_OK))
			break;
		if (stage_loop(vol, n, 0))
			return -1;
	}
	mkdir(STAGE_NEW, 0755);
	if (mount("/dev/loop0", STAGE_NEW, "erofs", MS_RDONLY, NULL)) {
		init_err("mount the root (%s) on %s: %s", STAGE_ROOT, STAGE_NEW,
			 strerror(errno));
		return -1;
	}
	/* The image's init finds /dev mounted (it accepts EBUSY). */
	if (mount("/dev", STAGE_NEW "/dev", NULL, MS_MOVE, NULL)) {
		init_err("move /dev: %s", strerror(errno));
		return -1;
	}
	if (chdir(STAGE_NEW) || mount(".", "/", NULL, MS_MOVE, NULL) ||
	    chroot(".") || chdir("/")) {
		init_err("switch to the root: %s", strerror(errno));
		return -1;
	}
	execv("/sbin/init", args);
	init_err("exec /sbin/init of the image: %s", strerror(errno));
	return -1;
}
