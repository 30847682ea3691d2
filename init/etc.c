/* beamrun-init: /etc files for name resolution, on a tmpfs over /etc. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

#define ETC_INETRC "/etc/erl_inetrc"
/* Files the image carries for /etc, which the tmpfs would hide. */
#define ETC_IMAGE "/usr/etc"

int init_write_file(const char *path, const char *text, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "we");
	int bad;

	if (!f) {
		snprintf(err, errlen, "write %s: %s", path, strerror(errno));
		return -1;
	}
	/* A sysfs or procfs write fails when the buffer is flushed. */
	bad = fputs(text, f) < 0;
	if (fclose(f) || bad) {
		snprintf(err, errlen, "write %s: %s", path, strerror(errno));
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

/* The IPv4 address an interface has now, as text; "" if none. */
static void etc_if_addr(const char *ifname, char *out, size_t len)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	out[0] = '\0';
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && ioctl(fd, SIOCGIFADDR, &ifr) == 0)
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, out,
			  (socklen_t)len);
	if (fd >= 0)
		close(fd);
}

/* Add a nameserver unless it is there already or the list is full. */
static void etc_add_ns(struct init_cfg *cfg, const char *addr, unsigned port)
{
	size_t i;

	for (i = 0; i < cfg->ndns; i++)
		if (!strcmp(cfg->dns[i], addr) && cfg->dns_port[i] == port)
			return;
	if (cfg->ndns == INIT_MAX_DNS || strlen(addr) >= sizeof(cfg->dns[0]))
		return;
	strcpy(cfg->dns[cfg->ndns], addr);
	cfg->dns_port[cfg->ndns++] = port;
}

/*
 * The kernel's DHCP client (ip=dhcp) leaves what the lease said in
 * /proc/net/pnp: "nameserver A.B.C.D" lines among others.
 */
static void etc_dhcp_dns(struct init_cfg *cfg)
{
	char line[128], *addr;
	unsigned char bin[4];
	FILE *f = fopen("/proc/net/pnp", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "nameserver ", 11))
			continue;
		addr = line + 11 + strspn(line + 11, " \t");
		addr[strcspn(addr, " \t\n")] = '\0';
		if (inet_pton(AF_INET, addr, bin) == 1 &&
		    strcmp(addr, "0.0.0.0"))
			etc_add_ns(cfg, addr, 53);
	}
	fclose(f);
}

/* A nameserver address as an Erlang tuple, for erl_inetrc. */
static void etc_ns_term(const char *addr, char *out, size_t len)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, addr, b) == 1) {
		snprintf(out, len, "{%u,%u,%u,%u}", b[0], b[1], b[2], b[3]);
		return;
	}
	inet_pton(AF_INET6, addr, b);
	snprintf(out, len, "{%u,%u,%u,%u,%u,%u,%u,%u}", b[0] << 8 | b[1],
		 b[2] << 8 | b[3], b[4] << 8 | b[5], b[6] << 8 | b[7],
		 b[8] << 8 | b[9], b[10] << 8 | b[11], b[12] << 8 | b[13],
		 b[14] << 8 | b[15]);
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
 * own DNS client. Its nameservers are listed there rather than read
 * from resolv.conf, which cannot carry a port; resolv.conf is written
 * for reading, with the port-53 ones.
 */
int init_etc_setup(struct init_cfg *cfg, char *err, size_t errlen)
{
	char buf[2048] = "", addr[INET_ADDRSTRLEN], term[64], names[140];
	const char *dot;
	size_t i;
	int dhcp = 0;

	if (mount("tmpfs", "/etc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=1m")) {
		snprintf(err, errlen, "mount tmpfs on /etc: %s",
			 strerror(errno));
		return -1;
	}
	/* A host name with a domain gets its first label as an alias. */
	dot = strchr(cfg->hostname, '.');
	snprintf(names, sizeof(names), "%s", cfg->hostname);
	if (dot)
		etc_cat(names, sizeof(names), "\t%.*s",
			(int)(dot - cfg->hostname), cfg->hostname);
	etc_cat(buf, sizeof(buf), "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
	for (i = 0; i < cfg->nnet; i++) {
		const struct init_net *n = &cfg->net[i];

		if (n->method == INIT_NET_STATIC) {
			etc_cat(buf, sizeof(buf), "%s\t%s\n", n->addr, names);
		} else if (n->method == INIT_NET_DHCP) {
			dhcp = 1;
			etc_if_addr(n->ifname, addr, sizeof(addr));
			if (addr[0])
				etc_cat(buf, sizeof(buf), "%s\t%s\n", addr,
					names);
		}
	}
	for (i = 0; i < cfg->nhosts; i++)
		etc_cat(buf, sizeof(buf), "%s\t%s\n", cfg->hosts[i].addr,
			cfg->hosts[i].name);
	if (init_write_file("/etc/hosts", buf, err, errlen))
		return -1;

	if (dhcp && !cfg->no_dhcp_dns)
		etc_dhcp_dns(cfg);
	buf[0] = '\0';
	for (i = 0; i < cfg->ndns; i++)
		if (cfg->dns_port[i] == 53)
			etc_cat(buf, sizeof(buf), "nameserver %s\n",
				cfg->dns[i]);
	if (init_write_file("/etc/resolv.conf", buf, err, errlen))
		return -1;

	snprintf(buf, sizeof(buf), "%s\n", cfg->hostname);
	if (init_write_file("/etc/hostname", buf, err, errlen))
		return -1;

	/*
	 * {resolv_conf, ""}: no file to watch, so nothing replaces these.
	 * No hosts_file: inet_db then reads /etc/hosts at the first lookup
	 * (and again when it changes) rather than at boot, which also keeps
	 * the string and unicode_util modules (0.5 MB) out of a guest that
	 * never looks a name up.
	 */
	snprintf(buf, sizeof(buf), "{resolv_conf, \"\"}.\n");
	for (i = 0; i < cfg->ndns; i++) {
		etc_ns_term(cfg->dns[i], term, sizeof(term));
		etc_cat(buf, sizeof(buf), "{nameserver, %s, %u}.\n", term,
			cfg->dns_port[i]);
	}
	etc_cat(buf, sizeof(buf), "{lookup, [file, dns]}.\n");
	if (init_write_file(ETC_INETRC, buf, err, errlen))
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
