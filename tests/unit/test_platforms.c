/*
 * Unit tests for host/xen.c and host/libvirt.c: the xl domain
 * configuration and the libvirt domain XML, compared with the files in
 * tests/unit/expected/ (run from the repository root). BEAMRUN_UPDATE=1
 * rewrites them; review the diff before committing it.
 */
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

#include "beamrun.h"

#define EXPECTED "tests/unit/expected/"

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
	vm->img.otp = xstrdup("25");
	vm->img.app = xstrdup("echoserver");
	vm->img.root = xstrdup("/otp");
	strv_push(&vm->img.args, "-noshell");
	strv_push(&vm->img.args, "-run");
	strv_push(&vm->img.args, "echoserver");
	strv_push(&vm->img.args, "start");
	vm->accel = BR_ACCEL_TCG;
	vm->mem_mib = 64;
	vm->cpus = 1;
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

/* A NIC as br_parse_nic_for and -W leave it, with a fixed MAC. */
static struct br_nic *add_nic(struct br_vm *vm, const char *tag,
			      const char *base, const char *backend)
{
	struct br_nic *n = &vm->nic[vm->nnic];

	memset(n, 0, sizeof(*n));
	snprintf(n->tag, sizeof(n->tag), "%s", tag);
	snprintf(n->base, sizeof(n->base), "%s", base);
	n->backend = xstrdup(backend);
	n->family = AF_INET;
	n->mac[0] = 0x52;
	n->mac[1] = 0x54;
	n->mac[5] = (unsigned char)(0x10 + vm->nnic);
	vm->nnic++;
	return n;
}

