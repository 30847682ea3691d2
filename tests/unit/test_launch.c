/* Unit tests for host/guestcfg.c and host/qemu.c: guest JSON and qemu argv. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "beamrun.h"

/* What every run's qemu command line starts and ends with. */
#define QEMU_HEAD                                                              \
	"qemu-system-x86_64 -M microvm,acpi=off,auto-kernel-cmdline=off "      \
	"-nodefaults -no-user-config -display none -no-reboot "
#define QEMU_SERIAL "-chardev stdio,id=con0,signal=off -serial chardev:con0 "
#define QEMU_ROOT                                                              \
	"-drive if=none,id=root,file=/images/echo.img,format=raw,"             \
	"offset=12288,size=65536,readonly=on "                                 \
	"-device virtio-blk-device,bus=virtio-mmio-bus.7,drive=root,serial=root "
/* Guest RAM of M MiB in a memfd: what TCG gets (KVM: plain -m). */
#define QEMU_TCG_RAM(m)                                                        \
	"-m " m " -object memory-backend-memfd,id=ram0,size=" m "M "           \
	"-machine memory-backend=ram0 "
/* The RNG, the last virtio device, on transport T. */
#define QEMU_RNG_WDT(t)                                                        \
	"-object rng-random,id=rng0,filename=/dev/urandom "                    \
	"-device virtio-rng-device,bus=virtio-mmio-bus." t ",rng=rng0 "        \
	"-device ib700 -action watchdog=poweroff"
#define KCMD_BASE                                                              \
	"console=ttyS0 quiet root=/dev/vda rootfstype=erofs ro panic=-1 "      \
	"reboot=t lapic_timer_khz=1000000"
/* Without ACPI, the kernel finds the virtio-mmio transports 7, 6, ... */
#define MMIO7 " virtio_mmio.device=512@0xfeb00e00:12"
#define MMIO6 " virtio_mmio.device=512@0xfeb00c00:11"
#define MMIO5 " virtio_mmio.device=512@0xfeb00a00:10"
#define MMIO4 " virtio_mmio.device=512@0xfeb00800:9"
/* The command line of a VM of 2, 3 or 4 virtio devices. */
#define NOACPI " acpi=off qemu_fw_cfg.ioport=12@0x510:0:1:4"
#define KCMD2 KCMD_BASE NOACPI MMIO7 MMIO6
#define KCMD3 KCMD2 MMIO5
#define KCMD4 KCMD3 MMIO4
#define USER_NET                                                               \
	"\"net\":[{\"if\":\"eth0\",\"method\":\"static\","                     \
	"\"addr\":\"10.0.2.15\",\"prefix\":24,\"gw\":\"10.0.2.2\"}],"          \
	"\"dns\":[\"10.0.2.3\"],"
/* What every guest gets unless its arguments pick a port mapper. */
#define EPMDLESS                                                               \
	"\"-start_epmd\",\"false\",\"-erl_epmd_port\",\"4370\","
#define BAKED_ARGS "\"args\":[" EPMDLESS "\"-noshell\",\"-run\",\"echoserver\",\"start\"]"

static void vm_free(struct br_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->nnic; i++)
		free(vm->nic[i].backend);
	for (i = 0; i < vm->nvol; i++)
		free(vm->vol[i].path);
	br_image_free(&vm->img);
	strv_free(&vm->env);
	strv_free(&vm->args);
	strv_free(&vm->app_args);
	strv_free(&vm->qemu_extra);
}

static int vm_setup(void **state)
{
	struct br_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return -1;
	vm->img.path = xstrdup("/images/echo.img");
	vm->img.kernel_off = 4096;
	vm->img.kernel_len = 8000;
	vm->img.root_off = 12288;
	vm->img.root_len = 65536;
	vm->img.otp = xstrdup("25");
	vm->img.app = xstrdup("echoserver");
	vm->img.root = xstrdup("/otp");
	vm->img.stop_line = 1;
	strv_push(&vm->img.args, "-noshell");
	strv_push(&vm->img.args, "-run");
	strv_push(&vm->img.args, "echoserver");
	strv_push(&vm->img.args, "start");
	vm->accel = BR_ACCEL_TCG;
	vm->mem_mib = 256;
	vm->cpus = 1;
	strcpy(vm->kernel_path, "/cache/kernel-1234abcd-8000");
	*state = vm;
	return 0;
}

static int vm_teardown(void **state)
{
	struct br_vm *vm = *state;

	vm_free(vm);
	free(vm);
	return 0;
}

