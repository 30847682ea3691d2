/* Unit tests for init/config.c and init/beam.c: guest config and beam argv. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

#define ERTS "erts-13.1.5"

static char tmpdir[] = "/tmp/beamrun-init-XXXXXX";
/* ROOT holds one ERTS; TWO holds two; NONE holds none. */
static char root[128], two[128], none[128], longroot[INIT_PATH_MAX];
static char emu[192], bindir[192];
/* The prepared emulator of the running test; its teardown frees it. */
static struct init_beam b;

/* ---- init_cfg_parse ---------------------------------------------------- */

static const char full_cfg[] =
    "{\"v\":1,\"verbose\":true,\"hostname\":\"echo\","
    "\"net\":[{\"if\":\"eth0\",\"method\":\"static\","
    "\"addr\":\"10.0.2.15\",\"prefix\":24,\"gw\":\"10.0.2.2\"},"
    "{\"if\":\"eth1\",\"method\":\"dhcp\"},"
    "{\"if\":\"eth2\",\"method\":\"auto6\"},"
    "{\"if\":\"eth3\",\"method\":\"static\",\"addr\":\"fd00::2\","
    "\"prefix\":64,\"gw\":\"fd00::1\"}],"
    "\"dns\":[\"10.0.2.3\",\"fd00::53\"],"
    "\"blk\":[{\"serial\":\"vol0\",\"mnt\":\"/data\",\"fs\":\"ext4\"},"
    "{\"serial\":\"vol1\",\"mnt\":\"/cfg\",\"ro\":true}],"
    "\"env\":[\"FOO=bar\\u0020baz\",\"LANG=C\"],"
    "\"root\":\"/opt/otp\",\"stop_timeout\":30,\"stop\":\"/dev/ttyS1\","
    "\"args\":[\"-noshell\",\"-eval\",\"io:format(\\\"a\\u0020b\\\")\"]}";

static void test_cfg_full(void **state)
{
	struct init_cfg cfg;
	char err[256] = "";

	(void)state;
	if (init_cfg_parse(&cfg, full_cfg, err, sizeof(err)))
		fail_msg("parse: %s", err);
	assert_int_equal(cfg.verbose, 1);
	assert_string_equal(cfg.hostname, "echo");

	assert_int_equal(cfg.nnet, 4);
	assert_string_equal(cfg.net[0].ifname, "eth0");
	assert_int_equal(cfg.net[0].method, INIT_NET_STATIC);
	assert_int_equal(cfg.net[0].family, AF_INET);
	assert_string_equal(cfg.net[0].addr, "10.0.2.15");
	assert_int_equal(cfg.net[0].prefix, 24);
	assert_string_equal(cfg.net[0].gw, "10.0.2.2");
	assert_string_equal(cfg.net[1].ifname, "eth1");
	assert_int_equal(cfg.net[1].method, INIT_NET_DHCP);
	assert_int_equal(cfg.net[1].family, AF_INET);
	assert_string_equal(cfg.net[2].ifname, "eth2");
	assert_int_equal(cfg.net[2].method, INIT_NET_AUTO6);
	assert_int_equal(cfg.net[3].method, INIT_NET_STATIC);
	assert_int_equal(cfg.net[3].family, AF_INET6);
	assert_string_equal(cfg.net[3].addr, "fd00::2");
	assert_int_equal(cfg.net[3].prefix, 64);
	assert_string_equal(cfg.net[3].gw, "fd00::1");

	assert_int_equal(cfg.ndns, 2);
	assert_string_equal(cfg.dns[0], "10.0.2.3");
	assert_string_equal(cfg.dns[1], "fd00::53");

	assert_int_equal(cfg.nvol, 2);
	assert_string_equal(cfg.vol[0].serial, "vol0");
	assert_string_equal(cfg.vol[0].mnt, "/data");
	assert_string_equal(cfg.vol[0].fstype, "ext4");
	assert_int_equal(cfg.vol[0].ro, 0);
	assert_string_equal(cfg.vol[1].serial, "vol1");
	assert_string_equal(cfg.vol[1].mnt, "/cfg");
	assert_string_equal(cfg.vol[1].fstype, "auto");
	assert_int_equal(cfg.vol[1].ro, 1);

	assert_int_equal(cfg.nenv, 2);
	assert_string_equal(cfg.env[0], "FOO=bar baz");
	assert_string_equal(cfg.env[1], "LANG=C");
	assert_null(cfg.env[2]);
	assert_string_equal(cfg.root, "/opt/otp");
	assert_int_equal(cfg.stop_timeout_s, 30);
	assert_string_equal(cfg.stop_dev, "/dev/ttyS1");
	assert_int_equal(cfg.nargs, 3);
	assert_string_equal(cfg.args[0], "-noshell");
	assert_string_equal(cfg.args[1], "-eval");
	assert_string_equal(cfg.args[2], "io:format(\"a b\")");
	assert_null(cfg.args[3]);
	init_cfg_free(&cfg);
	assert_null(cfg.args);
	assert_null(cfg.env);
}

