/* beamrun-init: /etc files for name resolution, on a tmpfs over /etc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "init.h"

#define ETC_INETRC "/etc/erl_inetrc"
/* Files the image carries for /etc, which the tmpfs would hide. */
#define ETC_IMAGE "/usr/etc"

static int etc_write(const char *path, const char *text, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		snprintf(err, errlen, "write %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return 0;
}

/* Append to a fixed buffer, truncating rather than overflowing. */
static void etc_cat(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void etc_cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used >= len - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Link each entry of the image's /usr/etc into /etc (bake puts the CA
 * bundle there, as ssl/certs/ca-certificates.crt), except the files init
 * writes itself. An image without /usr/etc has nothing to link.
 */
static int etc_link_image(char *err, size_t errlen)
{
	char from[512], to[512];
	struct dirent **e;
	int i, n = scandir(ETC_IMAGE, &e, NULL, alphasort), rc = 0;

	for (i = 0; i < n; i++) {
		const char *name = e[i]->d_name;

		if (!rc && strcmp(name, ".") && strcmp(name, "..")) {
			snprintf(from, sizeof(from), "%s/%s", ETC_IMAGE, name);
			snprintf(to, sizeof(to), "/etc/%s", name);
			if (symlink(from, to) && errno != EEXIST) {
				snprintf(err, errlen, "symlink %s: %s", to,
					 strerror(errno));
				rc = -1;
			}
		}
		free(e[i]);
	}
	if (n > 0)
		free(e);
	return rc;
}

/*
 * Erlang's default resolver ("native") runs the inet_gethost port
 * program, which needs libc's NSS modules the image does not carry.
 * beam reads ERL_INETRC instead: the hosts file first, then Erlang's
 * own DNS client with the nameservers from the configuration.
 */
int init_etc_setup(const struct init_cfg *cfg, char *err, size_t errlen)
{
	char buf[2048] = "";
	size_t i;

	if (mount("tmpfs", "/etc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=1m")) {
		snprintf(err, errlen, "mount tmpfs on /etc: %s",
			 strerror(errno));
		return -1;
	}
	etc_cat(buf, sizeof(buf), "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
	for (i = 0; i < cfg->nnet; i++)
		if (cfg->net[i].method == INIT_NET_STATIC)
			etc_cat(buf, sizeof(buf), "%s\t%s\n", cfg->net[i].addr,
				cfg->hostname);
	if (etc_write("/etc/hosts", buf, err, errlen))
		return -1;

	buf[0] = '\0';
	for (i = 0; i < cfg->ndns; i++)
		etc_cat(buf, sizeof(buf), "nameserver %s\n", cfg->dns[i]);
	if (etc_write("/etc/resolv.conf", buf, err, errlen))
		return -1;

	snprintf(buf, sizeof(buf), "%s\n", cfg->hostname);
	if (etc_write("/etc/hostname", buf, err, errlen))
		return -1;

	if (etc_write(ETC_INETRC,
		      "{hosts_file, \"/etc/hosts\"}.\n"
		      "{resolv_conf, \"/etc/resolv.conf\"}.\n"
		      "{lookup, [file, dns]}.\n",
		      err, errlen))
		return -1;
	return etc_link_image(err, errlen);
}

const char *init_etc_inetrc(void)
{
	return ETC_INETRC;
}

/*
 * The distribution cookie comes through qemu's fw_cfg (the launcher
 * passes a file, so the cookie is neither on the kernel command line
 * nor in any process list) and goes where Erlang's auth looks for it:
 * $HOME/.erlang.cookie, HOME being /tmp, readable by its owner only.
 */
int init_etc_cookie(char *err, size_t errlen)
{
	char cookie[256];
	FILE *in = fopen(INIT_COOKIE_FWCFG, "re"), *out;
	size_t n;
	int fd;

	if (!in)
		return 0; /* no --cookie: beam makes one up if it needs one */
	n = fread(cookie, 1, sizeof(cookie), in);
	fclose(in);
	if (n == 0 || n == sizeof(cookie)) {
		snprintf(err, errlen, "cookie: %s", n ? "too long" : "empty");
		return -1;
	}
	fd = open(INIT_COOKIE_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0400);
	out = fd < 0 ? NULL : fdopen(fd, "w");
	if (!out || fwrite(cookie, 1, n, out) != n || fclose(out)) {
		snprintf(err, errlen, "write %s: %s", INIT_COOKIE_FILE,
			 strerror(errno));
		if (out)
			fclose(out);
		else if (fd >= 0)
			close(fd);
		return -1;
	}
	init_info("distribution cookie in %s", INIT_COOKIE_FILE);
	return 0;
}
