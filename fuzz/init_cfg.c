/* Fuzz target: the guest init's configuration parser (init/config.c). */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "init.h"

/* A NULL-terminated vector with exactly n entries, or none at all. */
static void check_strv(char **v, size_t n)
{
	size_t i;

	if (!v) {
		FUZZ_CHECK(n == 0);
		return;
	}
	for (i = 0; i < n; i++)
		FUZZ_CHECK(v[i] != NULL);
	FUZZ_CHECK(v[n] == NULL);
}

static int is_addr(int family, const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(family, s, buf) == 1;
}

/* What the rest of init relies on in a configuration that parsed. */
static void check_accepted(const struct init_cfg *cfg)
{
	size_t i;

	FUZZ_CHECK(cfg->nnet <= INIT_MAX_NET);
	FUZZ_CHECK(cfg->nvol <= INIT_MAX_VOL);
	FUZZ_CHECK(cfg->ndns <= sizeof(cfg->dns) / sizeof(cfg->dns[0]));
	FUZZ_CHECK(cfg->stop_timeout_s >= 1 && cfg->stop_timeout_s <= 3600);
	FUZZ_CHECK(strnlen(cfg->hostname, sizeof(cfg->hostname)) <
		   sizeof(cfg->hostname));
	FUZZ_CHECK(strnlen(cfg->root, sizeof(cfg->root)) < sizeof(cfg->root));
	check_strv(cfg->env, cfg->nenv);
	check_strv(cfg->args, cfg->nargs);
	for (i = 0; i < cfg->nnet; i++) {
		const struct init_net *n = &cfg->net[i];
		int max = n->family == AF_INET6 ? 128 : 32;

		FUZZ_CHECK(n->ifname[0] != '\0');
		if (n->method != INIT_NET_STATIC)
			continue;
		FUZZ_CHECK(is_addr(n->family, n->addr));
		FUZZ_CHECK(n->prefix >= 0 && n->prefix <= max);
		FUZZ_CHECK(!n->gw[0] || is_addr(n->family, n->gw));
	}
	/*
	 * fs goes to mount(2) as it is: an empty or unknown type fails
	 * there, with the type in the message, as the kernel decides.
	 */
	for (i = 0; i < cfg->nvol; i++) {
		FUZZ_CHECK(cfg->vol[i].serial[0] != '\0');
		FUZZ_CHECK(cfg->vol[i].mnt[0] == '/');
	}
}

static void parse_one(const char *json)
{
	struct init_cfg cfg;
	char err[256];

	err[0] = '\0';
	if (init_cfg_parse(&cfg, json, err, sizeof(err)) == 0) {
		check_accepted(&cfg);
		init_cfg_free(&cfg);
		return;
	}
	/* A rejected configuration says why and leaves nothing to act on. */
	FUZZ_CHECK(err[0] != '\0');
	FUZZ_CHECK(cfg.env == NULL && cfg.args == NULL);
	FUZZ_CHECK(cfg.nvol == 0 && cfg.nnet == 0 && cfg.ndns == 0);
}

/*
 * The input is tried twice, as init would meet it: as the JSON text
 * itself, and as a kernel command line to find "beamrun=" in.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	size_t len = strlen(text);
	char *json;

	parse_one(text);

	json = init_cfg_find(text);
	if (json) {
		FUZZ_CHECK(json >= text && json <= text + len);
		FUZZ_CHECK(!strchr(json, ' ') && !strchr(json, '\n'));
		parse_one(json);
	}
	free(text);
	return 0;
}
