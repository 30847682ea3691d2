/* beamrun: parsers for the option values users type (-p, -b, -I, -W, -e). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <blkid/blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "beamrun.h"

static int parse_port(const char *s, const char *end, unsigned *port)
{
	unsigned long v = 0;
	const char *p;

	if (s == end)
		return -1;
	for (p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (unsigned)v;
	return 0;
}

int br_parse_fwd(const char *spec, struct br_fwd *f)
{
	const char *s = spec, *colon;

	memset(f, 0, sizeof(*f));
	strcpy(f->proto, "tcp");
	if (!strncmp(s, "tcp:", 4) || !strncmp(s, "udp:", 4)) {
		memcpy(f->proto, s, 3);
		s += 4;
	}
	colon = strchr(s, ':');
	if (!colon) {
		if (parse_port(s, s + strlen(s), &f->host_port))
			goto bad;
		f->guest_port = f->host_port;
		return 0;
	}
	if (parse_port(s, colon, &f->host_port) ||
	    parse_port(colon + 1, colon + 1 + strlen(colon + 1),
		       &f->guest_port))
		goto bad;
	return 0;
bad:
	br_seterr("-p %s: expected [tcp:|udp:]HOSTPORT[:GUESTPORT] with ports "
		  "1-65535",
		  spec);
	return -1;
}

static void random_mac(unsigned char mac[6])
{
	FILE *f = fopen("/dev/urandom", "re");

	/* qemu's own OUI, as rumprun did; the rest random. */
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	if (!f || fread(mac + 3, 1, 3, f) != 3) {
		mac[3] = (unsigned char)rand();
		mac[4] = (unsigned char)rand();
		mac[5] = (unsigned char)rand();
	}
	if (f)
		fclose(f);
}

/*
 * rumprun passed BACKEND to qemu as "-net ..." words; qemu's newer
 * -netdev takes the same text after the type, so "-net tap,ifname=x"
 * and "tap,ifname=x" both become "-netdev tap,id=...,ifname=x".
 */
int br_parse_nic_for(const char *spec, struct br_nic *n, const char *platform)
{
	const char *c1 = strchr(spec, ','),
		   *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	size_t bl;

	if (!strcmp(platform, "qemu") || !strcmp(platform, "kvm"))
		return br_parse_nic(spec, n);
	memset(n, 0, sizeof(*n));
	if (!c1 || c1 == spec || !c1[1] || c2 == c1 + 1) {
		br_seterr("-I %s: expected TAG,BASE%s", spec,
			  !strcmp(platform, "xen") ? "[,VIF]" : "");
		return -1;
	}
	bl = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if ((size_t)(c1 - spec) >= sizeof(n->tag) || bl >= sizeof(n->base)) {
		br_seterr("-I %s: tag or base name too long", spec);
		return -1;
	}
	memcpy(n->tag, spec, (size_t)(c1 - spec));
	memcpy(n->base, c1 + 1, bl);
	if (!strcmp(platform, "xen")) {
		/* Xen's front end; the VIF text is xl's (bridge=xenbr0,...). */
		if (strcmp(n->base, "xenif")) {
			br_seterr("-I %s: base \"%s\" is not xenif (Xen's "
				  "network front end)",
				  spec, n->base);
			return -1;
		}
		if (c2 && (!c2[1] || strpbrk(c2 + 1, "'\"\\[]\n"))) {
			br_seterr("-I %s: the VIF part is xl's vif text, "
				  "such as bridge=xenbr0 (no quotes or "
				  "brackets)",
				  spec);
			return -1;
		}
		n->backend = xstrdup(c2 ? c2 + 1 : "");
	} else if (!strcmp(platform, "virsh-xml")) {
		const char *be = c2 ? c2 + 1 : "user";

		if (strcmp(n->base, "vioif")) {
			br_seterr("-I %s: base \"%s\" is not vioif (virtio)",
				  spec, n->base);
			return -1;
		}
		if (strcmp(be, "user") && strncmp(be, "user,", 5) &&
		    strncmp(be, "network=", 8) && strncmp(be, "bridge=", 7)) {
			br_seterr("-I %s: the backend is user[,hostfwd=...], "
				  "network=NAME or bridge=NAME",
				  spec);
			return -1;
		}
		if (strpbrk(be, "<>&'\"")) {
			br_seterr(
			    "-I %s: no <>&'\" in a network or bridge name",
			    spec);
			return -1;
		}
		n->backend = xstrdup(be);
	} else {
		/* iso, disk: the NIC is the hypervisor's, the guest's eth. */
		if (strcmp(n->base, "vioif")) {
			br_seterr("-I %s: base \"%s\" is not vioif (the VM's "
				  "virtio NIC)",
				  spec, n->base);
			return -1;
		}
		if (c2) {
			br_seterr("-I %s: %s takes TAG,BASE only; the network "
				  "behind the NIC is the hypervisor's",
				  spec, platform);
			return -1;
		}
		n->backend = xstrdup("");
	}
	n->family = AF_INET;
	random_mac(n->mac);
	return 0;
}

