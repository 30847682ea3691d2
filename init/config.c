/* beamrun-init: the guest configuration, parsed from the launcher's JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "init.h"

#define CFG_VERSION 1

static int cfg_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cfg_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copy a JSON string into a fixed buffer, refusing what does not fit. */
static int cfg_str(json_object *v, char *dst, size_t len, const char *key,
		   char *err, size_t errlen)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return cfg_fail(err, errlen, "config: %s: not a string", key);
	s = json_object_get_string(v);
	if (strlen(s) >= len)
		return cfg_fail(err, errlen,
				"config: %s: longer than %zu bytes", key,
				len - 1);
	strcpy(dst, s);
	return 0;
}

static int cfg_int(json_object *v, int lo, int hi, int *out, const char *key,
		   char *err, size_t errlen)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return cfg_fail(err, errlen, "config: %s: not an integer", key);
	n = json_object_get_int64(v);
	if (n < lo || n > hi)
		return cfg_fail(err, errlen,
				"config: %s: %lld is outside %d..%d", key,
				(long long)n, lo, hi);
	*out = (int)n;
	return 0;
}

/* A JSON array of strings becomes a NULL-terminated vector. */
static int cfg_strv(json_object *v, char ***out, size_t *n, const char *key,
		    char *err, size_t errlen)
{
	size_t i, len;
	char **vec;

	if (!json_object_is_type(v, json_type_array))
		return cfg_fail(err, errlen, "config: %s: not an array", key);
	len = json_object_array_length(v);
	vec = calloc(len + 1, sizeof(*vec));
	if (!vec)
		return cfg_fail(err, errlen, "config: %s: out of memory", key);
	for (i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string)) {
			init_strv_free(vec);
			return cfg_fail(err, errlen,
					"config: %s[%zu]: not a string", key,
					i);
		}
		vec[i] = strdup(json_object_get_string(e));
		if (!vec[i]) {
			init_strv_free(vec);
			return cfg_fail(err, errlen, "config: out of memory");
		}
	}
	*out = vec;
	*n = len;
	return 0;
}

static int cfg_addr_ok(int family, const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(family, s, buf) == 1;
}

static int cfg_net(json_object *o, struct init_net *n, size_t idx, char *err,
		   size_t errlen)
{
	char key[64];
	char method[16] = "";

	if (!json_object_is_type(o, json_type_object))
		return cfg_fail(err, errlen, "config: net[%zu]: not an object",
				idx);
	n->family = AF_INET;
	json_object_object_foreach(o, k, v)
	{
		snprintf(key, sizeof(key), "net[%zu].%s", idx, k);
		if (!strcmp(k, "if")) {
			if (cfg_str(v, n->ifname, sizeof(n->ifname), key, err,
				    errlen))
				return -1;
		} else if (!strcmp(k, "method")) {
			if (cfg_str(v, method, sizeof(method), key, err,
				    errlen))
				return -1;
		} else if (!strcmp(k, "addr")) {
			if (cfg_str(v, n->addr, sizeof(n->addr), key, err,
				    errlen))
				return -1;
		} else if (!strcmp(k, "gw")) {
			if (cfg_str(v, n->gw, sizeof(n->gw), key, err, errlen))
				return -1;
		} else if (!strcmp(k, "prefix")) {
			if (cfg_int(v, 0, 128, &n->prefix, key, err, errlen))
				return -1;
		} else {
			return cfg_fail(err, errlen, "config: %s: unknown key",
					key);
		}
	}
	if (!n->ifname[0])
		return cfg_fail(err, errlen, "config: net[%zu].if: missing",
				idx);
	if (!strcmp(method, "static")) {
		n->method = INIT_NET_STATIC;
		if (strchr(n->addr, ':'))
			n->family = AF_INET6;
	} else if (!strcmp(method, "dhcp")) {
		n->method = INIT_NET_DHCP;
		return 0;
	} else if (!strcmp(method, "auto6")) {
		n->method = INIT_NET_AUTO6;
		return 0;
	} else {
		return cfg_fail(
		    err, errlen,
		    "config: net[%zu].method: \"%s\" is not static, "
		    "dhcp or auto6",
		    idx, method);
	}
	if (!cfg_addr_ok(n->family, n->addr))
		return cfg_fail(
		    err, errlen,
		    "config: net[%zu].addr: \"%s\" is not an address", idx,
		    n->addr);
	if (n->prefix > (n->family == AF_INET ? 32 : 128))
		return cfg_fail(err, errlen,
				"config: net[%zu].prefix: %d is too long", idx,
				n->prefix);
	if (n->gw[0] && !cfg_addr_ok(n->family, n->gw))
		return cfg_fail(err, errlen,
				"config: net[%zu].gw: \"%s\" is not an address",
				idx, n->gw);
	return 0;
}

