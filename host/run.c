/* beamrun: "run" (container-style) and "qemu"/"kvm" (rumprun-style). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamrun.h"

#define RUN_DEFAULT_MEM	 128
#define RUMP_DEFAULT_MEM 64

static void vm_free(struct br_vm *vm)
{
	size_t i;

	br_image_free(&vm->img);
	for (i = 0; i < vm->nnic; i++)
		free(vm->nic[i].backend);
	for (i = 0; i < vm->nvol; i++)
		free(vm->vol[i].path);
	strv_free(&vm->env);
	strv_free(&vm->args);
	strv_free(&vm->app_args);
	strv_free(&vm->qemu_extra);
	if (vm->cookie) {
		memset(vm->cookie, 0, strlen(vm->cookie));
		free(vm->cookie);
	}
}

int br_kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int ok =
	    fd >= 0 && ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* run picks KVM when it works; BEAMRUN_ACCEL (tcg|kvm) overrides. */
static int choose_accel(struct br_vm *vm, const char *opt)
{
	const char *env = getenv("BEAMRUN_ACCEL");
	const char *want = opt ? opt : env;
	const char *why;

	if (want && *want) {
		if (!strcmp(want, "tcg"))
			vm->accel = BR_ACCEL_TCG;
		else if (!strcmp(want, "kvm"))
			vm->accel = BR_ACCEL_KVM;
		else {
			br_seterr("accelerator \"%s\": expected tcg or kvm",
				  want);
			return -1;
		}
		why = opt ? "--accel" : "BEAMRUN_ACCEL";
	} else {
		vm->accel = br_kvm_usable() ? BR_ACCEL_KVM : BR_ACCEL_TCG;
		why = vm->accel == BR_ACCEL_KVM ? "/dev/kvm is usable"
						: "/dev/kvm is not usable";
	}
	/* Said by the launcher once nothing is left to refuse. */
	vm->accel_why = why;
	return 0;
}

static int add_vol(struct br_vm *vm, const char *spec)
{
	if (vm->nvol == BR_MAX_VOL) {
		br_seterr("-b %s: at most %d volumes", spec, BR_MAX_VOL);
		return -1;
	}
	if (br_parse_vol(spec, &vm->vol[vm->nvol]))
		return -1;
	vm->nvol++;
	return 0;
}

static int add_env(struct br_vm *vm, const char *spec)
{
	static const char *const flags[] = {"ERL_AFLAGS=", "ERL_FLAGS=",
					    "ERL_ZFLAGS="};
	struct strv words = {0};
	size_t i;
	char *e;

	if (br_parse_env(spec, &e))
		return -1;
	/* The guest splits these as erlexec does: check the quoting here. */
	for (i = 0; i < sizeof(flags) / sizeof(*flags); i++)
		if (!strncmp(e, flags[i], strlen(flags[i])) &&
		    br_split_words(e + strlen(flags[i]), &words)) {
			char why[512];

			snprintf(why, sizeof(why), "%s", br_err());
			br_seterr("-e %.*s: %s", (int)strlen(flags[i]) - 1, e,
				  why);
			strv_free(&words);
			free(e);
			return -1;
		}
	strv_free(&words);
	strv_push(&vm->env, e);
	free(e);
	return 0;
}

