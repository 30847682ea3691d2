/* Unit tests for host/spec.c: the -p, -I, -W, -b, -e, -m and args parsers. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamrun.h"

static char tmpdir[] = "/tmp/beamrun-spec-XXXXXX";
/* An ext4 image, an erofs one (if mkfs.erofs is there), a plain file. */
static char img_path[64], erofs_path[64], junk_path[64], dir_path[64];

static void clear_err(void)
{
	br_seterr("%s", "");
}

/* The last error must name the value the user typed. */
static void assert_err_has(const char *needle)
{
	if (!strstr(br_err(), needle))
		fail_msg("error \"%s\" does not mention \"%s\"", br_err(),
			 needle);
}

/* ---- -p ---------------------------------------------------------------- */

static void test_fwd_ok(void **state)
{
	struct br_fwd f;

	(void)state;
	assert_int_equal(br_parse_fwd("8080", &f), 0);
	assert_string_equal(f.proto, "tcp");
	assert_int_equal(f.host_port, 8080);
	assert_int_equal(f.guest_port, 8080);

	assert_int_equal(br_parse_fwd("18080:8080", &f), 0);
	assert_string_equal(f.proto, "tcp");
	assert_int_equal(f.host_port, 18080);
	assert_int_equal(f.guest_port, 8080);

	assert_int_equal(br_parse_fwd("udp:53:53", &f), 0);
	assert_string_equal(f.proto, "udp");
	assert_int_equal(f.host_port, 53);
	assert_int_equal(f.guest_port, 53);

	assert_int_equal(br_parse_fwd("tcp:1:65535", &f), 0);
	assert_string_equal(f.proto, "tcp");
	assert_int_equal(f.host_port, 1);
	assert_int_equal(f.guest_port, 65535);
}

static void test_fwd_bad(void **state)
{
	static const char *const bad[] = {
	    "0",    "70000", "a:b",    "8080:", "",	    ":80",
	    "80:0", "udp:",  "sctp:1", "1:2:3", "80:65536", "-1"};
	struct br_fwd f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char want[64];

		clear_err();
		if (br_parse_fwd(bad[i], &f) != -1)
			fail_msg("-p \"%s\" was accepted", bad[i]);
		snprintf(want, sizeof(want), "-p %s:", bad[i]);
		assert_err_has(want);
	}
}

/* ---- -I ---------------------------------------------------------------- */

static void test_nic_ok(void **state)
{
	struct br_nic n;

	(void)state;
	assert_int_equal(br_parse_nic("net0,vioif,-net user", &n), 0);
	assert_string_equal(n.tag, "net0");
	assert_string_equal(n.base, "vioif");
	assert_string_equal(n.backend, "user");
	assert_int_equal(n.method, BR_NET_NONE);
	assert_int_equal(n.family, AF_INET);
	/* qemu's locally administered OUI, rest random. */
	assert_int_equal(n.mac[0], 0x52);
	assert_int_equal(n.mac[1], 0x54);
	assert_int_equal(n.mac[2], 0x00);
	free(n.backend);

	assert_int_equal(br_parse_nic("net0,vioif,-net tap,script=no,"
				      "ifname=tap0",
				      &n),
			 0);
	assert_string_equal(n.tag, "net0");
	assert_string_equal(n.backend, "tap,script=no,ifname=tap0");
	free(n.backend);

	assert_int_equal(br_parse_nic("net1,vioif,user", &n), 0);
	assert_string_equal(n.tag, "net1");
	assert_string_equal(n.backend, "user");
	free(n.backend);

	assert_int_equal(
	    br_parse_nic("n,vioif,-netdev socket,listen=:1234", &n), 0);
	assert_string_equal(n.backend, "socket,listen=:1234");
	free(n.backend);
}

