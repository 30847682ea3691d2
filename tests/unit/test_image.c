/* Unit tests for host/image.c: writing, reading and checking image files. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "beamrun.h"

#define KERNEL_LEN 5000
#define ROOT_LEN   10000

static char tmpdir[] = "/tmp/beamrun-image-XXXXXX";
static char kernel_path[128], root_path[128], text_path[128];
static unsigned char kernel_data[KERNEL_LEN], root_data[ROOT_LEN];

static void clear_err(void)
{
	br_seterr("%s", "");
}

static void assert_err_has(const char *needle)
{
	if (!strstr(br_err(), needle))
		fail_msg("error \"%s\" does not mention \"%s\"", br_err(),
			 needle);
}

static void put_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void out_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* Files in the temp dir whose name contains needle. */
static int count_files(const char *needle)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, needle))
			n++;
	closedir(d);
	return n;
}

static void meta_init(struct br_image *m)
{
	memset(m, 0, sizeof(*m));
	m->otp = "25";
	m->app = "echoserver";
	m->root = "/otp";
	strv_push(&m->args, "-noshell");
	strv_push(&m->args, "-run");
	strv_push(&m->args, "echoserver");
	strv_push(&m->args, "start");
	strv_push(&m->args, "a b \"c\"");
}

static void write_image(const char *out)
{
	struct br_image m;

	meta_init(&m);
	clear_err();
	if (br_image_write(out, kernel_path, root_path, &m))
		fail_msg("br_image_write: %s", br_err());
	strv_free(&m.args);
}

static void assert_bytes_at(const char *path, uint64_t off,
			    const unsigned char *want, size_t len)
{
	unsigned char *got = xmalloc(len);
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, got, len, (off_t)off), (ssize_t)len);
	close(fd);
	assert_memory_equal(got, want, len);
	free(got);
}