static void test_cfg_defaults(void **state)
{
	struct init_cfg cfg;
	char err[256] = "";

	(void)state;
	if (init_cfg_parse(&cfg, "{\"v\":1,\"args\":[]}", err, sizeof(err)))
		fail_msg("parse: %s", err);
	assert_int_equal(cfg.verbose, 0);
	assert_string_equal(cfg.hostname, "beamrun");
	assert_string_equal(cfg.root, "/otp");
	assert_int_equal(cfg.stop_timeout_s, 10);
	assert_string_equal(cfg.stop_dev, "");
	assert_int_equal(cfg.nnet, 0);
	assert_int_equal(cfg.ndns, 0);
	assert_int_equal(cfg.nvol, 0);
	assert_int_equal(cfg.nenv, 0);
	assert_int_equal(cfg.nargs, 0);
	assert_non_null(cfg.args);
	assert_null(cfg.args[0]);
	init_cfg_free(&cfg);
}

static void check_cfg_bad(const char *json, const char *needle)
{
	struct init_cfg cfg;
	char err[256] = "";

	if (init_cfg_parse(&cfg, json, err, sizeof(err)) != -1) {
		init_cfg_free(&cfg);
		fail_msg("config accepted: %s", json);
	}
	if (!strstr(err, needle))
		fail_msg("error \"%s\" for %s does not mention \"%s\"", err,
			 json, needle);
	/* Nothing is left allocated on failure. */
	assert_null(cfg.args);
	assert_null(cfg.env);
}

static void test_cfg_malformed(void **state)
{
	(void)state;
	check_cfg_bad("", "malformed JSON");
	check_cfg_bad("{\"v\":1", "malformed JSON");
	check_cfg_bad("{v:1}", "malformed JSON");
	check_cfg_bad("{\"v\":1,}", "malformed JSON");
	check_cfg_bad("{\"args\":[\"a\"],\"v\":1,\"env\":[\"A=1\"",
		      "malformed");
	check_cfg_bad("[1,2]", "not a JSON object");
	check_cfg_bad("\"beamrun\"", "not a JSON object");
}

static void test_cfg_trailing(void **state)
{
	(void)state;
	/* Rejected where the garbage starts. */
	check_cfg_bad("{\"v\":1}x", "malformed JSON at byte 7");
	check_cfg_bad("{\"v\":1}{\"v\":1}", "malformed JSON at byte 7");
	check_cfg_bad("{\"v\":1}   ]", "malformed JSON at byte 10");
}

static void test_cfg_unknown_keys(void **state)
{
	(void)state;
	check_cfg_bad("{\"v\":1,\"colour\":\"red\"}", "colour");
	check_cfg_bad("{\"v\":1,\"colour\":\"red\"}", "unknown key");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"dhcp\",\"foo\":1}]}",
		      "net[0].foo");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"dhcp\"},{\"if\":\"eth1\",\"mtu\":1500}]}",
		      "net[1].mtu");
	check_cfg_bad("{\"v\":1,\"blk\":[{\"serial\":\"vol0\",\"mnt\":"
		      "\"/d\",\"size\":1}]}",
		      "blk[0].size");
}

static void test_cfg_types(void **state)
{
	(void)state;
	check_cfg_bad("{\"v\":\"1\"}", "v: not an integer");
	check_cfg_bad("{\"v\":1.5}", "v: not an integer");
	check_cfg_bad("{\"v\":1,\"verbose\":1}", "verbose: not a boolean");
	check_cfg_bad("{\"v\":1,\"hostname\":5}", "hostname: not a string");
	check_cfg_bad("{\"v\":1,\"root\":null}", "root: not a string");
	check_cfg_bad("{\"v\":1,\"args\":\"-noshell\"}", "args: not an array");
	check_cfg_bad("{\"v\":1,\"args\":[\"-s\",1]}", "args[1]: not a string");
	check_cfg_bad("{\"v\":1,\"env\":[\"A=1\",null]}",
		      "env[1]: not a string");
	check_cfg_bad("{\"v\":1,\"net\":{}}", "net: not an array");
	check_cfg_bad("{\"v\":1,\"net\":[\"eth0\"]}", "net[0]: not an object");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"static\",\"addr\":\"10.0.0.2\",\"prefix\":\"24\"}]}",
		      "net[0].prefix: not an integer");
	check_cfg_bad("{\"v\":1,\"dns\":[1]}", "dns[0]: not a string");
	check_cfg_bad("{\"v\":1,\"blk\":[{\"serial\":\"vol0\",\"mnt\":"
		      "\"/d\",\"ro\":1}]}",
		      "blk[0].ro: not a boolean");
	check_cfg_bad("{\"v\":1,\"stop_timeout\":\"5\"}",
		      "stop_timeout: not an integer");
	check_cfg_bad("{\"v\":1,\"stop_timeout\":0}", "stop_timeout");
	check_cfg_bad("{\"v\":1,\"stop\":1}", "stop: not a string");
}