static void test_nic_missing_fields(void **state)
{
	static const char *const bad[] = {"net0",	 "net0,vioif",
					  "net0,vioif,", ",vioif,user",
					  "net0,,user",	 ""};
	struct br_nic n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char want[64];

		clear_err();
		n.backend = NULL;
		if (br_parse_nic(bad[i], &n) != -1)
			fail_msg("-I \"%s\" was accepted", bad[i]);
		assert_null(n.backend);
		snprintf(want, sizeof(want), "-I %s:", bad[i]);
		assert_err_has(want);
		assert_err_has("TAG,BASE,BACKEND");
	}
}

static void test_nic_bad_backend(void **state)
{
	struct br_nic n;

	(void)state;
	clear_err();
	assert_int_equal(br_parse_nic("net0,vioif,-net foo", &n), -1);
	assert_err_has("\"foo\"");
	assert_err_has("net0,vioif,-net foo");

	/* A prefix of a known backend is not that backend. */
	clear_err();
	assert_int_equal(br_parse_nic("net0,vioif,usermode", &n), -1);
	assert_err_has("usermode");

	/* qemu would see two words; rumprun's -net took exactly one. */
	clear_err();
	assert_int_equal(br_parse_nic("net0,vioif,-net user,hostfwd=tcp::1-:2 "
				      "x",
				      &n),
			 -1);
	assert_err_has("user,hostfwd=tcp::1-:2 x");
}

/* ---- -W ---------------------------------------------------------------- */

static void two_nics(struct br_nic nics[2])
{
	memset(nics, 0, 2 * sizeof(*nics));
	strcpy(nics[0].tag, "net0");
	strcpy(nics[1].tag, "net1");
	nics[0].family = nics[1].family = AF_INET;
}

static void test_netspec_static(void **state)
{
	struct br_nic nics[2];

	(void)state;
	two_nics(nics);
	assert_int_equal(
	    br_parse_netspec("net1,inet,static,10.0.0.2/24,10.0.0.1", nics, 2),
	    0);
	assert_int_equal(nics[1].method, BR_NET_STATIC);
	assert_int_equal(nics[1].family, AF_INET);
	assert_string_equal(nics[1].addr, "10.0.0.2");
	assert_int_equal(nics[1].prefix, 24);
	assert_string_equal(nics[1].gw, "10.0.0.1");
	/* The other NIC is untouched. */
	assert_int_equal(nics[0].method, BR_NET_NONE);
	assert_string_equal(nics[0].addr, "");

	assert_int_equal(
	    br_parse_netspec("net0,inet,static,192.168.7.9/16", nics, 2), 0);
	assert_int_equal(nics[0].method, BR_NET_STATIC);
	assert_string_equal(nics[0].addr, "192.168.7.9");
	assert_int_equal(nics[0].prefix, 16);
	assert_string_equal(nics[0].gw, "");

	/* A gateway on the subnet but differing in host bits is fine. */
	two_nics(nics);
	assert_int_equal(
	    br_parse_netspec("net0,inet,static,10.1.2.3/8,10.255.0.1", nics, 2),
	    0);
	assert_string_equal(nics[0].gw, "10.255.0.1");
}

static void test_netspec_dynamic(void **state)
{
	struct br_nic nics[2];

	(void)state;
	two_nics(nics);
	assert_int_equal(br_parse_netspec("net0,inet,dhcp", nics, 2), 0);
	assert_int_equal(nics[0].method, BR_NET_DHCP);
	assert_int_equal(nics[0].family, AF_INET);

	assert_int_equal(br_parse_netspec("net1,inet6,auto", nics, 2), 0);
	assert_int_equal(nics[1].method, BR_NET_AUTO6);
	assert_int_equal(nics[1].family, AF_INET6);
}

