/* beamrun iso, disk: bootable media of an image. */
#include <stdio.h>

#include "beamrun.h"

int cmd_bootimg(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	br_die_msg("iso: not written yet");
	return BR_EXIT_BADINPUT;
}
