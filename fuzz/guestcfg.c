/*
 * Fuzz target: the guest configuration from end to end. Options parsed
 * by host/spec.c make a VM; host/guestcfg.c writes its kernel command
 * line; a model of the kernel cuts that into init's arguments; init's
 * parser (init/config.c) reads them; the guest must see what the
 * launcher meant. The input is options separated by NUL bytes (so that
 * values may hold newlines and tabs), each a letter and its value:
 *   u          run's default NIC (qemu user network, no -W)
 *   I<spec>    -I TAG,BASE,BACKEND       W<spec>  -W TAG,...
 *   e<spec>    -e NAME[=VALUE]           a<text>  erl arguments, split
 *   A<word>    an argument for the start function, as typed
 *   b<mnt>     a volume mounted on mnt   B        a volume not mounted
 *   t<secs>    --stop-timeout            v        -v (guest verbose)
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "beamrun.h"
#include "fuzz.h"
#include "init.h"

/* What guestcfg.c writes for a NIC on qemu's user network. */
#define USER_ADDR "10.0.2.15"
#define USER_GW	  "10.0.2.2"
#define USER_DNS  "10.0.2.3"

/*
 * Whitespace to the kernel's own ctype table: the C locale's, and also
 * 0xA0, Latin-1's no-break space.
 */
static int kernel_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

/*
 * Cut a command line into init's arguments as Linux 6.1 does it
 * (next_arg() in lib/cmdline.c, then the words after "--" handed to
 * init): words end at whitespace outside double quotes, and every '"'
 * turns quoting on or off, whether JSON escaped it or not. Quotes that
 * open a word or its value after '=' are dropped with their closing
 * one. Returns the number of init arguments, pointers into line.
 */
static size_t kernel_init_args(char *line, char **args, size_t max)
{
	char *p = line;
	size_t nargs = 0;
	int after_dashes = 0;

	while (kernel_isspace((unsigned char)*p))
		p++;
	while (*p) {
		char *word = p, *eq = NULL;
		int quoted = 0, in_quote = 0;
		size_t i;

		if (*word == '"') {
			word++;
			quoted = in_quote = 1;
		}
		for (i = 0; word[i]; i++) {
			if (kernel_isspace((unsigned char)word[i]) && !in_quote)
				break;
			if (!eq && word[i] == '=')
				eq = word + i;
			if (word[i] == '"')
				in_quote = !in_quote;
		}
		p = word + i;
		if (*p)
			*p++ = '\0';
		while (kernel_isspace((unsigned char)*p))
			p++;
		if (i > 0 && word[i - 1] == '"' &&
		    (quoted || (eq && eq[1] == '"')))
			word[i - 1] = '\0';
		if (eq && eq[1] == '"')
			memmove(eq + 1, eq + 2, strlen(eq + 2) + 1);
		if (after_dashes && nargs < max)
			args[nargs++] = word;
		else if (!eq && !strcmp(word, "--"))
			after_dashes = 1;
	}
	return nargs;
}

/* The mount points br_parse_vol accepts (it needs real files). */
static int mnt_ok(const char *m)
{
	const char *p = m;

	if (m[0] != '/' || strlen(m) >= 256 || !m[strspn(m, "/")] ||
	    strchr(m, ','))
		return 0;
	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return 0;
		p += n;
	}
	return 1;
}