/* One IPv4 and one IPv6 -W for one NIC, in either order. */
static void test_netspec_dual_stack(void **state)
{
	struct br_nic nics[2];

	(void)state;
	two_nics(nics);
	assert_int_equal(br_parse_netspec("net0,inet,dhcp", nics, 2), 0);
	assert_int_equal(
	    br_parse_netspec("net0,inet6,static,fd00::2/64,fd00::1", nics, 2),
	    0);
	assert_int_equal(nics[0].method, BR_NET_DHCP);
	assert_int_equal(nics[0].family, AF_INET);
	assert_int_equal(nics[0].method6, BR_NET_STATIC);
	assert_string_equal(nics[0].addr6, "fd00::2");
	assert_int_equal(nics[0].prefix6, 64);
	assert_string_equal(nics[0].gw6, "fd00::1");

	assert_int_equal(br_parse_netspec("net1,inet6,auto", nics, 2), 0);
	assert_int_equal(
	    br_parse_netspec("net1,inet,static,10.0.0.2/24", nics, 2), 0);
	assert_int_equal(nics[1].method, BR_NET_STATIC);
	assert_int_equal(nics[1].family, AF_INET);
	assert_string_equal(nics[1].addr, "10.0.0.2");
	assert_int_equal(nics[1].method6, BR_NET_AUTO6);
	/* A second -W of one family is refused; the NIC stays as it was. */
	clear_err();
	assert_int_equal(
	    br_parse_netspec("net1,inet,static,10.0.0.3/24", nics, 2), -1);
	assert_err_has("IPv4 -W already");
	clear_err();
	assert_int_equal(br_parse_netspec("net1,inet6,auto", nics, 2), -1);
	assert_err_has("IPv6 -W already");
	assert_string_equal(nics[1].addr, "10.0.0.2");
	assert_int_equal(nics[1].method6, BR_NET_AUTO6);
}

static void test_netspec_inet6_static(void **state)
{
	struct br_nic nics[2];

	(void)state;
	two_nics(nics);
	assert_int_equal(
	    br_parse_netspec("net0,inet6,static,fd00::2/64,fd00::1", nics, 2),
	    0);
	assert_int_equal(nics[0].method, BR_NET_STATIC);
	assert_int_equal(nics[0].family, AF_INET6);
	assert_string_equal(nics[0].addr, "fd00::2");
	assert_int_equal(nics[0].prefix, 64);
	assert_string_equal(nics[0].gw, "fd00::1");

	clear_err();
	assert_int_equal(
	    br_parse_netspec("net0,inet6,static,fd00::2/64,fd01::1", nics, 2),
	    -1);
	assert_err_has("fd01::1");
	clear_err();
	assert_int_equal(
	    br_parse_netspec("net0,inet6,static,fd00::2/129", nics, 2), -1);
	assert_err_has("129");
	clear_err();
	assert_int_equal(
	    br_parse_netspec("net0,inet6,static,10.0.0.1/24", nics, 2), -1);
	assert_err_has("10.0.0.1");
}

static void check_netspec_bad(const char *spec, const char *needle)
{
	struct br_nic nics[2];

	two_nics(nics);
	clear_err();
	if (br_parse_netspec(spec, nics, 2) != -1)
		fail_msg("-W \"%s\" was accepted", spec);
	assert_err_has(needle);
	/* A refused -W leaves the NIC as it was. */
	assert_int_equal(nics[0].method, BR_NET_NONE);
	assert_string_equal(nics[0].addr, "");
	assert_string_equal(nics[0].gw, "");
}

static void test_netspec_bad(void **state)
{
	(void)state;
	check_netspec_bad("net0,inet,static,10.0.0.1", "10.0.0.1");
	check_netspec_bad("net0,inet,static,10.0.0.1", "prefix");
	check_netspec_bad("net0,inet,static,10.0.0.1/33", "/33");
	check_netspec_bad("net0,inet,static,10.0.0.1/0", "/0");
	check_netspec_bad("net0,inet,static,10.0.0.1/x", "/x");
	check_netspec_bad("net0,inet,static,10.0.0.2/24,10.0.1.1", "10.0.1.1");
	check_netspec_bad("net0,inet,static,10.0.0.2/24,10.0.1.1", "outside");
	check_netspec_bad("net0,inet,static,10.0.0.300/24", "10.0.0.300");
	check_netspec_bad("net0,inet,static,10.0.0.2/24,gw", "gw");
	/* Addresses no host can have. */
	check_netspec_bad("net0,inet,static,10.0.5.0/24", "network address");
	check_netspec_bad("net0,inet,static,10.0.5.255/24", "broadcast");
	check_netspec_bad("net0,inet,static,0.0.0.0/24", "not a host address");
	check_netspec_bad("net0,inet,static,224.0.0.1/4", "not a host address");
	check_netspec_bad("net0,inet,static,10.0.5.1/24,10.0.5.1",
			  "own address");
	check_netspec_bad("net0,inet6,static,::/64", "not a host address");
	check_netspec_bad("net0,inet6,static,ff02::1/64", "not a host address");
	check_netspec_bad("net9,inet,dhcp", "\"net9\"");
	check_netspec_bad("net0,inet,bootp", "net0,inet,bootp");
	check_netspec_bad("net0,inet6,dhcp", "net0,inet6,dhcp");
	check_netspec_bad("net0", "net0");
	check_netspec_bad(",inet,dhcp", ",inet,dhcp");
}