static void test_cfg_bad_values(void **state)
{
	(void)state;
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"static\",\"addr\":\"10.0.0.300\",\"prefix\":24}]}",
		      "10.0.0.300");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"static\",\"addr\":\"10.0.0.300\",\"prefix\":24}]}",
		      "net[0].addr");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"static\",\"prefix\":24}]}",
		      "net[0].addr");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"static\",\"addr\":\"10.0.0.2\",\"prefix\":24,"
		      "\"gw\":\"fd00::1\"}]}",
		      "net[0].gw");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"static\",\"addr\":\"10.0.0.2\",\"prefix\":33}]}",
		      "net[0].prefix: 33 is too long");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"static\",\"addr\":\"fd00::2\",\"prefix\":129}]}",
		      "net[0].prefix");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
		      "\"bootp\"}]}",
		      "bootp");
	check_cfg_bad("{\"v\":1,\"net\":[{\"method\":\"dhcp\"}]}",
		      "net[0].if: missing");
	check_cfg_bad("{\"v\":1,\"net\":[{\"if\":\"eth0123456789abcdef\","
		      "\"method\":\"dhcp\"}]}",
		      "net[0].if");
	check_cfg_bad("{\"v\":2}", "v: version 2");
	check_cfg_bad("{\"v\":0}", "version 0");
	check_cfg_bad("{\"v\":1,\"blk\":[{\"serial\":\"vol0\",\"mnt\":"
		      "\"data\"}]}",
		      "blk[0].mnt");
	check_cfg_bad("{\"v\":1,\"blk\":[{\"serial\":\"vol0\",\"mnt\":"
		      "\"data\"}]}",
		      "absolute");
	check_cfg_bad("{\"v\":1,\"blk\":[{\"serial\":\"vol0\"}]}",
		      "blk[0].mnt");
	check_cfg_bad("{\"v\":1,\"blk\":[{\"mnt\":\"/d\"}]}",
		      "blk[0]: needs serial or dev");
	check_cfg_bad("{\"v\":1,\"blk\":[{\"serial\":\"vol0\",\"dev\":"
		      "\"xvdb\",\"mnt\":\"/d\"}]}",
		      "blk[0]: needs serial or dev (one)");
	check_cfg_bad("{\"v\":1,\"blk\":[{\"dev\":\"../sda\",\"mnt\":"
		      "\"/d\"}]}",
		      "blk[0].dev: \"../sda\" is not a device name");
	check_cfg_bad("{\"v\":1,\"dns\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}",
		      "dns: 5 entries, at most 4");
	/* Nameservers and hosts go into Erlang terms: checked here. */
	check_cfg_bad("{\"v\":1,\"dns\":[\"ns1\"]}", "dns[0]: not an address");
	check_cfg_bad("{\"v\":1,\"dns\":[\"10.0.2.2#x\"]}", "dns[0]: bad port");
	check_cfg_bad("{\"v\":1,\"dns\":[\"10.0.2.2#70000\"]}",
		      "dns[0]: bad port");
	check_cfg_bad("{\"v\":1,\"dhcp_dns\":1}", "dhcp_dns: not a boolean");
	check_cfg_bad("{\"v\":1,\"hosts\":[{\"name\":\"a}\",\"addr\":"
		      "\"10.0.0.1\"}]}",
		      "hosts[0].name: bad name");
	check_cfg_bad("{\"v\":1,\"hosts\":[{\"name\":\"a\",\"addr\":"
		      "\"10.0.0\"}]}",
		      "hosts[0].addr: not an address");
	check_cfg_bad("{\"v\":1,\"hosts\":[{\"name\":\"a\"}]}",
		      "hosts[0]: expected name and addr");
}

static void test_cfg_dns_hosts(void **state)
{
	struct init_cfg cfg;
	char err[256] = "";

	(void)state;
	if (init_cfg_parse(&cfg,
			   "{\"v\":1,\"dns\":[\"10.0.2.3\",\"10.0.2.2#5353\","
			   "\"fd00::3#53\"],\"dhcp_dns\":false,\"hosts\":[{"
			   "\"name\":\"db.test\",\"addr\":\"10.0.3.9\"}]}",
			   err, sizeof(err)))
		fail_msg("parse: %s", err);
	assert_int_equal(cfg.ndns, 3);
	assert_string_equal(cfg.dns[0], "10.0.2.3");
	assert_int_equal(cfg.dns_port[0], 53);
	assert_string_equal(cfg.dns[1], "10.0.2.2");
	assert_int_equal(cfg.dns_port[1], 5353);
	assert_string_equal(cfg.dns[2], "fd00::3");
	assert_int_equal(cfg.dns_port[2], 53);
	assert_int_equal(cfg.no_dhcp_dns, 1);
	assert_int_equal(cfg.nhosts, 1);
	assert_string_equal(cfg.hosts[0].name, "db.test");
	assert_string_equal(cfg.hosts[0].addr, "10.0.3.9");
	init_cfg_free(&cfg);
}

