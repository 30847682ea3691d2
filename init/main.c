/* beamrun-init: PID 1 of a beamrun guest; sets the VM up and runs beam. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "init.h"

#define CMDLINE_MAX 4096

static struct init_cfg cfg;

/* PID 1 must not exit: report, then power off so the host sees why. */
static void __attribute__((noreturn))
init_fatal(const char *what, const char *why)
{
	init_err("%s: %s", what, why);
	init_power_off(&cfg, INIT_STATUS_SETUP);
}

/* Which of fds 0-2 hold a placeholder until /dev is mounted. */
static unsigned console_placeholder;

/*
 * fds 0-2 must be open before init opens anything else: a file that
 * took number 2 would receive init's messages, and beam inherits all
 * three. The kernel gives PID 1 the console when the root has a
 * /dev/console; what it left closed gets the console, else /dev/null,
 * else (no /dev yet) a directory that holds the number, where writes
 * fail, until init_console runs again once /dev is mounted. An fd that
 * is open already is kept: a working stderr is not traded for
 * /dev/null.
 */
static void init_console(void)
{
	int fd, nfd;

	for (fd = 0; fd <= 2; fd++) {
		unsigned bit = 1u << fd;

		if (!(console_placeholder & bit) && fcntl(fd, F_GETFD) >= 0)
			continue;
		nfd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (nfd < 0)
			nfd = open("/dev/null", O_RDWR);
		if (nfd >= 0) {
			console_placeholder &= ~bit;
		} else if (!(console_placeholder & bit)) {
			nfd = open("/", O_RDONLY | O_DIRECTORY);
			console_placeholder |= bit;
		}
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

static void init_read_cfg(int argc, char **argv)
{
	static char cmdline[CMDLINE_MAX];
	struct sysinfo si;
	char err[256];
	char *json = NULL;
	ssize_t n;
	int fd, i;

	/* The kernel hands words after "--" to init as arguments. */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], INIT_ARG_POWEROFF))
			init_poweroff = 1;
		else if (!json)
			json = init_cfg_find(argv[i]);
	if (!json) {
		fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, cmdline, sizeof(cmdline) - 1);
		if (fd >= 0)
			close(fd);
		if (n < 0)
			init_fatal("read /proc/cmdline", strerror(errno));
		cmdline[n] = '\0';
		json = init_cfg_find(cmdline);
	}
	if (!json)
		init_fatal("config", "no beamrun= on the kernel command line");
	if (init_cfg_parse(&cfg, json, err, sizeof(err)))
		init_fatal("bad configuration", err);
	init_verbose = cfg.verbose;
	if (!sysinfo(&si))
		cfg.mem_kib = (unsigned long)si.totalram * si.mem_unit / 1024;
}

int main(int argc, char **argv)
{
	struct init_beam beam;
	char err[512], status[16];
	int watchdog;
	pid_t pid;

	if (getpid() != 1) {
		fprintf(stderr, "beamrun-init: must run as PID 1\n");
		return 1;
	}

	init_console();

	/* From an ISO or disk: switch to the image's root, run its init. */
	if (init_stage_switch(argv))
		init_fatal("boot", "cannot switch to the image's root");

	init_signals_block();

	/* /proc is needed to read the configuration, /sys to find volumes. */
	if (init_fs_basic())
		init_fatal("mount", "the kernel file systems");

	/* Now that /dev is there, for what had no console at boot. */
	init_console();

	init_read_cfg(argc, argv);
	init_info("init started");

	if (init_net_up(&cfg, err, sizeof(err)))
		init_fatal("network", err);

	if (init_node_resolve(&cfg, err, sizeof(err)))
		init_fatal("network", err);

	if (init_etc_setup(&cfg, err, sizeof(err)))
		init_fatal("etc", err);

	if (init_etc_cookie(err, sizeof(err)))
		init_fatal("etc", err);
	cfg.cookie = access(INIT_COOKIE_FILE, F_OK) == 0;

	if (init_fs_volumes(&cfg, err, sizeof(err)))
		init_fatal("volume", err);

	if (init_swap_setup(&cfg, err, sizeof(err)))
		init_fatal("swap", err);

	if (init_beam_prepare(&cfg, &beam, err, sizeof(err)))
		init_fatal("erlang", err);

	watchdog = init_watchdog_open();

	pid = init_beam_spawn(&beam);
	if (pid < 0)
		init_fatal("fork", strerror(errno));
	init_info("exec %s", beam.emu);

	snprintf(status, sizeof(status), "%d",
		 init_supervise(pid, cfg.stop_timeout_s, watchdog,
				 cfg.stop_dev));
	init_info("the Erlang VM exited with status %s", status);

	init_power_off(&cfg, status);
}