/* ---- --dns, --add-host ----------------------------------------------------
 */

static void test_dns(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(br_parse_dns("10.0.2.3", out, sizeof(out)), 0);
	assert_string_equal(out, "10.0.2.3");
	assert_int_equal(br_parse_dns("10.0.2.2#5353", out, sizeof(out)), 0);
	assert_string_equal(out, "10.0.2.2#5353");
	assert_int_equal(br_parse_dns("10.0.2.2#53", out, sizeof(out)), 0);
	assert_string_equal(out, "10.0.2.2");
	assert_int_equal(br_parse_dns("fd00::3#5300", out, sizeof(out)), 0);
	assert_string_equal(out, "fd00::3#5300");
	clear_err();
	assert_int_equal(br_parse_dns("ns1.example", out, sizeof(out)), -1);
	assert_err_has("not an IPv4 or IPv6 address");
	clear_err();
	assert_int_equal(br_parse_dns("10.0.2.2#", out, sizeof(out)), -1);
	assert_err_has("port must be 1-65535");
	clear_err();
	assert_int_equal(br_parse_dns("10.0.2.2#65536", out, sizeof(out)), -1);
	assert_err_has("port must be 1-65535");
	clear_err();
	assert_int_equal(br_parse_dns("10.0.2.2#-1", out, sizeof(out)), -1);
	assert_err_has("port must be 1-65535");
	clear_err();
	assert_int_equal(br_parse_dns("#53", out, sizeof(out)), -1);
	assert_err_has("expected ADDR[#PORT]");
}

static void test_add_host(void **state)
{
	struct br_host h;

	(void)state;
	assert_int_equal(br_parse_host("db.test:10.0.3.9", &h), 0);
	assert_string_equal(h.name, "db.test");
	assert_string_equal(h.addr, "10.0.3.9");
	assert_int_equal(br_parse_host("v6:fd00::9", &h), 0);
	assert_string_equal(h.name, "v6");
	assert_string_equal(h.addr, "fd00::9");
	clear_err();
	assert_int_equal(br_parse_host("db", &h), -1);
	assert_err_has("expected NAME:ADDR");
	clear_err();
	assert_int_equal(br_parse_host(":10.0.3.9", &h), -1);
	assert_err_has("expected NAME:ADDR");
	clear_err();
	assert_int_equal(br_parse_host("-db:10.0.3.9", &h), -1);
	assert_err_has("not a valid host name");
	clear_err();
	assert_int_equal(br_parse_host("d b:10.0.3.9", &h), -1);
	assert_err_has("not a valid host name");
	clear_err();
	assert_int_equal(br_parse_host("db:10.0.3", &h), -1);
	assert_err_has("not an IPv4 or IPv6 address");
}

/* ---- -b ---------------------------------------------------------------- */

