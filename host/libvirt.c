/*
 * beamrun virsh-xml: a libvirt domain definition of an image, for
 * libvirt's qemu driver (virsh define FILE; virsh start NAME).
 *
 * The domain boots the image's kernel directly (<kernel>, <cmdline>) on
 * qemu's pc machine with ACPI, so `virsh shutdown` presses the power
 * button that the guest's init turns into a graceful stop of the Erlang
 * VM. The root file system (the image's erofs, extracted into the cache)
 * is a read-only virtio disk with serial "root", the -b volumes follow
 * with serials vol0, vol1, ... as under qemu.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamrun.h"

/* Text and attribute values: &, <, >, ' and " as entities. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

static void xml_mac(FILE *f, const struct br_nic *n)
{
	fprintf(f, "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n",
		n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
		n->mac[5]);
}

static const char libvirt_base[] = "console=ttyS0 quiet root=/dev/vda "
				   "rootfstype=erofs ro panic=-1 reboot=t "
				   "lapic_timer_khz=" BR_QEMU_APIC_KHZ;

char *br_libvirt_xml(const struct br_vm *vm, const char *name,
		     const char *kernel, const char *rootfs)
{
	struct br_vm v = *vm;
	char *buf = NULL, *cmdline;
	size_t len = 0, i, nfwd = 0;
	FILE *f;

	v.kernel_base = libvirt_base;
	cmdline = br_kernel_cmdline_fits(&v);
	if (!cmdline)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f) {
		free(cmdline);
		br_seterr("out of memory");
		return NULL;
	}
	fprintf(f,
		"<domain type='%s' "
		"xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n",
		v.accel == BR_ACCEL_KVM ? "kvm" : "qemu");
	fputs("  <name>", f);
	xml_text(f, name);
	fprintf(f,
		"</name>\n"
		"  <memory unit='MiB'>%u</memory>\n"
		"  <vcpu>%u</vcpu>\n"
		"  <os>\n"
		"    <type arch='x86_64' machine='pc'>hvm</type>\n"
		"    <kernel>",
		v.mem_mib, v.cpus);
	xml_text(f, kernel);
	fputs("</kernel>\n    <cmdline>", f);
	xml_text(f, cmdline);
	fputs("</cmdline>\n  </os>\n", f);
	/* ACPI: virsh shutdown presses the power button. */
	fputs("  <features>\n    <acpi/>\n  </features>\n", f);
	if (v.accel == BR_ACCEL_KVM)
		fputs("  <cpu mode='host-passthrough'/>\n", f);
	/* The VM ends when the Erlang VM does; a panic reboots: a crash. */
	fputs("  <on_poweroff>destroy</on_poweroff>\n"
	      "  <on_reboot>destroy</on_reboot>\n"
	      "  <on_crash>destroy</on_crash>\n"
	      "  <devices>\n",
	      f);
	fputs("    <disk type='file' device='disk'>\n"
	      "      <driver name='qemu' type='raw'/>\n"
	      "      <source file='",
	      f);
	xml_text(f, rootfs);
	fputs("'/>\n"
	      "      <target dev='vda' bus='virtio'/>\n"
	      "      <readonly/>\n"
	      "      <serial>root</serial>\n"
	      "    </disk>\n",
	      f);
	for (i = 0; i < v.nvol; i++) {
		fputs("    <disk type='file' device='disk'>\n"
		      "      <driver name='qemu' type='raw'/>\n"
		      "      <source file='",
		      f);
		xml_text(f, v.vol[i].path);
		fprintf(f,
			"'/>\n"
			"      <target dev='vd%c' bus='virtio'/>\n"
			"%s"
			"      <serial>vol%zu</serial>\n"
			"    </disk>\n",
			(char)('b' + i),
			v.vol[i].ro ? "      <readonly/>\n" : "", i);
	}
	for (i = 0; i < v.nnic; i++) {
		const struct br_nic *n = &v.nic[i];
		const char *be = n->backend ? n->backend : "user";

		/* A forward needs qemu's own -netdev (see below). */
		if (!strncmp(be, "user,", 5)) {
			nfwd++;
			continue;
		}
		if (!strncmp(be, "network=", 8) || !strncmp(be, "bridge=", 7)) {
			int net = be[0] == 'n';

			fprintf(f,
				"    <interface type='%s'>\n"
				"      <source %s='",
				net ? "network" : "bridge",
				net ? "network" : "bridge");
			xml_text(f, strchr(be, '=') + 1);
			fputs("'/>\n", f);
		} else {
			fputs("    <interface type='user'>\n", f);
		}
		xml_mac(f, n);
		fputs("      <model type='virtio'/>\n    </interface>\n", f);
	}
	if (v.console_log) {
		/* The console into a file (virsh console cannot attach). */
		fputs("    <serial type='file'>\n      <source path='", f);
		xml_text(f, v.console_log);
		fputs("'/>\n"
		      "      <target port='0'/>\n"
		      "    </serial>\n",
		      f);
	} else {
		fputs("    <serial type='pty'>\n"
		      "      <target port='0'/>\n"
		      "    </serial>\n"
		      "    <console type='pty'>\n"
		      "      <target type='serial' port='0'/>\n"
		      "    </console>\n",
		      f);
	}
	fputs("    <rng model='virtio'>\n"
	      "      <backend model='random'>/dev/urandom</backend>\n"
	      "    </rng>\n"
	      "    <watchdog model='ib700' action='poweroff'/>\n"
	      "    <memballoon model='none'/>\n"
	      "  </devices>\n",
	      f);
	/*
	 * libvirt 9.0 forwards ports of a user-mode interface only through
	 * passt; qemu's own user network does it with hostfwd, passed
	 * through as qemu arguments. libvirt hands out PCI slots from 2 up,
	 * so these NICs take theirs from the top (31 down).
	 */
	if (nfwd || v.qemu_extra.n) {
		fputs("  <qemu:commandline>\n", f);
		for (i = 0; i < v.nnic; i++) {
			const struct br_nic *n = &v.nic[i];
			char *arg;

			if (!n->backend || strncmp(n->backend, "user,", 5))
				continue;
			fputs("    <qemu:arg value='-netdev'/>\n", f);
			if (asprintf(&arg, "user,id=beamrun-net%zu%s", i,
				     n->backend + 4) < 0)
				arg = NULL;
			fputs("    <qemu:arg value='", f);
			xml_text(f, arg ? arg : "");
			fputs("'/>\n", f);
			free(arg);
			fprintf(f,
				"    <qemu:arg value='-device'/>\n"
				"    <qemu:arg value='virtio-net-pci,netdev="
				"beamrun-net%zu,mac=%02x:%02x:%02x:%02x:%02x:"
				"%02x,addr=0x%zx'/>\n",
				i, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
				n->mac[4], n->mac[5], (size_t)0x1f - i);
		}
		for (i = 0; i < v.qemu_extra.n; i++) {
			fputs("    <qemu:arg value='", f);
			xml_text(f, v.qemu_extra.v[i]);
			fputs("'/>\n", f);
		}
		fputs("  </qemu:commandline>\n", f);
	}
	fputs("</domain>\n", f);
	fclose(f);
	free(cmdline);
	return buf;
}