static void flip_byte(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

static void test_roundtrip(void **state)
{
	char out[160];
	struct br_image img;
	struct stat st;
	mode_t mask;

	(void)state;
	out_path(out, sizeof(out), "rt.img");
	write_image(out);
	assert_int_equal(count_files(".tmp-"), 0);

	clear_err();
	if (br_image_open(out, &img))
		fail_msg("br_image_open: %s", br_err());
	assert_string_equal(img.path, out);
	assert_int_equal(img.kernel_off, BR_IMAGE_HDR);
	assert_int_equal(img.kernel_len, KERNEL_LEN);
	assert_int_equal(img.kernel_off % BR_IMAGE_ALIGN, 0);
	assert_int_equal(img.root_off % BR_IMAGE_ALIGN, 0);
	/* The root follows the kernel at the next 4 KiB boundary. */
	assert_int_equal(img.root_off, 12288);
	assert_true(img.root_off >= img.kernel_off + img.kernel_len);
	assert_int_equal(img.root_len, ROOT_LEN);
	assert_int_equal(img.kernel_sum, adler32(adler32(0, Z_NULL, 0),
						 kernel_data, KERNEL_LEN));
	assert_string_equal(img.otp, "25");
	assert_string_equal(img.app, "echoserver");
	assert_string_equal(img.root, "/otp");
	assert_int_equal(img.args.n, 5);
	assert_string_equal(img.args.v[0], "-noshell");
	assert_string_equal(img.args.v[1], "-run");
	assert_string_equal(img.args.v[2], "echoserver");
	assert_string_equal(img.args.v[3], "start");
	assert_string_equal(img.args.v[4], "a b \"c\"");
	assert_null(img.args.v[5]);
	assert_int_equal(img.stop_line, 1);

	/* The parts are where the header says, byte for byte. */
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, img.root_off + img.root_len);
	assert_bytes_at(out, 0, (const unsigned char *)BR_IMAGE_MAGIC,
			strlen(BR_IMAGE_MAGIC));
	assert_bytes_at(out, img.kernel_off, kernel_data, KERNEL_LEN);
	assert_bytes_at(out, img.root_off, root_data, ROOT_LEN);
	/* Not mkstemp's 0600: what the umask allows. */
	mask = umask(0);
	umask(mask);
	assert_int_equal(st.st_mode & 0777, 0666 & ~mask);
	br_image_free(&img);

	/* An image baked before the stop line: its init has none. */
	{
		char hdr[BR_IMAGE_HDR], *k;
		int fd = open(out, O_RDWR);

		assert_true(fd >= 0);
		assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
		k = strstr(hdr, "\"stop_line\"");
		assert_non_null(k);
		memcpy(k, "\"stop_lin_\"", 11);
		assert_int_equal(pwrite(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
		close(fd);
		assert_int_equal(br_image_open(out, &img), 0);
		assert_int_equal(img.stop_line, 0);
		br_image_free(&img);
	}
}

static void test_generic_image(void **state)
{
	char out[160];
	struct br_image m, img;

	(void)state;
	/* No start module, no OTP: a generic image. */
	memset(&m, 0, sizeof(m));
	out_path(out, sizeof(out), "generic.img");
	assert_int_equal(br_image_write(out, kernel_path, root_path, &m), 0);
	assert_int_equal(br_image_open(out, &img), 0);
	assert_string_equal(img.app, "");
	assert_string_equal(img.otp, "");
	assert_string_equal(img.root, "/otp");
	assert_int_equal(img.args.n, 0);
	br_image_free(&img);
}

static void test_overwrite(void **state)
{
	char out[160];
	struct br_image img;

	(void)state;
	out_path(out, sizeof(out), "over.img");
	put_file(out, "old contents", 12);
	write_image(out);
	assert_int_equal(br_image_open(out, &img), 0);
	assert_int_equal(img.root_len, ROOT_LEN);
	br_image_free(&img);
}

static void test_truncated(void **state)
{
	char out[160];
	struct br_image img;

	(void)state;
	out_path(out, sizeof(out), "trunc.img");
	write_image(out);
	assert_int_equal(truncate(out, 12288 + ROOT_LEN - 1), 0);
	clear_err();
	assert_int_equal(br_image_open(out, &img), -1);
	assert_err_has(out);
	assert_err_has("truncated");

	/* Cut inside the kernel, root part gone altogether. */
	assert_int_equal(truncate(out, 6000), 0);
	clear_err();
	assert_int_equal(br_image_open(out, &img), -1);
	assert_err_has("truncated");

	/* Only the header is left. */
	assert_int_equal(truncate(out, BR_IMAGE_HDR), 0);
	clear_err();
	assert_int_equal(br_image_open(out, &img), -1);
	assert_err_has("truncated");
}

static void test_crc(void **state)
{
	char out[160];
	struct br_image img;

	(void)state;
	out_path(out, sizeof(out), "crc.img");
	write_image(out);
	flip_byte(out, 12288 + ROOT_LEN / 2);
	clear_err();
	assert_int_equal(br_image_open(out, &img), -1);
	assert_err_has(out);
	assert_err_has("root file system");
	assert_err_has("CRC mismatch");

	/* The last byte of the root counts too. */
	flip_byte(out, 12288 + ROOT_LEN / 2);
	assert_int_equal(br_image_open(out, &img), 0);
	br_image_free(&img);
	flip_byte(out, 12288 + ROOT_LEN - 1);
	clear_err();
	assert_int_equal(br_image_open(out, &img), -1);
	assert_err_has("CRC mismatch");

	write_image(out);
	flip_byte(out, BR_IMAGE_HDR + 17);
	clear_err();
	assert_int_equal(br_image_open(out, &img), -1);
	assert_err_has("kernel part");
	assert_err_has("CRC mismatch");
}

static void test_not_an_image(void **state)
{
	char empty[160];
	struct br_image img;

	(void)state;
	clear_err();
	assert_int_equal(br_image_open(text_path, &img), -1);
	assert_err_has(text_path);
	assert_err_has("not a beamrun image");

	out_path(empty, sizeof(empty), "empty.img");
	put_file(empty, "", 0);
	clear_err();
	assert_int_equal(br_image_open(empty, &img), -1);
	assert_err_has("not a beamrun image");

	/* The magic line alone, with no header after it. */
	{
		static const char half[] = BR_IMAGE_MAGIC "{\"kernel_offset\":";

		put_file(empty, half, strlen(half));
	}
	clear_err();
	assert_int_equal(br_image_open(empty, &img), -1);
	assert_err_has("damaged image header");

	clear_err();
	assert_int_equal(br_image_open(tmpdir, &img), -1);
	assert_err_has(tmpdir);
}

static void test_missing(void **state)
{
	char out[160];
	struct br_image img;

	(void)state;
	out_path(out, sizeof(out), "nope.img");
	clear_err();
	assert_int_equal(br_image_open(out, &img), -1);
	assert_err_has(out);
	assert_err_has("no such image");
}

static void check_failed_write(const char *name, const char *kernel,
			       const char *rootfs, const struct br_image *m,
			       const char *needle)
{
	char out[160];

	out_path(out, sizeof(out), name);
	clear_err();
	assert_int_equal(br_image_write(out, kernel, rootfs, m), -1);
	assert_err_has(needle);
	/* Nothing is left behind: no output, no temporary file. */
	if (access(out, F_OK) == 0 || errno != ENOENT)
		fail_msg("%s exists after a failed write", out);
	assert_int_equal(count_files(name), 0);
	assert_int_equal(count_files(".tmp-"), 0);
}

static void test_failed_write(void **state)
{
	char nope[160], big[6000], out[160];
	struct br_image m;

	(void)state;
	meta_init(&m);
	out_path(nope, sizeof(nope), "no-kernel");
	check_failed_write("fail1.img", nope, root_path, &m, nope);
	out_path(nope, sizeof(nope), "no-root");
	check_failed_write("fail2.img", kernel_path, nope, &m, nope);

	/* Arguments too long for the 4 KiB header. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strv_push(&m.args, big);
	check_failed_write("fail3.img", kernel_path, root_path, &m,
			   "header too large");
	strv_free(&m.args);

	/* A failed write leaves an existing image as it was. */
	meta_init(&m);
	out_path(out, sizeof(out), "keep.img");
	assert_int_equal(br_image_write(out, kernel_path, root_path, &m), 0);
	out_path(nope, sizeof(nope), "no-kernel");
	assert_int_equal(br_image_write(out, nope, root_path, &m), -1);
	assert_bytes_at(out, BR_IMAGE_HDR, kernel_data, KERNEL_LEN);
	assert_int_equal(count_files(".tmp-"), 0);
	strv_free(&m.args);

	/* An output directory that does not exist. */
	meta_init(&m);
	clear_err();
	assert_int_equal(br_image_write("/nonexistent/beamrun/x.img",
					kernel_path, root_path, &m),
			 -1);
	assert_err_has("/nonexistent/beamrun/x.img");
	strv_free(&m.args);
}

static void test_kernel_extract(void **state)
{
	char out[160], cache[160], first[4200];
	const char *k;
	struct br_image img;

	(void)state;
	out_path(out, sizeof(out), "k.img");
	out_path(cache, sizeof(cache), "cache");
	write_image(out);
	assert_int_equal(br_image_open(out, &img), 0);
	assert_int_equal(setenv("BEAMRUN_CACHE_DIR", cache, 1), 0);
	k = br_image_kernel(&img);
	if (!k)
		fail_msg("br_image_kernel: %s", br_err());
	assert_true(strncmp(k, cache, strlen(cache)) == 0);
	assert_bytes_at(k, 0, kernel_data, KERNEL_LEN);
	{
		struct stat st;

		assert_int_equal(stat(k, &st), 0);
		assert_int_equal(st.st_size, KERNEL_LEN);
	}
	snprintf(first, sizeof(first), "%s", k);
	/* Named by its sum: the same kernel is found again. */
	k = br_image_kernel(&img);
	assert_non_null(k);
	assert_string_equal(k, first);
	unsetenv("BEAMRUN_CACHE_DIR");
	br_image_free(&img);
}

static int setup(void **state)
{
	size_t i;

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	for (i = 0; i < KERNEL_LEN; i++)
		kernel_data[i] = (unsigned char)(i * 7 + 3);
	for (i = 0; i < ROOT_LEN; i++)
		root_data[i] = (unsigned char)(i * 13 + 1);
	snprintf(kernel_path, sizeof(kernel_path), "%s/bzImage", tmpdir);
	snprintf(root_path, sizeof(root_path), "%s/root.erofs", tmpdir);
	snprintf(text_path, sizeof(text_path), "%s/readme.txt", tmpdir);
	put_file(kernel_path, kernel_data, KERNEL_LEN);
	put_file(root_path, root_data, ROOT_LEN);
	put_file(text_path, "hello, this is not an image\n", 28);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return br_rm_rf(tmpdir);
}

/*
 * A bzImage whose payload is a zstd frame (CONFIG_KERNEL_ZSTD, beamrun's
 * kernel) and the 4-byte size the kernel appends: the vmlinux comes out
 * whole; a cut frame is an error, not a short file.
 */
static void test_vmlinux_zstd(void **state)
{
	enum { ELF_LEN = 300000, SETUP = 5 * 512 };
	unsigned char *elf = malloc(ELF_LEN), *bz, *got;
	size_t cap = ZSTD_compressBound(ELF_LEN), z, i;
	char out[200];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(elf);
	for (i = 0; i < ELF_LEN; i++)
		elf[i] = (unsigned char)(i * 7 + i / 1000);
	memcpy(elf, "\177ELF", 4);
	bz = calloc(1, SETUP + cap + 4);
	assert_non_null(bz);
	z = ZSTD_compress(bz + SETUP, cap, elf, ELF_LEN, 19);
	assert_false(ZSTD_isError(z));
	bz[SETUP + z] = ELF_LEN & 0xff;
	bz[SETUP + z + 1] = (ELF_LEN >> 8) & 0xff;
	bz[SETUP + z + 2] = (ELF_LEN >> 16) & 0xff;
	bz[0x1f1] = 4; /* setup sectors after the boot sector */
	memcpy(bz + 0x202, "HdrS", 4);
	bz[0x206] = 0x0f;
	bz[0x207] = 0x02; /* protocol 2.15 */
	bz[0x24c] = (unsigned char)((z + 4) & 0xff);
	bz[0x24d] = (unsigned char)(((z + 4) >> 8) & 0xff);
	bz[0x24e] = (unsigned char)(((z + 4) >> 16) & 0xff);

	out_path(out, sizeof(out), "vmlinux-zstd");
	assert_int_equal(br_bzimage_vmlinux(bz, SETUP + z + 4, out), 0);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, ELF_LEN);
	got = malloc(ELF_LEN);
	assert_non_null(got);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, ELF_LEN, f), ELF_LEN);
	fclose(f);
	assert_memory_equal(got, elf, ELF_LEN);

	clear_err();
	bz[0x24c] = (unsigned char)((z / 2) & 0xff);
	bz[0x24d] = (unsigned char)(((z / 2) >> 8) & 0xff);
	bz[0x24e] = (unsigned char)(((z / 2) >> 16) & 0xff);
	assert_int_equal(br_bzimage_vmlinux(bz, SETUP + z / 2, out), -1);
	assert_err_has("zstd");
	free(got);
	free(bz);
	free(elf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_generic_image),
	    cmocka_unit_test(test_overwrite),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_crc),
	    cmocka_unit_test(test_not_an_image),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_failed_write),
	    cmocka_unit_test(test_kernel_extract),
	    cmocka_unit_test(test_vmlinux_zstd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
