/* beamrun-init: PID 1 of a beamrun guest; sets the VM up and runs beam. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* fds 0-2 must be valid before anything else writes to them. */
static void init_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);

	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

static void init_read_cfg(int argc, char **argv)
{
	static char cmdline[CMDLINE_MAX];
	char err[256];
	char *json = NULL;
	ssize_t n;
	int fd, i;

	/* The kernel hands words after "--" to init as arguments. */
	for (i = 1; i < argc && !json; i++)
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

	init_signals_block();

	/* /proc is needed to read the configuration, /sys to find volumes. */
	if (init_fs_basic())
		init_fatal("mount", "the kernel file systems");

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

	if (init_fs_volumes(&cfg, err, sizeof(err)))
		init_fatal("volume", err);

	if (init_beam_prepare(&cfg, &beam, err, sizeof(err)))
		init_fatal("erlang", err);

	watchdog = init_watchdog_open();

	pid = init_beam_spawn(&beam);
	if (pid < 0)
		init_fatal("fork", strerror(errno));
	init_info("exec %s", beam.emu);

	snprintf(status, sizeof(status), "%d",
		 init_supervise(pid, cfg.stop_timeout_s, watchdog));
	init_info("the Erlang VM exited with status %s", status);

	init_power_off(&cfg, status);
}
