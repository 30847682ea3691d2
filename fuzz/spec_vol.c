/*
 * Fuzz target: the -b IMAGE[,MOUNTPOINT] parser in host/spec.c. The
 * parser stats, resolves and probes the image, so every input is made
 * to name a file in a scratch directory of a few small images: inputs
 * whose IMAGE part holds a '/' are skipped, the rest get the directory
 * put in front. Nothing outside that directory is ever opened.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamrun.h"
#include "fuzz.h"

static char vol_dir[PATH_MAX];	/* as created, for the specs */
static char vol_real[PATH_MAX]; /* as realpath() gives it back */

enum vol_kind { VOL_PLAIN, VOL_EXT, VOL_ISO, VOL_EROFS, VOL_SQUASHFS };

/* The scratch images, with just enough of a superblock for libblkid. */
static const struct vol_file {
	const char *name;
	size_t size;
	enum vol_kind kind;
} vol_files[] = {
    {"empty.img", 0, VOL_PLAIN},    {"zero.img", 8192, VOL_PLAIN},
    {"ext.img", 8192, VOL_EXT},	    {"a,b.img", 8192, VOL_EXT},
    {"iso.img", 36864, VOL_ISO},    {"a:b.img", 36864, VOL_ISO},
    {"erofs.img", 8192, VOL_EROFS}, {"sq.img", 8192, VOL_SQUASHFS},
};

static int vol_write(const struct vol_file *f)
{
	char path[PATH_MAX + 32], *buf = calloc(1, f->size + 1);
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/%s", vol_dir, f->name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (buf && fd >= 0) {
		/* ext2: the superblock's magic 0xEF53, little-endian. */
		if (f->kind == VOL_EXT)
			memcpy(buf + 1024 + 56, "\123\357", 2);
		/* ISO 9660: a primary volume descriptor, then the end. */
		if (f->kind == VOL_ISO) {
			memcpy(buf + 16 * 2048, "\001CD001\001", 7);
			memcpy(buf + 17 * 2048, "\377CD001\001", 7);
		}
		/* erofs: magic 0xE0F5E1E2 and 4 KiB blocks (2^12). */
		if (f->kind == VOL_EROFS)
			memcpy(buf + 1024,
			       "\342\341\365\340\0\0\0\0\0\0\0\0\014", 13);
		/* squashfs: "hsqs", then version 4 at byte 28. */
		if (f->kind == VOL_SQUASHFS) {
			memcpy(buf, "hsqs", 4);
			buf[28] = 4;
		}
		rc = write(fd, buf, f->size) == (ssize_t)f->size ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static void vol_cleanup(void)
{
	char path[PATH_MAX + 32];
	size_t i;

	for (i = 0; i < sizeof(vol_files) / sizeof(vol_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", vol_dir,
			 vol_files[i].name);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/dir", vol_dir);
	rmdir(path);
	rmdir(vol_dir);
}

/*
 * Made once per process, removed at exit.
 * XXX: a crash exits without running atexit handlers, so it leaves the
 * directory (beamrun-fuzz-vol-*, 112 KiB) behind in $TMPDIR.
 */
static void vol_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX + 32];
	size_t i;

	/* A comma in it would split the specs where the input does not. */
	if (!tmp || !*tmp || strchr(tmp, ','))
		tmp = "/tmp";
	snprintf(vol_dir, sizeof(vol_dir), "%s/beamrun-fuzz-vol-XXXXXX", tmp);
	if (!mkdtemp(vol_dir)) {
		perror("fuzz: spec_vol: mkdtemp");
		abort();
	}
	atexit(vol_cleanup);
	for (i = 0; i < sizeof(vol_files) / sizeof(vol_files[0]); i++)
		if (vol_write(&vol_files[i])) {
			perror("fuzz: spec_vol: write an image");
			abort();
		}
	snprintf(path, sizeof(path), "%s/dir", vol_dir);
	if (mkdir(path, 0700) || !realpath(vol_dir, vol_real)) {
		perror("fuzz: spec_vol: scratch directory");
		abort();
	}
}

/* A "." or ".." component anywhere in p. */
static int has_dot_part(const char *p)
{
	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return 1;
		p += n;
	}
	return 0;
}

static void check_vol(const struct br_vol *v)
{
	size_t dl = strlen(vol_real);
	struct stat st;

	/* An absolute path to one of the scratch images. */
	FUZZ_CHECK(v->path && !strncmp(v->path, vol_real, dl));
	FUZZ_CHECK(v->path[dl] == '/' && !strchr(v->path + dl + 1, '/'));
	FUZZ_CHECK(stat(v->path, &st) == 0 && S_ISREG(st.st_mode));
	if (!v->mnt[0]) {
		FUZZ_CHECK(v->fstype[0] == '\0' && !v->ro);
		return;
	}
	/* A mount point the guest can mount on without covering /. */
	FUZZ_CHECK(v->mnt[0] == '/' && v->mnt[strspn(v->mnt, "/")] != '\0');
	FUZZ_CHECK(!has_dot_part(v->mnt));
	FUZZ_CHECK(
	    !strcmp(v->fstype, "ext4") || !strcmp(v->fstype, "iso9660") ||
	    !strcmp(v->fstype, "erofs") || !strcmp(v->fstype, "squashfs"));
	FUZZ_CHECK(v->ro == !!strcmp(v->fstype, "ext4"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *spec, *comma;
	struct br_vol v;

	if (!vol_dir[0])
		vol_setup();
	comma = strrchr(text, ',');
	if (comma)
		*comma = '\0';
	if (strchr(text, '/')) {
		free(text);
		return 0;
	}
	if (comma)
		*comma = ',';
	if (asprintf(&spec, "%s/%s", vol_dir, text) < 0)
		abort();
	if (br_parse_vol(spec, &v) == 0) {
		check_vol(&v);
		free(v.path);
	}
	free(spec);
	free(text);
	return 0;
}