/* run's default network: one user-mode NIC, as cmd_run sets it up. */
static void add_user_nic(struct br_vm *vm)
{
	struct br_nic *n = &vm->nic[vm->nnic++];

	memset(n, 0, sizeof(*n));
	n->backend = xstrdup("user");
	n->family = AF_INET;
	n->mac[0] = 0x52;
	n->mac[1] = 0x54;
	n->mac[5] = 0x01;
}

static void add_fwd(struct br_vm *vm, const char *proto, unsigned h, unsigned g)
{
	struct br_fwd *f = &vm->fwd[vm->nfwd++];

	strcpy(f->proto, proto);
	f->host_port = h;
	f->guest_port = g;
}

/* A volume as br_parse_vol leaves it: fs is "" when not mounted. */
static void add_vol(struct br_vm *vm, const char *path, const char *mnt,
		    const char *fs, int ro)
{
	struct br_vol *v = &vm->vol[vm->nvol++];

	v->path = xstrdup(path);
	snprintf(v->mnt, sizeof(v->mnt), "%s", mnt);
	snprintf(v->fstype, sizeof(v->fstype), "%s", fs);
	v->ro = ro;
}

static void assert_json(const struct br_vm *vm, const char *want)
{
	char *got = br_guestcfg_json(vm);

	assert_non_null(got);
	if (strcmp(got, want)) {
		fprintf(stderr, "guest config\n got: %s\nwant: %s\n", got,
			want);
		free(got);
		fail_msg("guest config differs");
	}
	assert_null(strchr(got, ' '));
	free(got);
}

static void assert_argv(const struct br_vm *vm, const char *want)
{
	struct strv a = {0};
	char *got;

	if (br_qemu_argv(vm, &a)) {
		strv_free(&a);
		fail_msg("br_qemu_argv: %s", br_err());
	}
	assert_null(a.v[a.n]);
	got = strv_join_shell(&a);
	strv_free(&a);
	if (strcmp(got, want)) {
		fprintf(stderr, "qemu argv\n got: %s\nwant: %s\n", got, want);
		free(got);
		fail_msg("qemu argv differs");
	}
	free(got);
}

/* ---- guest configuration ----------------------------------------------- */

static void test_json_minimal(void **state)
{
	struct br_vm *vm = *state;

	assert_json(vm, "{\"v\":1,\"root\":\"/otp\"," BAKED_ARGS "}");
}

static void test_json_full(void **state)
{
	struct br_vm *vm = *state;

	vm->guest_verbose = 1;
	strcpy(vm->hostname, "echo");
	add_user_nic(vm);
	add_fwd(vm, "tcp", 8080, 8080);
	add_vol(vm, "/data/a.img", "/data", "ext4", 0);
	add_vol(vm, "/data/b.img", "/cfg", "iso9660", 1);
	strv_push(&vm->env, "FOO=bar baz");
	strv_push(&vm->env, "LANG=C");
	vm->stop_timeout = 5;
	strv_push(&vm->args, "-noshell");
	strv_push(&vm->args, "-eval");
	strv_push(&vm->args, "io:format(\"hi there/\\n\")");
	assert_json(vm,
		    "{\"v\":1,\"verbose\":true,\"hostname\":\"echo\"," USER_NET
		    "\"blk\":[{\"serial\":\"vol0\",\"mnt\":\"/data\","
		    "\"fs\":\"ext4\"},{\"serial\":\"vol1\",\"mnt\":\"/cfg\","
		    "\"fs\":\"iso9660\",\"ro\":true}],"
		    "\"env\":[\"FOO=bar\\u0020baz\",\"LANG=C\"],"
		    "\"root\":\"/otp\",\"stop_timeout\":5,"
		    "\"args\":[" EPMDLESS "\"-noshell\",\"-eval\","
		    "\"io:format(\\u0022hi\\u0020there/\\\\n\\u0022)\"]}");
}

static void test_json_app_args_and_root(void **state)
{
	struct br_vm *vm = *state;

	/* No args: the baked ones, then the start function's extras. */
	strv_push(&vm->app_args, "a b");
	strv_push(&vm->app_args, "c");
	vm->root = "/opt/otp";
	assert_json(vm, "{\"v\":1,\"root\":\"/opt/otp\",\"args\":[" EPMDLESS "\"-noshell\","
			"\"-run\",\"echoserver\",\"start\",\"a\\u0020b\","
			"\"c\"]}");
	/* args replace the baked ones and the extras. */
	strv_push(&vm->args, "-s");
	strv_push(&vm->args, "other");
	assert_json(vm, "{\"v\":1,\"root\":\"/opt/otp\",\"args\":[" EPMDLESS "\"-s\","
			"\"other\"]}");
}