static int cfg_vol(json_object *o, struct init_vol *vol, size_t idx, char *err,
		   size_t errlen)
{
	char key[64];

	if (!json_object_is_type(o, json_type_object))
		return cfg_fail(err, errlen, "config: blk[%zu]: not an object",
				idx);
	strcpy(vol->fstype, "auto");
	json_object_object_foreach(o, k, v)
	{
		snprintf(key, sizeof(key), "blk[%zu].%s", idx, k);
		if (!strcmp(k, "serial")) {
			if (cfg_str(v, vol->serial, sizeof(vol->serial), key,
				    err, errlen))
				return -1;
		} else if (!strcmp(k, "dev")) {
			if (cfg_str(v, vol->dev, sizeof(vol->dev), key, err,
				    errlen))
				return -1;
			if (strchr(vol->dev, '/') || vol->dev[0] == '.')
				return cfg_fail(err, errlen,
						"config: %s: \"%s\" is not a "
						"device name",
						key, vol->dev);
		} else if (!strcmp(k, "mnt")) {
			if (cfg_str(v, vol->mnt, sizeof(vol->mnt), key, err,
				    errlen))
				return -1;
		} else if (!strcmp(k, "fs")) {
			if (cfg_str(v, vol->fstype, sizeof(vol->fstype), key,
				    err, errlen))
				return -1;
		} else if (!strcmp(k, "ro")) {
			if (!json_object_is_type(v, json_type_boolean))
				return cfg_fail(err, errlen,
						"config: %s: not a boolean",
						key);
			vol->ro = json_object_get_boolean(v);
		} else {
			return cfg_fail(err, errlen, "config: %s: unknown key",
					key);
		}
	}
	if (!vol->serial[0] == !vol->dev[0])
		return cfg_fail(err, errlen,
				"config: blk[%zu]: needs serial or dev (one)",
				idx);
	if (vol->mnt[0] != '/')
		return cfg_fail(
		    err, errlen,
		    "config: blk[%zu].mnt: \"%s\" is not an absolute "
		    "path",
		    idx, vol->mnt);
	return 0;
}

/* "ADDR" or "ADDR#PORT": a nameserver, checked, for /etc files. */
static int cfg_dns(json_object *v, struct init_cfg *cfg, size_t i, char *err,
		   size_t errlen)
{
	char key[32], *hash, *end;
	unsigned long port = 53;

	snprintf(key, sizeof(key), "dns[%zu]", i);
	if (cfg_str(v, cfg->dns[i], sizeof(cfg->dns[i]), key, err, errlen))
		return -1;
	hash = strchr(cfg->dns[i], '#');
	if (hash) {
		*hash++ = '\0';
		errno = 0;
		port = strtoul(hash, &end, 10);
		if (errno || end == hash || *end || *hash < '0' ||
		    *hash > '9' || port < 1 || port > 65535)
			return cfg_fail(err, errlen, "config: %s: bad port",
					key);
	}
	if (!cfg_addr_ok(AF_INET, cfg->dns[i]) &&
	    !cfg_addr_ok(AF_INET6, cfg->dns[i]))
		return cfg_fail(err, errlen, "config: %s: not an address", key);
	cfg->dns_port[i] = (unsigned)port;
	return 0;
}

