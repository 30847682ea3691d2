/* beamrun-init: wait for beam, reap orphans, turn stop requests into SIGTERM.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

#define SUP_MAX_INPUT 4

static sigset_t sup_sigs;

int init_signals_block(void)
{
	sigemptyset(&sup_sigs);
	sigaddset(&sup_sigs, SIGCHLD);
	sigaddset(&sup_sigs, SIGTERM);
	sigaddset(&sup_sigs, SIGINT);
	sigaddset(&sup_sigs, SIGPWR);
	sigaddset(&sup_sigs, SIGHUP);
	/* With ctrl-alt-del disabled the kernel sends SIGINT to PID 1. */
	reboot(RB_DISABLE_CAD);
	return sigprocmask(SIG_BLOCK, &sup_sigs, NULL);
}

/* Event devices that can report KEY_POWER (the ACPI power button). */
static int sup_open_inputs(struct pollfd *p, int max)
{
	DIR *d = opendir("/dev/input");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while (n < max && (e = readdir(d))) {
		char path[300];
		unsigned long keys[KEY_MAX / (8 * sizeof(long)) + 1];
		int fd;

		if (strncmp(e->d_name, "event", 5))
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(keys, 0, sizeof(keys));
		if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) < 0 ||
		    !(keys[KEY_POWER / (8 * sizeof(long))] &
		      (1UL << (KEY_POWER % (8 * sizeof(long)))))) {
			close(fd);
			continue;
		}
		p[n].fd = fd;
		p[n].events = POLLIN;
		n++;
	}
	closedir(d);
	return n;
}

static int sup_power_pressed(int fd)
{
	struct input_event ev;
	int pressed = 0;

	while (read(fd, &ev, sizeof(ev)) == sizeof(ev))
		if (ev.type == EV_KEY && ev.code == KEY_POWER && ev.value)
			pressed = 1;
	return pressed;
}

/*
 * The launcher's stop line: a serial port of its own (qemu's microvm
 * without ACPI has no power button), where the host writes a byte for
 * each press. Raw, so that a byte arrives without a newline and nothing
 * is echoed back. -1 when there is none or it cannot be opened; stop
 * requests then come only by signal or the power button.
 */
static int sup_open_stop(const char *dev)
{
	struct termios t;
	int fd;

	if (!*dev)
		return -1;
	fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		init_err("%s: %s: stop requests from the host are ignored",
			 dev, strerror(errno));
		return -1;
	}
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		t.c_cflag |= CLOCAL | CREAD;
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

/* Whatever the host wrote is one press; an ended line no longer counts. */
static int sup_stop_pressed(struct pollfd *p)
{
	char buf[64];
	ssize_t n;
	int pressed = 0;

	while ((n = read(p->fd, buf, sizeof(buf))) > 0)
		pressed = 1;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(p->fd);
		p->fd = -1;
	}
	return pressed;
}

/* Reap every child that has exited; SIGCHLDs coalesce, so loop. */
static int sup_reap(pid_t beam, int *status)
{
	int st, done = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != beam)
			continue;
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		done = 1;
	}
	return done;
}

/*
 * Without signalfd, timerfd or poll, still wait for beam and reap every
 * orphan on the way. pause() would never return, since SIGCHLD stays
 * blocked; sigtimedwait takes it from the pending set instead, and its
 * timeout leaves room to pet the watchdog. Stop requests go unheard.
 */
static int sup_wait_plain(pid_t beam, int watchdog)
{
	struct timespec pet = {.tv_sec = INIT_WATCHDOG_PET_S};
	sigset_t chld;
	int status;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		init_watchdog_pet(watchdog);
		if (sup_reap(beam, &status))
			return status;
		sigtimedwait(&chld, NULL, &pet);
	}
}

/*
 * Until beam installs its handler, SIGTERM has its default action and
 * kills it (status 143, no application stops): a stop requested early
 * in the boot must wait for that. /proc/PID/status says whether beam
 * catches (or ignores) SIGTERM; when it cannot be read, send anyway.
 */