/* A node: the distribution flags come first, then the image's args. */
static void test_json_node(void **state)
{
	struct br_vm *vm = *state;

	snprintf(vm->node, sizeof(vm->node), "app@10.0.3.1");
	assert_json(vm, "{\"v\":1,\"root\":\"/otp\",\"args\":[\"-name\","
			"\"app@10.0.3.1\"," EPMDLESS "\"-noshell\",\"-run\","
			"\"echoserver\",\"start\"]}");
	/* No dot in the host part: a short name; another port. */
	snprintf(vm->node, sizeof(vm->node), "app@box");
	vm->dist_port = 9000;
	strv_push(&vm->args, "-s");
	strv_push(&vm->args, "other");
	assert_json(vm, "{\"v\":1,\"root\":\"/otp\",\"args\":[\"-sname\","
			"\"app@box\",\"-start_epmd\",\"false\","
			"\"-erl_epmd_port\",\"9000\",\"-s\",\"other\"]}");
	/* The address of an interface, filled in by the guest's init. */
	snprintf(vm->node, sizeof(vm->node), "app@%%eth1");
	assert_json(vm, "{\"v\":1,\"root\":\"/otp\",\"args\":[\"-name\","
			"\"app@%eth1\",\"-start_epmd\",\"false\","
			"\"-erl_epmd_port\",\"9000\",\"-s\",\"other\"]}");
	snprintf(vm->node, sizeof(vm->node), "app@box");
	/* Arguments with a port mapper of their own keep it. */
	strv_push(&vm->args, "-epmd_module");
	strv_push(&vm->args, "my_epmd");
	assert_json(vm, "{\"v\":1,\"root\":\"/otp\",\"args\":[\"-sname\","
			"\"app@box\",\"-s\",\"other\",\"-epmd_module\","
			"\"my_epmd\"]}");
}

static void test_json_volume_not_mounted(void **state)
{
	struct br_vm *vm = *state;

	/* An unmounted volume keeps its index in the serial numbers. */
	add_vol(vm, "/data/raw.img", "", "", 0);
	add_vol(vm, "/data/b.img", "/b", "erofs", 1);
	assert_json(vm, "{\"v\":1,\"blk\":[{\"serial\":\"vol1\",\"mnt\":"
			"\"/b\",\"fs\":\"erofs\",\"ro\":true}],"
			"\"root\":\"/otp\"," BAKED_ARGS "}");
}

static void test_json_static_dhcp_auto6(void **state)
{
	struct br_vm *vm = *state;

	assert_int_equal(
	    br_parse_nic("net0,vioif,-net tap,ifname=tap0", &vm->nic[0]), 0);
	assert_int_equal(
	    br_parse_nic("net1,vioif,-net tap,ifname=tap1", &vm->nic[1]), 0);
	assert_int_equal(
	    br_parse_nic("net2,vioif,-net tap,ifname=tap2", &vm->nic[2]), 0);
	vm->nnic = 3;
	assert_int_equal(
	    br_parse_netspec("net0,inet,static,10.0.0.2/24", vm->nic, vm->nnic),
	    0);
	assert_int_equal(br_parse_netspec("net1,inet,dhcp", vm->nic, vm->nnic),
			 0);
	assert_int_equal(br_parse_netspec("net2,inet6,auto", vm->nic, vm->nnic),
			 0);
	/* No user-mode NIC: no DNS server is invented. */
	assert_json(vm, "{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
			"\"static\",\"addr\":\"10.0.0.2\",\"prefix\":24},"
			"{\"if\":\"eth1\",\"method\":\"dhcp\"},"
			"{\"if\":\"eth2\",\"method\":\"auto6\"}],"
			"\"root\":\"/otp\"," BAKED_ARGS "}");
}

/* --dns replaces the user network's nameserver and the lease's. */
static void test_json_dns_hosts(void **state)
{
	struct br_vm *vm = *state;

	add_user_nic(vm);
	strcpy(vm->dns[0], "10.0.2.2#5353");
	vm->ndns = 1;
	strcpy(vm->hosts[0].name, "db.test");
	strcpy(vm->hosts[0].addr, "10.0.3.9");
	vm->nhosts = 1;
	assert_json(vm, "{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
			"\"static\",\"addr\":\"10.0.2.15\",\"prefix\":24,"
			"\"gw\":\"10.0.2.2\"}],\"dns\":[\"10.0.2.2#5353\"],"
			"\"dhcp_dns\":false,\"hosts\":[{\"name\":\"db.test\","
			"\"addr\":\"10.0.3.9\"}],"
			"\"root\":\"/otp\"," BAKED_ARGS "}");
}

