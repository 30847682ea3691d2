/* beamrun: the qemu command line for a VM, built as an argv array. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamrun.h"

/* qemu's option syntax reads "," as a separator; ",," is a comma. */
static char *qemu_escape(const char *s)
{
	char *out = xmalloc(strlen(s) * 2 + 1), *o = out;

	for (; *s; s++) {
		*o++ = *s;
		if (*s == ',')
			*o++ = ',';
	}
	*o = '\0';
	return out;
}

/* Append printf output to a malloc'd string. */
static char *qemu_cat(char *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *qemu_cat(char *s, const char *fmt, ...)
{
	va_list ap;
	char *add, *out;

	va_start(ap, fmt);
	if (vasprintf(&add, fmt, ap) < 0)
		add = NULL;
	va_end(ap);
	if (!add || asprintf(&out, "%s%s", s ? s : "", add) < 0) {
		br_die_msg("out of memory");
		exit(BR_EXIT_BADINPUT);
	}
	free(s);
	free(add);
	return out;
}

/* ",bus=virtio-mmio-bus.T" for the Nth virtio device without ACPI. */
static const char *qemu_bus(int no_acpi, size_t n, char *buf, size_t len)
{
	if (!no_acpi)
		return "";
	snprintf(buf, len, ",bus=virtio-mmio-bus.%u", br_mmio_transport(n));
	return buf;
}

static void qemu_nic(const struct br_vm *vm, int no_acpi, size_t i,
		     struct strv *a)
{
	char bus[32];
	const struct br_nic *n = &vm->nic[i];
	const char *opts = strchr(n->backend, ',');
	char *netdev;
	size_t f, first_user = 0;

	netdev = qemu_cat(
	    NULL, "%.*s,id=net%zu%s",
	    (int)(opts ? (size_t)(opts - n->backend) : strlen(n->backend)),
	    n->backend, i, opts ? opts : "");
	/* -p forwards go to the first user-mode NIC. */
	while (first_user < vm->nnic && !br_nic_is_user(&vm->nic[first_user]))
		first_user++;
	for (f = 0; f < vm->nfwd && first_user == i; f++)
		netdev = qemu_cat(netdev, ",hostfwd=%s:127.0.0.1:%u-:%u",
				  vm->fwd[f].proto, vm->fwd[f].host_port,
				  vm->fwd[f].guest_port);
	strv_push(a, "-netdev");
	strv_push(a, netdev);
	free(netdev);
	strv_push(a, "-device");
	strv_pushf(a,
		   "virtio-net-device%s,netdev=net%zu,"
		   "mac=%02x:%02x:%02x:%02x:%02x:%02x",
		   qemu_bus(no_acpi, 1 + vm->nvol + i, bus, sizeof(bus)), i,
		   n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
		   n->mac[5]);
}

/*
 * Whether -g sets the guest's memory itself (its size, a file or huge
 * pages to back it, a backend): the memfd backend would clash with it.
 */
static int qemu_extra_sets_memory(const struct br_vm *vm)
{
	static const char *const opts[] = {"-m", "-mem-path", "-mem-prealloc"};
	size_t i;

	for (i = 0; i < vm->qemu_extra.n; i++)
		if (strstr(vm->qemu_extra.v[i], "memory-backend"))
			return 1;
	return br_qemu_extra_has(vm, opts, sizeof(opts) / sizeof(opts[0]));
}

int br_qemu_argv(const struct br_vm *vm, struct strv *a)
{
	char *img, *cmdline, bus[32];
	int no_acpi = br_no_acpi(vm);
	size_t i;

	cmdline = br_kernel_cmdline_fits(vm);
	if (!cmdline)
		return -1;

	strv_push(a, "qemu-system-x86_64");
	/*
	 * microvm: no PCI, virtio over MMIO; -nodefaults leaves out every
	 * device we do not add ourselves. Without ACPI too where the
	 * devices fit the transports the command line can name: the
	 * kernel then neither loads nor interprets ACPI tables, about a
	 * tenth of the code it runs before init, which qemu must translate
	 * under TCG. The command line names the devices instead (the
	 * kernel's, not qemu's: qemu would put them after the "--").
	 */
	strv_push(a, "-M");
	strv_push(a, no_acpi ? "microvm,acpi=off,auto-kernel-cmdline=off"
			     : "microvm");
	strv_push(a, "-nodefaults");
	strv_push(a, "-no-user-config");
	strv_push(a, "-display");
	strv_push(a, "none");
	strv_push(a, "-no-reboot");
	strv_push(a, "-accel");
	if (vm->accel == BR_ACCEL_KVM) {
		strv_push(a, "kvm");
		strv_push(a, "-cpu");
		strv_push(a, "host");
	} else {
		strv_push(a, vm->cpus > 1 ? "tcg,thread=multi" : "tcg");
		/* "max" gives the guest RDRAND, so the CRNG is ready at once.
		 */
		strv_push(a, "-cpu");
		strv_push(a, "max");
	}
	strv_push(a, "-m");
	strv_pushf(a, "%u", vm->mem_mib);
	if (vm->accel != BR_ACCEL_KVM && !qemu_extra_sets_memory(vm)) {
		/*
		 * Guest RAM in a memfd under TCG (unless -g sets it). qemu asks
		 * the host for transparent huge pages on anonymous RAM, so
		 * every 2 MiB the booting guest touches first costs the host a
		 * 2 MiB clear: a quarter of qemu's CPU time up to init here
		 * (perf). Shared memory follows the host's shmem policy
		 * (Debian's: no huge pages), and only the 4 KiB pages the
		 * guest touches are cleared: beam's exec 53 ms earlier,
		 * the first echo 113 ms (medians of 7 interleaved boots),
		 * 8 MB less resident qemu. Under KVM huge pages spare the
		 * guest TLB misses and the host clears them natively.
		 */
		strv_push(a, "-object");
		strv_pushf(a, "memory-backend-memfd,id=ram0,size=%uM",
			   vm->mem_mib);
		strv_push(a, "-machine");
		strv_push(a, "memory-backend=ram0");
	}
	strv_push(a, "-smp");
	strv_pushf(a, "%u", vm->cpus);
	strv_push(a, "-kernel");
	strv_push(a, vm->kernel_path);
	strv_push(a, "-append");
	strv_push(a, cmdline);
	free(cmdline);

	strv_push(a, "-chardev");
	strv_push(a, "stdio,id=con0,signal=off");
	strv_push(a, "-serial");
	strv_push(a, "chardev:con0");

	/* The root file system is the image itself, from its offset. */
	img = qemu_escape(vm->img.path);
	strv_push(a, "-drive");
	strv_pushf(a,
		   "if=none,id=root,file=%s,format=raw,offset=%llu,"
		   "size=%llu,readonly=on",
		   img, (unsigned long long)vm->img.root_off,
		   (unsigned long long)vm->img.root_len);
	free(img);
	strv_push(a, "-device");
	strv_pushf(a, "virtio-blk-device%s,drive=root,serial=root",
		   qemu_bus(no_acpi, 0, bus, sizeof(bus)));

	for (i = 0; i < vm->nvol; i++) {
		img = qemu_escape(vm->vol[i].path);
		strv_push(a, "-drive");
		strv_pushf(a, "if=none,id=vol%zu,file=%s,format=raw%s", i, img,
			   vm->vol[i].ro ? ",readonly=on" : "");
		free(img);
		strv_push(a, "-device");
		strv_pushf(a, "virtio-blk-device%s,drive=vol%zu,serial=vol%zu",
			   qemu_bus(no_acpi, 1 + i, bus, sizeof(bus)), i, i);
	}

	for (i = 0; i < vm->nnic; i++)
		qemu_nic(vm, no_acpi, i, a);

	/* Entropy from the host, so crypto never waits for the CRNG. */
	strv_push(a, "-object");
	strv_push(a, "rng-random,id=rng0,filename=/dev/urandom");
	strv_push(a, "-device");
	strv_pushf(
	    a, "virtio-rng-device%s,rng=rng0",
	    qemu_bus(no_acpi, 1 + vm->nvol + vm->nnic, bus, sizeof(bus)));

	/*
	 * A watchdog that the guest's init pets: a guest that stops
	 * answering is powered off, and QMP's WATCHDOG event tells the
	 * launcher why.
	 */
	strv_push(a, "-device");
	strv_push(a, "ib700");
	strv_push(a, "-action");
	strv_push(a, "watchdog=poweroff");

	if (vm->cookie_path[0]) {
		char *q = qemu_escape(vm->cookie_path);

		strv_push(a, "-fw_cfg");
		strv_pushf(a, "name=opt/beamrun/cookie,file=%s", q);
		free(q);
	}
	if (vm->stop_path[0]) {
		char *q = qemu_escape(vm->stop_path);

		/* The second ISA serial port, ttyS1: COM2's port and IRQ. */
		strv_push(a, "-chardev");
		strv_pushf(a, "socket,id=stop0,path=%s,server=on,wait=off", q);
		strv_push(a, "-device");
		strv_push(a, "isa-serial,chardev=stop0,index=1");
		free(q);
	}
	if (vm->qmp_path[0]) {
		char *q = qemu_escape(vm->qmp_path);

		strv_push(a, "-qmp");
		strv_pushf(a, "unix:%s,server=on,wait=off", q);
		free(q);
	}
	if (vm->gdb_port) {
		strv_push(a, "-gdb");
		strv_pushf(a, "tcp:127.0.0.1:%u", vm->gdb_port);
	}
	if (vm->paused)
		strv_push(a, "-S");
	for (i = 0; i < vm->qemu_extra.n; i++)
		strv_push(a, vm->qemu_extra.v[i]);
	return 0;
}