/* ---- init_cfg_find ----------------------------------------------------- */

static void test_cfg_find(void **state)
{
	char line[] = "console=ttyS0 quiet -- beamrun={\"v\":1,\"args\":[]} "
		      "later=1";
	char last[] = "console=ttyS0 beamrun={\"v\":1}\n";
	char notfirst[] = "xbeamrun=1 beamrun={\"v\":1}";
	char no[] = "console=ttyS0 quiet -- init=/sbin/init";
	char empty[] = "";
	char *p;

	(void)state;
	p = init_cfg_find(line);
	assert_non_null(p);
	assert_string_equal(p, "{\"v\":1,\"args\":[]}");
	assert_ptr_equal(p, line + 31);

	p = init_cfg_find(last);
	assert_non_null(p);
	assert_string_equal(p, "{\"v\":1}");

	p = init_cfg_find(notfirst);
	assert_non_null(p);
	assert_string_equal(p, "{\"v\":1}");

	assert_null(init_cfg_find(no));
	assert_null(init_cfg_find(empty));
}

/* ---- init_beam_prepare ------------------------------------------------- */

static void cfg_with(struct init_cfg *cfg, const char *otp_root,
		     const char *const *args)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->root, sizeof(cfg->root), "%s", otp_root);
	strcpy(cfg->hostname, "beamrun");
	cfg->args = (char **)args;
	while (args && args[cfg->nargs])
		cfg->nargs++;
}

static void assert_vec(char **got, const char *const *want, const char *what)
{
	size_t i, n;

	for (n = 0; want[n]; n++)
		;
	for (i = 0; got && got[i] && i < n; i++)
		if (strcmp(got[i], want[i]))
			break;
	if (i == n && got && !got[n])
		return;
	fprintf(stderr, "%s differs at %zu:\n", what, i);
	for (i = 0; got && got[i]; i++)
		fprintf(stderr, "  got[%zu]  %s\n", i, got[i]);
	for (i = 0; i < n; i++)
		fprintf(stderr, "  want[%zu] %s\n", i, want[i]);
	fail_msg("%s differs", what);
}

/* The environment beam gets with nothing overridden. */
static void default_env(char env[][256], const char *r, const char *bin,
			const char *home)
{
	snprintf(env[0], 256, "ROOTDIR=%s", r);
	snprintf(env[1], 256, "BINDIR=%s", bin);
	snprintf(env[2], 256, "EMU=beam");
	snprintf(env[3], 256, "PROGNAME=erl");
	snprintf(env[4], 256, "HOME=%s", home);
	snprintf(env[5], 256, "PATH=%s:/bin", bin);
	snprintf(env[6], 256, "LANG=C.UTF-8");
	snprintf(env[7], 256, "ERL_INETRC=/etc/erl_inetrc");
	snprintf(env[8], 256, "ERL_CRASH_DUMP_SECONDS=0");
}

static void prepare_ok(const struct init_cfg *cfg)
{
	char err[256] = "";

	init_beam_free(&b);
	if (init_beam_prepare(cfg, &b, err, sizeof(err)))
		fail_msg("init_beam_prepare: %s", err);
	assert_string_equal(b.emu, emu);
}

static int beam_teardown(void **state)
{
	(void)state;
	init_beam_free(&b);
	return 0;
}

static void test_beam_baked(void **state)
{
	static const char *const args[] = {
	    "-noshell",	  "-pa",   "/app/ebin", "-run",
	    "echoserver", "start", NULL};
	struct init_cfg cfg;
	char env[9][256];

	(void)state;
	cfg_with(&cfg, root, args);
	prepare_ok(&cfg);
	assert_vec(
	    b.argv,
	    (const char *const[]){
		emu,	     "-sbwt",	"none",	      "-sbwtdcpu", "none",
		"-sbwtdio",  "none",	"-fnu",	      "--",	   "-root",
		root,	     "-bindir", bindir,	      "-progname", "erl",
		"--",	     "-home",	"/tmp",	      "-noshell",  "-pa",
		"/app/ebin", "-run",	"echoserver", "start",	   NULL},
	    "argv");
	default_env(env, root, bindir, "/tmp");
	assert_vec(b.envp,
		   (const char *const[]){env[0], env[1], env[2], env[3], env[4],
					 env[5], env[6], env[7], env[8], NULL},
		   "envp");
	init_beam_free(&b);
	assert_null(b.argv);
	assert_null(b.envp);
	assert_null(b.emu);
}