static void add_option(struct br_vm *vm, char *line)
{
	char *e, *end;
	unsigned long t;

	switch (line[0]) {
	case 'u':
		if (vm->nnic == BR_MAX_NIC)
			return;
		memset(&vm->nic[vm->nnic], 0, sizeof(vm->nic[0]));
		vm->nic[vm->nnic].backend = xstrdup("user");
		vm->nic[vm->nnic++].family = AF_INET;
		return;
	case 'I':
		if (vm->nnic < BR_MAX_NIC &&
		    br_parse_nic(line + 1, &vm->nic[vm->nnic]) == 0)
			vm->nnic++;
		return;
	case 'W':
		(void)br_parse_netspec(line + 1, vm->nic, vm->nnic);
		return;
	case 'e':
		if (br_parse_env(line + 1, &e) == 0) {
			strv_push(&vm->env, e);
			free(e);
		}
		return;
	case 'a':
		(void)br_split_words(line + 1, &vm->args);
		return;
	case 'A':
		strv_push(&vm->app_args, line + 1);
		return;
	case 'b':
	case 'B':
		if (vm->nvol == BR_MAX_VOL ||
		    (line[0] == 'b' && !mnt_ok(line + 1)))
			return;
		memset(&vm->vol[vm->nvol], 0, sizeof(vm->vol[0]));
		if (line[0] == 'b') {
			strcpy(vm->vol[vm->nvol].mnt, line + 1);
			/* Alternate a writable and a read-only file system. */
			strcpy(vm->vol[vm->nvol].fstype,
			       vm->nvol % 2 ? "iso9660" : "ext4");
			vm->vol[vm->nvol].ro = vm->nvol % 2;
		}
		vm->nvol++;
		return;
	case 't':
		t = strtoul(line + 1, &end, 10);
		if (*end == '\0' && t >= 1 && t <= 3600)
			vm->stop_timeout = (unsigned)t;
		return;
	case 'v':
		vm->guest_verbose = 1;
		return;
	}
}

static void check_strv(char **got, size_t n, const struct strv *want)
{
	size_t i;

	FUZZ_CHECK(n == want->n);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(!strcmp(got[i], want->v[i]));
}

static void check_net(const struct init_cfg *cfg, const struct br_vm *vm)
{
	size_t i, user = 0;

	FUZZ_CHECK(cfg->nnet == vm->nnic);
	for (i = 0; i < vm->nnic; i++) {
		const struct br_nic *n = &vm->nic[i];
		const struct init_net *g = &cfg->net[i];
		char ifname[16];

		snprintf(ifname, sizeof(ifname), "eth%zu", i);
		FUZZ_CHECK(!strcmp(g->ifname, ifname));
		user += br_nic_is_user(n);
		if (n->method == BR_NET_DHCP) {
			FUZZ_CHECK(g->method == INIT_NET_DHCP);
			continue;
		}
		if (n->method == BR_NET_AUTO6) {
			FUZZ_CHECK(g->method == INIT_NET_AUTO6);
			continue;
		}
		FUZZ_CHECK(g->method == INIT_NET_STATIC);
		if (n->method == BR_NET_NONE) {
			FUZZ_CHECK(!strcmp(g->addr, USER_ADDR) &&
				   g->prefix == 24 && !strcmp(g->gw, USER_GW));
			continue;
		}
		FUZZ_CHECK(g->family == n->family);
		FUZZ_CHECK(!strcmp(g->addr, n->addr) &&
			   g->prefix == n->prefix && !strcmp(g->gw, n->gw));
	}
	FUZZ_CHECK(cfg->ndns == (user ? 1 : 0));
	FUZZ_CHECK(!user || !strcmp(cfg->dns[0], USER_DNS));
}

static void check_vols(const struct init_cfg *cfg, const struct br_vm *vm)
{
	size_t i, n = 0;

	for (i = 0; i < vm->nvol; i++) {
		const struct br_vol *v = &vm->vol[i];
		char serial[16];

		if (!v->mnt[0])
			continue;
		FUZZ_CHECK(n < cfg->nvol);
		snprintf(serial, sizeof(serial), "vol%zu", i);
		FUZZ_CHECK(!strcmp(cfg->vol[n].serial, serial));
		FUZZ_CHECK(!strcmp(cfg->vol[n].mnt, v->mnt));
		FUZZ_CHECK(!strcmp(cfg->vol[n].fstype, v->fstype));
		FUZZ_CHECK(cfg->vol[n].ro == v->ro);
		n++;
	}
	FUZZ_CHECK(cfg->nvol == n);
}

