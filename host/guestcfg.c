/* beamrun: the configuration the launcher hands the guest's init. */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "beamrun.h"

/* qemu's user-mode network: fixed guest address, gateway and DNS. */
#define USERNET_ADDR "10.0.2.15"
#define USERNET_GW   "10.0.2.2"
#define USERNET_DNS  "10.0.2.3"

json_object *br_json_strv(const struct strv *s)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}

static json_object *guestcfg_nic(const struct br_nic *n, size_t idx)
{
	json_object *o = json_object_new_object();
	char ifname[16];

	snprintf(ifname, sizeof(ifname), "eth%zu", idx);
	json_object_object_add(o, "if", json_object_new_string(ifname));
	switch (n->method) {
	case BR_NET_DHCP:
		json_object_object_add(o, "method",
				       json_object_new_string("dhcp"));
		return o;
	case BR_NET_AUTO6:
		json_object_object_add(o, "method",
				       json_object_new_string("auto6"));
		return o;
	case BR_NET_STATIC:
		json_object_object_add(o, "method",
				       json_object_new_string("static"));
		json_object_object_add(o, "addr",
				       json_object_new_string(n->addr));
		json_object_object_add(o, "prefix",
				       json_object_new_int(n->prefix));
		if (n->gw[0])
			json_object_object_add(o, "gw",
					       json_object_new_string(n->gw));
		return o;
	case BR_NET_NONE:
		break;
	}
	/*
	 * No -W for this NIC: on qemu's user network the address is known
	 * in advance, so set it statically rather than wait for DHCP.
	 */
	json_object_object_add(o, "method", json_object_new_string("static"));
	json_object_object_add(o, "addr", json_object_new_string(USERNET_ADDR));
	json_object_object_add(o, "prefix", json_object_new_int(24));
	json_object_object_add(o, "gw", json_object_new_string(USERNET_GW));
	return o;
}

/*
 * The kernel cuts its command line into words at whitespace outside
 * double quotes, and every '"' opens or closes a quote for it, escaped
 * or not. Its whitespace includes 0xA0 (Latin-1's no-break space), also
 * a byte of UTF-8 characters such as "à", so the JSON must stay one word
 * whatever its strings hold. json-c's plain output puts spaces only
 * inside strings, and there they become \u0020; a quote inside a string
 * becomes \u0022 rather than \", so each '"' the kernel sees opens or
 * closes a JSON string and the bytes of every string stay quoted.
 */
static char *guestcfg_one_word(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *o;

	for (p = s; *p; p++)
		n += *p == ' ' || *p == '"' ? 6 : 1;
	out = o = xmalloc(n + 1);
	for (p = s; *p; p++) {
		/* json-c writes a backslash only to begin an escape pair. */
		if (p[0] == '\\' && p[1] == '"') {
			o = stpcpy(o, "\\u0022");
			p++;
		} else if (p[0] == '\\' && p[1]) {
			*o++ = *p++;
			*o++ = *p;
		} else if (*p == ' ') {
			o = stpcpy(o, "\\u0020");
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static int args_have(const struct strv *a, const char *flag)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], flag))
			return 1;
	return 0;
}