static void test_beam_rumprun(void **state)
{
	const char *const args[] = {
	    "--",	 "-no_epmd",   "-root", root,
	    "-progname", "erl",	       "--",	"-home",
	    "/tmp",	 "-noshell",   "-pa",	"/apps/erlang",
	    "-s",	 "echoserver", "start", NULL};
	const char *const home_args[] = {"-home", "/root", "-noshell", NULL};
	struct init_cfg cfg;
	char env[9][256];

	(void)state;
	/* -root in the arguments wins over the configured root. */
	cfg_with(&cfg, "/nonexistent/otp", args);
	prepare_ok(&cfg);
	assert_vec(
	    b.argv,
	    (const char *const[]){emu,	       "-sbwt",	     "none",
				  "-sbwtdcpu", "none",	     "-sbwtdio",
				  "none",      "-fnu",	     "--",
				  "-root",     root,	     "-bindir",
				  bindir,      "-progname",  "erl",
				  "--",	       "-home",	     "/tmp",
				  "-noshell",  "-pa",	     "/apps/erlang",
				  "-s",	       "echoserver", "start",
				  NULL},
	    "argv");
	default_env(env, root, bindir, "/tmp");
	assert_vec(b.envp,
		   (const char *const[]){env[0], env[1], env[2], env[3], env[4],
					 env[5], env[6], env[7], env[8], NULL},
		   "envp");
	init_beam_free(&b);

	/* -home sets both the init flag and HOME. */
	cfg_with(&cfg, root, home_args);
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	   "-sbwt",   "none",  "-sbwtdcpu", "none",
		       "-sbwtdio", "none",    "-fnu",  "--",	    "-root",
		       root,	   "-bindir", bindir,  "-progname", "erl",
		       "--",	   "-home",   "/root", "-noshell",  NULL},
		   "argv");
	default_env(env, root, bindir, "/root");
	assert_string_equal(b.envp[4], env[4]);
	init_beam_free(&b);
}

/*
 * "+" flags are the emulator's. erlexec hands them to beam.smp as "-"
 * flags: beam.smp itself rejects "+S" with its usage text.
 */
static void test_beam_emu_flags(void **state)
{
	static const char *const args[] = {"+S", "2", "-sname", "a", NULL};
	static const char *const more[] = {"-sname", "a",    "+A", "4",
					   "+sbwt",  "none", NULL};
	struct init_cfg cfg;

	(void)state;
	cfg_with(&cfg, root, args);
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	    "-S",    "2",	 "-sbwt",   "none",
		       "-sbwtdcpu", "none",  "-sbwtdio", "none",    "-fnu",
		       "--",	    "-root", root,	 "-bindir", bindir,
		       "-progname", "erl",   "--",	 "-home",   "/tmp",
		       "-sname",    "a",     NULL},
		   "argv");
	init_beam_free(&b);

	cfg_with(&cfg, root, more);
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){emu, "-A", "4", "-sbwt", "none",
					 "-fnu", "--", "-root", root, "-bindir",
					 bindir, "-progname", "erl", "--",
					 "-home", "/tmp", "-sname", "a", NULL},
		   "argv");
	init_beam_free(&b);
}

/*
 * The process and port tables follow a small guest's RAM (MemTotal in
 * KiB), unless the user set +P or +Q; 128 MiB and more keep beam's own.
 */
static void test_beam_table_limits(void **state)
{
	static const char *const args[] = {"-noshell", NULL};
	static const char *const user_p[] = {"+P", "1024", "-noshell", NULL};
	static const char *const user_mm[] = {"+MMmcs", "5", NULL};
	static const struct {
		unsigned long mem_kib;
		const char *p, *q; /* NULL: no flag */
	} cases[] = {
	    {23000, "16384", "4096"},	/* -m 32: the floors */
	    {52000, "16384", "8192"},	/* -m 64 */
	    {120000, "32768", "16384"}, /* -m 128 */
	    {600000, NULL, NULL},	/* -m 640: beam's defaults */
	    {0, NULL, NULL},		/* unknown */
	};
	struct init_cfg cfg;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *p = NULL, *q = NULL, *mcs = NULL;

		cfg_with(&cfg, root, args);
		cfg.mem_kib = cases[i].mem_kib;
		prepare_ok(&cfg);
		for (j = 1; b.argv[j] && strcmp(b.argv[j], "--"); j++) {
			if (!strcmp(b.argv[j], "-P"))
				p = b.argv[j + 1];
			if (!strcmp(b.argv[j], "-Q"))
				q = b.argv[j + 1];
			if (!strcmp(b.argv[j], "-MMmcs"))
				mcs = b.argv[j + 1];
		}
		/* The mseg carrier cache is off below 512 MiB. */
		if (cases[i].mem_kib && cases[i].mem_kib < 512 * 1024)
			assert_non_null(mcs), assert_string_equal(mcs, "0");
		else
			assert_null(mcs);
		if (cases[i].p)
			assert_non_null(p), assert_string_equal(p, cases[i].p);
		else
			assert_null(p);
		if (cases[i].q)
			assert_non_null(q), assert_string_equal(q, cases[i].q);
		else
			assert_null(q);
		init_beam_free(&b);
	}

	/*
	 * The user's +P wins and stays alone; -Q still follows the RAM,
	 * and the user's +MM options leave the carrier cache alone.
	 */
	cfg_with(&cfg, root, user_p);
	cfg.mem_kib = 23000;
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	    "-P",    "1024",	  "-sbwt", "none",
		       "-sbwtdcpu", "none",  "-sbwtdio",  "none",  "-fnu",
		       "-Q",	    "4096",  "-MMmcs",	  "0",	   "--",
		       "-root",	    root,    "-bindir",	  bindir,  "-progname",
		       "erl",	    "--",    "-home",	  "/tmp",  "-noshell",
		       NULL},
		   "argv");
	init_beam_free(&b);
	cfg_with(&cfg, root, user_mm);
	cfg.mem_kib = 23000;
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	   "-MMmcs",	"5",	    "-sbwt",	 "none",
		       "-sbwtdcpu", "none",	"-sbwtdio", "none",	 "-fnu",
		       "-P",	   "16384",	"-Q",	    "4096",	 "--",
		       "-root",	   root,	"-bindir",  bindir,	 "-progname",
		       "erl",	   "--",	"-home",    "/tmp",	 NULL},
		   "argv (+MM)");
	init_beam_free(&b);
}