static const char virsh_usage[] =
    "usage: beamrun [-D] virsh-xml [options] IMAGE [\"ERL ARGS\"] [-o FILE]\n"
    "Write a libvirt domain definition of IMAGE (qemu driver, direct\n"
    "kernel boot): virsh define FILE && virsh start NAME.\n"
    "  -b IMG[,MNT]          attach IMG as a disk, mounted at MNT\n"
    "  -e VAR[=VALUE]        environment variable for the Erlang VM\n"
    "  -I TAG,vioif[,user[,hostfwd=tcp:127.0.0.1:H-:G...]|network=NAME|\n"
    "     bridge=NAME]       network interface (default: user)\n"
    "  -W TAG,inet,static,ADDR/BITS[,GW] | TAG,inet,dhcp | ...\n"
    "  -M MB                 memory (64)    -c N  vCPUs (1)\n"
    "  -N NAME               domain and host name (beamrun-IMAGE)\n"
    "  -g ARGS               extra qemu arguments (qemu:commandline)\n"
    "  --console-log FILE    the serial console into FILE (else a pty)\n"
    "  -o FILE               write it there (default: standard output)\n"
    "With -D, also prints the virsh commands that start it.\n"
    "The domain type is kvm where /dev/kvm works, else qemu (TCG);\n"
    "BEAMRUN_ACCEL=tcg|kvm chooses.\n";

