/*
 * beamrun iso, beamrun disk: the image as bootable media, for hypervisors
 * that boot a CD or a disk through their firmware (VirtualBox, VMware,
 * OpenStack, bare metal): rumprun's iso platform.
 *
 * grub-mkrescue makes one hybrid image that boots from BIOS (El Torito
 * on a CD, the MBR on a disk) and from UEFI (its EFI system partition).
 * GRUB loads the kernel and one uncompressed cpio archive as the initial
 * RAM file system: the init as /init (with the host's C library it is
 * linked against), the image's erofs root as
 * /root.erofs, the -b volumes as /vol/1, /vol/2, ... and the guest
 * configuration as /beamrun.json (GRUB's linux command escapes every
 * '"' of a command line, so the JSON cannot go there); init/stage.c
 * switches to the root. The kernel needs no driver for the CD or disk
 * controller. `disk` is
 * the same image written as a raw disk, or converted to qcow2.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamrun.h"

static const char bootimg_usage[] =
    "usage: beamrun iso|disk [options] IMAGE [\"ERL ARGS\"] -o FILE\n"
    "Write a bootable ISO (iso) or disk image (disk: raw, or by FILE's\n"
    "extension .qcow2, .vmdk, .vdi, .vhdx or .vhd) of IMAGE, booting\n"
    "from BIOS and UEFI with GRUB; the\n"
    "guest configuration is in it (rumprun's iso platform).\n"
    "  -b IMG[,MNT]          carry IMG, mounted at MNT (writes stay in\n"
    "                        RAM)\n"
    "  -e VAR[=VALUE]        environment variable for the Erlang VM\n"
    "  -I TAG,vioif          a network interface (the VM's virtio NIC)\n"
    "  -W TAG,inet,static,ADDR/BITS[,GW] | TAG,inet,dhcp | ...\n"
    "                        (default: DHCP on the first NIC)\n"
    "  -N NAME               host name\n"
    "  -o FILE               the output (default beamrun-IMAGE.iso|img)\n";

/* Copy LEN bytes at OFF of file IN into the archive. */
static int cpio_range(struct archive *a, int in, uint64_t off, uint64_t len)
{
	char buf[65536];

	while (len) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = pread(in, buf, want, (off_t)off);

		if (n <= 0) {
			br_seterr("read: %s",
				  n < 0 ? strerror(errno) : "unexpected end");
			return -1;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			br_seterr("cpio: %s", archive_error_string(a));
			return -1;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int cpio_entry(struct archive *a, const char *name, mode_t mode,
		      uint64_t size)
{
	struct archive_entry *e = archive_entry_new();
	int rc;

	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, mode);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, 0, 0);
	rc = archive_write_header(a, e) < ARCHIVE_WARN ? -1 : 0;
	if (rc)
		br_seterr("cpio %s: %s", name, archive_error_string(a));
	archive_entry_free(e);
	return rc;
}

