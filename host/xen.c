/*
 * beamrun xen: the image as a Xen PVH domU, through xl.
 *
 * The domain boots the image's kernel straight at its PVH entry (the
 * uncompressed vmlinux, extracted from the bzImage once into the cache),
 * with the root file system (the image's erofs, also extracted) as xvda
 * and each -b volume as xvdb, xvdc, ...; the guest configuration is on
 * the kernel command line, as under qemu, and the console is hvc0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beamrun.h"

/* xl's config strings: "..." with \" and \\ escaped (libxlu). */
static void xl_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static const char xen_base[] =
    "console=hvc0 quiet root=/dev/xvda rootfstype=erofs ro panic=-1 "
    "reboot=t";

char *br_xl_config(const struct br_vm *vm, const char *name, const char *kernel,
		   const char *rootfs)
{
	struct br_vm v = *vm;
	char *buf = NULL, *cmdline, *item;
	size_t len = 0, i;
	FILE *f;

	v.kernel_base = xen_base;
	v.blk_dev = 1;
	for (i = 0; i < v.nvol; i++)
		snprintf(v.vol[i].dev, sizeof(v.vol[i].dev), "xvd%c",
			 (char)('b' + i));
	cmdline = br_kernel_cmdline_fits(&v);
	if (!cmdline)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f) {
		free(cmdline);
		br_seterr("out of memory");
		return NULL;
	}
	fputs("# beamrun xen: a PVH domain (xl create FILE)\n", f);
	fputs("name = ", f);
	xl_str(f, name);
	fputs("\ntype = \"pvh\"\nkernel = ", f);
	xl_str(f, kernel);
	fputs("\ncmdline = ", f);
	xl_str(f, cmdline);
	fprintf(f, "\nmemory = %u\nvcpus = %u\n", v.mem_mib, v.cpus);
	/*
	 * rumprun kept a stopped or crashed domain for a look unless -d.
	 * The kernel reboots on a panic (panic=-1), so a reboot is a crash.
	 */
	fprintf(f, "on_poweroff = \"%s\"\non_reboot = \"%s\"\n",
		v.destroy ? "destroy" : "preserve",
		v.destroy ? "destroy" : "preserve");
	fprintf(f, "on_crash = \"%s\"\n", v.destroy ? "destroy" : "preserve");
	fputs("vif = [", f);
	for (i = 0; i < v.nnic; i++) {
		const struct br_nic *n = &v.nic[i];

		if (asprintf(&item, "mac=%02x:%02x:%02x:%02x:%02x:%02x%s%s",
			     n->mac[0], n->mac[1], n->mac[2], n->mac[3],
			     n->mac[4], n->mac[5],
			     n->backend && n->backend[0] ? "," : "",
			     n->backend ? n->backend : "") < 0)
			item = NULL;
		fputs(i ? ", " : " ", f);
		xl_str(f, item ? item : "");
		free(item);
	}
	fputs(v.nnic ? " ]\n" : "]\n", f);
	fputs("disk = [ ", f);
	if (asprintf(&item, "format=raw,vdev=xvda,access=ro,target=%s",
		     rootfs) < 0)
		item = NULL;
	xl_str(f, item ? item : "");
	free(item);
	for (i = 0; i < v.nvol; i++) {
		if (asprintf(&item, "format=raw,vdev=%s,access=%s,target=%s",
			     v.vol[i].dev, v.vol[i].ro ? "ro" : "rw",
			     v.vol[i].path) < 0)
			item = NULL;
		fputs(", ", f);
		xl_str(f, item ? item : "");
		free(item);
	}
	fputs(" ]\n", f);
	fclose(f);
	free(cmdline);
	return buf;
}

static const char xen_usage[] =
    "usage: beamrun [-D] xen [options] IMAGE [\"ERL ARGS\"] [-o FILE]\n"
    "Boot IMAGE as a Xen PVH domain with xl (rumprun's xen platform).\n"
    "  -b IMG[,MNT]          attach IMG as xvdb, xvdc, ..., mounted at MNT\n"
    "  -e VAR[=VALUE]        environment variable for the Erlang VM\n"
    "  -I TAG,xenif[,VIF]    network interface; VIF is xl's vif text\n"
    "                        (bridge=xenbr0, ...)\n"
    "  -W TAG,inet,static,ADDR/BITS[,GW] | TAG,inet,dhcp | TAG,inet6,...\n"
    "                        (an interface without -W uses DHCP)\n"
    "  -M MB                 memory (64)    -c N  vCPUs (1)\n"
    "  -N NAME               domain and host name (beamrun-IMAGE)\n"
    "  -d                    destroy the domain when it stops (else kept)\n"
    "  -D PORT               gdbsx on PORT\n"
    "  -i                    attach the console (xl create -c)\n"
    "  -p                    leave the domain paused\n"
    "  -o FILE               write the xl configuration there (kept)\n"
    "  -n, --dry-run         print the configuration and the commands\n";

/* "app.img" -> "beamrun-app", the rumprun-style default name. */
static void xen_default_name(const char *img, char *out, size_t len)
{
	const char *b = strrchr(img, '/');
	size_t n;

	b = b ? b + 1 : img;
	n = strcspn(b, ".");
	snprintf(out, len, "beamrun-%.*s", (int)(n ? n : strlen(b)), b);
}