/* A NIC with IPv4 and IPv6: two entries for one interface. */
static void test_json_dual_stack(void **state)
{
	struct br_vm *vm = *state;

	assert_int_equal(
	    br_parse_nic("net0,vioif,-net tap,ifname=tap0", &vm->nic[0]), 0);
	vm->nnic = 1;
	assert_int_equal(
	    br_parse_netspec("net0,inet6,auto", vm->nic, vm->nnic), 0);
	assert_int_equal(
	    br_parse_netspec("net0,inet,static,10.0.0.2/24", vm->nic, vm->nnic),
	    0);
	assert_json(vm, "{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
			"\"static\",\"addr\":\"10.0.0.2\",\"prefix\":24},"
			"{\"if\":\"eth0\",\"method\":\"auto6\"}],"
			"\"root\":\"/otp\"," BAKED_ARGS "}");
}

/* A user network on DHCP: the lease names the nameserver. */
static void test_json_dhcp_user_no_dns(void **state)
{
	struct br_vm *vm = *state;

	add_user_nic(vm);
	vm->nic[0].method = BR_NET_DHCP;
	assert_json(vm, "{\"v\":1,\"net\":[{\"if\":\"eth0\",\"method\":"
			"\"dhcp\"}],\"root\":\"/otp\"," BAKED_ARGS "}");
}

/* ---- kernel command line ----------------------------------------------- */

static void test_cmdline_no_dhcp(void **state)
{
	struct br_vm *vm = *state;
	char *line;

	add_user_nic(vm);
	line = br_kernel_cmdline(vm);
	assert_non_null(line);
	assert_string_equal(line, KCMD3 " -- beamrun={\"v\":1," USER_NET
				       "\"root\":\"/otp\"," BAKED_ARGS "}");
	assert_null(strstr(line, "ip="));
	free(line);
}

static void test_cmdline_dhcp(void **state)
{
	struct br_vm *vm = *state;
	char *line, *cfg;

	add_user_nic(vm);
	vm->nic[0].method = BR_NET_DHCP;
	line = br_kernel_cmdline(vm);
	cfg = br_guestcfg_json(vm);
	assert_non_null(line);
	assert_non_null(strstr(line, " ip=:::::eth0:dhcp -- beamrun="));
	/* The configuration is the last word, whole. */
	assert_non_null(strstr(line, cfg));
	assert_string_equal(strstr(line, " -- beamrun=") + 12, cfg);
	free(line);
	free(cfg);

	/* The first DHCP NIC is the one the kernel configures. */
	vm->nic[0].method = BR_NET_NONE;
	add_user_nic(vm);
	vm->nic[1].method = BR_NET_DHCP;
	line = br_kernel_cmdline(vm);
	assert_non_null(strstr(line, " ip=:::::eth1:dhcp "));
	assert_null(strstr(line, "eth0:dhcp"));
	free(line);
}

/* ---- qemu argv --------------------------------------------------------- */

static void test_qemu_default_run(void **state)
{
	struct br_vm *vm = *state;

	add_user_nic(vm);
	add_fwd(vm, "tcp", 8080, 8080);
	assert_argv(vm, QEMU_HEAD
		    "-accel tcg -cpu max " QEMU_TCG_RAM("256") "-smp 1 "
		    "-kernel /cache/kernel-1234abcd-8000 "
		    "-append '" KCMD3 " -- beamrun={\"v\":1," USER_NET
		    "\"root\":\"/otp\"," BAKED_ARGS "}' " QEMU_SERIAL QEMU_ROOT
		    "-netdev user,id=net0,"
		    "hostfwd=tcp:127.0.0.1:8080-:8080 "
		    "-device virtio-net-device,bus=virtio-mmio-bus.6,netdev=net0,"
		    "mac=52:54:00:00:00:01 " QEMU_RNG_WDT("5"));
}

static void test_qemu_forwards_first_user_nic(void **state)
{
	struct br_vm *vm = *state;

	assert_int_equal(
	    br_parse_nic("net0,vioif,-net tap,ifname=tap0", &vm->nic[0]), 0);
	memcpy(vm->nic[0].mac, "\x52\x54\x00\xaa\xbb\xcc", 6);
	vm->nnic = 1;
	add_user_nic(vm);
	free(vm->nic[1].backend);
	vm->nic[1].backend = xstrdup("user,restrict=on");
	add_fwd(vm, "tcp", 18080, 8080);
	add_fwd(vm, "udp", 53, 5353);
	vm->nic[0].method = BR_NET_DHCP;
	{
		struct strv a = {0};
		char *got;

		assert_int_equal(br_qemu_argv(vm, &a), 0);
		got = strv_join_shell(&a);
		assert_non_null(strstr(got, " -netdev tap,id=net0,ifname=tap0 "
					    "-device virtio-net-device,bus="
					    "virtio-mmio-bus.6,"
					    "netdev=net0,"
					    "mac=52:54:00:aa:bb:cc -netdev "
					    "user,id=net1,restrict=on,hostfwd="
					    "tcp:127.0.0.1:18080-:8080,hostfwd="
					    "udp:127.0.0.1:53-:5353 -device "
					    "virtio-net-device,bus=virtio-"
					    "mmio-bus.5,netdev=net1,"
					    "mac=52:54:00:00:00:01 "));
		free(got);
		strv_free(&a);
	}
}