/* Emulator and init sections split as they should, whatever the flag. */
static void test_beam_sections(void **state)
{
	static const char *const args[] = {"+S", "2", "-sname", "a", NULL};
	struct init_cfg cfg;
	size_t i, dashes = 0, first = 0;

	(void)state;
	cfg_with(&cfg, root, args);
	prepare_ok(&cfg);
	for (i = 0; b.argv[i]; i++)
		if (!strcmp(b.argv[i], "--") && dashes++ == 0)
			first = i;
	assert_int_equal(dashes, 2);
	/* Emulator words before "--": "-S", "2", the -sbwt* defaults, -fnu. */
	assert_int_equal(first, 10);
	assert_string_equal(b.argv[2], "2");
	assert_string_equal(b.argv[i - 2], "-sname");
	assert_string_equal(b.argv[i - 1], "a");
	init_beam_free(&b);
}

static void test_beam_extra(void **state)
{
	static const char *const args[] = {"-noshell", "-extra", "a",  "-root",
					   "b",	       "+S",	 "--", NULL};
	struct init_cfg cfg;

	(void)state;
	cfg_with(&cfg, root, args);
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	   "-sbwt",   "none", "-sbwtdcpu", "none",
		       "-sbwtdio", "none",    "-fnu", "--",	   "-root",
		       root,	   "-bindir", bindir, "-progname", "erl",
		       "--",	   "-home",   "/tmp", "-noshell",  "-extra",
		       "a",	   "-root",   "b",    "+S",	   "--",
		       NULL},
		   "argv");
	init_beam_free(&b);
}

/* Write TEXT to tmpdir/NAME; its path in path. */
static void args_file(const char *name, const char *text, char *path,
		      size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * -args_file as erlexec reads it: comments, backslash escapes, nested
 * files, "+" flags from a file to the emulator; a release's vm.args.
 */
static void test_beam_args_file(void **state)
{
	char vm[256], inner[256];
	const char *args[] = {"-noinput", "-args_file", vm, "-extra", "x",
			      NULL};
	struct init_cfg cfg;

	(void)state;
	args_file("inner.args", "+A 4 # async threads\n-eval 'a\\ b'\n",
		  inner, sizeof(inner));
	{
		char text[512];

		snprintf(text, sizeof(text),
			 "## vm.args\n-sname app\n-setcookie secret\n"
			 "+S 1\n\t-args_file %s\n#-name commented\n"
			 "+K true",
			 inner);
		args_file("vm.args", text, vm, sizeof(vm));
	}
	cfg_with(&cfg, root, args);
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	    "-S",	 "1",	      "-A",	   "4",
		       "-K",	    "true",	 "-sbwt",     "none",	   "-sbwtdcpu",
		       "none",	    "-sbwtdio",	 "none",      "-fnu",	   "--",
		       "-root",	    root,	 "-bindir",   bindir,	   "-progname",
		       "erl",	    "--",	 "-home",     "/tmp",	   "-noshell",
		       "-noinput",  "-sname",	 "app",	      "-setcookie", "secret",
		       "-eval",	    "'a b'",	 "-extra",    "x",	   NULL},
		   "argv");
	init_beam_free(&b);
}

/*
 * The launcher's --node and --cookie replace vm.args' name and cookie;
 * vm.args' own port mapper replaces the launcher's epmd-less defaults.
 */