int br_parse_nic(const char *spec, struct br_nic *n)
{
	const char *c1, *c2, *be;
	static const char *const types[] = {"user",   "tap",   "socket",
					    "stream", "dgram", "bridge",
					    "vde",    "l2tpv3"};
	size_t i, tl;

	memset(n, 0, sizeof(*n));
	c1 = strchr(spec, ',');
	c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c1 || !c2 || c1 == spec || c2 == c1 + 1 || !c2[1]) {
		br_seterr("-I %s: expected TAG,BASE,BACKEND (for example "
			  "net0,vioif,'-net user')",
			  spec);
		return -1;
	}
	if ((size_t)(c1 - spec) >= sizeof(n->tag) ||
	    (size_t)(c2 - c1 - 1) >= sizeof(n->base)) {
		br_seterr("-I %s: tag or base name too long", spec);
		return -1;
	}
	memcpy(n->tag, spec, (size_t)(c1 - spec));
	memcpy(n->base, c1 + 1, (size_t)(c2 - c1 - 1));
	/* rumprun's virtio driver; xenif belongs to the Xen platform. */
	if (strcmp(n->base, "vioif")) {
		br_seterr("-I %s: base \"%s\" is not vioif (the virtio NIC "
			  "qemu and kvm use)",
			  spec, n->base);
		return -1;
	}
	be = c2 + 1;
	while (*be == ' ')
		be++;
	if (!strncmp(be, "-netdev ", 8))
		be += 8;
	else if (!strncmp(be, "-net ", 5))
		be += 5;
	while (*be == ' ')
		be++;
	tl = strcspn(be, ",");
	for (i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (strlen(types[i]) == tl && !strncmp(be, types[i], tl))
			break;
	if (i == sizeof(types) / sizeof(*types) || strchr(be, ' ')) {
		br_seterr("-I %s: backend \"%s\" is not a qemu network backend "
			  "(user, tap, socket, stream, ...)",
			  spec, be);
		return -1;
	}
	n->backend = xstrdup(be);
	n->family = AF_INET;
	random_mac(n->mac);
	return 0;
}

int br_parse_lan(const char *spec, struct br_nic *n)
{
	const char *c = strchr(spec, ',');
	struct stat st;
	char sock[4096];

	memset(n, 0, sizeof(*n));
	if (!c || c == spec || !c[1]) {
		br_seterr("--lan %s: expected SWITCH,ADDR/BITS (a vde_switch "
			  "directory and this guest's address on it)",
			  spec);
		return -1;
	}
	if ((size_t)(c - spec) >= sizeof(sock)) {
		br_seterr("--lan %s: switch path too long", spec);
		return -1;
	}
	memcpy(sock, spec, (size_t)(c - spec));
	sock[c - spec] = '\0';
	/* The address comes after the first comma, so none in the path. */
	if (stat(sock, &st) || !S_ISDIR(st.st_mode)) {
		br_seterr("--lan %s: %s is not a vde_switch directory "
			  "(vde_switch -s DIR)",
			  spec, sock);
		return -1;
	}
	if (br_parse_addr(c + 1, strchr(c + 1, ':') ? AF_INET6 : AF_INET, n)) {
		char why[1024];

		snprintf(why, sizeof(why), "%s", br_err());
		br_seterr("--lan %s", why);
		return -1;
	}
	n->backend = xmalloc(strlen("vde,sock=") + strlen(sock) + 1);
	strcpy(n->backend, "vde,sock=");
	strcat(n->backend, sock);
	random_mac(n->mac);
	return 0;
}