int cmd_virsh_xml(int argc, char **argv)
{
	struct br_vm vm;
	const char *kernel, *rootfs, *acc = getenv("BEAMRUN_ACCEL");
	char name[80], *xml = NULL, *tmp = NULL;
	size_t i;
	int rc, fd;

	rc = br_rump_parse(argc, argv, &vm);
	if (rc) {
		if (rc > 0)
			fputs(virsh_usage, stdout);
		br_vm_free(&vm);
		return rc > 0 ? 0 : BR_EXIT_BADINPUT;
	}
	rc = BR_EXIT_BADINPUT;
	if (acc && *acc && strcmp(acc, "tcg") && strcmp(acc, "kvm")) {
		br_die_msg("BEAMRUN_ACCEL=%s: expected tcg or kvm", acc);
		goto out;
	}
	vm.accel = (acc && *acc)
		       ? (!strcmp(acc, "kvm") ? BR_ACCEL_KVM : BR_ACCEL_TCG)
		   : br_kvm_usable() ? BR_ACCEL_KVM
				 : BR_ACCEL_TCG;
	/* No -I: one user-mode NIC, as rumprun's qemu without -I has none
	 * but a libvirt user expects the network to work. */
	if (!vm.nnic) {
		vm.nic[0].backend = xstrdup("user");
		vm.nic[0].family = AF_INET;
		vm.nic[0].mac[0] = 0x52;
		vm.nic[0].mac[1] = 0x54;
		vm.nic[0].mac[5] = 0x01;
		vm.nnic = 1;
	}
	/* Only qemu's user network has a known address; DHCP elsewhere. */
	for (i = 0; i < vm.nnic; i++)
		if (vm.nic[i].method == BR_NET_NONE &&
		    strncmp(vm.nic[i].backend, "user", 4))
			vm.nic[i].method = BR_NET_DHCP;
	if (vm.hostname[0]) {
		snprintf(name, sizeof(name), "%s", vm.hostname);
	} else {
		const char *b = strrchr(argv[optind], '/');
		size_t n;

		b = b ? b + 1 : argv[optind];
		n = strcspn(b, ".");
		snprintf(name, sizeof(name), "beamrun-%.*s",
			 (int)(n ? n : strlen(b)), b);
	}
	if (br_image_files(&vm.img, 0, &kernel, &rootfs)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	xml = br_libvirt_xml(&vm, name, kernel, rootfs);
	if (!xml) {
		br_die_msg("%s", br_err());
		goto out;
	}
	if (!vm.out) {
		fputs(xml, stdout);
		if (vm.dry_run)
			printf("virsh define FILE\nvirsh start %s\n", name);
		rc = 0;
		goto out;
	}
	if (br_check_output(vm.out)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	fd = br_tmp_open(vm.out, &tmp);
	if (fd < 0 || write(fd, xml, strlen(xml)) != (ssize_t)strlen(xml) ||
	    close(fd) || rename(tmp, vm.out)) {
		br_die_msg("%s: %s", vm.out, strerror(errno));
		if (tmp)
			unlink(tmp);
		goto out;
	}
	if (vm.dry_run)
		printf("virsh define %s\nvirsh start %s\n", vm.out, name);
	rc = 0;
out:
	free(tmp);
	free(xml);
	br_vm_free(&vm);
	return rc;
}