static void add_vol(struct br_vm *vm, const char *path, const char *mnt,
		    const char *fs, int ro)
{
	struct br_vol *v = &vm->vol[vm->nvol++];

	v->path = xstrdup(path);
	snprintf(v->mnt, sizeof(v->mnt), "%s", mnt);
	snprintf(v->fstype, sizeof(v->fstype), "%s", fs);
	v->ro = ro;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &len, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void assert_expected(const char *got, const char *file)
{
	char path[256], *want;

	assert_non_null(got);
	snprintf(path, sizeof(path), EXPECTED "%s", file);
	if (getenv("BEAMRUN_UPDATE")) {
		FILE *f = fopen(path, "we");

		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	want = slurp(path);
	if (!want)
		fail_msg("%s: missing (BEAMRUN_UPDATE=1 writes it)", path);
	assert_string_equal(got, want);
	free(want);
}

/* ---- xl ----------------------------------------------------------------- */

static void test_xl_minimal(void **state)
{
	struct br_vm *vm = *state;
	char *cfg = br_xl_config(vm, "beamrun-echo", "/cache/vmlinux-1",
				 "/cache/root-1.erofs");

	assert_expected(cfg, "xen-minimal.xl");
	free(cfg);
}

/* Two vifs (static, dhcp), two volumes (one read-only), -d -M -c -N -e. */
static void test_xl_nics_volumes(void **state)
{
	struct br_vm *vm = *state;
	struct br_nic *n;
	char *cfg;

	n = add_nic(vm, "lan", "xenif", "bridge=xenbr0");
	n->method = BR_NET_STATIC;
	strcpy(n->addr, "10.0.120.101");
	n->prefix = 24;
	strcpy(n->gw, "10.0.120.100");
	n = add_nic(vm, "wan", "xenif", "bridge=xenbr1,rate=10Mb/s");
	n->method = BR_NET_DHCP;
	add_vol(vm, "/srv/erlang.iso", "/opt/erlang", "iso9660", 1);
	add_vol(vm, "/srv/data.img", "/data", "ext4", 0);
	strv_push(&vm->env, "ERL_INETRC=/opt/erlang/erl_inetrc");
	strcpy(vm->hostname, "web1");
	vm->mem_mib = 256;
	vm->cpus = 2;
	vm->destroy = 1;
	cfg =
	    br_xl_config(vm, "web1", "/cache/vmlinux-1", "/cache/root-1.erofs");
	assert_expected(cfg, "xen-nics-volumes.xl");
	free(cfg);
}

/* A vif without xl text, an unmounted disk, quotes in the arguments. */
static void test_xl_quoting(void **state)
{
	struct br_vm *vm = *state;
	char *cfg;

	add_nic(vm, "n", "xenif", "")->method = BR_NET_DHCP;
	add_vol(vm, "/srv/raw disk.img", "", "", 0);
	strv_push(&vm->args, "-eval");
	strv_push(&vm->args, "io:format(\"it's \\\\ here~n\")");
	cfg = br_xl_config(vm, "q", "/cache/vmlinux-1", "/cache/root-1.erofs");
	assert_expected(cfg, "xen-quoting.xl");
	free(cfg);
}

/* ---- libvirt ------------------------------------------------------------ */

static void test_libvirt_minimal(void **state)
{
	struct br_vm *vm = *state;
	char *xml;

	add_nic(vm, "", "vioif", "user");
	xml = br_libvirt_xml(vm, "beamrun-echo", "/cache/kernel-1",
			     "/cache/root-1.erofs");
	assert_expected(xml, "libvirt-minimal.xml");
	free(xml);
}

/* A forwarded user NIC, a libvirt network and a bridge, two volumes. */
static void test_libvirt_nics_volumes(void **state)
{
	struct br_vm *vm = *state;
	struct br_nic *n;
	char *xml;

	add_nic(vm, "fwd", "vioif",
		"user,hostfwd=tcp:127.0.0.1:8080-:8080,"
		"hostfwd=udp:127.0.0.1:5353-:53");
	n = add_nic(vm, "lan", "vioif", "network=default");
	n->method = BR_NET_DHCP;
	n = add_nic(vm, "br", "vioif", "bridge=br0");
	n->method = BR_NET_STATIC;
	strcpy(n->addr, "192.168.1.20");
	n->prefix = 24;
	add_vol(vm, "/srv/erlang.iso", "/opt/erlang", "iso9660", 1);
	add_vol(vm, "/srv/data & more.img", "/data", "ext4", 0);
	strv_push(&vm->qemu_extra, "-device");
	strv_push(&vm->qemu_extra, "pvpanic");
	vm->accel = BR_ACCEL_KVM;
	vm->console_log = "/var/log/app<1>.log";
	vm->mem_mib = 512;
	vm->cpus = 4;
	xml = br_libvirt_xml(vm, "app<1>", "/cache/kernel-1",
			     "/cache/root-1.erofs");
	assert_expected(xml, "libvirt-nics-volumes.xml");
	free(xml);
}

/* ---- -I per platform ---------------------------------------------------- */

static void test_nic_for_platforms(void **state)
{
	struct br_nic n;

	(void)state;
	assert_int_equal(br_parse_nic_for("a,xenif,bridge=xenbr0", &n, "xen"),
			 0);
	assert_string_equal(n.backend, "bridge=xenbr0");
	free(n.backend);
	assert_int_equal(br_parse_nic_for("a,xenif", &n, "xen"), 0);
	assert_string_equal(n.backend, "");
	free(n.backend);
	assert_int_equal(br_parse_nic_for("a,vioif,x", &n, "xen"), -1);
	assert_non_null(strstr(br_err(), "not xenif"));
	assert_int_equal(br_parse_nic_for("a,xenif,bridge='x'", &n, "xen"), -1);
	assert_int_equal(br_parse_nic_for("a,vioif", &n, "iso"), 0);
	free(n.backend);
	assert_int_equal(br_parse_nic_for("a,vioif,-net user", &n, "iso"), -1);
	assert_non_null(strstr(br_err(), "TAG,BASE only"));
	assert_int_equal(br_parse_nic_for("a,vioif", &n, "virsh-xml"), 0);
	assert_string_equal(n.backend, "user");
	free(n.backend);
	assert_int_equal(br_parse_nic_for("a,vioif,tap", &n, "virsh-xml"), -1);
	assert_int_equal(
	    br_parse_nic_for("a,vioif,network=x'y", &n, "virsh-xml"), -1);
}

#define VM_TEST(f) cmocka_unit_test_setup_teardown(f, vm_setup, vm_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    VM_TEST(test_xl_minimal),
	    VM_TEST(test_xl_nics_volumes),
	    VM_TEST(test_xl_quoting),
	    VM_TEST(test_libvirt_minimal),
	    VM_TEST(test_libvirt_nics_volumes),
	    cmocka_unit_test(test_nic_for_platforms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
