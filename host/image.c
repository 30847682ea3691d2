/* beamrun: the image file: header, kernel and root file system in one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

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
	if (meta->start_args >= 0 && meta->app && meta->app[0])
		json_object_object_add(
		    h, "start_takes_args",
		    json_object_new_boolean(meta->start_args));
	/* This bake's init reads a byte on its stop line as a stop. */
	json_object_object_add(h, "stop_line", json_object_new_boolean(1));
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
	/* Non-blocking: a FIFO is refused below instead of waited on. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
	img->root_sum = adler;
	img->otp = jget_str(h, "otp_release");
	img->app = jget_str(h, "start_module");
	img->root = jget_str(h, "otp_root");
	img->flavor = jget_str(h, "emu_flavor");
	img->release = jget_str(h, "release");
	/* Images baked before the key existed: not known. */
	img->start_args = -1;
	if (json_object_object_get_ex(h, "start_takes_args", &a) &&
	    json_object_is_type(a, json_type_boolean))
		img->start_args = json_object_get_boolean(a);
	/* Older images' inits know only ACPI's power button. */
	img->stop_line = json_object_object_get_ex(h, "stop_line", &a) &&
			 json_object_is_type(a, json_type_boolean) &&
			 json_object_get_boolean(a);
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

const char *br_cache_dir(void)
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

/* Copy LEN bytes at OFF of the image to the cache file OUT, once. */
static int image_extract(const struct br_image *img, uint64_t off,
			 uint64_t left, const char *what, const char *out)
{
	char tmp[4300], buf[65536];
	const char *dir = br_cache_dir();
	int in = -1, fd = -1;

	if (br_is_file(out))
		return 0;
	if (br_mkdir_p(dir, 0700))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", out, (int)getpid());
	in = open(img->path, O_RDONLY | O_CLOEXEC);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || fd < 0) {
		br_seterr("extract the %s to %s: %s", what, dir,
			  strerror(errno));
		goto fail;
	}
	while (left) {
		size_t want = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t n = pread(in, buf, want, (off_t)off);

		if (n <= 0 || write(fd, buf, (size_t)n) != n) {
			br_seterr("extract the %s to %s: %s", what, dir,
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
		br_seterr("extract the %s to %s: %s", what, dir,
			  strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

const char *br_image_kernel(const struct br_image *img)
{
	static char out[4200];

	snprintf(out, sizeof(out), "%s/kernel-%08x-%llu", br_cache_dir(),
		 (unsigned)img->kernel_sum,
		 (unsigned long long)img->kernel_len);
	return image_extract(img, img->kernel_off, img->kernel_len, "kernel",
			     out)
		   ? NULL
		   : out;
}

const char *br_image_rootfs(const struct br_image *img)
{
	static char out[4200];

	snprintf(out, sizeof(out), "%s/root-%08x-%llu.erofs", br_cache_dir(),
		 (unsigned)img->root_sum, (unsigned long long)img->root_len);
	return image_extract(img, img->root_off, img->root_len,
			     "root file system", out)
		   ? NULL
		   : out;
}

/*
 * The bzImage's payload (setup header fields payload_offset and
 * payload_length, protocol 2.08+) is the kernel's stripped vmlinux ELF,
 * compressed: with zstd (one frame, CONFIG_KERNEL_ZSTD, beamrun's kernel
 * since kernel/beamrun.config chose it), decompressed with libzstd, or
 * in LZ4's legacy frame format (CONFIG_KERNEL_LZ4: magic 0x184c2102,
 * then blocks of at most 8 MiB, each after its 32-bit little-endian
 * compressed size, as "lz4 -l" writes it), decompressed with liblz4.
 * The kernel appends the decompressed size (4 bytes) after either.
 */
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20)
#define ZSTD_FRAME_MAGIC 0xfd2fb528u

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The zstd frame of LEN bytes at P into fd, up to the frame's end. */
static int bz_unzstd(const unsigned char *p, size_t len, int fd,
		     const char *out)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	size_t bufsz = ZSTD_DStreamOutSize(), r = 1;
	ZSTD_inBuffer in = {p, len, 0};
	char *buf = xmalloc(bufsz);
	int rc = -1;

	/* The kernel's build compresses with --ultra -22: a big window. */
	if (!z || ZSTD_isError(ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax,
						       31))) {
		br_seterr("zstd: out of memory");
		goto done;
	}
	while (r) {
		ZSTD_outBuffer o = {buf, bufsz, 0};

		r = ZSTD_decompressStream(z, &o, &in);
		if (ZSTD_isError(r)) {
			br_seterr("the bzImage's payload is damaged (zstd: %s)",
				  ZSTD_getErrorName(r));
			goto done;
		}
		if (o.pos && write(fd, buf, o.pos) != (ssize_t)o.pos) {
			br_seterr("%s: %s", out, strerror(errno));
			goto done;
		}
		if (r && in.pos == in.size && o.pos < o.size) {
			br_seterr("the bzImage's payload is truncated (zstd)");
			goto done;
		}
	}
	rc = 0;
done:
	ZSTD_freeDStream(z);
	free(buf);
	return rc;
}

int br_bzimage_vmlinux(const unsigned char *bz, size_t len, const char *out)
{
	uint32_t poff, plen, setup_sects;
	const unsigned char *p, *end;
	char *blk = NULL;
	size_t setup;
	int fd = -1, rc = -1;

	if (len < 0x250 || memcmp(bz + 0x202, "HdrS", 4) ||
	    (bz[0x206] | bz[0x207] << 8) < 0x208) {
		br_seterr("the image's kernel is not a bzImage (boot protocol "
			  "2.08 or later)");
		return -1;
	}
	setup_sects = bz[0x1f1] ? bz[0x1f1] : 4;
	setup = (setup_sects + 1) * 512;
	poff = le32(bz + 0x248);
	plen = le32(bz + 0x24c);
	if (setup + (size_t)poff + plen > len || plen < 8) {
		br_seterr("the bzImage's payload lies outside it");
		return -1;
	}
	p = bz + setup + poff;
	end = p + plen;
	if (le32(p) == ZSTD_FRAME_MAGIC) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			br_seterr("%s: %s", out, strerror(errno));
			return -1;
		}
		rc = bz_unzstd(p, plen, fd, out);
		goto done;
	}
	if (le32(p) != LZ4_LEGACY_MAGIC) {
		br_seterr("the bzImage's payload is neither zstd nor LZ4 "
			  "(legacy) compressed; the kernel needs "
			  "CONFIG_KERNEL_ZSTD or CONFIG_KERNEL_LZ4");
		return -1;
	}
	p += 4;
	blk = xmalloc(LZ4_LEGACY_BLOCK);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		br_seterr("%s: %s", out, strerror(errno));
		goto done;
	}
	/*
	 * The kernel appends the decompressed size (4 bytes) after the
	 * frame; a block size that is not followed by that much data, or a
	 * magic number, ends the frame.
	 */
	while (end - p >= 4) {
		uint32_t n = le32(p);
		int got;

		if (n == LZ4_LEGACY_MAGIC) {
			p += 4;
			continue;
		}
		if (n > (uint32_t)(end - p - 4) || n == 0)
			break;
		got = LZ4_decompress_safe((const char *)p + 4, blk, (int)n,
					  (int)LZ4_LEGACY_BLOCK);
		if (got < 0) {
			br_seterr("the bzImage's payload is damaged (LZ4)");
			goto done;
		}
		if (write(fd, blk, (size_t)got) != got) {
			br_seterr("%s: %s", out, strerror(errno));
			goto done;
		}
		p += 4 + n;
	}
	rc = 0;
