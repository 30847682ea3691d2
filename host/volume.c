/* beamrun: "volume": data volumes (ISO 9660 via libarchive, ext4). */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beamrun.h"

/*
 * Write the tree under dir into an ISO 9660 image with Rock Ridge (so
 * file modes, long names and symlinks survive) and Joliet. With a
 * prefix, the tree appears under that path inside the image.
 */
struct iso_src {
	const char *dir;
	const char *prefix; /* NULL: at the image's root */
};

/* Add the tree under src->dir to the ISO being written. */
static int volume_add_tree(struct archive *iso, const struct iso_src *src)
{
	struct archive *disk = archive_read_disk_new();
	struct archive_entry *e;
	const char *dir = src->dir, *prefix = src->prefix;
	size_t dlen = strlen(dir);
	int rc = -1, r;

	if (!disk) {
		br_seterr("out of memory");
		return -1;
	}

	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	if (archive_read_disk_open(disk, dir)) {
		br_seterr("%s: %s", dir, archive_error_string(disk));
		goto out;
	}
	for (;;) {
		const char *path;
		char name[PATH_MAX];

		if (br_interrupted())
			goto out;
		e = archive_entry_new();
		r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r != ARCHIVE_OK) {
			br_seterr("%s: %s", dir, archive_error_string(disk));
			archive_entry_free(e);
			goto out;
		}
		archive_read_disk_descend(disk);
		path = archive_entry_sourcepath(e);
		/* Paths inside the image are relative to dir. */
		if (strlen(path) <= dlen) {
			archive_entry_free(e);
			continue;
		}
		snprintf(name, sizeof(name), "%s%s%s", prefix ? prefix : "",
			 prefix ? "/" : "", path + dlen + (path[dlen] == '/'));
		archive_entry_set_pathname(e, name);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
		if (archive_write_header(iso, e) < ARCHIVE_WARN) {
			br_seterr("%s: %s", name, archive_error_string(iso));
			archive_entry_free(e);
			goto out;
		}
		if (archive_entry_filetype(e) == AE_IFREG &&
		    archive_entry_size(e) > 0) {
			char buf[65536];
			ssize_t n;
			int in = open(path, O_RDONLY | O_CLOEXEC);

			if (in < 0) {
				br_seterr("%s: %s", path, strerror(errno));
				archive_entry_free(e);
				goto out;
			}
			while ((n = read(in, buf, sizeof(buf))) > 0)
				if (archive_write_data(iso, buf, (size_t)n) !=
				    n)
					break;
			close(in);
			if (n != 0) {
				br_seterr("%s: %s", path,
					  n < 0 ? strerror(errno)
						: archive_error_string(iso));
				archive_entry_free(e);
				goto out;
			}
		}
		archive_entry_free(e);
	}
	rc = 0;
out:
	archive_read_free(disk);
	return rc;
}