static void test_vol_ok(void **state)
{
	struct br_vol v;
	char spec[160];

	(void)state;
	/* Attached only: no mount point, nothing probed. */
	assert_int_equal(br_parse_vol(junk_path, &v), 0);
	assert_string_equal(v.path, junk_path);
	assert_string_equal(v.mnt, "");
	assert_string_equal(v.fstype, "");
	assert_int_equal(v.ro, 0);
	free(v.path);

	snprintf(spec, sizeof(spec), "%s,/data", img_path);
	assert_int_equal(br_parse_vol(spec, &v), 0);
	assert_string_equal(v.path, img_path);
	assert_string_equal(v.mnt, "/data");
	assert_string_equal(v.fstype, "ext4");
	assert_int_equal(v.ro, 0);
	free(v.path);

	snprintf(spec, sizeof(spec), "%s,/srv/www/data", img_path);
	assert_int_equal(br_parse_vol(spec, &v), 0);
	assert_string_equal(v.mnt, "/srv/www/data");
	free(v.path);
}

static void test_vol_readonly_fs(void **state)
{
	struct br_vol v;
	char spec[160];

	(void)state;
	if (!erofs_path[0])
		skip();
	/* A read-only file system is attached read-only. */
	snprintf(spec, sizeof(spec), "%s,/ro", erofs_path);
	assert_int_equal(br_parse_vol(spec, &v), 0);
	assert_string_equal(v.mnt, "/ro");
	assert_string_equal(v.fstype, "erofs");
	assert_int_equal(v.ro, 1);
	free(v.path);
}

static void check_vol_bad(const char *spec, const char *needle)
{
	struct br_vol v;

	clear_err();
	v.path = NULL;
	if (br_parse_vol(spec, &v) != -1) {
		free(v.path);
		fail_msg("-b \"%s\" was accepted (mount point \"%s\")", spec,
			 v.mnt);
	}
	assert_null(v.path);
	assert_err_has(needle);
}

static void test_vol_bad(void **state)
{
	char spec[160], missing[96];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/nope.img", tmpdir);
	snprintf(spec, sizeof(spec), "%s,/data", missing);
	check_vol_bad(spec, missing);
	check_vol_bad(spec, "no such file");
	check_vol_bad(missing, missing);

	snprintf(spec, sizeof(spec), "%s,/data", dir_path);
	check_vol_bad(spec, dir_path);
	check_vol_bad(spec, "directory");
	check_vol_bad(dir_path, "directory");

	snprintf(spec, sizeof(spec), "%s,data", img_path);
	check_vol_bad(spec, spec);
	check_vol_bad(spec, "absolute");
	snprintf(spec, sizeof(spec), "%s,/", img_path);
	check_vol_bad(spec, spec);
	snprintf(spec, sizeof(spec), "%s,//", img_path);
	check_vol_bad(spec, spec);
	snprintf(spec, sizeof(spec), "%s,/a/../b", img_path);
	check_vol_bad(spec, spec);
	snprintf(spec, sizeof(spec), "%s,", img_path);
	check_vol_bad(spec, spec);
	check_vol_bad("", "-b :");
	check_vol_bad(",/data", "-b ,/data:");

	/* To be mounted, an image must hold a file system the guest reads. */
	snprintf(spec, sizeof(spec), "%s,/data", junk_path);
	check_vol_bad(spec, spec);
	check_vol_bad(spec, "no file system");
}

/* "/.." and "/x/.." are "/" too: mounting there hides the root. */
static void test_vol_dotdot_is_root(void **state)
{
	char spec[160];

	(void)state;
	snprintf(spec, sizeof(spec), "%s,/..", img_path);
	check_vol_bad(spec, spec);
	snprintf(spec, sizeof(spec), "%s,/data/..", img_path);
	check_vol_bad(spec, spec);
}

/* ---- -e ---------------------------------------------------------------- */

static void test_env_ok(void **state)
{
	char *e = NULL;

	(void)state;
	assert_int_equal(br_parse_env("NAME=VALUE", &e), 0);
	assert_string_equal(e, "NAME=VALUE");
	free(e);
	assert_int_equal(br_parse_env("_a1=x=y z", &e), 0);
	assert_string_equal(e, "_a1=x=y z");
	free(e);
	assert_int_equal(br_parse_env("EMPTY=", &e), 0);
	assert_string_equal(e, "EMPTY=");
	free(e);

	/* A bare NAME takes its value from the host. */
	assert_int_equal(setenv("BR_UNIT_FROM_HOST", "a b=c", 1), 0);
	assert_int_equal(br_parse_env("BR_UNIT_FROM_HOST", &e), 0);
	assert_string_equal(e, "BR_UNIT_FROM_HOST=a b=c");
	free(e);
	unsetenv("BR_UNIT_FROM_HOST");
}