done:
	free(blk);
	if (fd >= 0 && close(fd) && !rc) {
		br_seterr("%s: %s", out, strerror(errno));
		rc = -1;
	}
	return rc;
}

const char *br_image_vmlinux(const struct br_image *img)
{
	static char out[4200];
	char tmp[4300];
	const char *bz = br_image_kernel(img);
	unsigned char *buf;
	ssize_t n;
	int fd;

	if (!bz)
		return NULL;
	snprintf(out, sizeof(out), "%s/vmlinux-%08x-%llu", br_cache_dir(),
		 (unsigned)img->kernel_sum,
		 (unsigned long long)img->kernel_len);
	if (br_is_file(out))
		return out;
	buf = xmalloc(img->kernel_len);
	fd = open(bz, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : pread(fd, buf, img->kernel_len, 0);
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)img->kernel_len) {
		br_seterr("read %s: %s", bz, strerror(errno));
		free(buf);
		return NULL;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", out, (int)getpid());
	if (br_bzimage_vmlinux(buf, img->kernel_len, tmp) ||
	    (rename(tmp, out) &&
	     (br_seterr("%s: %s", out, strerror(errno)), 1))) {
		unlink(tmp);
		free(buf);
		return NULL;
	}
	free(buf);
	return out;
}

int br_image_files(const struct br_image *img, int vmlinux,
		   const char **kernel, const char **rootfs)
{
	static char path[4300];
	const char *k = vmlinux ? br_image_vmlinux(img) : br_image_kernel(img);

	if (!k)
		return -1;
	/* The next call may reuse the buffer k points into. */
	snprintf(path, sizeof(path), "%s", k);
	*kernel = path;
	*rootfs = br_image_rootfs(img);
	return *rootfs ? 0 : -1;
}