static int have_program(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return 1;
		path += n;
		if (*path)
			path++;
	}
	return 0;
}

/* The commands that start the domain, as argv vectors. */
static void xen_commands(const struct br_vm *vm, const char *cfg,
			 const char *name, struct strv *create,
			 struct strv *gdb)
{
	strv_push(create, "xl");
	strv_push(create, "create");
	if (vm->paused || vm->gdb_port)
		strv_push(create, "-p");
	else if (vm->interactive)
		strv_push(create, "-c");
	strv_push(create, cfg);
	if (vm->gdb_port) {
		strv_push(gdb, "gdbsx");
		strv_push(gdb, "-a");
		strv_pushf(gdb, "$(xl domid %s)", name);
		strv_push(gdb, "64");
		strv_pushf(gdb, "%u", vm->gdb_port);
	}
}

int cmd_xen(int argc, char **argv)
{
	struct br_vm vm;
	struct strv create = {0}, gdb = {0}, cap = {0};
	char name[80], *cfg = NULL, *capout = NULL,
		       tmpl[] = "/tmp/beamrun-xen.XXXXXX";
	char cfgpath[4200];
	const char *kernel, *rootfs;
	size_t i;
	int rc, st, xl, tmpdir = 0;
	FILE *f;

	rc = br_rump_parse(argc, argv, &vm);
	if (rc) {
		if (rc > 0)
			fputs(xen_usage, stdout);
		br_vm_free(&vm);
		return rc > 0 ? 0 : BR_EXIT_BADINPUT;
	}
	rc = BR_EXIT_BADINPUT;
	/* Every interface without -W asks Xen's network for DHCP. */
	for (i = 0; i < vm.nnic; i++)
		if (vm.nic[i].method == BR_NET_NONE)
			vm.nic[i].method = BR_NET_DHCP;
	if (vm.hostname[0])
		snprintf(name, sizeof(name), "%s", vm.hostname);
	else
		xen_default_name(argv[optind], name, sizeof(name));
	if (br_image_files(&vm.img, 1, &kernel, &rootfs)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	cfg = br_xl_config(&vm, name, kernel, rootfs);
	if (!cfg) {
		br_die_msg("%s", br_err());
		goto out;
	}
	xl = have_program("xl");
	if (vm.out) {
		snprintf(cfgpath, sizeof(cfgpath), "%s", vm.out);
	} else if (vm.dry_run) {
		snprintf(cfgpath, sizeof(cfgpath), "%s.xl", name);
	} else if (xl) {
		if (!mkdtemp(tmpl)) {
			br_die_msg("mkdtemp: %s", strerror(errno));
			goto out;
		}
		tmpdir = 1;
		snprintf(cfgpath, sizeof(cfgpath), "%s/%s.xl", tmpl, name);
	} else {
		snprintf(cfgpath, sizeof(cfgpath), "%s.xl", name);
	}
	xen_commands(&vm, cfgpath, name, &create, &gdb);
	if (vm.dry_run) {
		char *line;

		printf("# %s\n%s", cfgpath, cfg);
		line = strv_join_shell(&create);
		printf("%s\n", line);
		free(line);
		if (gdb.n) {
			line = strv_join_shell(&gdb);
			printf("%s\n", line);
			free(line);
			if (!vm.paused)
				printf("xl unpause %s\n", name);
		}
		rc = 0;
		goto out;
	}
	if (br_check_output(cfgpath)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	f = fopen(cfgpath, "we");
	if (!f || fputs(cfg, f) < 0 || fclose(f)) {
		br_die_msg("%s: %s", cfgpath, strerror(errno));
		unlink(cfgpath);
		goto out;
	}
	if (!xl) {
		fprintf(stderr,
			"beamrun: xl is not installed here; wrote %s (start it "
			"on a Xen host with: xl create %s)\n",
			cfgpath, cfgpath);
		rc = 0;
		goto out;
	}
	st = br_run(create.v, 0);
	if (st != 0) {
		br_die_msg("xl create failed%s",
			   st < 0 ? "" : " (its message is above)");
		rc = BR_EXIT_QEMU;
		goto out;
	}
	if (gdb.n) {
		char *line = strv_join_shell(&gdb);

		/* gdbsx takes the domain id; the shell fills it in. */
		strv_push(&cap, "sh");
		strv_push(&cap, "-c");
		strv_pushf(&cap, "%s &", line);
		free(line);
		br_run(cap.v, 0);
		strv_free(&cap);
		if (!vm.paused) {
			strv_push(&cap, "xl");
			strv_push(&cap, "unpause");
			strv_push(&cap, name);
			br_run(cap.v, 0);
			strv_free(&cap);
		}
	}
	if (!vm.interactive) {
		strv_push(&cap, "xl");
		strv_push(&cap, "domid");
		strv_push(&cap, name);
		if (br_run_capture(cap.v, &capout) == 0 && capout)
			printf("xen:%s", capout);
	}
	rc = 0;
out:
	if (tmpdir) {
		unlink(cfgpath);
		rmdir(tmpl);
	}
	free(capout);
	free(cfg);
	strv_free(&create);
	strv_free(&gdb);
	strv_free(&cap);
	br_vm_free(&vm);
	return rc;
}
