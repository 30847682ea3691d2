/*
 * beamrun: clusters. "cluster up -n N IMAGE" starts a vde_switch (a
 * virtual Ethernet segment of unix sockets, no root needed) and N
 * detached instances NAME-1..NAME-N of one image, each with the user
 * network as eth0 and the segment as eth1 at SUBNET.i, a node name
 * BASE@SUBNET.i, one cookie and, in BEAMRUN_NODES, the names of all of
 * them. "cluster down NAME" stops them and the switch.
 *
 *   STATE/.cluster-NAME/switch   the vde_switch's directory
 *   STATE/.cluster-NAME/pid      its pid
 *   STATE/.cluster-NAME/cookie   the cluster's cookie (0600)
 *   STATE/.cluster-NAME/nodes    the number of nodes
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beamrun.h"

#define CLUSTER_MAX 32

static int cluster_dir(const char *name, char *out, size_t len)
{
	char root[PATH_MAX];

	if (!br_instance_name_ok(name) || strlen(name) > 40) {
		br_seterr("\"%s\" is not a cluster name (letters, digits, _ . "
			  "-, at most 40)",
			  name);
		return -1;
	}
	if (br_state_root(root, sizeof(root)))
		return -1;
	snprintf(out, len, "%s/.cluster-%s", root, name);
	return 0;
}

static int write_secret(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd)) {
		br_seterr("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A cookie nobody has to think of: 32 letters from getrandom(). */
static void random_cookie(char *out, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char r[32];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() ^ (int)time(NULL));
	for (i = 0; i < sizeof(r) && i + 1 < len; i++)
		out[i] = abc[r[i] % 26];
	out[i] = '\0';
}