static void check_env_bad(const char *spec, const char *needle)
{
	char *e = NULL;

	clear_err();
	if (br_parse_env(spec, &e) != -1) {
		free(e);
		fail_msg("-e \"%s\" was accepted", spec);
	}
	assert_null(e);
	assert_err_has(needle);
}

static void test_env_bad(void **state)
{
	(void)state;
	check_env_bad("1X=2", "\"1X\"");
	check_env_bad("=x", "-e =x");
	check_env_bad("A-B=1", "\"A-B\"");
	check_env_bad("A B=1", "\"A B\"");
	check_env_bad("", "NAME=VALUE");
	unsetenv("BR_UNIT_NOT_SET");
	check_env_bad("BR_UNIT_NOT_SET", "BR_UNIT_NOT_SET");
	check_env_bad("BR_UNIT_NOT_SET", "not set");
}

/* ---- -m ---------------------------------------------------------------- */

static void test_mib_ok(void **state)
{
	unsigned m = 0;

	(void)state;
	assert_int_equal(br_parse_mib("64", &m), 0);
	assert_int_equal(m, 64);
	assert_int_equal(br_parse_mib("64M", &m), 0);
	assert_int_equal(m, 64);
	assert_int_equal(br_parse_mib("1G", &m), 0);
	assert_int_equal(m, 1024);
	assert_int_equal(br_parse_mib("2g", &m), 0);
	assert_int_equal(m, 2048);
	assert_int_equal(br_parse_mib("512MiB", &m), 0);
	assert_int_equal(m, 512);
}

static void check_mib_bad(const char *s)
{
	unsigned m = 77;

	clear_err();
	if (br_parse_mib(s, &m) != -1)
		fail_msg("size \"%s\" was accepted as %u MiB", s, m);
	assert_int_equal(m, 77);
	assert_err_has(s);
	assert_err_has("MiB");
}

static void test_mib_bad(void **state)
{
	(void)state;
	check_mib_bad("0");
	check_mib_bad("-1");
	check_mib_bad("12x");
	check_mib_bad("");
	check_mib_bad("M");
	check_mib_bad("0G");
	check_mib_bad("64K");
	check_mib_bad("2000000");
	check_mib_bad("99999999999999999999999");
}

/* A huge count of GiB must not wrap around to a small size. */
static void test_mib_overflow(void **state)
{
	(void)state;
	/* (2^54 + 1) GiB is 2^64 + 1024 MiB: 1024 after wrapping. */
	check_mib_bad("18014398509481985G");
}

/* ---- rumprun-style argument splitting ---------------------------------- */

static void check_split(const char *s, const char *const *want)
{
	struct strv out = {0};
	size_t i;

	clear_err();
	if (br_split_words(s, &out)) {
		strv_free(&out);
		fail_msg("split of <%s> failed: %s", s, br_err());
	}
	for (i = 0; want[i] && i < out.n; i++)
		if (strcmp(out.v[i], want[i]))
			break;
	if (want[i] || i != out.n) {
		fprintf(stderr, "split of <%s> differs at word %zu:\n", s, i);
		for (i = 0; i < out.n; i++)
			fprintf(stderr, "  got  <%s>\n", out.v[i]);
		for (i = 0; want[i]; i++)
			fprintf(stderr, "  want <%s>\n", want[i]);
		strv_free(&out);
		fail_msg("split of <%s> differs", s);
	}
	assert_null(out.v ? out.v[out.n] : NULL);
	strv_free(&out);
}