/* What the guest read against what the launcher was told. */
static void check_guest(const struct init_cfg *cfg, const struct br_vm *vm)
{
	struct strv args = {0};
	const struct strv *base;
	size_t i;
	int own_epmd = 0;

	FUZZ_CHECK(cfg->verbose == vm->guest_verbose);
	FUZZ_CHECK(!strcmp(cfg->root, vm->img.root));
	FUZZ_CHECK(cfg->stop_timeout_s ==
		   (vm->stop_timeout ? vm->stop_timeout : 10));
	check_net(cfg, vm);
	check_vols(cfg, vm);
	check_strv(cfg->env, cfg->nenv, &vm->env);
	/* The launcher's epmd-less flags come first, unless the arguments
	 * name a port mapper of their own. */
	base = vm->args.n ? &vm->args : &vm->img.args;
	for (i = 0; i < base->n; i++)
		if (!strcmp(base->v[i], "-start_epmd") ||
		    !strcmp(base->v[i], "-erl_epmd_port") ||
		    !strcmp(base->v[i], "-epmd_module"))
			own_epmd = 1;
	if (!own_epmd) {
		strv_push(&args, "-start_epmd");
		strv_push(&args, "false");
		strv_push(&args, "-erl_epmd_port");
		strv_pushf(&args, "%u", BR_DIST_PORT);
	}
	for (i = 0; i < base->n; i++)
		strv_push(&args, base->v[i]);
	for (i = 0; !vm->args.n && i < vm->app_args.n; i++)
		strv_push(&args, vm->app_args.v[i]);
	check_strv(cfg->args, cfg->nargs, &args);
	strv_free(&args);
}

static void vm_init(struct br_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->img.path = xstrdup("/images/app.img");
	vm->img.app = xstrdup("app");
	vm->img.root = xstrdup("/otp");
	strv_push(&vm->img.args, "-noshell");
	strv_push(&vm->img.args, "-run");
	strv_push(&vm->img.args, "app");
	vm->mem_mib = 128;
	vm->cpus = 1;
	vm->tsc_khz = 2000000;
}

static void vm_free(struct br_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->nnic; i++)
		free(vm->nic[i].backend);
	free(vm->img.path);
	free(vm->img.app);
	free(vm->img.root);
	strv_free(&vm->img.args);
	strv_free(&vm->env);
	strv_free(&vm->args);
	strv_free(&vm->app_args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *line, *json, *cmdline;
	char *args[64], *found = NULL, err[256] = "";
	struct init_cfg cfg;
	struct br_vm vm;
	size_t nargs, i;

	vm_init(&vm);
	for (line = text; line < text + size; line += strlen(line) + 1)
		add_option(&vm, line);

	/* One word for the kernel: no spaces, whatever the strings hold. */
	json = br_guestcfg_json(&vm);
	FUZZ_CHECK(json && !strchr(json, ' '));
	free(json);

	cmdline = br_kernel_cmdline(&vm);
	FUZZ_CHECK(cmdline != NULL);
	/* qemu.c refuses a line the kernel would cut short. */
	if (strlen(cmdline) >= BR_CMDLINE_MAX)
		goto out;

	/* init looks for its configuration in its arguments first. */
	nargs = kernel_init_args(cmdline, args, sizeof(args) / sizeof(*args));
	for (i = 0; i < nargs && !found; i++)
		found = init_cfg_find(args[i]);
	FUZZ_CHECK(found != NULL);
	if (init_cfg_parse(&cfg, found, err, sizeof(err))) {
		fprintf(stderr, "fuzz: guest: %s\n", err);
		FUZZ_CHECK(!"the guest rejects the launcher's configuration");
	}
	check_guest(&cfg, &vm);
	init_cfg_free(&cfg);
out:
	free(cmdline);
	vm_free(&vm);
	free(text);
	return 0;
}
