/* beamrun-init: hostname, loopback, interface addresses and routes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

/* The kernel's IPv6 ioctls take this; glibc does not export it. */
struct net_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static int net_fail(char *err, size_t errlen, const char *what,
		    const char *ifname)
{
	snprintf(err, errlen, "%s %s: %s", what, ifname, strerror(errno));
	return -1;
}

static int net_link_up(int fd, const char *ifname)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(fd, SIOCSIFFLAGS, &ifr);
}

static int net_static4(int fd, const struct init_net *n, char *err,
		       size_t errlen)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	struct rtentry rt;
	uint32_t mask = n->prefix ? htonl(~0u << (32 - n->prefix)) : 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->ifname);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, n->addr, &sin->sin_addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr))
		return net_fail(err, errlen, "set address on", n->ifname);
	sin->sin_addr.s_addr = mask;
	if (ioctl(fd, SIOCSIFNETMASK, &ifr))
		return net_fail(err, errlen, "set netmask on", n->ifname);
	if (net_link_up(fd, n->ifname))
		return net_fail(err, errlen, "bring up", n->ifname);
	if (!n->gw[0])
		return 0;

	memset(&rt, 0, sizeof(rt));
	sin = (struct sockaddr_in *)&rt.rt_dst;
	sin->sin_family = AF_INET;
	sin = (struct sockaddr_in *)&rt.rt_genmask;
	sin->sin_family = AF_INET;
	sin = (struct sockaddr_in *)&rt.rt_gateway;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, n->gw, &sin->sin_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(fd, SIOCADDRT, &rt))
		return net_fail(err, errlen, "add default route via", n->gw);
	return 0;
}

static int net_static6(const struct init_net *n, char *err, size_t errlen)
{
	struct net_in6_ifreq req;
	struct in6_rtmsg rt;
	int fd, rc = -1;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return net_fail(err, errlen, "IPv6 socket for", n->ifname);
	memset(&req, 0, sizeof(req));
	inet_pton(AF_INET6, n->addr, &req.addr);
	req.prefixlen = (uint32_t)n->prefix;
	req.ifindex = (int)if_nametoindex(n->ifname);
	if (!req.ifindex || net_link_up(fd, n->ifname)) {
		net_fail(err, errlen, "bring up", n->ifname);
		goto out;
	}
	if (ioctl(fd, SIOCSIFADDR, &req)) {
		net_fail(err, errlen, "set IPv6 address on", n->ifname);
		goto out;
	}
	rc = 0;
	if (!n->gw[0])
		goto out;
	memset(&rt, 0, sizeof(rt));
	inet_pton(AF_INET6, n->gw, &rt.rtmsg_gateway);
	rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
	rt.rtmsg_metric = 1;
	rt.rtmsg_ifindex = req.ifindex;
	if (ioctl(fd, SIOCADDRT, &rt))
		rc = net_fail(err, errlen, "add IPv6 default route via", n->gw);
out:
	close(fd);
	return rc;
}

int init_net_up(const struct init_cfg *cfg, char *err, size_t errlen)
{
	size_t i;
	int fd, rc = 0;

	if (sethostname(cfg->hostname, strlen(cfg->hostname)))
		return net_fail(err, errlen, "set hostname", cfg->hostname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return net_fail(err, errlen, "socket for", "lo");
	if (net_link_up(fd, "lo")) {
		rc = net_fail(err, errlen, "bring up", "lo");
		goto out;
	}
	for (i = 0; i < cfg->nnet && rc == 0; i++) {
		const struct init_net *n = &cfg->net[i];

		if (n->method == INIT_NET_DHCP) {
			/* The kernel's ip=dhcp did this before init ran. */
			continue;
		}
		if (n->method == INIT_NET_AUTO6) {
			/* SLAAC runs in the kernel once the link is up. */
			if (net_link_up(fd, n->ifname))
				rc = net_fail(err, errlen, "bring up",
					      n->ifname);
		} else if (n->family == AF_INET) {
			rc = net_static4(fd, n, err, errlen);
		} else {
			rc = net_static6(n, err, errlen);
		}
		if (rc == 0)
			init_info("%s up (%s%s%s)", n->ifname,
				  n->method == INIT_NET_AUTO6 ? "slaac"
							      : n->addr,
				  n->gw[0] ? " via " : "", n->gw);
	}
out:
	close(fd);
	return rc;
}