static int cfg_host(json_object *o, struct init_host *h, size_t idx, char *err,
		    size_t errlen)
{
	json_object *v;
	char key[48];
	size_t i;

	if (!json_object_is_type(o, json_type_object) ||
	    json_object_object_length(o) != 2 ||
	    !json_object_object_get_ex(o, "name", &v))
		return cfg_fail(err, errlen,
				"config: hosts[%zu]: expected name and addr",
				idx);
	snprintf(key, sizeof(key), "hosts[%zu].name", idx);
	if (cfg_str(v, h->name, sizeof(h->name), key, err, errlen))
		return -1;
	for (i = 0; h->name[i]; i++)
		if (!(h->name[i] == '-' || h->name[i] == '.' ||
		      (h->name[i] >= 'a' && h->name[i] <= 'z') ||
		      (h->name[i] >= 'A' && h->name[i] <= 'Z') ||
		      (h->name[i] >= '0' && h->name[i] <= '9')))
			return cfg_fail(err, errlen, "config: %s: bad name",
					key);
	snprintf(key, sizeof(key), "hosts[%zu].addr", idx);
	if (!json_object_object_get_ex(o, "addr", &v) ||
	    cfg_str(v, h->addr, sizeof(h->addr), key, err, errlen))
		return cfg_fail(err, errlen,
				"config: hosts[%zu]: expected name and addr",
				idx);
	if (!h->name[0] ||
	    (!cfg_addr_ok(AF_INET, h->addr) && !cfg_addr_ok(AF_INET6, h->addr)))
		return cfg_fail(err, errlen, "config: %s: not an address", key);
	return 0;
}

static int cfg_array(json_object *v, const char *key, size_t max, char *err,
		     size_t errlen)
{
	if (!json_object_is_type(v, json_type_array))
		return cfg_fail(err, errlen, "config: %s: not an array", key);
	if (json_object_array_length(v) > max)
		return cfg_fail(err, errlen,
				"config: %s: %zu entries, at most %zu", key,
				json_object_array_length(v), max);
	return 0;
}

static int cfg_key(struct init_cfg *cfg, const char *k, json_object *v,
		   char *err, size_t errlen)
{
	size_t i;
	int n;

	if (!strcmp(k, "v")) {
		if (cfg_int(v, 0, 1000, &n, k, err, errlen))
			return -1;
		if (n != CFG_VERSION)
			return cfg_fail(err, errlen,
					"config: v: version %d, this init "
					"reads %d",
					n, CFG_VERSION);
		return 0;
	}
	if (!strcmp(k, "verbose")) {
		if (!json_object_is_type(v, json_type_boolean))
			return cfg_fail(err, errlen,
					"config: verbose: not a boolean");
		cfg->verbose = json_object_get_boolean(v);
		return 0;
	}
	if (!strcmp(k, "hostname"))
		return cfg_str(v, cfg->hostname, sizeof(cfg->hostname), k, err,
			       errlen);
	if (!strcmp(k, "root"))
		return cfg_str(v, cfg->root, sizeof(cfg->root), k, err, errlen);
	if (!strcmp(k, "stop_timeout")) {
		if (cfg_int(v, 1, 3600, &n, k, err, errlen))
			return -1;
		cfg->stop_timeout_s = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "swap")) {
		if (cfg_int(v, 0, 1 << 20, &n, k, err, errlen))
			return -1;
		cfg->swap_mib = n;
		return 0;
	}
	if (!strcmp(k, "stop"))
		return cfg_str(v, cfg->stop_dev, sizeof(cfg->stop_dev), k, err,
			       errlen);
	if (!strcmp(k, "env"))
		return cfg_strv(v, &cfg->env, &cfg->nenv, k, err, errlen);
	if (!strcmp(k, "args"))
		return cfg_strv(v, &cfg->args, &cfg->nargs, k, err, errlen);
	if (!strcmp(k, "net")) {
		if (cfg_array(v, k, INIT_MAX_NET, err, errlen))
			return -1;
		cfg->nnet = json_object_array_length(v);
		for (i = 0; i < cfg->nnet; i++)
			if (cfg_net(json_object_array_get_idx(v, i),
				    &cfg->net[i], i, err, errlen))
				return -1;
		return 0;
	}
	if (!strcmp(k, "dns")) {
		if (cfg_array(v, k, INIT_MAX_DNS, err, errlen))
			return -1;
		cfg->ndns = json_object_array_length(v);
		for (i = 0; i < cfg->ndns; i++)
			if (cfg_dns(json_object_array_get_idx(v, i), cfg, i,
				    err, errlen))
				return -1;
		return 0;
	}
	if (!strcmp(k, "dhcp_dns")) {
		if (!json_object_is_type(v, json_type_boolean))
			return cfg_fail(err, errlen,
					"config: dhcp_dns: not a boolean");
		cfg->no_dhcp_dns = !json_object_get_boolean(v);
		return 0;
	}
	if (!strcmp(k, "hosts")) {
		if (cfg_array(v, k, INIT_MAX_HOSTS, err, errlen))
			return -1;
		cfg->nhosts = json_object_array_length(v);
		for (i = 0; i < cfg->nhosts; i++)
			if (cfg_host(json_object_array_get_idx(v, i),
				     &cfg->hosts[i], i, err, errlen))
				return -1;
		return 0;
	}
	if (!strcmp(k, "blk")) {
		if (cfg_array(v, k, INIT_MAX_VOL, err, errlen))
			return -1;
		cfg->nvol = json_object_array_length(v);
		for (i = 0; i < cfg->nvol; i++)
			if (cfg_vol(json_object_array_get_idx(v, i),
				    &cfg->vol[i], i, err, errlen))
				return -1;
		return 0;
	}
	return cfg_fail(err, errlen, "config: %s: unknown key", k);
}