static void sup_term(pid_t beam)
{
	unsigned long long handled = 0, bit = 1ULL << (SIGTERM - 1);
	char path[64], line[128], *end;
	int seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)beam);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigCgt:", 7) ||
		    !strncmp(line, "SigIgn:", 7)) {
			handled |= strtoull(line + 7, &end, 16);
			seen += end != line + 7;
		}
	if (f)
		fclose(f);
	if (seen == 2 && !(handled & bit)) {
		init_info("the Erlang VM does not handle SIGTERM yet");
		return;
	}
	kill(beam, SIGTERM);
}

static void sup_request_stop(pid_t beam, int tfd, unsigned timeout_s,
			     int *stopping, const char *why)
{
	/* A tick a second: SIGTERM again each time, SIGKILL at the end. */
	struct itimerspec its = {.it_value = {.tv_sec = 1},
				 .it_interval = {.tv_sec = 1}};

	if (*stopping)
		return;
	*stopping = 1;
	init_log("stop requested (%s): SIGTERM to the Erlang VM, %us "
		 "deadline",
		 why, timeout_s);
	sup_term(beam);
	timerfd_settime(tfd, 0, &its, NULL);
}

int init_supervise(pid_t beam, unsigned stop_timeout_s, int watchdog,
		   const char *stop_dev)
{
	struct pollfd p[3 + SUP_MAX_INPUT];
	int sfd, tfd, ninput, i, status = 0, stopping = 0;
	uint64_t ticks = 0;

	sfd = signalfd(-1, &sup_sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (sfd < 0 || tfd < 0) {
		init_err("signalfd/timerfd: %s: stop requests are ignored",
			 strerror(errno));
		return sup_wait_plain(beam, watchdog);
	}
	p[0].fd = sfd;
	p[0].events = POLLIN;
	p[1].fd = tfd;
	p[1].events = POLLIN;
	p[2].fd = sup_open_stop(stop_dev);
	p[2].events = POLLIN;
	ninput = sup_open_inputs(p + 3, SUP_MAX_INPUT);

	for (;;) {
		init_watchdog_pet(watchdog);
		if (poll(p, 3 + ninput,
			 watchdog < 0 ? -1 : INIT_WATCHDOG_PET_S * 1000) < 0 &&
		    errno != EINTR) {
			init_err("poll: %s: stop requests are ignored",
				 strerror(errno));
			return sup_wait_plain(beam, watchdog);
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					continue;
				sup_request_stop(beam, tfd, stop_timeout_s,
						 &stopping,
						 strsignal((int)si.ssi_signo));
			}
			if (sup_reap(beam, &status))
				break;
		}
		if (p[1].revents & POLLIN) {
			uint64_t n = 0;

			if (read(tfd, &n, sizeof(n)) == sizeof(n))
				ticks += n;
			if (ticks >= stop_timeout_s) {
				init_log("the Erlang VM did not stop within "
					 "%us: SIGKILL",
					 stop_timeout_s);
				kill(beam, SIGKILL);
				p[1].fd = -1;
			} else {
				/*
				 * beam drops a SIGTERM that comes before its
				 * signal server runs (early in its boot), so
				 * the request is repeated until it stops.
				 */
				sup_term(beam);
			}
		}
		if (p[2].fd >= 0 && (p[2].revents & (POLLIN | POLLHUP)) &&
		    sup_stop_pressed(&p[2]))
			sup_request_stop(beam, tfd, stop_timeout_s, &stopping,
					 "the host's stop line");
		for (i = 0; i < ninput; i++)
			if ((p[3 + i].revents & POLLIN) &&
			    sup_power_pressed(p[3 + i].fd))
				sup_request_stop(beam, tfd, stop_timeout_s,
						 &stopping, "power button");
	}
	/* Other children may still run; they go with the VM. */
	sup_reap(beam, &status);
	return status;
}
