/*
 * beamrun-init: a node name whose host part is an interface's address.
 * "-name app@%eth0" becomes "-name app@10.0.2.15" once eth0 has its
 * address (the kernel's DHCP client has finished before init runs), so
 * a node named after a leased address needs no host-side knowledge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

/* The IPv4 address of ifname as text, or -1 with a reason. */
static int node_if_addr(const char *ifname, char *out, size_t len, char *err,
			size_t errlen)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		snprintf(err, errlen, "node name: no interface %s", ifname);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	strcpy(ifr.ifr_name, ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFADDR, &ifr)) {
		snprintf(err, errlen, "node name: %s has no IPv4 address (%s)",
			 ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr,
		  out, (socklen_t)len);
	return 0;
}

int init_node_resolve(struct init_cfg *cfg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i + 1 < cfg->nargs; i++) {
		char *v = cfg->args[i + 1], *pct, addr[INET_ADDRSTRLEN], *name;
		size_t n;

		if (strcmp(cfg->args[i], "-name") &&
		    strcmp(cfg->args[i], "-sname"))
			continue;
		pct = strstr(v, "@%");
		if (!pct)
			continue;
		if (node_if_addr(pct + 2, addr, sizeof(addr), err, errlen))
			return -1;
		n = (size_t)(pct - v) + 1 + strlen(addr) + 1;
		name = malloc(n);
		if (!name) {
			snprintf(err, errlen, "node name: out of memory");
			return -1;
		}
		snprintf(name, n, "%.*s@%s", (int)(pct - v), v, addr);
		init_info("node name %s", name);
		free(v);
		cfg->args[i + 1] = name;
	}
	return 0;
}
