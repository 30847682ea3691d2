/* beamrun: the shared-library closure of an ELF file, read with libelf. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beamrun.h"

/* The directories ld.so searches on Debian amd64 after the run paths. */
static const char *const elf_sysdirs[] = {
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
};

struct elf_info {
	struct strv needed;
	struct strv runpath; /* already split and with $ORIGIN expanded */
	char *interp;
	int is_elf;
};

static void elf_info_free(struct elf_info *e)
{
	strv_free(&e->needed);
	strv_free(&e->runpath);
	free(e->interp);
}

static void elf_add_runpath(struct elf_info *e, const char *rp,
			    const char *file)
{
	char *copy = xstrdup(rp), *save, *dir, origin[PATH_MAX];

	snprintf(origin, sizeof(origin), "%s", file);
	if (strrchr(origin, '/'))
		*strrchr(origin, '/') = '\0';
	else
		strcpy(origin, ".");
	for (dir = strtok_r(copy, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		if (!strncmp(dir, "$ORIGIN", 7))
			strv_pushf(&e->runpath, "%s%s", origin, dir + 7);
		else if (!strncmp(dir, "${ORIGIN}", 9))
			strv_pushf(&e->runpath, "%s%s", origin, dir + 9);
		else
			strv_push(&e->runpath, dir);
	}
	free(copy);
}

static int elf_read(const char *file, struct elf_info *e)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t i, nph;
	int fd, rc = -1;

	memset(e, 0, sizeof(*e));
	if (elf_version(EV_CURRENT) == EV_NONE) {
		br_seterr("libelf: %s", elf_errmsg(-1));
		return -1;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		br_seterr("%s: %s", file, strerror(errno));
		return -1;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		/* Not ELF: nothing to follow. */
		rc = 0;
		goto out;
	}
	e->is_elf = 1;
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (i = 0; i < nph; i++) {
			GElf_Phdr ph;
			char *buf;

			if (!gelf_getphdr(elf, (int)i, &ph) ||
			    ph.p_type != PT_INTERP || ph.p_filesz > PATH_MAX)
				continue;
			buf = xmalloc(ph.p_filesz + 1);
			if (pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) ==
			    (ssize_t)ph.p_filesz)
				e->interp = buf;
			else
				free(buf);
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		data = elf_getdata(scn, NULL);
		n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 0; data && i < n; i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(data, (int)i, &dyn))
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH &&
			    dyn.d_tag != DT_RPATH)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED)
				strv_push(&e->needed, s);
			else
				elf_add_runpath(e, s, file);
		}
	}
	rc = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}

static int strv_has(const struct strv *s, const char *str)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return 1;
	return 0;
}

static int elf_resolve(const char *name, const struct elf_info *e, char *out,
		       size_t len)
{
	size_t i;

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return br_is_file(out) ? 0 : -1;
	}
	for (i = 0; i < e->runpath.n; i++) {
		snprintf(out, len, "%s/%s", e->runpath.v[i], name);
		if (br_is_file(out))
			return 0;
	}
	for (i = 0; i < sizeof(elf_sysdirs) / sizeof(*elf_sysdirs); i++) {
		snprintf(out, len, "%s/%s", elf_sysdirs[i], name);
		if (br_is_file(out))
			return 0;
	}
	return -1;
}

int br_elf_is_elf(const char *path)
{
	struct elf_info e;
	int r;

	if (elf_read(path, &e))
		return 0;
	r = e.is_elf;
	elf_info_free(&e);
	return r;
}

int br_elf_closure(const char *file, struct strv *libs)
{
	struct elf_info e;
	char path[PATH_MAX];
	size_t i;

	if (elf_read(file, &e))
		return -1;
	if (!e.is_elf) {
		br_seterr("%s: not an ELF file", file);
		elf_info_free(&e);
		return -1;
	}
	if (e.interp && !strv_has(libs, e.interp)) {
		if (!br_is_file(e.interp)) {
			br_seterr("%s: interpreter %s not found", file,
				  e.interp);
			elf_info_free(&e);
			return -1;
		}
		strv_push(libs, e.interp);
	}
	for (i = 0; i < e.needed.n; i++) {
		if (elf_resolve(e.needed.v[i], &e, path, sizeof(path))) {
			br_seterr("%s needs %s, which is not installed", file,
				  e.needed.v[i]);
			elf_info_free(&e);
			return -1;
		}
		if (strv_has(libs, path))
			continue;
		strv_push(libs, path);
		if (br_elf_closure(path, libs)) {
			elf_info_free(&e);
			return -1;
		}
	}
	elf_info_free(&e);
	return 0;
}
