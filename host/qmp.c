/*
 * beamrun: a small QMP client. The launcher keeps one connection open
 * for the life of the VM: it presses the guest's power button through
 * it and learns from qemu's events how the guest ended (a watchdog
 * that fired, a guest panic reported by the pvpanic device). Also the
 * stop line's client, the power button of a guest without ACPI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "beamrun.h"

void br_qmp_init(struct br_qmp *q)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
}

/* A stream connected to qemu's socket at path, or -1 with errno. */
static int qmp_unix_connect(const char *path, int flags)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int br_qmp_connect(struct br_qmp *q, const char *sock)
{
	static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n";
	int fd = qmp_unix_connect(sock, 0);

	if (fd < 0 && errno == ENAMETOOLONG) {
		br_seterr("%s: socket path too long", sock);
		return -1;
	}
	if (fd < 0) {
		/* qemu may not have made the socket yet: try again later. */
		br_seterr("QMP %s: %s", sock, strerror(errno));
		return -1;
	}
	/* Commands are short; qemu reads them before its greeting ends. */
	if (write(fd, caps, sizeof(caps) - 1) != (ssize_t)sizeof(caps) - 1) {
		br_seterr("QMP %s: %s", sock, strerror(errno));
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	q->fd = fd;
	q->len = 0;
	return 0;
}

int br_qmp_powerdown(struct br_qmp *q)
{
	static const char cmd[] = "{\"execute\":\"system_powerdown\"}\n";

	if (q->fd < 0)
		return -1;
	return write(q->fd, cmd, sizeof(cmd) - 1) == (ssize_t)sizeof(cmd) - 1
		   ? 0
		   : -1;
}

/* One message from qemu: note the events that say how the guest ended. */
void br_qmp_message(struct br_qmp *q, const char *line)
{
	json_object *o = json_tokener_parse(line), *ev;
	const char *name;

	if (!o)
		return;
	if (json_object_object_get_ex(o, "event", &ev) &&
	    (name = json_object_get_string(ev))) {
		if (!strcmp(name, "WATCHDOG"))
			q->watchdog = 1;
		else if (!strcmp(name, "GUEST_PANICKED"))
			q->panicked = 1;
	}
	json_object_put(o);
}

int br_qmp_read(struct br_qmp *q)
{
	for (;;) {
		ssize_t n;
		char *nl;

		if (q->len == sizeof(q->buf) - 1)
			q->len = 0; /* a message too long to matter: drop it */
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			close(q->fd);
			q->fd = -1;
			return -1;
		}
		q->len += (size_t)n;
		q->buf[q->len] = '\0';
		while ((nl = strchr(q->buf, '\n'))) {
			*nl = '\0';
			br_qmp_message(q, q->buf);
			q->len -= (size_t)(nl + 1 - q->buf);
			memmove(q->buf, nl + 1, q->len + 1);
		}
	}
}

int br_stop_press(int *fd, const char *sock)
{
	if (*fd < 0 && (*fd = qmp_unix_connect(sock, SOCK_NONBLOCK)) < 0)
		return -1;
	/* A full socket buffer holds presses enough: EAGAIN is no loss. */
	if (write(*fd, "S", 1) == 1 || errno == EAGAIN)
		return 0;
	close(*fd);
	*fd = -1;
	return -1;
}

void br_qmp_close(struct br_qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}
