/* beamrun-init: the end of the VM: status line, teardown, power off. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

/*
 * Every process left is init's child by now (orphans come to PID 1), so
 * none is left once waitpid has no child to wait for. Reap for at most
 * tries x 10 ms; 0 when all are gone.
 */
static int power_reap(int tries)
{
	int i;

	for (i = 0; i < tries; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return 0;
		usleep(10 * 1000);
	}
	return -1;
}

int init_poweroff;

void init_power_off(const struct init_cfg *cfg, const char *status)
{
	/*
	 * beam is gone. Anything it left behind (port programs, their
	 * children) gets SIGTERM, up to 0.1 s, then SIGKILL; only after that
	 * are the volumes unmounted, so no writer is cut off mid-file.
	 */
	kill(-1, SIGTERM);
	if (power_reap(10)) {
		kill(-1, SIGKILL);
		/* Not for ever: one stuck in the kernel must not stop the
		 * power-off. */
		if (power_reap(100))
			init_err("processes still running after SIGKILL; "
				 "unmounting anyway");
	}
	init_fs_teardown(cfg);

	/* A line of its own, even if beam's last output had no newline. */
	fprintf(stderr, "\n" INIT_STATUS_TAG "%s\n", status);
	fflush(stderr);

	/*
	 * The launcher runs qemu with -no-reboot and the kernel with
	 * reboot=t, so a reboot ends qemu at once on every machine type,
	 * with or without ACPI. From firmware media nothing ends a reboot,
	 * so ACPI powers off (GRUB gives the kernel the tables).
	 */
	reboot(init_poweroff ? RB_POWER_OFF : RB_AUTOBOOT);
	for (;;)
		pause();
}