int br_nic_is_user(const struct br_nic *n)
{
	return !strncmp(n->backend, "user", 4) &&
	       (n->backend[4] == '\0' || n->backend[4] == ',');
}

/* Whether every bit of a after the first bits of max is v (0 or 1). */
static int host_bits_are(const unsigned char *a, long bits, int max, int v)
{
	long i;

	for (i = bits; i < max; i++)
		if (!!(a[i / 8] & (0x80 >> (i % 8))) != v)
			return 0;
	return 1;
}

int br_parse_addr(const char *spec, int family, struct br_nic *n)
{
	char buf[160], *slash, *comma, *end;
	unsigned char a[16], g[16];
	long bits;
	int max = family == AF_INET ? 32 : 128;

	if (strlen(spec) >= sizeof(buf)) {
		br_seterr("%s: too long", spec);
		return -1;
	}
	strcpy(buf, spec);
	comma = strchr(buf, ',');
	if (comma)
		*comma++ = '\0';
	slash = strchr(buf, '/');
	if (!slash) {
		br_seterr("%s: address needs a prefix length, as in "
			  "10.0.2.15/24",
			  buf);
		return -1;
	}
	*slash++ = '\0';
	errno = 0;
	bits = strtol(slash, &end, 10);
	if (errno || end == slash || *end || bits < 1 || bits > max) {
		br_seterr("%s/%s: prefix length must be 1-%d", buf, slash, max);
		return -1;
	}
	if (inet_pton(family, buf, a) != 1) {
		br_seterr("%s: not an IPv%d address", buf,
			  family == AF_INET ? 4 : 6);
		return -1;
	}
	/*
	 * A host address: not the unspecified one, not multicast, not the
	 * network or broadcast address of its IPv4 subnet (/31 and /32
	 * have neither).
	 */
	if (host_bits_are(a, 0, max, 0) ||
	    (family == AF_INET ? a[0] >= 224 : a[0] == 0xff)) {
		br_seterr("%s: not a host address (unspecified, multicast or "
			  "reserved)",
			  buf);
		return -1;
	}
	if (family == AF_INET && bits <= 30 &&
	    (host_bits_are(a, bits, max, 0) || host_bits_are(a, bits, max, 1))) {
		br_seterr("%s/%ld: the %s address of the subnet, not a host's",
			  buf, bits,
			  host_bits_are(a, bits, max, 0) ? "network" : "broadcast");
		return -1;
	}
	if (comma && inet_pton(family, comma, g) != 1) {
		br_seterr("%s: gateway is not an IPv%d address", comma,
			  family == AF_INET ? 4 : 6);
		return -1;
	}
	if (comma) {
		int i;

		/* The gateway must be on the interface's own subnet. */
		for (i = 0; i < bits; i++) {
			int m = 0x80 >> (i % 8);

			if ((a[i / 8] & m) != (g[i / 8] & m)) {
				br_seterr("gateway %s is outside %s/%ld", comma,
					  buf, bits);
				return -1;
			}
		}
		if (!memcmp(a, g, (size_t)max / 8)) {
			br_seterr("gateway %s is the interface's own address",
				  comma);
			return -1;
		}
		snprintf(n->gw, sizeof(n->gw), "%s", comma);
	} else {
		n->gw[0] = '\0';
	}
	snprintf(n->addr, sizeof(n->addr), "%s", buf);
	n->prefix = (int)bits;
	n->family = family;
	n->method = BR_NET_STATIC;
	return 0;
}

/*
 * Put what -W parsed (in t) into the NIC: IPv6 beside IPv4 goes to the
 * method6 fields, so one NIC can have both.
 */