static void test_beam_args_file_override(void **state)
{
	char vm[256];
	const char *args[] = {"-start_epmd", "false",     "-erl_epmd_port",
			      "4370",	     "-sname",	  "run",
			      "-args_file",  vm,	  NULL};
	const char *plain[] = {"-args_file", vm, NULL};
	struct init_cfg cfg;

	(void)state;
	args_file("over.args",
		  "-name app@10.0.2.15 -setcookie secret\n"
		  "-erl_epmd_port 4444\n",
		  vm, sizeof(vm));
	cfg_with(&cfg, root, args);
	cfg.cookie = 1;
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	    "-sbwt",	"none",	   "-sbwtdcpu", "none",
		       "-sbwtdio",  "none",	"-fnu",	   "--",	"-root",
		       root,	    "-bindir",	bindir,	   "-progname", "erl",
		       "--",	    "-home",	"/tmp",	   "-sname",	"run",
		       "-erl_epmd_port", "4444", NULL},
		   "argv");
	/* Nothing from the launcher: the file's name and cookie stay. */
	cfg_with(&cfg, root, plain);
	prepare_ok(&cfg);
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	    "-sbwt",	"none",	   "-sbwtdcpu", "none",
		       "-sbwtdio",  "none",	"-fnu",	   "--",	"-root",
		       root,	    "-bindir",	bindir,	   "-progname", "erl",
		       "--",	    "-home",	"/tmp",	   "-name",
		       "app@10.0.2.15", "-setcookie", "secret",
		       "-erl_epmd_port", "4444", NULL},
		   "argv");
	init_beam_free(&b);
}

