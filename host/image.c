/* beamrun: the image file: header, kernel and root file system in one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "beamrun.h"

static uint64_t align_up(uint64_t v)
{
	return (v + BR_IMAGE_ALIGN - 1) & ~(uint64_t)(BR_IMAGE_ALIGN - 1);
}

/* Append a file to fd at its current (aligned) end; returns its CRC. */
static int append_file(int fd, const char *path, uint64_t *len, uint32_t *crc)
{
	char buf[65536];
	int in = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	uLong c = crc32(0, Z_NULL, 0);

	if (in < 0) {
		br_seterr("%s: %s", path, strerror(errno));
		return -1;
	}
	*len = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ssize_t w = write(fd, buf, (size_t)n);

		if (w != n) {
			br_seterr("write image: %s",
				  strerror(w >= 0 ? ENOSPC : errno));
			close(in);
			return -1;
		}
		c = crc32(c, (const Bytef *)buf, (uInt)n);
		*len += (uint64_t)n;
	}
	close(in);
	if (n < 0) {
		br_seterr("%s: %s", path, strerror(errno));
		return -1;
	}
	*crc = (uint32_t)c;
	return 0;
}

static int pad_to(int fd, uint64_t off)
{
	if (ftruncate(fd, (off_t)off) || lseek(fd, (off_t)off, SEEK_SET) < 0) {
		br_seterr("write image: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int br_image_write(const char *out, const char *kernel, const char *rootfs,
		   const struct br_image *meta)
{
	char *tmp;
	uint64_t klen, rlen, roff;
	uint32_t kcrc, rcrc;
	json_object *h;
	const char *text;
	char hdr[BR_IMAGE_HDR];
	int fd;

	fd = br_tmp_open(out, &tmp);
	if (fd < 0)
		return -1;
	if (pad_to(fd, BR_IMAGE_HDR) || append_file(fd, kernel, &klen, &kcrc))
		goto fail;
	roff = align_up(BR_IMAGE_HDR + klen);
	if (pad_to(fd, roff) || append_file(fd, rootfs, &rlen, &rcrc))
		goto fail;

	h = json_object_new_object();
	json_object_object_add(h, "kernel_offset",
			       json_object_new_int64(BR_IMAGE_HDR));
	json_object_object_add(h, "kernel_length",
			       json_object_new_int64((int64_t)klen));
	json_object_object_add(h, "kernel_crc32", json_object_new_int64(kcrc));
	json_object_object_add(h, "root_offset",
			       json_object_new_int64((int64_t)roff));
	json_object_object_add(h, "root_length",
			       json_object_new_int64((int64_t)rlen));
	json_object_object_add(h, "root_crc32", json_object_new_int64(rcrc));
	json_object_object_add(h, "root_fs", json_object_new_string("erofs"));
	json_object_object_add(
	    h, "otp_release",
	    json_object_new_string(meta->otp ? meta->otp : ""));
	json_object_object_add(
	    h, "otp_root",
	    json_object_new_string(meta->root ? meta->root : "/otp"));
	json_object_object_add(
	    h, "start_module",
	    json_object_new_string(meta->app ? meta->app : ""));
	json_object_object_add(
	    h, "emu_flavor",
	    json_object_new_string(meta->flavor ? meta->flavor : ""));
	if (meta->release && meta->release[0])
		json_object_object_add(h, "release",
				       json_object_new_string(meta->release));
	json_object_object_add(h, "args", br_json_strv(&meta->args));
	text = json_object_to_json_string_ext(
	    h, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (strlen(BR_IMAGE_MAGIC) + strlen(text) + 2 > sizeof(hdr)) {
		br_seterr("image header too large (%zu bytes of arguments)",
			  strlen(text));
		json_object_put(h);
		goto fail;
	}
	memset(hdr, 0, sizeof(hdr));
	snprintf(hdr, sizeof(hdr), "%s%s\n", BR_IMAGE_MAGIC, text);
	json_object_put(h);
	if (pwrite(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    fsync(fd) || close(fd)) {
		br_seterr("write %s: %s", out, strerror(errno));
		fd = -1;
		goto fail;
	}
	if (rename(tmp, out)) {
		br_seterr("rename to %s: %s", out, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/*
 * CRC-32 checks the part; Adler-32 names it in the kernel cache, since a
 * bzImage carries its own CRC-32 and so always sums to 0xffffffff.
 */
static int crc_range(int fd, uint64_t off, uint64_t len, uint32_t *crc,
		     uint32_t *adler)
{
	char buf[65536];
	uLong c = crc32(0, Z_NULL, 0), a = adler32(0, Z_NULL, 0);

	while (len) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n <= 0)
			return -1;
		c = crc32(c, (const Bytef *)buf, (uInt)n);
		a = adler32(a, (const Bytef *)buf, (uInt)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	*crc = (uint32_t)c;
	*adler = (uint32_t)a;
	return 0;
}

static int jget_u64(json_object *h, const char *k, uint64_t *v)
{
	json_object *o;

	if (!json_object_object_get_ex(h, k, &o) ||
	    !json_object_is_type(o, json_type_int) ||
	    json_object_get_int64(o) < 0)
		return -1;
	*v = (uint64_t)json_object_get_int64(o);
	return 0;
}

static char *jget_str(json_object *h, const char *k)
{
	json_object *o;

	if (!json_object_object_get_ex(h, k, &o) ||
	    !json_object_is_type(o, json_type_string))
		return NULL;
	return xstrdup(json_object_get_string(o));
}

int br_image_open(const char *path, struct br_image *img)
{
	char hdr[BR_IMAGE_HDR + 1];
	json_object *h = NULL, *a;
	uint64_t kcrc, rcrc;
	uint32_t crc, adler;
	struct stat st;
	ssize_t n;
	size_t i;
	int fd;

	memset(img, 0, sizeof(*img));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		br_seterr("%s: %s", path,
			  errno == ENOENT ? "no such image" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		br_seterr("%s: not a regular file", path);
		goto bad;
	}
	n = pread(fd, hdr, BR_IMAGE_HDR, 0);
	if (n < (ssize_t)strlen(BR_IMAGE_MAGIC) ||
	    memcmp(hdr, BR_IMAGE_MAGIC, strlen(BR_IMAGE_MAGIC))) {
		br_seterr("%s: not a beamrun image (no %.13s header)", path,
			  BR_IMAGE_MAGIC);
		goto bad;
	}
	hdr[n] = '\0';
	h = json_tokener_parse(hdr + strlen(BR_IMAGE_MAGIC));
	if (!h || jget_u64(h, "kernel_offset", &img->kernel_off) ||
	    jget_u64(h, "kernel_length", &img->kernel_len) ||
	    jget_u64(h, "root_offset", &img->root_off) ||
	    jget_u64(h, "root_length", &img->root_len) ||
	    jget_u64(h, "kernel_crc32", &kcrc) ||
	    jget_u64(h, "root_crc32", &rcrc)) {
		br_seterr("%s: damaged image header", path);
		goto bad;
	}
	if (img->kernel_off + img->kernel_len > (uint64_t)st.st_size ||
	    img->root_off + img->root_len > (uint64_t)st.st_size ||
	    img->root_off % BR_IMAGE_ALIGN || !img->kernel_len ||
	    !img->root_len) {
		br_seterr("%s: truncated image (%lld bytes, header wants %llu)",
			  path, (long long)st.st_size,
			  (unsigned long long)(img->root_off + img->root_len));
		goto bad;
	}
	if (crc_range(fd, img->kernel_off, img->kernel_len, &crc,
		      &img->kernel_sum) ||
	    crc != kcrc) {
		br_seterr("%s: kernel part is damaged (CRC mismatch)", path);
		goto bad;
	}
	if (crc_range(fd, img->root_off, img->root_len, &crc, &adler) ||
	    crc != rcrc) {
		br_seterr("%s: root file system is damaged (CRC mismatch)",
			  path);
		goto bad;
	}
	img->otp = jget_str(h, "otp_release");
	img->app = jget_str(h, "start_module");
	img->root = jget_str(h, "otp_root");
	img->flavor = jget_str(h, "emu_flavor");
	img->release = jget_str(h, "release");
	if (json_object_object_get_ex(h, "args", &a) &&
	    json_object_is_type(a, json_type_array))
		for (i = 0; i < json_object_array_length(a); i++)
			strv_push(&img->args,
				  json_object_get_string(
				      json_object_array_get_idx(a, i)));
	/* qemu reads "a:b.img" as protocol "a"; give it an absolute path. */
	img->path = realpath(path, NULL);
	if (!img->path)
		img->path = xstrdup(path);
	json_object_put(h);
	close(fd);
	return 0;
bad:
	json_object_put(h);
	close(fd);
	return -1;
}

void br_image_free(struct br_image *img)
{
	free(img->path);
	free(img->otp);
	free(img->app);
	free(img->root);
	free(img->flavor);
	free(img->release);
	strv_free(&img->args);
	memset(img, 0, sizeof(*img));
}

static const char *cache_dir(void)
{
	static char dir[4096];
	const char *e = getenv("BEAMRUN_CACHE_DIR");

	if (e && *e)
		snprintf(dir, sizeof(dir), "%s", e);
	else if ((e = getenv("XDG_CACHE_HOME")) && *e)
		snprintf(dir, sizeof(dir), "%s/beamrun", e);
	else if ((e = getenv("HOME")) && *e)
		snprintf(dir, sizeof(dir), "%s/.cache/beamrun", e);
	else
		snprintf(dir, sizeof(dir), "/tmp/beamrun-cache-%d",
			 (int)getuid());
	return dir;
}

const char *br_image_kernel(const struct br_image *img)
{
	static char out[4200];
	char tmp[4300], buf[65536];
	uint64_t off = img->kernel_off, left = img->kernel_len;
	const char *dir = cache_dir();
	int in = -1, fd = -1;

	snprintf(out, sizeof(out), "%s/kernel-%08x-%llu", dir,
		 (unsigned)img->kernel_sum,
		 (unsigned long long)img->kernel_len);
	if (br_is_file(out))
		return out;
	if (br_mkdir_p(dir, 0700))
		return NULL;
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", out, (int)getpid());
	in = open(img->path, O_RDONLY | O_CLOEXEC);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || fd < 0) {
		br_seterr("extract the kernel to %s: %s", dir, strerror(errno));
		goto fail;
	}
	while (left) {
		size_t want = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t n = pread(in, buf, want, (off_t)off);

		if (n <= 0 || write(fd, buf, (size_t)n) != n) {
			br_seterr("extract the kernel to %s: %s", dir,
				  strerror(errno));
			goto fail;
		}
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	close(in);
	in = -1;
	if (close(fd) || rename(tmp, out)) {
		fd = -1;
		br_seterr("extract the kernel to %s: %s", dir, strerror(errno));
		goto fail;
	}
	return out;
fail:
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return NULL;
}