static void netspec_merge(struct br_nic *n, const struct br_nic *t)
{
	int v4 = n->method != BR_NET_NONE && n->family == AF_INET;

	if (t->family == AF_INET6)
		n->w_inet6 = 1;
	else
		n->w_inet = 1;

	if (t->family == AF_INET6 && v4) {
		n->method6 = t->method;
		snprintf(n->addr6, sizeof(n->addr6), "%s", t->addr);
		n->prefix6 = t->prefix;
		snprintf(n->gw6, sizeof(n->gw6), "%s", t->gw);
		return;
	}
	if (t->family == AF_INET && n->method != BR_NET_NONE &&
	    n->family == AF_INET6) {
		/* IPv6 came first: it moves beside the IPv4. */
		n->method6 = n->method;
		snprintf(n->addr6, sizeof(n->addr6), "%s", n->addr);
		n->prefix6 = n->prefix;
		snprintf(n->gw6, sizeof(n->gw6), "%s", n->gw);
	}
	n->method = t->method;
	n->family = t->family;
	snprintf(n->addr, sizeof(n->addr), "%s", t->addr);
	n->prefix = t->prefix;
	snprintf(n->gw, sizeof(n->gw), "%s", t->gw);
}

int br_parse_netspec(const char *spec, struct br_nic *nics, size_t nnic)
{
	const char *c = strchr(spec, ',');
	struct br_nic *n = NULL, t;
	size_t i, tl;
	const char *rest;

	if (!c || c == spec) {
		br_seterr("-W %s: expected TAG,inet,static,ADDR/BITS[,GW], "
			  "TAG,inet,dhcp or TAG,inet6,auto",
			  spec);
		return -1;
	}
	tl = (size_t)(c - spec);
	for (i = 0; i < nnic; i++)
		if (strlen(nics[i].tag) == tl &&
		    !strncmp(nics[i].tag, spec, tl))
			n = &nics[i];
	if (!n) {
		br_seterr("-W %s: no interface tagged \"%.*s\" (define it with "
			  "-I first)",
			  spec, (int)tl, spec);
		return -1;
	}
	rest = c + 1;
	memset(&t, 0, sizeof(t));
	if ((!strncmp(rest, "inet,", 5) && n->w_inet) ||
	    (!strncmp(rest, "inet6,", 6) && n->w_inet6)) {
		br_seterr("-W %s: interface \"%.*s\" has an %s -W already "
			  "(one IPv4 and one IPv6 each)",
			  spec, (int)tl, spec, rest[4] == '6' ? "IPv6" : "IPv4");
		return -1;
	}
	if (!strcmp(rest, "inet,dhcp")) {
		t.method = BR_NET_DHCP;
		t.family = AF_INET;
		netspec_merge(n, &t);
		return 0;
	}
	if (!strcmp(rest, "inet6,auto")) {
		t.method = BR_NET_AUTO6;
		t.family = AF_INET6;
		netspec_merge(n, &t);
		return 0;
	}
	if (!strncmp(rest, "inet,static,", 12)) {
		if (br_parse_addr(rest + 12, AF_INET, &t) == 0) {
			netspec_merge(n, &t);
			return 0;
		}
	} else if (!strncmp(rest, "inet6,static,", 13)) {
		if (br_parse_addr(rest + 13, AF_INET6, &t) == 0) {
			netspec_merge(n, &t);
			return 0;
		}
	} else {
		br_seterr("-W %s: method must be inet,static, inet,dhcp, "
			  "inet6,static or inet6,auto",
			  spec);
		return -1;
	}
	{
		char why[1024];

		snprintf(why, sizeof(why), "%s", br_err());
		br_seterr("-W %s: %s", spec, why);
	}
	return -1;
}

