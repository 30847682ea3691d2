/* beamrun virsh-xml: a libvirt domain definition for an image. */
#include <stdio.h>

#include "beamrun.h"

int cmd_virsh_xml(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	br_die_msg("virsh-xml: not written yet");
	return BR_EXIT_BADINPUT;
}