static void test_split_words(void **state)
{
	(void)state;
	check_split("", (const char *const[]){NULL});
	check_split("  \t ", (const char *const[]){NULL});
	check_split(
	    "-noshell -s echo start",
	    (const char *const[]){"-noshell", "-s", "echo", "start", NULL});
	check_split("  a \t b\nc  ",
		    (const char *const[]){"a", "b", "c", NULL});
	check_split("'x y' \"p q\"", (const char *const[]){"x y", "p q", NULL});
	check_split("a'b c'd", (const char *const[]){"ab cd", NULL});
	check_split("a\\ b c", (const char *const[]){"a b", "c", NULL});
	check_split("\\'x\\\"", (const char *const[]){"'x\"", NULL});
	check_split("\"a\\\"b\"", (const char *const[]){"a\"b", NULL});
	check_split("'a\\b'", (const char *const[]){"a\\b", NULL});
	check_split("\"it's\" '\"q\"'",
		    (const char *const[]){"it's", "\"q\"", NULL});
	check_split("'' x \"\"", (const char *const[]){"", "x", "", NULL});
	check_split(
	    "-eval 'io:format(\"hi ~p\", [1])'",
	    (const char *const[]){"-eval", "io:format(\"hi ~p\", [1])", NULL});
}

static void test_split_unterminated(void **state)
{
	static const char *const bad[] = {"'abc", "a \"b c", "a\\ 'b",
					  "\"a\\\""};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct strv out = {0};

		clear_err();
		if (br_split_words(bad[i], &out) != -1)
			fail_msg("<%s> was split without error", bad[i]);
		assert_err_has("unterminated");
		strv_free(&out);
	}
	clear_err();
	{
		struct strv out = {0};

		assert_int_equal(br_split_words("a 'b", &out), -1);
		assert_err_has("'");
		strv_free(&out);
		assert_int_equal(br_split_words("a \"b", &out), -1);
		assert_err_has("\"");
		strv_free(&out);
	}
}

/* ---- fixtures ---------------------------------------------------------- */

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd);
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(img_path, sizeof(img_path), "%s/disk.img", tmpdir);
	snprintf(junk_path, sizeof(junk_path), "%s/junk.img", tmpdir);
	snprintf(dir_path, sizeof(dir_path), "%s/dir", tmpdir);
	if (mkdir(dir_path, 0755))
		return -1;
	f = fopen(junk_path, "w");
	if (!f)
		return -1;
	fputs("not a file system\n", f);
	fclose(f);
	if (sh("PATH=$PATH:/sbin:/usr/sbin mke2fs -q -F -t ext4 %s 1024 "
	       ">/dev/null 2>&1%s",
	       img_path, "")) {
		fprintf(stderr, "setup: mke2fs failed\n");
		return -1;
	}
	snprintf(erofs_path, sizeof(erofs_path), "%s/ro.img", tmpdir);
	if (sh("mkfs.erofs %s %s >/dev/null 2>&1", erofs_path, dir_path))
		erofs_path[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return br_rm_rf(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fwd_ok),
	    cmocka_unit_test(test_fwd_bad),
	    cmocka_unit_test(test_nic_ok),
	    cmocka_unit_test(test_nic_missing_fields),
	    cmocka_unit_test(test_nic_bad_backend),
	    cmocka_unit_test(test_netspec_static),
	    cmocka_unit_test(test_netspec_dynamic),
	    cmocka_unit_test(test_netspec_inet6_static),
	    cmocka_unit_test(test_netspec_dual_stack),
	    cmocka_unit_test(test_netspec_bad),
	    cmocka_unit_test(test_dns),
	    cmocka_unit_test(test_add_host),
	    cmocka_unit_test(test_vol_ok),
	    cmocka_unit_test(test_vol_readonly_fs),
	    cmocka_unit_test(test_vol_bad),
	    cmocka_unit_test(test_vol_dotdot_is_root),
	    cmocka_unit_test(test_env_ok),
	    cmocka_unit_test(test_env_bad),
	    cmocka_unit_test(test_mib_ok),
	    cmocka_unit_test(test_mib_bad),
	    cmocka_unit_test(test_mib_overflow),
	    cmocka_unit_test(test_split_words),
	    cmocka_unit_test(test_split_unterminated),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
