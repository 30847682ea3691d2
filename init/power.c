/* beamrun-init: the end of the VM: status line, teardown, power off. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

/*
 * Every process left is init's child by now (orphans come to PID 1);
 * wait until they are all gone so none still holds a volume, but not
 * for ever: one stuck in the kernel must not stop the power-off.
 */
static void power_reap_all(void)
{
	int i;

	for (i = 0; i < 100; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		usleep(10 * 1000);
	}
	init_err("processes still running after SIGKILL; unmounting anyway");
}

int init_poweroff;

void init_power_off(const struct init_cfg *cfg, const char *status)
{
	/*
	 * beam is gone. Anything it left behind (port programs, their
	 * children) gets SIGTERM, a moment, then SIGKILL; only after that
	 * are the volumes unmounted, so no writer is cut off mid-file.
	 */
	kill(-1, SIGTERM);
	usleep(100 * 1000);
	kill(-1, SIGKILL);
	power_reap_all();
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