static int volume_iso(const struct iso_src *srcs, size_t nsrc, const char *out,
		      const char *label)
{
	struct archive *iso = NULL;
	char *tmp = NULL;
	size_t i;
	int fd, rc = -1;

	fd = br_tmp_open(out, &tmp);
	if (fd < 0)
		return -1;
	iso = archive_write_new();
	if (!iso || archive_write_set_format_iso9660(iso) ||
	    archive_write_set_option(iso, "iso9660", "rockridge", "1") ||
	    archive_write_set_option(iso, "iso9660", "joliet", "1") ||
	    archive_write_set_option(iso, "iso9660", "volume-id", label) ||
	    archive_write_open_fd(iso, fd)) {
		br_seterr("%s: %s", out,
			  iso ? archive_error_string(iso) : "out of memory");
		goto out;
	}
	for (i = 0; i < nsrc; i++)
		if (br_interrupted() || volume_add_tree(iso, &srcs[i]))
			goto out;
	if (br_interrupted())
		goto out;
	if (archive_write_close(iso)) {
		br_seterr("%s: %s", out, archive_error_string(iso));
		goto out;
	}
	/* The close wrote the whole image; a ^C meanwhile still wins. */
	if (br_interrupted())
		goto out;
	if (fsync(fd) || rename(tmp, out)) {
		br_seterr("%s: %s", out, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (iso)
		archive_write_free(iso);
	close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* An empty ext4 file system of the given size, for writable data. */
static int volume_ext4(const char *out, unsigned mib)
{
	char *tmp, size[32];
	int fd, rc;

	fd = br_tmp_open(out, &tmp);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(size, sizeof(size), "%uM", mib);
	{
		char *argv[] = {"mkfs.ext4",	"-q", "-F", "-L",
				"beamrun-data", tmp,  size, NULL};

		rc = br_run(argv, 1);
	}
	if (rc == 0 && rename(tmp, out) == 0) {
		free(tmp);
		return 0;
	}
	if (rc > 0)
		br_seterr("mkfs.ext4 failed (status %d)", rc);
	else if (rc == 0)
		br_seterr("%s: %s", out, strerror(errno));
	unlink(tmp);
	free(tmp);
	return -1;
}

/*
 * The seed's erlang.iso: the host's OTP tree under lib/erlang, with an
 * inet configuration that uses the hosts file and Erlang's DNS client.
 */
static int volume_otp(const char *out)
{
	char dir[] = "/tmp/beamrun-otpvol-XXXXXX", path[PATH_MAX];
	char *root = NULL;
	char *argv[] = {"erl",
			"-noshell",
			"-noinput",
			"-eval",
			"io:put_chars(code:root_dir()), halt().",
			NULL};
	struct iso_src srcs[2];
	FILE *f;
	int rc = -1;

	if (br_run_capture(argv, &root) != 0 || !root[0]) {
		br_seterr("cannot ask the host's erl for its OTP root%s",
			  root ? "" : " (is erlang-nox installed?)");
		free(root);
		return -1;
	}
	if (!mkdtemp(dir)) {
		br_seterr("mkdtemp: %s", strerror(errno));
		free(root);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/erl_inetrc", dir);
	f = fopen(path, "we");
	if (f) {
		fputs("{hosts_file, \"/opt/erlang/hosts\"}.\n"
		      "{resolv_conf, \"/opt/erlang/resolv.conf\"}.\n"
		      "{lookup, [file, dns]}.\n",
		      f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/hosts", dir);
	f = fopen(path, "we");
	if (f) {
		fputs("127.0.0.1\tlocalhost.localdomain localhost\n"
		      "::1\tlocalhost.localdomain localhost\n",
		      f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	f = fopen(path, "we");
	if (f) {
		/* qemu's user-mode DNS; edit for other networks. */
		fputs("nameserver 10.0.2.3\n", f);
		fclose(f);
	}
	srcs[0].dir = dir;
	srcs[0].prefix = NULL;
	srcs[1].dir = root;
	srcs[1].prefix = "lib/erlang";
	rc = volume_iso(srcs, 2, out, "ERLANG");
	br_rm_rf(dir);
	free(root);
	return rc;
}

static const char volume_usage[] =
    "usage: beamrun volume iso [--prefix PATH] [--label L] DIR OUT.iso\n"
    "       beamrun volume otp OUT.iso\n"
    "       beamrun volume create OUT.img SIZE\n"
    "iso:    an ISO 9660 data volume (Rock Ridge, Joliet) holding the\n"
    "        files under DIR, under PATH inside the image if given\n"
    "        (rumprun's genisoimage step: the OTP tree, an app's beams)\n"
    "otp:    the host's OTP tree as rumprun's erlang.iso: lib/erlang/,\n"
    "        erl_inetrc, hosts, resolv.conf; mount it on /opt/erlang\n"
    "create: an empty ext4 volume of SIZE (e.g. 64M) for -b IMG,MNT\n";

int cmd_volume(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"prefix", required_argument, NULL, 'P'},
	    {"label", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *prefix = NULL, *label = "BEAMRUN";
	struct iso_src src;
	int c;

	br_hold_signals();
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(volume_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "create")) {
		unsigned mib;

		if (argc != 4) {
			br_die_msg("volume create: expected OUT.img SIZE");
			return 2;
		}
		if (br_parse_mib(argv[3], &mib)) {
			br_die_msg("volume create: %s", br_err());
			return 2;
		}
		if (mib < 8) {
			br_die_msg(
			    "volume create: %s: ext4 with a journal needs "
			    "at least 8M",
			    argv[3]);
			return 2;
		}
		if (br_check_output(argv[2]) || volume_ext4(argv[2], mib)) {
			br_die_msg("volume create: %s", br_err());
			return 1;
		}
		return 0;
	}
	if (!strcmp(argv[1], "otp")) {
		if (argc != 3) {
			br_die_msg("volume otp: expected OUT.iso");
			return 2;
		}
		if (br_check_output(argv[2]) || volume_otp(argv[2])) {
			br_die_msg("volume otp: %s", br_err());
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[1], "iso")) {
		br_die_msg("volume: unknown kind \"%s\" (iso, otp or create)",
			   argv[1]);
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			prefix = optarg;
			if (*prefix == '/' || strstr(prefix, "..") ||
			    !strcmp(prefix, ".") || strstr(prefix, "./") ||
			    strstr(prefix, "//")) {
				br_die_msg(
				    "volume iso: --prefix %s: expected a "
				    "relative path without . or .. "
				    "(e.g. lib/erlang)",
				    optarg);
				return 2;
			}
			if (!*prefix)
				prefix = NULL;
			break;
		case 'L':
			label = optarg;
			break;
		case 'h':
			fputs(volume_usage, stdout);
			return 0;
		default:
			br_die_msg(
			    "volume iso: unknown option or missing value: "
			    "%s",
			    argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 2) {
		br_die_msg("volume iso: expected DIR OUT.iso");
		return 2;
	}
	if (!br_is_dir(argv[optind])) {
		br_die_msg("volume iso: %s: %s", argv[optind],
			   access(argv[optind], F_OK) ? "no such directory"
						      : "not a directory");
		return 1;
	}
	if (br_check_output(argv[optind + 1])) {
		br_die_msg("volume iso: %s", br_err());
		return 1;
	}
	if (br_path_inside(argv[optind + 1], argv[optind])) {
		br_die_msg("volume iso: %s is inside %s, which goes into it",
			   argv[optind + 1], argv[optind]);
		return 1;
	}
	src.dir = argv[optind];
	src.prefix = prefix;
	if (volume_iso(&src, 1, argv[optind + 1], label)) {
		br_die_msg("volume iso: %s", br_err());
		return 1;
	}
	return 0;
}