static pid_t read_pid(const char *dir)
{
	char p[PATH_MAX + 8];
	FILE *f;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/pid", dir);
	f = fopen(p, "re");
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static unsigned read_count(const char *dir)
{
	char p[PATH_MAX + 8];
	FILE *f;
	unsigned n = 0;

	snprintf(p, sizeof(p), "%s/nodes", dir);
	f = fopen(p, "re");
	if (f) {
		if (fscanf(f, "%u", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

/* Start the segment's switch, daemonised; its pid in DIR/pid. */
static int start_switch(const char *dir)
{
	char sw[PATH_MAX + 8], pid[PATH_MAX + 8];
	char *argv[] = {"vde_switch", "-d", "-s", sw, "-p", pid, NULL};
	int i, rc;

	snprintf(sw, sizeof(sw), "%s/switch", dir);
	snprintf(pid, sizeof(pid), "%s/pid", dir);
	rc = br_run(argv, 1);
	if (rc < 0 || rc == 127) {
		br_seterr("vde_switch not found (apt-get install vde2)");
		return -1;
	}
	if (rc != 0) {
		br_seterr("vde_switch failed (exit status %d)", rc);
		return -1;
	}
	/* The daemon writes its pid file after it forks. */
	for (i = 0; i < 50 && !read_pid(dir); i++)
		usleep(20 * 1000);
	if (!read_pid(dir)) {
		br_seterr("vde_switch did not start");
		return -1;
	}
	return 0;
}

/* End the switch and wait (2 s at most) while it removes its files. */
static void stop_switch(const char *dir)
{
	pid_t pid = read_pid(dir);
	int i;

	if (pid <= 0 || kill(pid, SIGTERM))
		return;
	for (i = 0; i < 100 && kill(pid, 0) == 0; i++)
		usleep(20 * 1000);
	kill(pid, SIGKILL);
}

static const char cluster_usage[] =
    "usage: beamrun cluster up [-n N] [--name NAME] [--node BASE]\n"
    "                          [--subnet A.B.C] [run options] IMAGE "
    "[ARG...]\n"
    "       beamrun cluster down [NAME]\n"
    "up: start N (3) detached instances NAME-1..NAME-N (NAME: cluster)\n"
    "of IMAGE on one virtual segment (a vde_switch, no root needed).\n"
    "Node i is BASE@A.B.C.i (BASE: node, subnet 10.0.3) on eth1, listens\n"
    "for distribution on --dist-port (4370) without epmd, and has every\n"
    "node's name in BEAMRUN_NODES. All share one cookie: --cookie or\n"
    "--cookie-file, else a random one kept in the state directory.\n"
    "-p HOST:GUEST forwards HOST+i-1 to node i. Other options are run's.\n"
    "down: stop the cluster's instances gracefully, and its switch.\n";

/* Whether one of run's options takes a value in the next word. */
static int takes_value(const char *a)
{
	static const char *const flags[] = {"-v",	 "--verbose", "--ro",
					    "--dry-run", "-h",	      "--help"};
	size_t i;

	if (a[1] == '-' && strchr(a, '='))
		return 0;
	for (i = 0; i < sizeof(flags) / sizeof(*flags); i++)
		if (!strcmp(a, flags[i]))
			return 0;
	return 1;
}

/* Options of up that are not passed on to run as they are. */
struct up_opts {
	unsigned n;
	const char *name, *base, *subnet;
	char cookie[256];
	struct br_fwd fwd[BR_MAX_FWD];
	size_t nfwd;
	struct strv pass; /* run options and IMAGE [ARG...] */
};

static int parse_up(int argc, char **argv, struct up_opts *o)
{
	int i;

	o->n = 3;
	o->name = "cluster";
	o->base = "node";
	o->subnet = "10.0.3";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-' || !strcmp(a, "--")) {
			/* IMAGE and its ARGs: everything from here on. */
			for (; i < argc; i++)
				strv_push(&o->pass, argv[i]);
			break;
		}
		if (!strcmp(a, "-d") || !strcmp(a, "--detach") ||
		    !strcmp(a, "--net")) {
			br_seterr("cluster up: %s is not for a cluster (nodes "
				  "are detached, on the user network)",
				  a);
			return -1;
		}
		/* Options with a value; run's own ones pass through. */
		if (!strcmp(a, "-n") || !strcmp(a, "--name") ||
		    !strcmp(a, "--node") || !strcmp(a, "--subnet") ||
		    !strcmp(a, "--cookie") || !strcmp(a, "--cookie-file") ||
		    !strcmp(a, "-p") || !strcmp(a, "--publish")) {
			if (!v) {
				br_seterr("cluster up: %s needs a value", a);
				return -1;
			}
			i++;
		}
		if (!strcmp(a, "-n")) {
			char *end;
			long n = strtol(v, &end, 10);

			if (*end || n < 1 || n > CLUSTER_MAX) {
				br_seterr("cluster up: -n %s: expected 1-%d", v,
					  CLUSTER_MAX);
				return -1;
			}
			o->n = (unsigned)n;
		} else if (!strcmp(a, "--name")) {
			o->name = v;
		} else if (!strcmp(a, "--node")) {
			if (strchr(v, '@')) {
				br_seterr("cluster up: --node %s: give the "
					  "name only; the host part is each "
					  "node's address",
					  v);
				return -1;
			}
			o->base = v;
		} else if (!strcmp(a, "--subnet")) {
			o->subnet = v;
		} else if (!strcmp(a, "--cookie")) {
			snprintf(o->cookie, sizeof(o->cookie), "%s", v);
			memset(argv[i], 'x', strlen(argv[i]));
		} else if (!strcmp(a, "--cookie-file")) {
			FILE *f = fopen(v, "re");

			if (!f || !fgets(o->cookie, sizeof(o->cookie), f)) {
				br_seterr("--cookie-file %s: %s", v,
					  f ? "empty" : strerror(errno));
				if (f)
					fclose(f);
				return -1;
			}
			fclose(f);
			o->cookie[strcspn(o->cookie, "\r\n")] = '\0';
		} else if (!strcmp(a, "-p") || !strcmp(a, "--publish")) {
			if (o->nfwd == BR_MAX_FWD) {
				br_seterr("-p: at most %d forwards",
					  BR_MAX_FWD);
				return -1;
			}
			if (br_parse_fwd(v, &o->fwd[o->nfwd++]))
				return -1;
		} else {
			strv_push(&o->pass, a);
			if (takes_value(a)) {
				if (!v) {
					br_seterr("cluster up: %s needs a "
						  "value",
						  a);
					return -1;
				}
				strv_push(&o->pass, v);
				i++;
			}
		}
	}
	if (o->pass.n == 0 || o->pass.v[o->pass.n - 1][0] == '-') {
		br_seterr("cluster up: no image given (see beamrun cluster "
			  "--help)");
		return -1;
	}
	{
		struct in_addr a;
		char probe[64];

		snprintf(probe, sizeof(probe), "%s.%u", o->subnet, o->n);
		if (strlen(o->subnet) > 15 ||
		    inet_pton(AF_INET, probe, &a) != 1 ||
		    strchr(o->subnet, '/')) {
			br_seterr("cluster up: --subnet %s: expected the first "
				  "three parts of an IPv4 address (10.0.3)",
				  o->subnet);
			return -1;
		}
	}
	return 0;
}

/*
 * Stop the instances NAME-1..NAME-N (all at once: each supervisor gets
 * SIGTERM, as beamrun stop sends), then the switch; forget the cluster.
 */
static int cluster_down(const char *name, int loud)
{
	char dir[PATH_MAX];
	unsigned i, n;
	int rc = 0;

	if (cluster_dir(name, dir, sizeof(dir))) {
		br_die_msg("%s", br_err());
		return BR_EXIT_BADINPUT;
	}
	if (!br_is_dir(dir)) {
		if (loud)
			br_die_msg("cluster down: no cluster named %s", name);
		return 1;
	}
	n = read_count(dir);
	for (i = 1; i <= n; i++) {
		char inst[64];
		char *stop[] = {"stop", inst, NULL};

		snprintf(inst, sizeof(inst), "%s-%u", name, i);
		if (br_instance_running(inst) && cmd_stop(2, stop))
			rc = 1;
		cmd_rm(2, stop);
	}
	stop_switch(dir);
	br_rm_rf(dir);
	return rc;
}

static int cluster_up(int argc, char **argv)
{
	struct up_opts o;
	char dir[PATH_MAX], path[PATH_MAX + 16], nodes[CLUSTER_MAX * 80] = "";
	unsigned i;
	int rc = 1;

	memset(&o, 0, sizeof(o));
	if (parse_up(argc, argv, &o) || cluster_dir(o.name, dir, sizeof(dir))) {
		br_die_msg("%s", br_err());
		strv_free(&o.pass);
		return BR_EXIT_BADINPUT;
	}
	if (read_pid(dir) > 0 && kill(read_pid(dir), 0) == 0) {
		br_die_msg("cluster %s is already up (beamrun cluster down %s)",
			   o.name, o.name);
		strv_free(&o.pass);
		return BR_EXIT_BADINPUT;
	}
	br_rm_rf(dir);
	if (br_mkdir_p(dir, 0700)) {
		br_die_msg("%s", br_err());
		strv_free(&o.pass);
		return 1;
	}
	if (!o.cookie[0])
		random_cookie(o.cookie, sizeof(o.cookie));
	snprintf(path, sizeof(path), "%s/cookie", dir);
	if (write_secret(path, o.cookie)) {
		br_die_msg("%s", br_err());
		goto fail;
	}
	memset(o.cookie, 0, sizeof(o.cookie));
	for (i = 1; i <= o.n; i++) {
		size_t used = strlen(nodes);

		snprintf(nodes + used, sizeof(nodes) - used, "%s%s@%s.%u",
			 i > 1 ? " " : "", o.base, o.subnet, i);
	}
	snprintf(path, sizeof(path), "%s/nodes", dir);
	{
		char n[16];

		snprintf(n, sizeof(n), "%u\n", o.n);
		if (write_secret(path, n)) {
			br_die_msg("%s", br_err());
			goto fail;
		}
	}
	if (start_switch(dir)) {
		br_die_msg("%s", br_err());
		goto fail;
	}
	for (i = 1; i <= o.n; i++) {
		struct strv a = {0};
		size_t k;

		strv_push(&a, "run");
		strv_push(&a, "-d");
		strv_pushf(&a, "--name=%s-%u", o.name, i);
		strv_pushf(&a, "--hostname=%s-%u", o.name, i);
		strv_pushf(&a, "--lan=%s/switch,%s.%u/24", dir, o.subnet, i);
		strv_pushf(&a, "--node=%s@%s.%u", o.base, o.subnet, i);
		strv_pushf(&a, "--cookie-file=%s/cookie", dir);
		strv_pushf(&a, "--env=BEAMRUN_NODES=%s", nodes);
		for (k = 0; k < o.nfwd; k++) {
			if (o.fwd[k].host_port + i - 1 > 65535) {
				br_die_msg(
				    "-p: host port %u + %u is past 65535",
				    o.fwd[k].host_port, i - 1);
				strv_free(&a);
				goto fail;
			}
			strv_pushf(&a, "--publish=%s:%u:%u", o.fwd[k].proto,
				   o.fwd[k].host_port + i - 1,
				   o.fwd[k].guest_port);
		}
		for (k = 0; k < o.pass.n; k++)
			strv_push(&a, o.pass.v[k]);
		rc = cmd_run((int)a.n, a.v);
		strv_free(&a);
		if (rc) {
			br_die_msg("cluster up: node %u did not start; taking "
				   "the cluster down",
				   i);
			goto fail;
		}
	}
	strv_free(&o.pass);
	return 0;
fail:
	cluster_down(o.name, 0);
	strv_free(&o.pass);
	return rc ? rc : 1;
}

int cmd_cluster(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "up"))
		return cluster_up(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "down")) {
		if (argc > 3) {
			br_die_msg("cluster down: one cluster name at most");
			return 2;
		}
		return cluster_down(argc == 3 ? argv[2] : "cluster", 1);
	}
	if (argc == 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(cluster_usage, stdout);
		return 0;
	}
	br_die_msg("cluster: expected up or down (see beamrun cluster --help)");
	return 2;
}