static int set_hostname(struct br_vm *vm, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++)
		if (!(name[i] == '-' || name[i] == '.' ||
		      (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			break;
	if (n == 0 || n > 64 || i < n || name[0] == '-') {
		br_seterr("-N %s: not a valid host name", name);
		return -1;
	}
	strcpy(vm->hostname, name);
	return 0;
}

/* --node NAME[@HOST]: a node name Erlang accepts. */
static int set_node(struct br_vm *vm, const char *spec)
{
	const char *at = strchr(spec, '@'), *p;
	size_t nlen = at ? (size_t)(at - spec) : strlen(spec);

	if (nlen == 0 || strlen(spec) >= sizeof(vm->node)) {
		br_seterr("--node %s: expected NAME or NAME@HOST", spec);
		return -1;
	}
	for (p = spec; p < spec + nlen; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
			br_seterr("--node %s: the name part takes letters, "
				  "digits, _ and -",
				  spec);
			return -1;
		}
	if (at) {
		if (!at[1]) {
			br_seterr("--node %s: empty host after @", spec);
			return -1;
		}
		/* NAME@%ethN: the interface's address, known in the guest. */
		if (at[1] == '%') {
			if (strncmp(at + 2, "eth", 3) || !at[5] ||
			    strspn(at + 5, "0123456789") != strlen(at + 5)) {
				br_seterr("--node %s: after @%% comes an "
					  "interface, ethN",
					  spec);
				return -1;
			}
			snprintf(vm->node, sizeof(vm->node), "%s", spec);
			return 0;
		}
		for (p = at + 1; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '-' && *p != '_' && *p != ':') {
				br_seterr("--node %s: the host part takes a "
					  "host name or an address",
					  spec);
				return -1;
			}
	}
	snprintf(vm->node, sizeof(vm->node), "%s", spec);
	return 0;
}

/* A cookie as Erlang's auth takes it: printable, no spaces. */
static int set_cookie(struct br_vm *vm, const char *c)
{
	const char *p;

	if (!*c || strlen(c) > 255) {
		br_seterr("--cookie: 1 to 255 characters");
		return -1;
	}
	for (p = c; *p; p++)
		if (*p <= ' ' || *p > '~') {
			br_seterr("--cookie: printable characters without "
				  "spaces only");
			return -1;
		}
	free(vm->cookie);
	vm->cookie = xstrdup(c);
	return 0;
}

static int read_cookie_file(struct br_vm *vm, const char *path)
{
	char line[512];
	FILE *f;
	int rc;

	if (!br_is_file(path)) {
		br_seterr("--cookie-file %s: %s", path,
			  access(path, F_OK) ? strerror(errno)
					     : "not a regular file");
		return -1;
	}
	f = fopen(path, "re");
	if (!f) {
		br_seterr("--cookie-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	rc = set_cookie(vm, line);
	memset(line, 0, sizeof(line));
	if (rc) {
		char why[256];

		snprintf(why, sizeof(why), "%s", br_err());
		br_seterr("--cookie-file %s: %s", path,
			  why + strlen("--cookie: "));
	}
	return rc;
}

static int open_image(struct br_vm *vm, const char *path)
{
	return br_image_open(path, &vm->img);
}

static int parse_uint(const char *opt, const char *s, unsigned lo, unsigned hi,
		      unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
		br_seterr("%s %s: expected a number from %u to %u", opt, s, lo,
			  hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Whether qemu could listen on 127.0.0.1:PORT for a forward. */
static int port_busy(const struct br_fwd *f)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd, busy;

	fd = socket(AF_INET,
		    (strcmp(f->proto, "udp") ? SOCK_STREAM : SOCK_DGRAM) |
			SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return 0;
	/* As qemu does, so a port in TIME_WAIT does not count as busy. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	sa.sin_port = htons((uint16_t)f->host_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	busy =
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno == EADDRINUSE;
	close(fd);
	return busy;
}

/* Conflicts qemu would report only after starting, in its own words. */
/*
 * The address a NIC gets statically; one without -W gets the user
 * network's fixed address (guestcfg.c).
 */
static const char *nic_static_addr(const struct br_nic *n)
{
	if (n->method == BR_NET_STATIC)
		return n->addr;
	if (n->method == BR_NET_NONE)
		return "10.0.2.15";
	return NULL;
}

/* " (tag TAG)" after an interface's name, when it has a tag. */
#define TAGGED(n)                                                              \
	(n)->tag[0] && strncmp((n)->tag, "eth", 3) ? " (tag " : "",            \
	    (n)->tag[0] && strncmp((n)->tag, "eth", 3) ? (n)->tag : "",        \
	    (n)->tag[0] && strncmp((n)->tag, "eth", 3) ? ")" : ""

/* The host's RAM and swap in MiB, which bound a guest's -m; 0: unknown. */
static unsigned long long host_mem_mib(void)
{
	struct sysinfo si;

	if (sysinfo(&si))
		return 0;
	return ((unsigned long long)si.totalram + si.totalswap) * si.mem_unit /
	       (1024 * 1024);
}

static int vm_check(const struct br_vm *vm)
{
	unsigned long long host_mib;
	size_t i, j;

	for (i = 0; i < vm->nvol; i++)
		for (j = i + 1; j < vm->nvol; j++) {
			if (vm->vol[i].mnt[0] &&
			    !strcmp(vm->vol[i].mnt, vm->vol[j].mnt)) {
				br_seterr("-b: two volumes on %s",
					  vm->vol[i].mnt);
				return -1;
			}
			/* qemu would refuse to lock one file twice. */
			if (!strcmp(vm->vol[i].path, vm->vol[j].path)) {
				br_seterr("-b: %s is attached twice",
					  vm->vol[i].path);
				return -1;
			}
		}
	for (i = 0; i < vm->nfwd; i++) {
		for (j = i + 1; j < vm->nfwd; j++)
			if (vm->fwd[i].host_port == vm->fwd[j].host_port &&
			    !strcmp(vm->fwd[i].proto, vm->fwd[j].proto)) {
				br_seterr("-p: host port %s:%u is forwarded "
					  "twice",
					  vm->fwd[i].proto,
					  vm->fwd[i].host_port);
				return -1;
			}
		if (port_busy(&vm->fwd[i])) {
			br_seterr("-p %u: 127.0.0.1:%u is already in use on "
				  "this host",
				  vm->fwd[i].host_port, vm->fwd[i].host_port);
			return -1;
		}
	}
	if (vm->app_args.n && vm->img.start_args == 0) {
		br_seterr("%s: %s exports no start/1 to take the arguments "
			  "after the image (%s%s): give none, or add "
			  "start(Args)",
			  vm->img.path, vm->img.app, vm->app_args.v[0],
			  vm->app_args.n > 1 ? " ..." : "");
		return -1;
	}
	if (vm->swap_set && vm->swap_mib > 4ULL * vm->mem_mib) {
		br_seterr("--swap %u: more than 4 times the guest's %u MiB; zram "
			  "cannot fill it, and its table alone can take the RAM",
			  vm->swap_mib, vm->mem_mib);
		return -1;
	}
	host_mib = vm->dry_run ? 0 : host_mem_mib();
	if (host_mib && vm->mem_mib > host_mib) {
		br_seterr("-m %u: more than this host has (%llu MiB of RAM and "
			  "swap)",
			  vm->mem_mib, host_mib);
		return -1;
	}
	if (vm->mem_mib < BR_MIN_MEM) {
		br_seterr("%u MiB of guest RAM is too little; the Erlang VM "
			  "needs at least %u",
			  vm->mem_mib, BR_MIN_MEM);
		return -1;
	}
	{
		/* Every static address, IPv4 and IPv6, with its NIC. */
		const char *addr[2 * BR_MAX_NIC];
		size_t at[2 * BR_MAX_NIC], na = 0, a, b;

		for (i = 0; i < vm->nnic; i++) {
			if (nic_static_addr(&vm->nic[i])) {
				addr[na] = nic_static_addr(&vm->nic[i]);
				at[na++] = i;
			}
			if (vm->nic[i].method6 == BR_NET_STATIC) {
				addr[na] = vm->nic[i].addr6;
				at[na++] = i;
			}
		}
		for (a = 0; a < na; a++)
			for (b = a + 1; b < na; b++)
				if (!strcmp(addr[a], addr[b])) {
					br_seterr(
					    "interfaces eth%zu%s%s%s and "
					    "eth%zu%s%s%s both have "
					    "address %s",
					    at[a], TAGGED(&vm->nic[at[a]]),
					    at[b], TAGGED(&vm->nic[at[b]]),
					    addr[a]);
					return -1;
				}
	}
	/*
	 * TODO: the kernel's DHCP client (ip=) configures one interface;
	 * a second needs a DHCP client in init. Refused rather than left
	 * without an address.
	 */
	for (i = 0, j = 0; i < vm->nnic; i++)
		if (vm->nic[i].method == BR_NET_DHCP && j++) {
			br_seterr("eth%zu%s%s%s: only one interface can use "
				  "DHCP (inet,dhcp or --net dhcp)",
				  i, TAGGED(&vm->nic[i]));
			return -1;
		}
	return 0;
}

static const char run_usage[] =
    "usage: beamrun run [options] IMAGE [ARG...]\n"
    "Boot IMAGE under qemu in the foreground; the VM powers off when\n"
    "the Erlang VM stops and beamrun exits with its status.\n"
    "ARGs go to the start function (MODULE:start([ARG...]) as strings);\n"
    "for an image without an application they are erl arguments.\n"
    "  -p, --publish [tcp:|udp:]HOST[:GUEST]  forward 127.0.0.1:HOST to\n"
    "                          the guest's port GUEST (default: HOST)\n"
    "  -m, --memory SIZE       guest RAM in MiB, e.g. 64 or 1G (128)\n"
    "  -c, --cpus N            virtual CPUs (1)\n"
    "  -e, --env NAME=VALUE    environment variable for the Erlang VM\n"
    "  -b, --volume IMG[,MNT]  attach a disk image, mounted at MNT\n"
    "      --ro                the next -b is read-only\n"
    "  -N, --hostname NAME     guest host name\n"
    "      --net user|dhcp|none  network: qemu user mode with a fixed\n"
    "                          address (user, the default) or one from\n"
    "                          its DHCP server (dhcp); none\n"
    "      --lan SWITCH,ADDR/BITS  one more NIC, on a vde_switch segment\n"
    "                          shared with other VMs, at ADDR\n"
    "  -I, --nic TAG,vioif,BACKEND  one more NIC on any qemu backend\n"
    "                          (socket,listen=..., stream,..., tap,...)\n"
    "  -W, --ifconfig TAG,inet,static,ADDR/BITS[,GW] | TAG,inet,dhcp |\n"
    "                 TAG,inet6,auto | TAG,inet6,static,ADDR/BITS[,GW]\n"
    "                          how the NIC tagged TAG gets its address\n"
    "                          (one IPv4 and one IPv6 each; --net's NIC\n"
    "                          is eth0)\n"
    "      --dns ADDR[#PORT]   nameserver for Erlang's DNS client (up to\n"
    "                          4; replaces the network's own)\n"
    "      --add-host NAME:ADDR  a line in the guest's /etc/hosts\n"
    "      --erl-args 'ARGS'   replace the image's erl arguments\n"
    "      --stop-timeout S    seconds between SIGTERM and SIGKILL (10)\n"
    "      --swap SIZE|off     compressed swap in guest RAM (zram), e.g.\n"
    "                          64 or 1G (default: up to -m 256, the RAM's\n"
    "                          size, at most 64 MiB; else off)\n"
    "      --accel tcg|kvm     default: kvm if usable; BEAMRUN_ACCEL too\n"
    "      --node NAME[@HOST]  make the Erlang VM a distributed node\n"
    "                          (-name if HOST has a dot, else -sname;\n"
    "                          NAME@%ethN: that interface's address),\n"
    "                          without epmd, listening on --dist-port\n"
    "      --dist-port PORT    its distribution port (4370)\n"
    "      --cookie COOKIE     its cookie (hidden from ps, given to the\n"
    "                          guest through fw_cfg, never in the image)\n"
    "      --cookie-file FILE  the cookie from a file's first line\n"
    "      --dist-tls DIR      distribution over TLS; DIR, in the guest\n"
    "                          (on a -b volume), has cert.pem, key.pem\n"
    "                          and cacert.pem (bake with --app ssl)\n"
    "  -d, --detach            run in the background as an instance\n"
    "                          (beamrun ps, logs, stop, kill, wait, rm)\n"
    "      --name NAME         the instance's name (default: the image's)\n"
    "      --dry-run           print the qemu command instead of running\n"
    "      --pvh               boot the kernel's uncompressed ELF at its\n"
    "                          PVH entry (the path Xen uses; the default)\n"
    "      --bzimage           boot the compressed bzImage instead\n"
    "  -v, --verbose           show each boot step in the guest\n";

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"publish", required_argument, NULL, 'p'},
	    {"memory", required_argument, NULL, 'm'},
	    {"cpus", required_argument, NULL, 'c'},
	    {"env", required_argument, NULL, 'e'},
	    {"volume", required_argument, NULL, 'b'},
	    {"ro", no_argument, NULL, 'R'},
	    {"hostname", required_argument, NULL, 'N'},
	    {"net", required_argument, NULL, 'n'},
	    {"erl-args", required_argument, NULL, 'A'},
	    {"stop-timeout", required_argument, NULL, 'T'},
	    {"swap", required_argument, NULL, 'w'},
	    {"accel", required_argument, NULL, 'a'},
	    {"dry-run", no_argument, NULL, 'D'},
	    {"detach", no_argument, NULL, 'd'},
	    {"name", required_argument, NULL, 'M'},
	    {"node", required_argument, NULL, 'O'},
	    {"lan", required_argument, NULL, 'L'},
	    {"dns", required_argument, NULL, 'X'},
	    {"add-host", required_argument, NULL, 'H'},
	    {"nic", required_argument, NULL, 'I'},
	    {"ifconfig", required_argument, NULL, 'W'},
	    {"dist-tls", required_argument, NULL, 'S'},
	    {"dist-port", required_argument, NULL, 'P'},
	    {"cookie", required_argument, NULL, 'C'},
	    {"cookie-file", required_argument, NULL, 'F'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"pvh", no_argument, NULL, 'V'},
	    {"bzimage", no_argument, NULL, 'Z'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct br_vm vm;
	const char *accel = NULL, *net = "user", *name = NULL;
	int c, ro_next = 0, rc = BR_EXIT_BADINPUT, erl_args_set = 0;
	int detach = 0;
	struct br_nic lan[BR_MAX_NIC - 1];
	size_t nlan = 0, l;
	struct strv wspecs = {0};
	int i;

	memset(&vm, 0, sizeof(vm));
	vm.mem_mib = RUN_DEFAULT_MEM;
	vm.pvh = BR_BOOT_PVH;
	vm.cpus = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:m:c:e:b:N:I:W:dvh", opts,
				NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'p':
			if (vm.nfwd == BR_MAX_FWD) {
				br_seterr("-p: at most %d forwards",
					  BR_MAX_FWD);
				bad = 1;
			} else {
				bad = br_parse_fwd(optarg,
						   &vm.fwd[vm.nfwd++]) != 0;
			}
			break;
		case 'm':
			bad = br_parse_mib(optarg, &vm.mem_mib) != 0;
			if (bad) {
				char why[1024];

				snprintf(why, sizeof(why), "%s", br_err());
				br_seterr("-m %s", why);
			}
			break;
		case 'c':
			bad = parse_uint("--cpus", optarg, 1, 64, &vm.cpus);
			break;
		case 'e':
			bad = add_env(&vm, optarg) != 0;
			break;
		case 'b':
			bad = add_vol(&vm, optarg) != 0;
			if (!bad && ro_next)
				vm.vol[vm.nvol - 1].ro = 1;
			ro_next = 0;
			break;
		case 'R':
			ro_next = 1;
			break;
		case 'N':
			bad = set_hostname(&vm, optarg) != 0;
			break;
		case 'n':
			if (strcmp(optarg, "user") && strcmp(optarg, "dhcp") &&
			    strcmp(optarg, "none")) {
				br_seterr("--net %s: expected user, dhcp or "
					  "none",
					  optarg);
				bad = 1;
			}
			net = optarg;
			break;
		case 'A':
			strv_free(&vm.args);
			bad = br_split_words(optarg, &vm.args) != 0;
			erl_args_set = 1;
			break;
		case 'T':
			bad = parse_uint("--stop-timeout", optarg, 1, 3600,
					 &vm.stop_timeout);
			break;
		case 'w':
			vm.swap_set = 1;
			if (strcmp(optarg, "off") &&
			    br_parse_mib(optarg, &vm.swap_mib)) {
				char why[1024];

				snprintf(why, sizeof(why), "%s", br_err());
				br_seterr("--swap %s (or off)", why);
				bad = 1;
			}
			break;
		case 'a':
			accel = optarg;
			break;
		case 'D':
			vm.dry_run = 1;
			break;
		case 'd':
			detach = 1;
			break;
		case 'M':
			name = optarg;
			if (!br_instance_name_ok(name)) {
				br_seterr("--name %s: use letters, digits, _ . "
					  "and -, at most 63, not starting "
					  "with . or -",
					  name);
				bad = 1;
			}
			break;
		case 'O':
			bad = set_node(&vm, optarg) != 0;
			break;
		case 'S':
			if (optarg[0] != '/' || strchr(optarg, ' ')) {
				br_seterr("--dist-tls %s: expected an absolute "
					  "path in the guest, without spaces",
					  optarg);
				bad = 1;
			}
			vm.dist_tls = optarg;
			break;
		case 'L':
			if (nlan == BR_MAX_NIC - 1) {
				br_seterr("--lan: at most %d", BR_MAX_NIC - 1);
				bad = 1;
			} else {
				bad = br_parse_lan(optarg, &lan[nlan++]) != 0;
			}
			break;
		case 'I':
			/* -I TAG,vioif,BACKEND as for qemu: eth1, eth2, ... */
			if (nlan == BR_MAX_NIC - 1) {
				br_seterr("-I %s: at most %d interfaces",
					  optarg, BR_MAX_NIC);
				bad = 1;
				break;
			}
			bad = br_parse_nic(optarg, &lan[nlan]) != 0;
			if (!bad) {
				for (l = 0; l < nlan; l++)
					if (!strcmp(lan[l].tag, lan[nlan].tag))
						break;
				if (l < nlan) {
					br_seterr("-I %s: tag %s is already "
						  "used",
						  optarg, lan[l].tag);
					free(lan[nlan].backend);
					bad = 1;
					break;
				}
				nlan++;
			}
			break;
		case 'W':
			/* Applied once every -I is known. */
			strv_push(&wspecs, optarg);
			break;
		case 'X':
			if (vm.ndns == BR_MAX_DNS) {
				br_seterr("--dns: at most %d nameservers",
					  BR_MAX_DNS);
				bad = 1;
				break;
			}
			bad = br_parse_dns(optarg, vm.dns[vm.ndns],
					   sizeof(vm.dns[0])) != 0;
			vm.ndns += !bad;
			break;
		case 'H':
			if (vm.nhosts == BR_MAX_HOSTS) {
				br_seterr("--add-host: at most %d",
					  BR_MAX_HOSTS);
				bad = 1;
				break;
			}
			bad = br_parse_host(optarg, &vm.hosts[vm.nhosts]) != 0;
			vm.nhosts += !bad;
			break;
		case 'P':
			bad = parse_uint("--dist-port", optarg, 1, 65535,
					 &vm.dist_port);
			break;
		case 'C':
			bad = set_cookie(&vm, optarg) != 0;
			/* Out of sight of ps from now on. */
			memset(optarg, 'x', strlen(optarg));
			break;
		case 'F':
			bad = read_cookie_file(&vm, optarg) != 0;
			break;
		case 'v':
			br_verbose = 1;
			vm.guest_verbose = 1;
			break;
		case 'V':
			vm.pvh = 1;
			break;
		case 'Z':
			vm.pvh = 0;
			break;
		case 'h':
			fputs(run_usage, stdout);
			vm_free(&vm);
			return 0;
		default:
			br_seterr("run: unknown option %s (see beamrun run "
				  "--help)",
				  argv[optind - 1]);
			bad = 1;
		}
		if (bad) {
			br_die_msg("%s", br_err());
			goto out;
		}
	}
	if (ro_next) {
		br_die_msg("--ro: no -b follows it");
		goto out;
	}
	if (optind >= argc) {
		br_die_msg("run: no image given (see beamrun run --help)");
		goto out;
	}
	if (vm.cookie && !vm.node[0]) {
		br_die_msg("--cookie is for a distributed node: add --node");
		goto out;
	}
	if (name && !detach) {
		br_die_msg("--name names a detached instance: add -d");
		goto out;
	}
	if (erl_args_set && vm.args.n == 0) {
		br_die_msg("--erl-args: empty");
		goto out;
	}
	if (vm.nfwd && !strcmp(net, "none")) {
		br_die_msg("-p needs a network; it cannot go with --net none");
		goto out;
	}
	if (open_image(&vm, argv[optind])) {
		br_die_msg("%s", br_err());
		goto out;
	}
	for (i = optind + 1; i < argc; i++)
		strv_push(vm.img.app && vm.img.app[0] ? &vm.app_args : &vm.args,
			  argv[i]);
	if (strcmp(net, "none")) {
		vm.nic[0].backend = xstrdup("user");
		/* dhcp: the address from qemu's DHCP server, as on a LAN. */
		if (!strcmp(net, "dhcp")) {
			vm.nic[0].method = BR_NET_DHCP;
		} else {
			/* The user network's fixed address, as -W would. */
			vm.nic[0].method = BR_NET_STATIC;
			strcpy(vm.nic[0].addr, "10.0.2.15");
			vm.nic[0].prefix = 24;
			strcpy(vm.nic[0].gw, "10.0.2.2");
		}
		vm.nic[0].family = AF_INET;
		vm.nic[0].mac[0] = 0x52;
		vm.nic[0].mac[1] = 0x54;
		vm.nic[0].mac[5] = 0x01;
		/* So that -W eth0,... reaches it, unless -I took the tag. */
		for (l = 0; l < nlan && strcmp(lan[l].tag, "eth0"); l++)
			;
		if (l == nlan)
			strcpy(vm.nic[0].tag, "eth0");
		vm.nnic = 1;
	}
	/* -I and --lan NICs come after the user NIC: eth1, eth2, ... */
	if (vm.nnic + nlan > BR_MAX_NIC) {
		br_die_msg("at most %d interfaces, --net's included",
			   BR_MAX_NIC);
		goto out;
	}
	for (l = 0; l < nlan; l++)
		vm.nic[vm.nnic++] = lan[l];
	nlan = 0;
	for (l = 0; l < wspecs.n; l++)
		if (br_parse_netspec(wspecs.v[l], vm.nic, vm.nnic)) {
			br_die_msg("%s", br_err());
			goto out;
		}
	if (vm_check(&vm) || choose_accel(&vm, accel)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	if (detach && !vm.dry_run)
		rc = br_instance_start(&vm, name, 0);
	else
		rc = br_launch(&vm);
out:
	for (l = 0; l < nlan; l++)
		free(lan[l].backend);
	strv_free(&wspecs);
	vm_free(&vm);
	return rc;
}

static const char rump_usage[] =
    "usage: beamrun [-D] qemu|kvm [options] IMAGE [\"ERL ARGS\"]\n"
    "rumprun's launcher options, with the same meanings:\n"
    "  -b IMG[,MNT]          attach IMG as a disk, mounted at MNT\n"
    "  -e VAR[=VALUE]        environment variable for the Erlang VM\n"
    "  -I TAG,BASE,BACKEND   network interface; BACKEND is qemu's\n"
    "                        -net/-netdev text ('-net user', 'tap,...')\n"
    "  -W TAG,inet,static,ADDR/BITS[,GW] | TAG,inet,dhcp |\n"
    "     TAG,inet6,auto | TAG,inet6,static,ADDR/BITS[,GW]\n"
    "  -M MB                 guest RAM (64)\n"
    "  -c N                  virtual CPUs (1)\n"
    "  -N NAME               guest host name\n"
    "  -g ARGS               extra qemu arguments\n"
    "  -D PORT               qemu gdb server on 127.0.0.1:PORT\n"
    "  -i                    foreground: console on the terminal and\n"
    "                        beamrun exits with the guest's status\n"
    "                        (without it: background, prints qemu:PID)\n"
    "  -p                    start with the CPU paused\n"
    "  -n, --dry-run         print the qemu command instead of running\n"
    "  -v                    show each boot step in the guest\n"
    "The words after IMAGE are the Erlang VM's arguments, as given to\n"
    "erl (a single quoted string is split at spaces, as rumprun did).\n";

/*
 * Which of rumprun's guest options each platform takes (rumprun's table,
 * plus -c and -o of our own), and why the others are refused.
 */
struct rump_platform {
	const char *name, *opts;
	const char *why; /* for a refused letter */
};

static const struct rump_platform rump_platforms[] = {
    {"qemu", "beIgMNWDipcvn", "qemu runs the VM here"},
    {"kvm", "beIgMNWDipcvn", "qemu runs the VM here"},
    {"xen", "beIMNWDipdcvno", "xl starts the domain"},
    {"iso", "beINWvo",
     "a boot medium fixes no memory, debugger, console or qemu option: "
     "the hypervisor that boots it does"},
    {"disk", "beINWvo",
     "a disk image fixes no memory, debugger, console or qemu option: "
     "the hypervisor that boots it does"},
    {"virsh-xml", "beIMNWcvnoL", "libvirt starts the domain"},
};

static const struct rump_platform *rump_platform(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rump_platforms) / sizeof(*rump_platforms); i++)
		if (!strcmp(rump_platforms[i].name, name))
			return &rump_platforms[i];
	return NULL;
}

void br_vm_free(struct br_vm *vm)
{
	vm_free(vm);
	free(vm->out);
	free(vm->console_log);
	vm->out = vm->console_log = NULL;
}

int br_rump_parse(int argc, char **argv, struct br_vm *vm)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"console-log", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct rump_platform *pl = rump_platform(argv[0]);
	int c, i;

	memset(vm, 0, sizeof(*vm));
	vm->platform = pl->name;
	vm->mem_mib = RUMP_DEFAULT_MEM;
	vm->pvh = BR_BOOT_PVH;
	vm->cpus = 1;
	vm->accel = !strcmp(argv[0], "kvm") ? BR_ACCEL_KVM : BR_ACCEL_TCG;
	if (getenv("BEAMRUN_DRY_RUN"))
		vm->dry_run = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+b:c:e:g:iI:M:N:o:pW:D:dvh", opts,
				NULL)) != -1) {
		int bad = 0;

		if (c != 'h' && c != '?' && !strchr(pl->opts, c)) {
			if (c == 'd')
				br_seterr("-d is not supported on %s (Xen "
					  "only)",
					  argv[0]);
			else if (c == 'n')
				br_seterr("--dry-run is not supported on %s: "
					  "it only writes a file",
					  argv[0]);
			else if (c == 'L')
				br_seterr("--console-log is for virsh-xml");
			else
				br_seterr("-%c is not supported on %s (%s)", c,
					  argv[0], pl->why);
			br_die_msg("%s", br_err());
			return -1;
		}
		switch (c) {
		case 'b':
			bad = add_vol(vm, optarg) != 0;
			break;
		case 'c':
			bad = parse_uint("-c", optarg, 1, 64, &vm->cpus);
			break;
		case 'e':
			bad = add_env(vm, optarg) != 0;
			break;
		case 'g':
			bad = br_split_words(optarg, &vm->qemu_extra) != 0;
			break;
		case 'i':
			vm->interactive = 1;
			break;
		case 'I':
			if (vm->nnic == BR_MAX_NIC) {
				br_seterr("-I %s: at most %d interfaces",
					  optarg, BR_MAX_NIC);
				bad = 1;
				break;
			}
			bad = br_parse_nic_for(optarg, &vm->nic[vm->nnic],
					       argv[0]) != 0;
			if (!bad) {
				size_t k;

				for (k = 0; k < vm->nnic; k++)
					if (!strcmp(vm->nic[k].tag,
						    vm->nic[vm->nnic].tag))
						break;
				if (k < vm->nnic) {
					br_seterr("-I %s: tag %s is already "
						  "used",
						  optarg, vm->nic[k].tag);
					free(vm->nic[vm->nnic].backend);
					bad = 1;
					break;
				}
				vm->nnic++;
			}
			break;
		case 'W':
			bad = br_parse_netspec(optarg, vm->nic, vm->nnic) != 0;
			break;
		case 'M':
			bad = parse_uint("-M", optarg, 16, 1024 * 1024,
					 &vm->mem_mib);
			break;
		case 'N':
			bad = set_hostname(vm, optarg) != 0;
			break;
		case 'o':
			free(vm->out);
			vm->out = xstrdup(optarg);
			break;
		case 'L':
			if (optarg[0] != '/') {
				br_seterr("--console-log %s: an absolute path "
					  "(libvirt's qemu writes it)",
					  optarg);
				bad = 1;
			}
			free(vm->console_log);
			vm->console_log = xstrdup(optarg);
			break;
		case 'p':
			vm->paused = 1;
			break;
		case 'D':
			bad = parse_uint("-D", optarg, 1, 65535, &vm->gdb_port);
			break;
		case 'd':
			vm->destroy = 1;
			break;
		case 'n':
			vm->dry_run = 1;
			break;
		case 'v':
			br_verbose = 1;
			vm->guest_verbose = 1;
			break;
		case 'h':
			return 1;
		default:
			if (optopt && strchr("bceIgMNoWD", optopt))
				br_seterr("%s: -%c needs a value", argv[0],
					  optopt);
			else
				br_seterr("%s: unknown option %s", argv[0],
					  argv[optind - 1]);
			bad = 1;
		}
		if (bad) {
			br_die_msg("%s", br_err());
			return -1;
		}
	}
	/* "-o FILE" may also come last, after the arguments (as in cc). */
	if (strchr(pl->opts, 'o') && argc - optind >= 3 &&
	    !strcmp(argv[argc - 2], "-o")) {
		free(vm->out);
		vm->out = xstrdup(argv[argc - 1]);
		argc -= 2;
	}
	if (optind >= argc) {
		br_die_msg("%s: no image given (see beamrun %s --help)",
			   argv[0], argv[0]);
		return -1;
	}
	if (open_image(vm, argv[optind])) {
		br_die_msg("%s", br_err());
		return -1;
	}
	for (i = optind + 1; i < argc; i++)
		if (br_split_words(argv[i], &vm->args)) {
			br_die_msg("%s", br_err());
			return -1;
		}
	if (vm_check(vm)) {
		br_die_msg("%s", br_err());
		return -1;
	}
	return 0;
}

int cmd_rumprun(int argc, char **argv)
{
	struct br_vm vm;
	int rc;

	rc = br_rump_parse(argc, argv, &vm);
	if (rc) {
		if (rc > 0)
			fputs(rump_usage, stdout);
		br_vm_free(&vm);
		return rc > 0 ? 0 : BR_EXIT_BADINPUT;
	}
	if (vm.interactive || vm.dry_run)
		rc = br_launch(&vm);
	else
		rc = br_instance_start(&vm, NULL, 1);
	br_vm_free(&vm);
	return rc;
}