char *br_guestcfg_json(const struct br_vm *vm)
{
	json_object *c = json_object_new_object(), *a;
	struct strv args = {0};
	size_t i, k;
	int user_dns = 0;
	char *out;

	json_object_object_add(c, "v", json_object_new_int(1));
	if (vm->guest_verbose)
		json_object_object_add(c, "verbose",
				       json_object_new_boolean(1));
	if (vm->hostname[0])
		json_object_object_add(c, "hostname",
				       json_object_new_string(vm->hostname));
	if (vm->nnic) {
		a = json_object_new_array();
		for (i = 0; i < vm->nnic; i++) {
			json_object_array_add(a, guestcfg_nic(&vm->nic[i], i));
			if (vm->nic[i].method6 != BR_NET_NONE) {
				/* Its IPv6, as a second entry for the NIC. */
				struct br_nic v6 = vm->nic[i];

				v6.method = v6.method6;
				v6.family = AF_INET6;
				memcpy(v6.addr, v6.addr6, sizeof(v6.addr));
				v6.prefix = v6.prefix6;
				memcpy(v6.gw, v6.gw6, sizeof(v6.gw));
				json_object_array_add(a, guestcfg_nic(&v6, i));
			}
			/* With DHCP, the lease names the nameserver. */
			if (br_nic_is_user(&vm->nic[i]) &&
			    vm->nic[i].method != BR_NET_DHCP)
				user_dns = 1;
		}
		json_object_object_add(c, "net", a);
	}
	/*
	 * --dns replaces both the user network's nameserver and those a
	 * DHCP lease names; without it the guest uses both.
	 */
	if (vm->ndns) {
		a = json_object_new_array();
		for (i = 0; i < vm->ndns; i++)
			json_object_array_add(
			    a, json_object_new_string(vm->dns[i]));
		json_object_object_add(c, "dns", a);
		json_object_object_add(c, "dhcp_dns",
				       json_object_new_boolean(0));
	} else if (user_dns) {
		a = json_object_new_array();
		json_object_array_add(a, json_object_new_string(USERNET_DNS));
		json_object_object_add(c, "dns", a);
	}
	if (vm->nhosts) {
		a = json_object_new_array();
		for (i = 0; i < vm->nhosts; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(
			    o, "name",
			    json_object_new_string(vm->hosts[i].name));
			json_object_object_add(
			    o, "addr",
			    json_object_new_string(vm->hosts[i].addr));
			json_object_array_add(a, o);
		}
		json_object_object_add(c, "hosts", a);
	}
	if (vm->nvol) {
		a = json_object_new_array();
		for (i = 0; i < vm->nvol; i++) {
			json_object *o;
			char serial[16];

			if (!vm->vol[i].mnt[0])
				continue;
			o = json_object_new_object();
			if (vm->blk_dev) {
				/* Xen's xvdb.., loop devices: by name. */
				json_object_object_add(
				    o, "dev",
				    json_object_new_string(vm->vol[i].dev));
			} else {
				snprintf(serial, sizeof(serial), "vol%zu", i);
				json_object_object_add(
				    o, "serial",
				    json_object_new_string(serial));
			}
			json_object_object_add(
			    o, "mnt", json_object_new_string(vm->vol[i].mnt));
			if (vm->vol[i].fstype[0])
				json_object_object_add(
				    o, "fs",
				    json_object_new_string(vm->vol[i].fstype));
			if (vm->vol[i].ro)
				json_object_object_add(
				    o, "ro", json_object_new_boolean(1));
			json_object_array_add(a, o);
		}
		json_object_object_add(c, "blk", a);
	}
	if (vm->env.n)
		json_object_object_add(c, "env", br_json_strv(&vm->env));
	if (vm->root)
		json_object_object_add(c, "root",
				       json_object_new_string(vm->root));
	else if (vm->img.root && vm->img.root[0])
		json_object_object_add(c, "root",
				       json_object_new_string(vm->img.root));
	if (vm->stop_timeout)
		json_object_object_add(
		    c, "stop_timeout",
		    json_object_new_int((int)vm->stop_timeout));
	if (vm->swap_set)
		json_object_object_add(c, "swap",
				       json_object_new_int((int)vm->swap_mib));
	if (vm->stop_path[0])
		json_object_object_add(c, "stop",
				       json_object_new_string(BR_STOP_DEV));

	/*
	 * Distribution without epmd (there is none in the guest): the node
	 * listens on one fixed port and assumes every other node does too
	 * (OTP 23's -erl_epmd_port). Passed even without --node, so that a
	 * node started later with net_kernel:start/2 works as well; unless
	 * the arguments choose a port mapper of their own.
	 */
	if (vm->node[0]) {
		/* An address (or an interface's, @%ethN) makes a long name. */
		strv_push(&args, strpbrk(vm->node, ".:%") ? "-name" : "-sname");
		strv_push(&args, vm->node);
	}
	if (!args_have(vm->args.n ? &vm->args : &vm->img.args, "-start_epmd") &&
	    !args_have(vm->args.n ? &vm->args : &vm->img.args,
		       "-erl_epmd_port") &&
	    !args_have(vm->args.n ? &vm->args : &vm->img.args,
		       "-epmd_module")) {
		strv_push(&args, "-start_epmd");
		strv_push(&args, "false");
		strv_push(&args, "-erl_epmd_port");
		strv_pushf(&args, "%u",
			   vm->dist_port ? vm->dist_port : BR_DIST_PORT);
	}
	/* Distribution over TLS: the node's certificate, key and CA. */
	if (vm->dist_tls) {
		static const char *const side[] = {"server", "client"};

		strv_push(&args, "-proto_dist");
		strv_push(&args, "inet_tls");
		strv_push(&args, "-ssl_dist_opt");
		for (k = 0; k < 2; k++) {
			strv_pushf(&args, "%s_certfile", side[k]);
			strv_pushf(&args, "%s/cert.pem", vm->dist_tls);
			strv_pushf(&args, "%s_keyfile", side[k]);
			strv_pushf(&args, "%s/key.pem", vm->dist_tls);
			strv_pushf(&args, "%s_cacertfile", side[k]);
			strv_pushf(&args, "%s/cacert.pem", vm->dist_tls);
			strv_pushf(&args, "%s_verify", side[k]);
			strv_push(&args, "verify_peer");
		}
		strv_push(&args, "server_fail_if_no_peer_cert");
		strv_push(&args, "true");
	}
	if (vm->img.release && vm->img.release[0]) {
		/*
		 * A release boots with its own -boot, -config and vm.args:
		 * --erl-args come after them (the later of two emulator
		 * flags wins, as after erlexec's -args_file), before the
		 * plain arguments.
		 */
		for (i = 0; i < vm->img.args.n &&
			    strcmp(vm->img.args.v[i], "-extra");
		     i++)
			strv_push(&args, vm->img.args.v[i]);
		for (k = 0; k < vm->args.n; k++)
			strv_push(&args, vm->args.v[k]);
		for (; i < vm->img.args.n; i++)
			strv_push(&args, vm->img.args.v[i]);
		for (i = 0; i < vm->app_args.n; i++)
			strv_push(&args, vm->app_args.v[i]);
	} else if (vm->args.n) {
		for (i = 0; i < vm->args.n; i++)
			strv_push(&args, vm->args.v[i]);
	} else {
		for (i = 0; i < vm->img.args.n; i++)
			strv_push(&args, vm->img.args.v[i]);
		for (i = 0; i < vm->app_args.n; i++)
			strv_push(&args, vm->app_args.v[i]);
	}
	json_object_object_add(c, "args", br_json_strv(&args));
	strv_free(&args);

	out = guestcfg_one_word(json_object_to_json_string_ext(
	    c, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(c);
	return out;
}

/*
 * qemu 7.2's microvm without ACPI has 8 virtio-mmio transports, 512
 * bytes apart from 0xfeb00000, transport T on IRQ 5 + T. Transport 3
 * is left out: its IRQ 8 is the RTC's, which the kernel does not share.
 * qemu fills them from the top when a device names no bus; so do we.
 * XXX: this is qemu 7.2's layout, not something qemu reports; a qemu
 * that placed them otherwise would boot a guest without its disks.
 */
#define MMIO_BASE     0xfeb00000UL
#define MMIO_SIZE     512
#define MMIO_IRQ_BASE 5
static const unsigned mmio_slots[] = {7, 6, 5, 4, 2, 1, 0};
#define MMIO_NSLOTS (sizeof(mmio_slots) / sizeof(mmio_slots[0]))

/* The root disk, the volumes, the NICs and the RNG, in that order. */
static size_t guestcfg_virtio_count(const struct br_vm *vm)
{
	return 1 + vm->nvol + vm->nnic + 1;
}

/* " acpi=off ... virtio_mmio.device=..." naming every virtio device. */
static void guestcfg_mmio(const struct br_vm *vm, char *buf, size_t len)
{
	size_t n, used;

	/*
	 * acpi=off: not even a search for tables that are not there. Nor
	 * do tables then say where fw_cfg is (the cookie comes through
	 * it): x86's I/O ports, 12 from 0x510.
	 */
	snprintf(buf, len, " acpi=off qemu_fw_cfg.ioport=12@0x510:0:1:4");
	for (n = 0; n < guestcfg_virtio_count(vm); n++) {
		unsigned t = br_mmio_transport(n);

		used = strlen(buf);
		snprintf(buf + used, len - used,
			 " virtio_mmio.device=%u@0x%lx:%u", MMIO_SIZE,
			 MMIO_BASE + t * MMIO_SIZE, MMIO_IRQ_BASE + t);
	}
}

int br_qemu_extra_has(const struct br_vm *vm, const char *const *opts,
		      size_t nopts)
{
	size_t i, k;

	for (i = 0; i < vm->qemu_extra.n; i++)
		for (k = 0; k < nopts; k++)
			if (!strcmp(vm->qemu_extra.v[i], opts[k]))
				return 1;
	return 0;
}

/* Devices from -g: qemu would put them where the kernel does not look. */
static int guestcfg_extra_devices(const struct br_vm *vm)
{
	static const char *const opts[] = {"-device", "-drive", "-nic", "-net"};

	return br_qemu_extra_has(vm, opts, sizeof(opts) / sizeof(opts[0]));
}

static char *guestcfg_line(const struct br_vm *vm, int no_acpi);

/*
 * Without ACPI when the image's init has the stop line (its power
 * button then), the devices fit the transports, none comes from -g,
 * and the longer command line still fits: else ACPI describes them.
 */
int br_no_acpi(const struct br_vm *vm)
{
	char *line;
	int fits;

	if (vm->kernel_base || !vm->img.stop_line ||
	    guestcfg_virtio_count(vm) > MMIO_NSLOTS ||
	    guestcfg_extra_devices(vm))
		return 0;
	line = guestcfg_line(vm, 1);
	fits = line && strlen(line) < BR_CMDLINE_MAX;
	free(line);
	return fits;
}

unsigned br_mmio_transport(size_t n)
{
	return n < MMIO_NSLOTS ? mmio_slots[n] : 0;
}

static char *guestcfg_line(const struct br_vm *vm, int no_acpi)
{
	char *cfg = br_guestcfg_json(vm), *line;
	char ip[64] = "", tsc[64] = "", mmio[512] = "";
	size_t i;

	/*
	 * Under TCG the guest's TSC ticks at the host's rate, but the
	 * kernel's PIT calibration is too jittery there and fails now and
	 * then, leaving no clock and a hung boot; so it is told the rate.
	 * That TSC is constant, so the clocksource watchdog (which costs
	 * about 0.3 s with two vCPUs) is not needed either.
	 * XXX: on a host whose TSC is not constant the guest clock would
	 * drift, and nothing in the guest would notice.
	 */
	if (vm->tsc_khz)
		snprintf(tsc, sizeof(tsc), " tsc_early_khz=%lu tsc=reliable",
			 vm->tsc_khz);

	/*
	 * The kernel's own DHCP client configures the first such NIC.
	 * TODO: a second interface with inet,dhcp gets no address; init
	 * needs its own DHCP client for that.
	 */
	for (i = 0; i < vm->nnic; i++)
		if (vm->nic[i].method == BR_NET_DHCP) {
			snprintf(ip, sizeof(ip), " ip=:::::eth%zu:dhcp", i);
			break;
		}
	/*
	 * quiet: only warnings reach the console. panic=-1 and reboot=t
	 * with qemu's -no-reboot make any guest end (poweroff, panic)
	 * end qemu at once. lapic_timer_khz (kernel/patches): qemu's local
	 * APIC timer counts at 1 GHz, so the kernel need not spend 0.1 to
	 * 0.2 s measuring it against the PIT.
	 */
	if (no_acpi)
		guestcfg_mmio(vm, mmio, sizeof(mmio));
	if (asprintf(&line, "%s%s%s%s -- beamrun=%s",
		     vm->kernel_base ? vm->kernel_base
				     : "console=ttyS0 quiet root=/dev/vda "
				       "rootfstype=erofs ro panic=-1 reboot=t "
				       "lapic_timer_khz=" BR_QEMU_APIC_KHZ,
		     mmio, tsc, ip, cfg) < 0)
		line = NULL;
	free(cfg);
	return line;
}

char *br_kernel_cmdline(const struct br_vm *vm)
{
	return guestcfg_line(vm, br_no_acpi(vm));
}

char *br_kernel_cmdline_fits(const struct br_vm *vm)
{
	char *line = br_kernel_cmdline(vm);

	if (!line) {
		br_seterr("cannot build the kernel command line");
		return NULL;
	}
	/*
	 * TODO: a configuration longer than the kernel's command line is
	 * refused; passing it through qemu's fw_cfg would lift the limit.
	 */
	if (strlen(line) >= BR_CMDLINE_MAX) {
		br_seterr("the guest configuration is too long for the kernel "
			  "command line (%zu bytes, limit %d); shorten the "
			  "arguments or environment",
			  strlen(line), BR_CMDLINE_MAX - 1);
		free(line);
		return NULL;
	}
	return line;
}
