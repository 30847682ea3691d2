/* beamrun: bake Erlang applications into VM images and boot them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamrun.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"bake", cmd_bake, "bake an Erlang application into an image"},
    {"run", cmd_run, "boot an image in the foreground (-p to forward)"},
    {"qemu", cmd_rumprun, "rumprun-style launch under qemu (TCG)"},
    {"kvm", cmd_rumprun, "rumprun-style launch under qemu with KVM"},
    {"xen", cmd_xen, "rumprun-style launch as a Xen PVH domain (xl)"},
    {"iso", cmd_bootimg, "make a bootable ISO (BIOS and UEFI) of an image"},
    {"disk", cmd_bootimg, "make a bootable raw or qcow2 disk of an image"},
    {"virsh-xml", cmd_virsh_xml, "write a libvirt domain definition"},
    {"volume", cmd_volume, "make a data volume (ISO 9660 or ext4)"},
    {"inspect", cmd_inspect, "show what an image holds"},
    {"ps", cmd_ps, "list detached instances (run -d)"},
    {"logs", cmd_logs, "print (-f: follow) an instance's console"},
    {"stop", cmd_stop, "stop an instance gracefully"},
    {"kill", cmd_kill, "end an instance at once"},
    {"wait", cmd_wait, "wait for an instance to end; its status"},
    {"rm", cmd_rm, "forget ended instances"},
    {"cluster", cmd_cluster, "start or stop N nodes of one image on a segment"},
};

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: beamrun [-D] COMMAND [options] ...\n", f);
	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fputs("  -D       (before qemu|kvm|xen|virsh-xml) print the commands "
	      "instead of\n"
	      "           running them, as rumprun -D\n"
	      "Run \"beamrun COMMAND --help\" for a command's options.\n",
	      f);
}

int main(int argc, char **argv)
{
	size_t i;
	int dump = 0;

	if (argc > 1 && !strcmp(argv[1], "-D")) {
		/* rumprun's script option: show the commands, run nothing. */
		setenv("BEAMRUN_DRY_RUN", "1", 1);
		dump = 1;
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (dump && (!strcmp(argv[1], "iso") || !strcmp(argv[1], "disk"))) {
		/* As rumprun's iso: there is nothing to print instead. */
		br_die_msg("-D is not supported on %s: it starts nothing, it "
			   "writes a file",
			   argv[1]);
		return 2;
	}
	if (dump && strcmp(argv[1], "qemu") && strcmp(argv[1], "kvm") &&
	    strcmp(argv[1], "xen") && strcmp(argv[1], "virsh-xml")) {
		br_die_msg("-D goes before qemu, kvm, xen or virsh-xml (use "
			   "--dry-run with run)");
		return 2;
	}
	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	br_die_msg("unknown command or platform \"%s\" (try beamrun --help)",
		   argv[1]);
	return 2;
}