int br_parse_dns(const char *spec, char *out, size_t len)
{
	char addr[64];
	unsigned char bin[16];
	const char *hash = strchr(spec, '#');
	size_t alen = hash ? (size_t)(hash - spec) : strlen(spec);
	unsigned long port = 53;

	if (alen == 0 || alen >= sizeof(addr)) {
		br_seterr("--dns %s: expected ADDR[#PORT], as in 10.0.2.3 or "
			  "10.0.2.2#5353",
			  spec);
		return -1;
	}
	memcpy(addr, spec, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 &&
	    inet_pton(AF_INET6, addr, bin) != 1) {
		br_seterr("--dns %s: %s is not an IPv4 or IPv6 address", spec,
			  addr);
		return -1;
	}
	if (hash) {
		char *end;

		errno = 0;
		port = strtoul(hash + 1, &end, 10);
		if (errno || end == hash + 1 || *end || port < 1 ||
		    port > 65535 || hash[1] == '-' || hash[1] == '+') {
			br_seterr("--dns %s: port must be 1-65535", spec);
			return -1;
		}
	}
	if (port == 53)
		snprintf(out, len, "%s", addr);
	else
		snprintf(out, len, "%s#%lu", addr, port);
	return 0;
}

int br_parse_host(const char *spec, struct br_host *h)
{
	const char *colon = strchr(spec, ':');
	unsigned char bin[16];
	size_t i, nlen = colon ? (size_t)(colon - spec) : 0;

	memset(h, 0, sizeof(*h));
	if (!colon || nlen == 0 || !colon[1]) {
		br_seterr("--add-host %s: expected NAME:ADDR", spec);
		return -1;
	}
	for (i = 0; i < nlen; i++)
		if (!(spec[i] == '-' || spec[i] == '.' ||
		      (spec[i] >= 'a' && spec[i] <= 'z') ||
		      (spec[i] >= 'A' && spec[i] <= 'Z') ||
		      (spec[i] >= '0' && spec[i] <= '9')))
			break;
	if (i < nlen || nlen >= sizeof(h->name) || spec[0] == '-' ||
	    spec[0] == '.') {
		br_seterr("--add-host %s: %.*s is not a valid host name", spec,
			  (int)nlen, spec);
		return -1;
	}
	if (strlen(colon + 1) >= sizeof(h->addr) ||
	    (inet_pton(AF_INET, colon + 1, bin) != 1 &&
	     inet_pton(AF_INET6, colon + 1, bin) != 1)) {
		br_seterr("--add-host %s: %s is not an IPv4 or IPv6 address",
			  spec, colon + 1);
		return -1;
	}
	memcpy(h->name, spec, nlen);
	snprintf(h->addr, sizeof(h->addr), "%s", colon + 1);
	return 0;
}

/* A "." or ".." component could put a volume over the root. */
static int path_has_dots(const char *p)
{
	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 1;
		p += n;
	}
	return 0;
}

/* What file system an image holds, by libblkid's superblock probe. */
static int vol_probe(const char *path, char *type, size_t len)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	const char *val = NULL;
	int rc;

	if (!pr)
		return -1;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	rc = blkid_do_safeprobe(pr);
	if (rc == 0 && blkid_probe_lookup_value(pr, "TYPE", &val, NULL) == 0)
		snprintf(type, len, "%s", val);
	else
		rc = -1;
	blkid_free_probe(pr);
	return rc;
}