static void test_qemu_tap_static(void **state)
{
	struct br_vm *vm = *state;

	assert_int_equal(br_parse_nic("net0,vioif,-net tap,script=no,"
				      "ifname=tap0",
				      &vm->nic[0]),
			 0);
	vm->nnic = 1;
	memcpy(vm->nic[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
	assert_int_equal(br_parse_netspec("net0,inet,static,10.0.0.2/24,"
					  "10.0.0.1",
					  vm->nic, vm->nnic),
			 0);
	assert_argv(vm, QEMU_HEAD
		    "-accel tcg -cpu max " QEMU_TCG_RAM("256") "-smp 1 "
		    "-kernel /cache/kernel-1234abcd-8000 "
		    "-append '" KCMD3 " -- beamrun={\"v\":1,\"net\":[{\"if\":"
		    "\"eth0\",\"method\":\"static\",\"addr\":\"10.0.0.2\","
		    "\"prefix\":24,\"gw\":\"10.0.0.1\"}],"
		    "\"root\":\"/otp\"," BAKED_ARGS "}' " QEMU_SERIAL QEMU_ROOT
		    "-netdev tap,id=net0,script=no,ifname=tap0 "
		    "-device virtio-net-device,bus=virtio-mmio-bus.6,netdev=net0,"
		    "mac=52:54:00:12:34:56 " QEMU_RNG_WDT("5"));
}

static void test_qemu_volumes(void **state)
{
	struct br_vm *vm = *state;

	add_vol(vm, "/data/a.img", "/data", "ext4", 0);
	/* A comma in a path is doubled for qemu's option parser. */
	add_vol(vm, "/data/b,c.img", "", "", 1);
	assert_argv(
	    vm, QEMU_HEAD
	    "-accel tcg -cpu max " QEMU_TCG_RAM("256") "-smp 1 "
	    "-kernel /cache/kernel-1234abcd-8000 "
	    "-append '" KCMD4 " -- beamrun={\"v\":1,\"blk\":["
	    "{\"serial\":\"vol0\",\"mnt\":\"/data\",\"fs\":\"ext4\"}],"
	    "\"root\":\"/otp\"," BAKED_ARGS "}' " QEMU_SERIAL QEMU_ROOT
	    "-drive if=none,id=vol0,file=/data/a.img,format=raw "
	    "-device virtio-blk-device,bus=virtio-mmio-bus.6,drive=vol0,"
	    "serial=vol0 "
	    "-drive if=none,id=vol1,file=/data/b,,c.img,format=raw,"
	    "readonly=on "
	    "-device virtio-blk-device,bus=virtio-mmio-bus.5,drive=vol1,serial=vol1 " QEMU_RNG_WDT("4"));
}

static void test_qemu_image_path_comma(void **state)
{
	struct br_vm *vm = *state;
	struct strv a = {0};
	char *got;

	free(vm->img.path);
	vm->img.path = xstrdup("/images/a,b.img");
	assert_int_equal(br_qemu_argv(vm, &a), 0);
	got = strv_join_shell(&a);
	assert_non_null(strstr(got, " -drive if=none,id=root,"
				    "file=/images/a,,b.img,format=raw,"
				    "offset=12288,size=65536,readonly=on "));
	free(got);
	strv_free(&a);
}

static void test_qemu_accel(void **state)
{
	struct br_vm *vm = *state;
	const char *tail = "-kernel /cache/kernel-1234abcd-8000 "
			   "-append '" KCMD2 " -- beamrun={\"v\":1,"
			   "\"root\":\"/otp\"," BAKED_ARGS
			   "}' " QEMU_SERIAL QEMU_ROOT QEMU_RNG_WDT("6");
	char want[4096];

	vm->accel = BR_ACCEL_KVM;
	vm->cpus = 4;
	vm->mem_mib = 1024;
	snprintf(want, sizeof(want),
		 QEMU_HEAD "-accel kvm -cpu host -m 1024 -smp 4 %s", tail);
	assert_argv(vm, want);

	vm->accel = BR_ACCEL_TCG;
	snprintf(want, sizeof(want),
		 QEMU_HEAD "-accel tcg,thread=multi -cpu max " QEMU_TCG_RAM(
			     "1024") "-smp 4 %s",
		 tail);
	assert_argv(vm, want);

	vm->cpus = 1;
	snprintf(want, sizeof(want),
		 QEMU_HEAD "-accel tcg -cpu max " QEMU_TCG_RAM("1024") "-smp 1 %s", tail);
	assert_argv(vm, want);
}

static void test_qemu_gdb_paused_extra(void **state)
{
	struct br_vm *vm = *state;
	const char *body = "-accel tcg -cpu max " QEMU_TCG_RAM("256") "-smp 1 "
			   "-kernel /cache/kernel-1234abcd-8000 "
			   "-append '" KCMD2 " -- beamrun={\"v\":1,"
			   "\"root\":\"/otp\"," BAKED_ARGS
			   "}' " QEMU_SERIAL QEMU_ROOT QEMU_RNG_WDT("6");
	char want[4096];

	vm->gdb_port = 1234;
	snprintf(want, sizeof(want), QEMU_HEAD "%s -gdb tcp:127.0.0.1:1234",
		 body);
	assert_argv(vm, want);

	vm->paused = 1;
	snprintf(want, sizeof(want), QEMU_HEAD "%s -gdb tcp:127.0.0.1:1234 -S",
		 body);
	assert_argv(vm, want);

	vm->gdb_port = 0;
	snprintf(want, sizeof(want), QEMU_HEAD "%s -S", body);
	assert_argv(vm, want);

	/* The cookie reaches qemu as a file for fw_cfg, never its value. */
	snprintf(vm->cookie_path, sizeof(vm->cookie_path), "/run/x,y/cookie");
	snprintf(want, sizeof(want),
		 QEMU_HEAD "%s -fw_cfg name=opt/beamrun/cookie,file=/run/x,,y/"
			   "cookie -S",
		 body);
	assert_argv(vm, want);
	vm->cookie_path[0] = '\0';

	/* -g words go last, one argv entry each, as split. */
	vm->paused = 0;
	assert_int_equal(
	    br_split_words("-d guest_errors -trace 'a b'", &vm->qemu_extra), 0);
	snprintf(want, sizeof(want),
		 QEMU_HEAD "%s -d guest_errors -trace 'a b'", body);
	assert_argv(vm, want);
	assert_int_equal(vm->qemu_extra.n, 4);

	/* -g that sets the guest's memory: no memfd backend to clash. */
	strv_free(&vm->qemu_extra);
	assert_int_equal(br_split_words("-mem-path /dev/hugepages",
					&vm->qemu_extra),
			 0);
	snprintf(want, sizeof(want),
		 QEMU_HEAD "-accel tcg -cpu max -m 256 -smp 1 %s "
			   "-mem-path /dev/hugepages",
		 body + strlen("-accel tcg -cpu max " QEMU_TCG_RAM("256")
			       "-smp 1 "));
	assert_argv(vm, want);
}

/* Set the one argument so the kernel command line is len bytes long. */
static void args_for_len(struct br_vm *vm, size_t len)
{
	char *line, *arg;
	size_t base;

	strv_free(&vm->args);
	strv_push(&vm->args, "");
	line = br_kernel_cmdline(vm);
	base = strlen(line);
	free(line);
	assert_true(len >= base);
	arg = xmalloc(len - base + 1);
	memset(arg, 'x', len - base);
	strv_free(&vm->args);
	strv_push(&vm->args, arg);
	free(arg);
	line = br_kernel_cmdline(vm);
	assert_int_equal(strlen(line), len);
	free(line);
}

static void test_qemu_cmdline_limit(void **state)
{
	struct br_vm *vm = *state;
	struct strv a = {0};

	/* With ACPI: the command line's length does not change it. */
	vm->img.stop_line = 0;
	add_user_nic(vm);
	/* The kernel keeps BR_CMDLINE_MAX - 1 characters and a NUL. */
	args_for_len(vm, BR_CMDLINE_MAX - 1);
	assert_int_equal(br_qemu_argv(vm, &a), 0);
	strv_free(&a);

	args_for_len(vm, BR_CMDLINE_MAX);
	br_seterr("%s", "");
	assert_int_equal(br_qemu_argv(vm, &a), -1);
	assert_int_equal(a.n, 0);
	assert_non_null(strstr(br_err(), "limit 2047"));
	assert_non_null(strstr(br_err(), "2048 bytes"));
	strv_free(&a);

	/* Much longer, through the environment. */
	strv_free(&vm->args);
	{
		char *big = xmalloc(3001);

		memset(big, 'y', 3000);
		memcpy(big, "BIG=", 4);
		strv_push(&vm->env, big);
		free(big);
	}
	br_seterr("%s", "");
	assert_int_equal(br_qemu_argv(vm, &a), -1);
	assert_int_equal(a.n, 0);
	assert_non_null(strstr(br_err(), "too long"));
	assert_non_null(strstr(br_err(), "limit 2047"));
	strv_free(&a);
}

/*
 * Naming the transports costs command line; a configuration that fits
 * only without them keeps ACPI, as does one whose -g adds devices.
 */
static void test_qemu_acpi_kept(void **state)
{
	struct br_vm *vm = *state;
	struct strv a = {0};
	char *got;

	add_user_nic(vm);
	vm->img.stop_line = 0;
	args_for_len(vm, BR_CMDLINE_MAX - 1); /* fits with ACPI, just */
	vm->img.stop_line = 1;
	assert_false(br_no_acpi(vm));
	assert_int_equal(br_qemu_argv(vm, &a), 0);
	got = strv_join_shell(&a);
	assert_non_null(strstr(got, "qemu-system-x86_64 -M microvm "));
	assert_null(strstr(got, "acpi=off"));
	free(got);
	strv_free(&a);

	/* Shorter: without ACPI again. */
	strv_free(&vm->args);
	strv_push(&vm->args, "-noshell");
	assert_true(br_no_acpi(vm));

	/* A device of the user's own, which only ACPI would describe. */
	assert_int_equal(br_split_words("-device virtio-blk-device,drive=x",
					 &vm->qemu_extra),
			 0);
	assert_false(br_no_acpi(vm));
	assert_int_equal(br_qemu_argv(vm, &a), 0);
	got = strv_join_shell(&a);
	assert_null(strstr(got, "acpi=off"));
	assert_null(strstr(got, "bus=virtio-mmio-bus"));
	free(got);
	strv_free(&a);
	/* Other -g words do not. */
	strv_free(&vm->qemu_extra);
	assert_int_equal(br_split_words("-d guest_errors", &vm->qemu_extra),
			 0);
	assert_true(br_no_acpi(vm));
}

/*
 * Without ACPI up to 7 virtio devices, on transports 7 down to 0 less
 * 3 (its IRQ 8 is the RTC's); more keep ACPI, which lists them, and
 * name no transport.
 */
static void test_qemu_mmio_transports(void **state)
{
	struct br_vm *vm = *state;
	struct strv a = {0};
	char *got;
	int i;

	add_user_nic(vm);
	for (i = 0; i < 4; i++)
		add_vol(vm, "/data/v.img", "", "", 0);
	/* root, 4 volumes, a NIC and the RNG: 7, the most without ACPI. */
	assert_true(br_no_acpi(vm));
	assert_int_equal(br_mmio_transport(3), 4);
	assert_int_equal(br_mmio_transport(4), 2);
	assert_int_equal(br_mmio_transport(6), 0);
	assert_int_equal(br_qemu_argv(vm, &a), 0);
	got = strv_join_shell(&a);
	assert_non_null(strstr(got, NOACPI MMIO7 MMIO6 MMIO5 MMIO4
				    " virtio_mmio.device=512@0xfeb00400:7"
				    " virtio_mmio.device=512@0xfeb00200:6"
				    " virtio_mmio.device=512@0xfeb00000:5"
				    " -- beamrun="));
	assert_null(strstr(got, "0xfeb00600"));
	assert_non_null(strstr(got, "virtio-blk-device,bus=virtio-mmio-bus.2,"
				    "drive=vol3,"));
	assert_non_null(strstr(got, "virtio-net-device,bus=virtio-mmio-bus.1,"
				    "netdev=net0,"));
	assert_non_null(strstr(got, "virtio-rng-device,bus=virtio-mmio-bus.0,"
				    "rng=rng0 "));
	free(got);
	strv_free(&a);

	add_vol(vm, "/data/v.img", "", "", 0);
	assert_false(br_no_acpi(vm));
	assert_int_equal(br_qemu_argv(vm, &a), 0);
	got = strv_join_shell(&a);
	assert_non_null(strstr(got, "qemu-system-x86_64 -M microvm "));
	assert_null(strstr(got, "acpi=off"));
	assert_null(strstr(got, "virtio_mmio.device="));
	assert_null(strstr(got, "bus="));
	free(got);
	strv_free(&a);

	/* An image whose init has no stop line keeps ACPI's power button. */
	vm->nvol = 0;
	vm->img.stop_line = 0;
	assert_false(br_no_acpi(vm));
	vm->img.stop_line = 1;

	/* Other platforms' command lines never name qemu's transports. */
	vm->nvol = 0;
	vm->kernel_base = "console=hvc0";
	got = br_kernel_cmdline(vm);
	assert_null(strstr(got, "acpi=off"));
	assert_null(strstr(got, "virtio_mmio"));
	free(got);
	vm->kernel_base = NULL;
	for (i = 0; i < 5; i++)
		free(vm->vol[i].path);
}

/* The stop line: COM2 on a socket of the run's, and init told of it. */
static void test_qemu_stop_line(void **state)
{
	struct br_vm *vm = *state;
	struct strv a = {0};
	char *got;

	snprintf(vm->stop_path, sizeof(vm->stop_path), "/run/x,y/stop.sock");
	assert_int_equal(br_qemu_argv(vm, &a), 0);
	got = strv_join_shell(&a);
	assert_non_null(strstr(got, QEMU_RNG_WDT("6")
			       " -chardev socket,id=stop0,path=/run/x,,y/"
			       "stop.sock,server=on,wait=off -device "
			       "isa-serial,chardev=stop0,index=1"));
	free(got);
	strv_free(&a);
	assert_json(vm, "{\"v\":1,\"root\":\"/otp\",\"stop\":\"/dev/ttyS1\","
			BAKED_ARGS "}");
}

/* A press: one byte to qemu's socket; none while it is not listening. */
static void test_stop_press(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/beamrun-unit-XXXXXX", byte = 0;
	int srv, conn, fd = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stop.sock", dir);
	assert_int_equal(br_stop_press(&fd, sa.sun_path), -1);
	assert_int_equal(fd, -1);

	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(srv >= 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(srv, 1), 0);
	assert_int_equal(br_stop_press(&fd, sa.sun_path), 0);
	assert_true(fd >= 0);
	conn = accept(srv, NULL, NULL);
	assert_true(conn >= 0);
	assert_int_equal(read(conn, &byte, 1), 1);
	assert_int_equal(byte, 'S');
	/* The connection is kept: a second press is a second byte. */
	assert_int_equal(br_stop_press(&fd, sa.sun_path), 0);
	assert_int_equal(read(conn, &byte, 1), 1);
	close(conn);
	close(fd);
	close(srv);
	unlink(sa.sun_path);
	rmdir(dir);
}

/* qemu's events decide the exit status when the guest reports none. */
static void test_qmp_events(void **state)
{
	struct br_qmp q;

	(void)state;
	br_qmp_init(&q);
	br_qmp_message(&q, "{\"QMP\": {\"version\": {}}}");
	br_qmp_message(&q, "{\"return\": {}}");
	br_qmp_message(&q, "{\"timestamp\": {\"seconds\": 1, "
			   "\"microseconds\": 2}, \"event\": \"POWERDOWN\"}");
	br_qmp_message(&q, "not json");
	assert_false(q.watchdog);
	assert_false(q.panicked);
	br_qmp_message(&q, "{\"timestamp\": {\"seconds\": 1, "
			   "\"microseconds\": 2}, \"event\": \"WATCHDOG\", "
			   "\"data\": {\"action\": \"poweroff\"}}");
	assert_true(q.watchdog);
	assert_false(q.panicked);
	br_qmp_message(&q, "{\"event\": \"GUEST_PANICKED\", \"data\": "
			   "{\"action\": \"pause\"}}");
	assert_true(q.panicked);
}

#define VM_TEST(f) cmocka_unit_test_setup_teardown(f, vm_setup, vm_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    VM_TEST(test_json_minimal),
	    VM_TEST(test_json_full),
	    VM_TEST(test_json_app_args_and_root),
	    VM_TEST(test_json_node),
	    VM_TEST(test_json_volume_not_mounted),
	    VM_TEST(test_json_static_dhcp_auto6),
	    VM_TEST(test_json_dns_hosts),
	    VM_TEST(test_json_dual_stack),
	    VM_TEST(test_json_dhcp_user_no_dns),
	    VM_TEST(test_cmdline_no_dhcp),
	    VM_TEST(test_cmdline_dhcp),
	    VM_TEST(test_qemu_default_run),
	    VM_TEST(test_qemu_forwards_first_user_nic),
	    VM_TEST(test_qemu_tap_static),
	    VM_TEST(test_qemu_volumes),
	    VM_TEST(test_qemu_image_path_comma),
	    VM_TEST(test_qemu_accel),
	    VM_TEST(test_qemu_gdb_paused_extra),
	    VM_TEST(test_qemu_cmdline_limit),
	    VM_TEST(test_qemu_mmio_transports),
	    VM_TEST(test_qemu_acpi_kept),
	    VM_TEST(test_qemu_stop_line),
	    cmocka_unit_test(test_stop_press),
	    cmocka_unit_test(test_qmp_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
