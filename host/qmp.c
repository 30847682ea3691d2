/* beamrun: a minimal QMP client, to press the guest's power button. */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "beamrun.h"

/* Read one reply line (QMP ends each message with CRLF). */
static int qmp_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 2000) <= 0)
			return -1;
		r = read(fd, buf + n, 1);
		if (r <= 0)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return 0;
}

/* Send a command and wait for its "return" (skipping async events). */
static int qmp_cmd(int fd, const char *cmd)
{
	char buf[4096];
	int tries;

	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return -1;
	for (tries = 0; tries < 16; tries++) {
		json_object *o, *v;
		int ok;

		if (qmp_line(fd, buf, sizeof(buf)))
			return -1;
		o = json_tokener_parse(buf);
		if (!o)
			return -1;
		ok = json_object_object_get_ex(o, "return", &v);
		if (!ok && json_object_object_get_ex(o, "error", &v)) {
			json_object_put(o);
			return -1;
		}
		json_object_put(o);
		if (ok)
			return 0;
	}
	return -1;
}

int br_qmp_powerdown(const char *sock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char greeting[4096];
	int fd, rc = -1;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		br_seterr("%s: socket path too long", sock);
		return -1;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		br_seterr("QMP %s: %s", sock, strerror(errno));
		goto out;
	}
	if (qmp_line(fd, greeting, sizeof(greeting)) ||
	    qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\"}\n") ||
	    qmp_cmd(fd, "{\"execute\":\"system_powerdown\"}\n")) {
		br_seterr("QMP %s: no answer from qemu", sock);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
