/* beamrun-init: the guest's file systems: kernel mounts, /tmp, volumes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

struct fs_mount {
	const char *src, *dst, *type;
	unsigned long flags;
	const char *data;
};

/*
 * The root is a read-only erofs image, so every mount point below
 * exists in it already (the bake creates them). /tmp is the only
 * writable place unless the user mounts a volume: beam's HOME and the
 * generated inet configuration go there (crash dumps do not: beam.c).
 */
static const struct fs_mount fs_basic[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
    {"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
    {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
};

int init_fs_basic(void)
{
	size_t i;

	for (i = 0; i < sizeof(fs_basic) / sizeof(fs_basic[0]); i++) {
		const struct fs_mount *m = &fs_basic[i];

		mkdir(m->dst, 0755);
		/* CONFIG_DEVTMPFS_MOUNT may have mounted /dev already. */
		if (mount(m->src, m->dst, m->type, m->flags, m->data) &&
		    errno != EBUSY) {
			init_err("mount %s on %s: %s", m->type, m->dst,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Find /dev/vdX whose virtio serial is the one the launcher assigned. */
static int fs_find_serial(const char *serial, char *dev, size_t len)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while (found && (e = readdir(d))) {
		char path[300], buf[64];
		ssize_t n;
		int fd;

		if (strncmp(e->d_name, "vd", 2))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/serial", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (!strcmp(buf, serial)) {
			snprintf(dev, len, "/dev/%s", e->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

static int fs_mkdir_p(const char *path)
{
	char buf[INIT_PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * The root file system is read-only, so a mount point that the image
 * lacks cannot be made; the bake creates the usual ones (/data, /mnt,
 * /srv, /opt/erlang, /apps/erlang). A tmpfs over the parent would hide
 * the image's own files, so a missing one is an error instead.
 */
static int fs_mountpoint(const char *mnt, char *err, size_t errlen)
{
	struct stat st;

	if (stat(mnt, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (stat(mnt, &st) == 0) {
		snprintf(err, errlen, "mount point %s is not a directory", mnt);
		return -1;
	}
	if (fs_mkdir_p(mnt) == 0)
		return 0;
	if (errno == EROFS)
		snprintf(err, errlen,
			 "mount point %s is not in the image and its root is "
			 "read-only; use one the image has, such as /data, "
			 "/mnt or /srv",
			 mnt);
	else
		snprintf(err, errlen, "cannot create mount point %s: %s", mnt,
			 strerror(errno));
	return -1;
}

static const char *const fs_auto[] = {"ext4", "iso9660", "erofs", "squashfs"};

static int fs_mount_one(struct init_vol *v, const char *dev, const char *type)
{
	unsigned long flags = MS_NOSUID | MS_NODEV;
	int ro = v->ro || strcmp(type, "ext4");

	if (mount(dev, v->mnt, type, flags | (ro ? MS_RDONLY : 0), NULL) == 0) {
		v->writable = !ro;
		return 0;
	}
	/* A disk qemu attached read-only refuses a writable mount. */
	if (!ro && (errno == EROFS || errno == EACCES) &&
	    mount(dev, v->mnt, type, flags | MS_RDONLY, NULL) == 0) {
		init_log("%s: the disk is read-only; mounted read-only",
			 v->mnt);
		return 0;
	}
	return -1;
}

int init_fs_volumes(struct init_cfg *cfg, char *err, size_t errlen)
{
	size_t i, t;

	for (i = 0; i < cfg->nvol; i++) {
		struct init_vol *v = &cfg->vol[i];
		char dev[300];
		int rc = -1;

		if (v->dev[0]) {
			snprintf(dev, sizeof(dev), "/dev/%s", v->dev);
			if (access(dev, F_OK)) {
				snprintf(err, errlen,
					 "volume %s for %s: no such block "
					 "device",
					 dev, v->mnt);
				return -1;
			}
		} else if (fs_find_serial(v->serial, dev, sizeof(dev))) {
			snprintf(err, errlen,
				 "volume %s for %s: no such block device",
				 v->serial, v->mnt);
			return -1;
		}
		if (fs_mountpoint(v->mnt, err, errlen))
			return -1;
		if (strcmp(v->fstype, "auto")) {
			rc = fs_mount_one(v, dev, v->fstype);
		} else {
			for (t = 0;
			     rc && t < sizeof(fs_auto) / sizeof(*fs_auto); t++)
				rc = fs_mount_one(v, dev, fs_auto[t]);
		}
		if (rc) {
			snprintf(err, errlen, "mount %s (%s) on %s: %s", dev,
				 v->fstype, v->mnt,
				 errno == EINVAL ? "unknown file system"
						 : strerror(errno));
			return -1;
		}
		v->mounted = 1;
		init_info("mounted %s on %s", dev, v->mnt);
	}
	return 0;
}

void init_fs_teardown(const struct init_cfg *cfg)
{
	size_t i;

	sync();
	for (i = cfg->nvol; i-- > 0;) {
		/* Only what init mounted; a failed boot may have stopped early.
		 */
		if (!cfg->vol[i].mounted)
			continue;
		if (umount2(cfg->vol[i].mnt, 0))
			init_err("unmount %s: %s", cfg->vol[i].mnt,
				 strerror(errno));
	}
	sync();
}