static void test_beam_args_file_errors(void **state)
{
	char loop[256], text[300], err[256] = "";
	const char *missing[] = {"-args_file", "/nonexistent/vm.args", NULL};
	const char *looped[] = {"-args_file", loop, NULL};
	const char *novalue[] = {"-noshell", "-args_file", NULL};
	struct init_cfg cfg;

	(void)state;
	cfg_with(&cfg, root, missing);
	assert_int_equal(init_beam_prepare(&cfg, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/vm.args: No such file"));
	snprintf(loop, sizeof(loop), "%s/loop.args", tmpdir);
	snprintf(text, sizeof(text), "-args_file %s\n", loop);
	args_file("loop.args", text, loop, sizeof(loop));
	cfg_with(&cfg, root, looped);
	assert_int_equal(init_beam_prepare(&cfg, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested more than"));
	cfg_with(&cfg, root, novalue);
	assert_int_equal(init_beam_prepare(&cfg, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "-args_file needs a file"));
}

static void test_beam_env(void **state)
{
	static const char *const args[] = {"-env", "FOO", "bar",      "-env",
					   "BAR",  "baz", "-noshell", NULL};
	static const char *const cfg_env[] = {"ERL_INETRC=/x", "FOO=cfg",
					      "NEW=1", NULL};
	struct init_cfg cfg;
	char env[9][256];

	(void)state;
	cfg_with(&cfg, root, args);
	prepare_ok(&cfg);
	/* -env is erlexec's: gone from argv, set in the environment. */
	assert_vec(b.argv,
		   (const char *const[]){
		       emu,	   "-sbwt",   "none", "-sbwtdcpu", "none",
		       "-sbwtdio", "none",    "-fnu", "--",	   "-root",
		       root,	   "-bindir", bindir, "-progname", "erl",
		       "--",	   "-home",   "/tmp", "-noshell",  NULL},
		   "argv");
	default_env(env, root, bindir, "/tmp");
	assert_vec(b.envp,
		   (const char *const[]){env[0], env[1], env[2], env[3], env[4],
					 env[5], env[6], env[7], env[8],
					 "FOO=bar", "BAR=baz", NULL},
		   "envp");
	init_beam_free(&b);

	/* The configuration's env wins over defaults and -env, in place. */
	cfg.env = (char **)cfg_env;
	cfg.nenv = 3;
	prepare_ok(&cfg);
	assert_vec(b.envp,
		   (const char *const[]){env[0], env[1], env[2], env[3], env[4],
					 env[5], env[6], "ERL_INETRC=/x",
					 env[8], "FOO=cfg", "BAR=baz", "NEW=1",
					 NULL},
		   "envp");
	init_beam_free(&b);
}

/*
 * Crash dumps: to the first volume mounted read-write, else none at all
 * (not into /tmp, which is RAM); the user's settings win.
 */
static void test_beam_crash_dump(void **state)
{
	static const char *const args[] = {"-noshell", NULL};
	static const char *const env_args[] = {"-env", "ERL_CRASH_DUMP_BYTES",
					       "1000", "-noshell", NULL};
	static const char *const user_dump[] = {"ERL_CRASH_DUMP=/tmp/my.dump",
						NULL};
	struct init_cfg cfg;

	(void)state;
	cfg_with(&cfg, root, args);
	cfg.nvol = 3;
	strcpy(cfg.vol[0].mnt, "/srv");
	cfg.vol[0].mounted = 1; /* read-only: an ISO */
	strcpy(cfg.vol[1].mnt, "/data");
	cfg.vol[1].mounted = cfg.vol[1].writable = 1;
	strcpy(cfg.vol[2].mnt, "/mnt");
	cfg.vol[2].mounted = cfg.vol[2].writable = 1;
	prepare_ok(&cfg);
	assert_string_equal(b.envp[8], "ERL_CRASH_DUMP=/data/erl_crash.dump");
	assert_null(b.envp[9]);

	/* The user's ERL_CRASH_DUMP replaces ours, in place. */
	cfg.env = (char **)user_dump;
	cfg.nenv = 1;
	prepare_ok(&cfg);
	assert_string_equal(b.envp[8], "ERL_CRASH_DUMP=/tmp/my.dump");
	assert_null(b.envp[9]);

	/* No writable volume, a dump asked for: no SECONDS=0 then. */
	cfg.vol[1].writable = cfg.vol[2].writable = 0;
	prepare_ok(&cfg);
	assert_string_equal(b.envp[8], "ERL_CRASH_DUMP=/tmp/my.dump");
	assert_null(b.envp[9]);

	cfg_with(&cfg, root, env_args);
	prepare_ok(&cfg);
	assert_string_equal(b.envp[8], "ERL_CRASH_DUMP_BYTES=1000");
	assert_null(b.envp[9]);
}

static void check_beam_bad(const char *otp_root, const char *const *args,
			   const char *needle)
{
	struct init_cfg cfg;
	char err[512] = "";

	cfg_with(&cfg, otp_root, args);
	init_beam_free(&b);
	if (init_beam_prepare(&cfg, &b, err, sizeof(err)) != -1) {
		fail_msg("init_beam_prepare succeeded for root %s", otp_root);
	}
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	assert_null(b.argv);
	assert_null(b.envp);
	assert_null(b.emu);
}

static void test_beam_errors(void **state)
{
	static const char *const args[] = {"-noshell", NULL};
	static const char *const noval[] = {"-root", "-noshell", NULL};
	static const char *const noval2[] = {"-noshell", "-home", NULL};
	static const char *const env1[] = {"-env", "FOO", NULL};

	(void)state;
	check_beam_bad(two, args, "several ERTS");
	check_beam_bad(two, args, two);
	check_beam_bad(none, args, "beam.smp");
	check_beam_bad(none, args, none);
	check_beam_bad(longroot, args, "too long");
	check_beam_bad(root, noval, "-root needs a value");
	check_beam_bad(root, noval2, "-home needs a value");
	check_beam_bad(root, env1, "-env needs NAME VALUE");
}

/* ---- fixtures ---------------------------------------------------------- */

static int touch(const char *dir, const char *erts)
{
	char path[INIT_PATH_MAX * 2];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, erts);
	if (mkdir(path, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/%s/bin", dir, erts);
	if (mkdir(path, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/%s/bin/beam.smp", dir, erts);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0755);
	if (fd < 0)
		return -1;
	return close(fd);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(root, sizeof(root), "%s/otp", tmpdir);
	snprintf(two, sizeof(two), "%s/two", tmpdir);
	snprintf(none, sizeof(none), "%s/none", tmpdir);
	snprintf(emu, sizeof(emu), "%s/" ERTS "/bin/beam.smp", root);
	snprintf(bindir, sizeof(bindir), "%s/" ERTS "/bin", root);
	if (mkdir(root, 0755) || mkdir(two, 0755) || mkdir(none, 0755))
		return -1;
	if (touch(root, ERTS) || touch(two, ERTS) || touch(two, "erts-14.0"))
		return -1;
	/* A root that fits, whose emulator's path does not. */
	snprintf(longroot, sizeof(longroot), "%s/%0*d", tmpdir,
		 (int)(INIT_PATH_MAX - 16 - strlen(tmpdir)), 0);
	if (mkdir(longroot, 0755) || touch(longroot, ERTS))
		return -1;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define BEAM_TEST(f) cmocka_unit_test_teardown(f, beam_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cfg_full),
	    cmocka_unit_test(test_cfg_defaults),
	    cmocka_unit_test(test_cfg_malformed),
	    cmocka_unit_test(test_cfg_trailing),
	    cmocka_unit_test(test_cfg_unknown_keys),
	    cmocka_unit_test(test_cfg_types),
	    cmocka_unit_test(test_cfg_bad_values),
	    cmocka_unit_test(test_cfg_dns_hosts),
	    cmocka_unit_test(test_cfg_find),
	    BEAM_TEST(test_beam_baked),
	    BEAM_TEST(test_beam_rumprun),
	    BEAM_TEST(test_beam_emu_flags),
	    BEAM_TEST(test_beam_table_limits),
	    BEAM_TEST(test_beam_sections),
	    BEAM_TEST(test_beam_extra),
	    BEAM_TEST(test_beam_args_file),
	    BEAM_TEST(test_beam_args_file_override),
	    BEAM_TEST(test_beam_args_file_errors),
	    BEAM_TEST(test_beam_env),
	    BEAM_TEST(test_beam_crash_dump),
	    BEAM_TEST(test_beam_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