int br_parse_vol(const char *spec, struct br_vol *v)
{
	const char *comma = strrchr(spec, ',');
	size_t plen = comma ? (size_t)(comma - spec) : strlen(spec);
	char *path;
	struct stat st;

	memset(v, 0, sizeof(*v));
	memset(&st, 0, sizeof(st));
	errno = 0;
	if (plen == 0 || (comma && !comma[1])) {
		br_seterr("-b %s: expected IMAGE[,MOUNTPOINT]", spec);
		return -1;
	}
	path = strndup(spec, plen);
	if (!path) {
		br_seterr("out of memory");
		return -1;
	}
	if (stat(path, &st) || !S_ISREG(st.st_mode)) {
		const char *why = "not a regular file";

		if (!st.st_mode)
			why = errno == ENOENT ? "no such file" : strerror(errno);
		else if (S_ISDIR(st.st_mode))
			why = "is a directory, not an image";
		br_seterr("-b %s: %s: %s", spec, path, why);
		free(path);
		return -1;
	}
	if (comma) {
		const char *m = comma + 1;

		if (m[0] != '/' || strlen(m) >= sizeof(v->mnt) ||
		    strspn(m, "/") == strlen(m) || path_has_dots(m)) {
			br_seterr("-b %s: mount point must be an absolute path "
				  "below /",
				  spec);
			free(path);
			return -1;
		}
		strcpy(v->mnt, m);
		if (vol_probe(path, v->fstype, sizeof(v->fstype)) ||
		    !(!strcmp(v->fstype, "iso9660") ||
		      !strncmp(v->fstype, "ext", 3) ||
		      !strcmp(v->fstype, "erofs") ||
		      !strcmp(v->fstype, "squashfs"))) {
			br_seterr("-b %s: %s holds %s%s; the guest mounts "
				  "iso9660, ext2/3/4, erofs and squashfs",
				  spec, path,
				  v->fstype[0] ? "a file system of type "
					       : "no file system it knows",
				  v->fstype);
			free(path);
			return -1;
		}
		/* Only ext4 is written; the others are read-only formats. */
		if (!strncmp(v->fstype, "ext", 3))
			strcpy(v->fstype, "ext4");
		else
			v->ro = 1;
	}
	/* qemu reads "a:b.img" as protocol "a"; give it an absolute path. */
	v->path = realpath(path, NULL);
	free(path);
	if (!v->path) {
		br_seterr("-b %s: %s", spec, strerror(errno));
		return -1;
	}
	return 0;
}

int br_parse_env(const char *spec, char **out)
{
	const char *eq = strchr(spec, '=');
	size_t nl = eq ? (size_t)(eq - spec) : strlen(spec);
	size_t i;

	if (nl == 0) {
		br_seterr("-e %s: expected NAME=VALUE", spec);
		return -1;
	}
	for (i = 0; i < nl; i++) {
		char c = spec[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') || (i && c >= '0' && c <= '9'))) {
			br_seterr("-e %s: \"%.*s\" is not a variable name",
				  spec, (int)nl, spec);
			return -1;
		}
	}
	if (!eq) {
		const char *val = getenv(spec);

		if (!val) {
			br_seterr("-e %s: not set on the host; give a value "
				  "with %s=VALUE",
				  spec, spec);
			return -1;
		}
		if (asprintf(out, "%s=%s", spec, val) < 0)
			return -1;
		return 0;
	}
	*out = xstrdup(spec);
	return 0;
}

int br_parse_mib(const char *s, unsigned *mib)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		goto bad;
	if (*end == 'T' || *end == 't')
		v = v > 1024 * 1024 ? v : v * 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		v = v > 1024 * 1024 ? v : v * 1024, end++;
	else if (*end == 'M' || *end == 'm')
		end++;
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end || v == 0)
		goto bad;
	if (v > 1024 * 1024) {
		br_seterr("%s: at most 1024G (1048576 MiB)", s);
		return -1;
	}
	*mib = (unsigned)v;
	return 0;
bad:
	br_seterr("%s: expected a size in MiB such as 64, 64M or 1G", s);
	return -1;
}

int br_split_words(const char *s, struct strv *out)
{
	char *w = xmalloc(strlen(s) + 1);
	size_t n = 0;
	int inword = 0;
	char q = 0;

	for (; *s; s++) {
		if (q) {
			if (*s == q) {
				q = 0;
			} else if (*s == '\\' && q == '"' && s[1]) {
				w[n++] = *++s;
			} else {
				w[n++] = *s;
			}
			continue;
		}
		if (*s == '\'' || *s == '"') {
			q = *s;
			inword = 1;
		} else if (*s == '\\') {
			if (s[1])
				w[n++] = *++s;
			inword = 1;
		} else if (*s == ' ' || *s == '\t' || *s == '\n') {
			if (inword) {
				w[n] = '\0';
				strv_push(out, w);
				n = 0;
				inword = 0;
			}
		} else {
			w[n++] = *s;
			inword = 1;
		}
	}
	if (q) {
		free(w);
		br_seterr("unterminated %c quote in arguments", q);
		return -1;
	}
	if (inword) {
		w[n] = '\0';
		strv_push(out, w);
	}
	free(w);
	return 0;
}
