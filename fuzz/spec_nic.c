/*
 * Fuzz target: rumprun's interface options in host/spec.c. Each input
 * line is one option: "I" then an -I TAG,BASE,BACKEND value, or "W"
 * then a -W TAG,... value for an interface defined before it.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "beamrun.h"
#include "fuzz.h"

static int is_addr(int family, const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(family, s, buf) == 1;
}

static void check_nic(const struct br_nic *n)
{
	FUZZ_CHECK(n->tag[0] != '\0');
	FUZZ_CHECK(!strcmp(n->base, "vioif"));
	FUZZ_CHECK(n->backend && n->backend[0] && !strchr(n->backend, ' '));
	FUZZ_CHECK(n->mac[0] == 0x52 && n->mac[1] == 0x54 && n->mac[2] == 0);
	(void)br_nic_is_user(n);
}

/* What the guest configuration needs of a NIC that -W set up. */
static void check_method(const struct br_nic *n)
{
	int max = n->family == AF_INET6 ? 128 : 32;

	FUZZ_CHECK(n->family == AF_INET || n->family == AF_INET6);
	if (n->method != BR_NET_STATIC) {
		FUZZ_CHECK(n->method == BR_NET_DHCP ||
			   n->method == BR_NET_AUTO6);
		return;
	}
	FUZZ_CHECK(is_addr(n->family, n->addr));
	FUZZ_CHECK(n->prefix >= 1 && n->prefix <= max);
	FUZZ_CHECK(!n->gw[0] || is_addr(n->family, n->gw));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct br_nic nics[BR_MAX_NIC];
	size_t nnic = 0, i;
	char *text = fuzz_cstr(data, size), *line, *next;

	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == 'I' && nnic < BR_MAX_NIC) {
			if (br_parse_nic(line + 1, &nics[nnic]) == 0)
				check_nic(&nics[nnic++]);
		} else if (line[0] == 'W') {
			const char *comma = strchr(line + 1, ',');

			if (br_parse_netspec(line + 1, nics, nnic) != 0)
				continue;
			/* The last NIC with that tag is the one set. */
			for (i = nnic; i-- > 0;)
				if (comma &&
				    strlen(nics[i].tag) ==
					(size_t)(comma - line - 1) &&
				    !strncmp(nics[i].tag, line + 1,
					     (size_t)(comma - line - 1)))
					break;
			FUZZ_CHECK(comma && i < nnic);
			check_method(&nics[i]);
		}
	}
	for (i = 0; i < nnic; i++)
		free(nics[i].backend);
	free(text);
	return 0;
}