static int cpio_file(struct archive *a, const char *name, const char *path,
		     mode_t mode)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0 || fstat(fd, &st)) {
		br_seterr("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rc = cpio_entry(a, name, mode, (uint64_t)st.st_size) ||
	     cpio_range(a, fd, 0, (uint64_t)st.st_size);
	close(fd);
	return rc ? -1 : 0;
}

/*
 * The Makefile links the init statically, so this adds nothing; an
 * init linked against the host's C library would need its program
 * interpreter and libraries at their own paths, with the directories
 * above them (the image's copies are reachable only once the root is
 * mounted).
 */
static int cpio_libs(struct archive *a, const char *init)
{
	struct strv libs = {0}, dirs = {0};
	size_t i, j;
	char *name, *s;
	int rc = -1;

	if (br_elf_closure(init, &libs))
		goto done;
	for (i = 0; i < libs.n; i++) {
		name = xstrdup(libs.v[i] + strspn(libs.v[i], "/"));
		for (s = strchr(name, '/'); s; s = strchr(s + 1, '/')) {
			*s = '\0';
			for (j = 0; j < dirs.n && strcmp(dirs.v[j], name); j++)
				;
			if (j == dirs.n) {
				strv_push(&dirs, name);
				if (cpio_entry(a, name, AE_IFDIR | 0755, 0)) {
					free(name);
					goto done;
				}
			}
			*s = '/';
		}
		if (cpio_file(a, name, libs.v[i], AE_IFREG | 0755)) {
			free(name);
			goto done;
		}
		free(name);
	}
	rc = 0;
done:
	strv_free(&libs);
	strv_free(&dirs);
	return rc;
}

/*
 * The initial RAM file system: /init and its libraries, /beamrun.json,
 * /root.erofs, /vol/N.
 */
static int bootimg_cpio(const struct br_vm *vm, const char *init,
			const char *json, const char *out)
{
	struct archive *a = archive_write_new();
	char name[32];
	size_t i;
	int in = -1, rc = -1;

	if (!a || archive_write_set_format_cpio_newc(a) ||
	    archive_write_add_filter_none(a) ||
	    archive_write_open_filename(a, out)) {
		br_seterr("%s: %s", out,
			  a ? archive_error_string(a) : "out of memory");
		goto done;
	}
	if (cpio_file(a, "init", init, AE_IFREG | 0755) || cpio_libs(a, init))
		goto done;
	if (cpio_entry(a, "beamrun.json", AE_IFREG | 0444, strlen(json) + 1))
		goto done;
	if (archive_write_data(a, json, strlen(json)) !=
		(la_ssize_t)strlen(json) ||
	    archive_write_data(a, "\n", 1) != 1) {
		br_seterr("cpio: %s", archive_error_string(a));
		goto done;
	}
	in = open(vm->img.path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		br_seterr("%s: %s", vm->img.path, strerror(errno));
		goto done;
	}
	if (cpio_entry(a, "root.erofs", AE_IFREG | 0444, vm->img.root_len) ||
	    cpio_range(a, in, vm->img.root_off, vm->img.root_len))
		goto done;
	if (vm->nvol && cpio_entry(a, "vol", AE_IFDIR | 0755, 0))
		goto done;
	for (i = 0; i < vm->nvol; i++) {
		snprintf(name, sizeof(name), "vol/%zu", i + 1);
		if (cpio_file(a, name, vm->vol[i].path,
			      AE_IFREG | (vm->vol[i].ro ? 0444 : 0644)))
			goto done;
	}
	if (archive_write_close(a)) {
		br_seterr("%s: %s", out, archive_error_string(a));
		goto done;
	}
	rc = 0;
done:
	if (in >= 0)
		close(in);
	if (a)
		archive_write_free(a);
	return rc;
}

/*
 * GRUB's script quoting: inside '...' every byte is literal but a quote
 * ends it. The kernel's words are ours and have none (one would become
 * \u0027, right only inside a JSON string).
 */
static char *grub_word(const char *s)
{
	char *out = xmalloc(strlen(s) * 6 + 3), *o = out;

	*o++ = '\'';
	for (; *s; s++)
		if (*s == '\'')
			o = stpcpy(o, "\\u0027");
		else
			*o++ = *s;
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* The kernel command line with every word quoted for grub.cfg. */
static char *grub_cmdline(const char *cmdline)
{
	struct strv w = {0};
	char *out = NULL, *q, *copy = xstrdup(cmdline), *tok, *save = NULL;
	size_t i, len = 1;

	for (tok = strtok_r(copy, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		q = grub_word(tok);
		strv_push(&w, q);
		len += strlen(q) + 1;
		free(q);
	}
	out = xmalloc(len);
	out[0] = '\0';
	for (i = 0; i < w.n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, w.v[i]);
	}
	strv_free(&w);
	free(copy);
	return out;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		br_seterr("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The extension of out's file name, or NULL (none, or a dot file). */
static const char *bootimg_ext(const char *out)
{
	const char *base = strrchr(out, '/'), *ext;

	base = base ? base + 1 : out;
	ext = strrchr(base, '.');
	return ext && ext != base ? ext : NULL;
}

/*
 * The format of a disk image, by the output's extension: raw for .img,
 * .raw or none; qemu-img's name of one it converts to in *fmt; any
 * other extension is refused rather than written raw under its name.
 */
static int bootimg_disk_format(const char *out, const char **fmt)
{
	static const struct {
		const char *ext, *fmt;
	} tab[] = {
	    {".img", NULL},	{".raw", NULL},	    {".qcow2", "qcow2"},
	    {".vmdk", "vmdk"},	{".vdi", "vdi"},    {".vhdx", "vhdx"},
	    {".vhd", "vpc"},
	};
	const char *ext = bootimg_ext(out);
	size_t i;

	*fmt = NULL;
	if (!ext)
		return 0;
	for (i = 0; i < sizeof(tab) / sizeof(*tab); i++)
		if (!strcasecmp(ext, tab[i].ext)) {
			*fmt = tab[i].fmt;
			return 0;
		}
	br_die_msg("disk -o %s: no disk format is named %s (raw: .img, .raw "
		   "or none; .qcow2, .vmdk, .vdi, .vhdx, .vhd)",
		   out, ext);
	return -1;
}

/* An ISO's name: .iso or no extension, not a disk format's. */
static int bootimg_iso_name(const char *out)
{
	const char *ext = bootimg_ext(out);

	if (!ext || !strcasecmp(ext, ".iso"))
		return 0;
	br_die_msg("iso -o %s: an ISO is named .iso (or has no extension); "
		   "beamrun disk writes %s",
		   out, ext);
	return -1;
}

static int have(const char *prog, const char *pkg)
{
	char *argv[] = {"sh", "-c", NULL, NULL};
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", prog);
	argv[2] = cmd;
	if (br_run(argv, 1) == 0)
		return 1;
	br_seterr("%s is not installed (Debian: apt-get install %s)", prog,
		  pkg);
	return 0;
}

/*
 * No root=: the kernel runs /init from the cpio. A panic reboots after
 * 30 s (long enough to read it; no reboot loop of an instant failure).
 */
static const char bootimg_base[] = "console=ttyS0 quiet panic=30";

int cmd_bootimg(int argc, char **argv)
{
	struct br_vm vm;
	const char *what = argv[0], *init;
	int disk = !strcmp(what, "disk"), rc;
	const char *fmt = NULL; /* qemu-img's name of a disk's format */
	char stage[] = "/tmp/beamrun-iso.XXXXXX", path[4300], def[300];
	char *cmdline = NULL, *gline = NULL, *cfg = NULL, *tmp = NULL;
	char *iso = NULL, *json;
	struct strv cmd = {0};
	size_t i;
	int staged = 0, fd;

	rc = br_rump_parse(argc, argv, &vm);
	if (rc) {
		if (rc > 0)
			fputs(bootimg_usage, stdout);
		br_vm_free(&vm);
		return rc > 0 ? 0 : BR_EXIT_BADINPUT;
	}
	rc = BR_EXIT_BADINPUT;
	if (!vm.out) {
		const char *b = strrchr(argv[optind], '/');
		size_t n;

		b = b ? b + 1 : argv[optind];
		n = strcspn(b, ".");
		snprintf(def, sizeof(def), "beamrun-%.*s.%s",
			 (int)(n ? n : strlen(b)), b, disk ? "img" : "iso");
		vm.out = xstrdup(def);
	}
	if (disk ? bootimg_disk_format(vm.out, &fmt)
		 : bootimg_iso_name(vm.out))
		goto out;
	if (br_check_output(vm.out)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	/* The media are written over -o: never over what goes into them. */
	if (br_is_image_file(vm.out)) {
		br_die_msg("%s -o %s: that is a beamrun image%s; not replacing "
			   "it",
			   what, vm.out,
			   br_same_file(vm.out, vm.img.path) ? " (the input)"
							     : "");
		goto out;
	}
	for (i = 0; i < vm.nvol; i++)
		if (br_same_file(vm.out, vm.vol[i].path)) {
			br_die_msg("%s -o %s: that is the volume -b %s", what,
				   vm.out, vm.vol[i].path);
			goto out;
		}
	if (!have("grub-mkrescue", "grub-common grub-pc-bin") ||
	    !have("xorriso", "xorriso") ||
	    (fmt && !have("qemu-img", "qemu-utils"))) {
		br_die_msg("%s: %s", what, br_err());
		goto out;
	}
	init = br_data_file("init/beamrun-init");
	if (!init) {
		br_die_msg("init/beamrun-init not found: build it with make");
		goto out;
	}
	/* The VM's NIC: DHCP on the first one unless -I/-W say otherwise. */
	if (!vm.nnic) {
		vm.nic[0].backend = xstrdup("");
		vm.nic[0].family = AF_INET;
		vm.nnic = 1;
	}
	for (i = 0; i < vm.nnic; i++)
		if (vm.nic[i].method == BR_NET_NONE)
			vm.nic[i].method = BR_NET_DHCP;
	vm.kernel_base = bootimg_base;
	vm.blk_dev = 1;
	for (i = 0; i < vm.nvol; i++)
		snprintf(vm.vol[i].dev, sizeof(vm.vol[i].dev), "loop%zu",
			 i + 1);
	/* The kernel's words go to grub.cfg, the configuration to the cpio. */
	cmdline = br_kernel_cmdline(&vm);
	json = cmdline ? strstr(cmdline, " -- beamrun=") : NULL;
	if (!json) {
		br_die_msg("cannot build the guest configuration");
		goto out;
	}
	*json = '\0';
	json += strlen(" -- beamrun=");
	br_hold_signals();
	if (!mkdtemp(stage)) {
		br_die_msg("mkdtemp: %s", strerror(errno));
		goto out;
	}
	staged = 1;
	snprintf(path, sizeof(path), "%s/tree/boot/grub", stage);
	if (br_mkdir_p(path, 0755)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	gline = grub_cmdline(cmdline);
	/* Console on the first serial port and the screen, no menu. */
	if (asprintf(&cfg,
		     "# beamrun %s of %s\n"
		     "set timeout=0\n"
		     "set default=0\n"
		     "serial --unit=0 --speed=115200\n"
		     "terminal_input serial console\n"
		     "terminal_output serial console\n"
		     "menuentry 'beamrun' {\n"
		     /*
		      * The kernel has no EFI support: it finds ACPI's RSDP
		      * only in low memory (the power button, power-off).
		      * acpi copies the firmware's tables and puts an RSDP
		      * in a new EBDA.
		      */
		     "\tif [ \"$grub_platform\" = efi ]; then\n"
		     "\t\tacpi\n"
		     "\tfi\n"
		     "\tlinux /boot/bzImage %s\n"
		     "\tinitrd /boot/root.cpio\n"
		     "}\n",
		     what, vm.img.path, gline) < 0) {
		br_die_msg("out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/tree/boot/grub/grub.cfg", stage);
	if (write_text(path, cfg)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	snprintf(path, sizeof(path), "%s/tree/boot/bzImage", stage);
	if (!br_image_kernel(&vm.img) ||
	    br_copy_file(br_image_kernel(&vm.img), path)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	snprintf(path, sizeof(path), "%s/tree/boot/root.cpio", stage);
	if (bootimg_cpio(&vm, init, json, path)) {
		br_die_msg("%s", br_err());
		goto out;
	}
	if (br_interrupted())
		goto out;
	fd = br_tmp_open(vm.out, &tmp);
	if (fd < 0) {
		br_die_msg("%s", br_err());
		goto out;
	}
	close(fd);
	if (asprintf(&iso, "%s/out.iso", stage) < 0) {
		br_die_msg("out of memory");
		goto out;
	}
	/* xorriso talks a lot on stderr: kept for a failure only. */
	strv_push(&cmd, "sh");
	strv_push(&cmd, "-c");
	strv_push(&cmd, "log=$1; shift; exec \"$@\" 2>\"$log\"");
	strv_push(&cmd, "sh");
	strv_pushf(&cmd, "%s/mkrescue.log", stage);
	strv_push(&cmd, "grub-mkrescue");
	strv_push(&cmd, "-o");
	strv_push(&cmd, fmt ? iso : tmp);
	strv_pushf(&cmd, "%s/tree", stage);
	if (br_run(cmd.v, 1) != 0) {
		char line[512] = "", last[512] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/mkrescue.log", stage);
		f = fopen(path, "re");
		/* Its last line that says something (not a lone "."). */
		while (f && fgets(line, sizeof(line), f))
			if (strcspn(line, "abcdefghijklmnopqrstuvwxyz") <
			    strlen(line))
				snprintf(last, sizeof(last), "%s", line);
		if (f)
			fclose(f);
		last[strcspn(last, "\n")] = '\0';
		br_die_msg("grub-mkrescue failed: %s", last);
		goto out;
	}
	strv_free(&cmd);
	if (fmt) {
		strv_push(&cmd, "qemu-img");
		strv_push(&cmd, "convert");
		strv_push(&cmd, "-q");
		strv_push(&cmd, "-f");
		strv_push(&cmd, "raw");
		strv_push(&cmd, "-O");
		strv_push(&cmd, fmt);
		strv_push(&cmd, iso);
		strv_push(&cmd, tmp);
		if (br_run(cmd.v, 1) != 0) {
			br_die_msg("qemu-img convert failed");
			goto out;
		}
	}
	if (br_interrupted())
		goto out;
	if (rename(tmp, vm.out)) {
		br_die_msg("%s: %s", vm.out, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	printf("%s\n", vm.out);
	rc = 0;
out:
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (staged)
		br_rm_rf(stage);
	strv_free(&cmd);
	free(iso);
	free(cfg);
	free(gline);
	free(cmdline);
	br_vm_free(&vm);
	return rc;
}