int init_cfg_parse(struct init_cfg *cfg, const char *json, char *err,
		   size_t errlen)
{
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->root, "/otp");
	strcpy(cfg->hostname, "beamrun");
	cfg->stop_timeout_s = 10;
	cfg->swap_mib = -1;

	tok = json_tokener_new();
	if (!tok)
		return cfg_fail(err, errlen, "config: out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, json, (int)strlen(json));
	jerr = json_tokener_get_error(tok);
	if (!root && jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (!root || jerr != json_tokener_success) {
		rc = cfg_fail(err, errlen,
			      "config: malformed JSON at byte %zu: %s",
			      json_tokener_get_parse_end(tok),
			      json_tokener_error_desc(jerr));
		goto out;
	}
	if (json_tokener_get_parse_end(tok) != strlen(json)) {
		rc =
		    cfg_fail(err, errlen, "config: text after the JSON object");
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		rc = cfg_fail(err, errlen, "config: not a JSON object");
		goto out;
	}
	json_object_object_foreach(root, k, v)
	{
		if (cfg_key(cfg, k, v, err, errlen)) {
			rc = -1;
			goto out;
		}
	}
	if (!json_object_object_get_ex(root, "v", NULL))
		rc = cfg_fail(err, errlen, "config: v: missing (version %d)",
			      CFG_VERSION);
out:
	json_object_put(root);
	json_tokener_free(tok);
	if (rc)
		init_cfg_free(cfg);
	return rc;
}

char *init_cfg_find(char *cmdline)
{
	char *p = cmdline;

	while (p && *p) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (!strncmp(p, "beamrun=", 8)) {
			char *end = p + 8 + strcspn(p + 8, " \n");

			*end = '\0';
			return p + 8;
		}
		p = strchr(p, ' ');
	}
	return NULL;
}

void init_cfg_free(struct init_cfg *cfg)
{
	init_strv_free(cfg->env);
	init_strv_free(cfg->args);
	cfg->env = cfg->args = NULL;
	cfg->nenv = cfg->nargs = 0;
	/* Nothing of a rejected configuration may be acted on later. */
	cfg->nvol = cfg->nnet = cfg->ndns = cfg->nhosts = 0;
}
