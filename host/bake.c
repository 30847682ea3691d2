/* beamrun: "bake": an Erlang application (or none) into a bootable image. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamrun.h"

/* Mount points a user may use with -b; the root is read-only. */
static const char *const bake_dirs[] = {
    "proc", "sys", "dev",	 "tmp",		"run",	"etc", "data",
    "mnt",  "srv", "opt/erlang", "apps/erlang", "sbin", "otp", "app/ebin",
};

/* rumprun-bake configurations we accept, and what they mean here. */
static const char *const bake_configs[] = {"hw_virtio", "hw_generic"};

struct bake {
	const char *src; /* application directory, NULL for generic */
	const char *out;
	const char *start; /* -s MODULE */
	struct strv apps;  /* --app */
	struct strv erl_args;
	char stage[PATH_MAX]; /* temporary tree, removed at the end */
	char root[PATH_MAX];  /* stage/root: the guest's / */
	char otp_root[PATH_MAX];
	char otp_release[32];
	char erts_vsn[32];
	char module[256];
	int start1; /* the module exports start/1 (run's arguments) */
	const char *flavor;   /* --flavor, NULL: emu when built, else jit */
	char emu[PATH_MAX];   /* the interpreter beam.smp, "" for the host's */
	struct strv app_dirs; /* host lib dirs of the OTP apps to copy */
	struct strv elves;    /* ELF files in the image, for the closure */
	int list;	      /* --list: what went in, and how big */
	/* An OTP release (src has releases/): baked under /rel. */
	int release;
	int rel_bundled;  /* erts-VSN/ in the release */
	int rel_mix;	  /* an Elixir mix release */
	int rel_vm_args;  /* releases/VSN/vm.args exists */
	char rel_name[128];
	char rel_vsn[64];
	struct strv rel_apps; /* "NAME-VSN DIR" */
	struct strv rel_args; /* the release's erl arguments */
	const char *cacerts;  /* --cacerts FILE|none, NULL: the host's */
};

static int bake_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bake_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		br_seterr("path too long: %s", buf);
		return -1;
	}
	return 0;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && !strcmp(s + a - b, suf);
}

/* The application's own code: compile .erl, copy .beam, into /app/ebin. */
static int bake_collect(struct bake *b, struct strv *mods)
{
	char ebin[PATH_MAX], path[PATH_MAX];
	struct strv erls = {0}, beams = {0};
	struct dirent *e;
	DIR *d;
	size_t i;
	int rc = -1;

	d = opendir(b->src);
	if (!d) {
		br_seterr("%s: %s", b->src, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (has_suffix(e->d_name, ".erl"))
			strv_push(&erls, e->d_name);
		else if (has_suffix(e->d_name, ".beam"))
			strv_push(&beams, e->d_name);
	}
	closedir(d);
	if (!erls.n && !beams.n) {
		br_seterr("%s: no .erl or .beam files (nothing to bake) and "
			  "not an OTP release (no releases/VSN/start.boot)",
			  b->src);
		goto out;
	}
	if (bake_path(ebin, sizeof(ebin), "%s/app/ebin", b->root))
		goto out;
	if (erls.n) {
		struct strv argv = {0};

		strv_push(&argv, "erlc");
		strv_push(&argv, "+deterministic");
		strv_push(&argv, "-o");
		strv_push(&argv, ebin);
		for (i = 0; i < erls.n; i++)
			strv_pushf(&argv, "%s/%s", b->src, erls.v[i]);
		rc = br_run(argv.v, 0);
		strv_free(&argv);
		if (rc != 0) {
			if (rc > 0)
				br_seterr("%s: erlc failed (errors above)",
					  b->src);
			rc = -1;
			goto out;
		}
		rc = -1;
	}
	for (i = 0; i < beams.n; i++) {
		char dst[PATH_MAX];

		if (bake_path(path, sizeof(path), "%s/%s", b->src,
			      beams.v[i]) ||
		    bake_path(dst, sizeof(dst), "%s/%s", ebin, beams.v[i]))
			goto out;
		/* A module given as source and as .beam: the source wins. */
		if (br_is_file(dst))
			continue;
		if (br_copy_file(path, dst))
			goto out;
	}
	d = opendir(ebin);
	while (d && (e = readdir(d)))
		if (has_suffix(e->d_name, ".beam")) {
			e->d_name[strlen(e->d_name) - 5] = '\0';
			strv_push(mods, e->d_name);
		}
	if (d)
		closedir(d);
	rc = 0;
out:
	strv_free(&erls);
	strv_free(&beams);
	return rc;
}

static int bake_pick_module(struct bake *b, const struct strv *mods)
{
	char base[PATH_MAX], *p;
	size_t i;

	if (b->start) {
		for (i = 0; i < mods->n; i++)
			if (!strcmp(mods->v[i], b->start))
				break;
		if (i == mods->n) {
			char *list = strv_join_shell(mods);

			br_seterr("-s %s: no such module in %s (it has: %s)",
				  b->start, b->src, list);
			free(list);
			return -1;
		}
		snprintf(b->module, sizeof(b->module), "%s", b->start);
		return 0;
	}
	snprintf(base, sizeof(base), "%s", b->src);
	while ((p = strrchr(base, '/')) && p[1] == '\0' && p != base)
		*p = '\0';
	p = strrchr(base, '/');
	p = p ? p + 1 : base;
	for (i = 0; i < mods->n; i++)
		if (!strcmp(mods->v[i], p)) {
			snprintf(b->module, sizeof(b->module), "%s", p);
			return 0;
		}
	if (mods->n == 1) {
		snprintf(b->module, sizeof(b->module), "%s", mods->v[0]);
		return 0;
	}
	{
		char *list = strv_join_shell(mods);

		br_seterr("%s: several modules (%s) and none is named %s; "
			  "choose one with -s MODULE",
			  b->src, list, p);
		free(list);
	}
	return -1;
}

/*
 * Run host/bake.escript with args; its standard output in *out (the
 * caller frees). On failure its "error: ..." line is the error, else
 * what (when it ran and failed), and *out is freed.
 */
static int bake_escript(const struct strv *args, const char *what, char **out)
{
	const char *script = br_data_file("bake.escript");
	struct strv argv = {0};
	size_t i;
	int rc;

	*out = NULL;
	if (!script) {
		br_seterr("bake.escript not found (set BEAMRUN_LIBDIR)");
		return -1;
	}
	strv_push(&argv, "escript");
	strv_push(&argv, script);
	for (i = 0; i < args->n; i++)
		strv_push(&argv, args->v[i]);
	rc = br_run_capture(argv.v, out);
	strv_free(&argv);
	if (rc != 0) {
		char *e = *out ? strstr(*out, "error: ") : NULL;

		if (e) {
			e[strcspn(e, "\n")] = '\0';
			br_seterr("%s", e + 7);
		} else if (rc > 0) {
			br_seterr("%s", what);
		}
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Ask the host's Erlang which OTP applications the code needs. */
static int bake_analyse(struct bake *b)
{
	struct strv argv = {0};
	char *out = NULL, *line, *save, ebin[PATH_MAX];
	size_t i;
	int rc;

	/* Empty for a generic image: then only kernel and stdlib. */
	snprintf(ebin, sizeof(ebin), "%s/app/ebin", b->root);
	strv_push(&argv, "analyse");
	strv_push(&argv, ebin);
	strv_push(&argv, b->module[0] ? b->module : "-");
	for (i = 0; i < b->apps.n; i++)
		strv_push(&argv, b->apps.v[i]);
	rc = bake_escript(&argv, "the host's Erlang could not analyse the "
				 "code (see above)",
			  &out);
	strv_free(&argv);
	if (rc)
		return -1;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "otp_release ", 12))
			snprintf(b->otp_release, sizeof(b->otp_release), "%s",
				 line + 12);
		else if (!strncmp(line, "erts_vsn ", 9))
			snprintf(b->erts_vsn, sizeof(b->erts_vsn), "%s",
				 line + 9);
		else if (!strncmp(line, "root ", 5))
			snprintf(b->otp_root, sizeof(b->otp_root), "%s",
				 line + 5);
		else if (!strncmp(line, "app ", 4) && strchr(line + 4, ' '))
			strv_push(&b->app_dirs, strchr(line + 4, ' ') + 1);
		else if (!strcmp(line, "start1 yes"))
			b->start1 = 1;
		else if (!strncmp(line, "start ", 6) && b->module[0]) {
			const char *s = line + 6;

			if (!strcmp(s, "missing"))
				br_seterr("module %s not found", b->module);
			else if (strcmp(s, "0"))
				br_seterr("%s does not export start/0, which "
					  "beamrun calls to start the "
					  "application",
					  b->module);
			if (strcmp(s, "0")) {
				free(out);
				return -1;
			}
		}
	}
	free(out);
	if (!b->otp_root[0] || !b->erts_vsn[0]) {
		br_seterr("the host's Erlang gave no OTP root");
		return -1;
	}
	return 0;
}

/* Copy a tree (nftw has no context pointer, hence the statics). */
static const char *copy_src, *copy_dst;
static struct strv *copy_elves;

static int copy_one(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	char dst[PATH_MAX];

	(void)ftw;
	if (snprintf(dst, sizeof(dst), "%s%s", copy_dst,
		     p + strlen(copy_src)) >= (int)sizeof(dst)) {
		br_seterr("%s: path too long", p);
		return -1;
	}
	if (flag == FTW_D)
		return br_mkdir_p(dst, 0755);
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	/* Sources, headers and docs are not needed at run time. */
	if (has_suffix(p, ".erl") || has_suffix(p, ".hrl") ||
	    has_suffix(p, ".c") || has_suffix(p, ".h"))
		return 0;
	if (br_copy_file(p, dst))
		return -1;
	if ((st->st_mode & 0111 || has_suffix(p, ".so")) && br_elf_is_elf(p))
		strv_push(copy_elves, p);
	return 0;
}

static int bake_copy_tree(const char *src, const char *dst, struct strv *elves)
{
	copy_src = src;
	copy_dst = dst;
	copy_elves = elves;
	if (!br_is_dir(src))
		return 0;
	if (nftw(src, copy_one, 32, FTW_PHYS)) {
		if (errno)
			br_seterr("copy %s: %s", src, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Which emulator goes in: the host's beam.smp (Debian's is the JIT
 * flavour) or the interpreter built from the same source by
 * erts/build.sh. Under TCG the interpreter starts an application in
 * well under the JIT's time (the JIT compiles each module it loads on
 * an emulated CPU), needs no code area nor libstdc++, and so makes a
 * smaller image and guest; the JIT runs CPU-bound Erlang faster.
 */
static int bake_pick_flavor(struct bake *b)
{
	char rel[64];
	const char *emu;

	snprintf(rel, sizeof(rel), "erts/%s/beam.smp", b->erts_vsn);
	emu = br_data_file(rel);
	/*
	 * A generic image (rumprun's hw_virtio) runs the beam.smp of the
	 * OTP volume it is given, the host's tree as `volume otp` copies
	 * it: the JIT, so the root carries that emulator's libraries.
	 */
	if ((b->flavor && !strcmp(b->flavor, "jit")) || (!b->flavor && !b->src))
		emu = NULL;
	else if (b->flavor && !emu) {
		br_seterr("--flavor emu: no interpreter build of ERTS %s "
			  "(make it with 'make erts')",
			  b->erts_vsn);
		return -1;
	}
	snprintf(b->emu, sizeof(b->emu), "%s", emu ? emu : "");
	br_info("emulator: %s", emu ? emu : "the host's (jit)");
	return 0;
}

/*
 * ERTS's programs from FROM/erts-VSN/bin (the interpreter build's
 * beam.smp when chosen) into the image's TO/erts-VSN/bin. beam forks
 * erl_child_setup at start; kernel starts the native resolver's port
 * program (inet_gethost) even when ERL_INETRC does not use it, and its
 * absence is fatal.
 */
static int bake_erts_bins(struct bake *b, const char *from, const char *to)
{
	static const char *const bins[] = {"beam.smp", "erl_child_setup",
					   "inet_gethost"};
	char src[PATH_MAX], dst[PATH_MAX];
	size_t i;

	if (bake_path(dst, sizeof(dst), "%s/%s/erts-%s/bin", b->root, to,
		      b->erts_vsn) ||
	    br_mkdir_p(dst, 0755))
		return -1;
	for (i = 0; i < sizeof(bins) / sizeof(*bins); i++) {
		if (i == 0 && b->emu[0])
			snprintf(src, sizeof(src), "%s", b->emu);
		else if (bake_path(src, sizeof(src), "%s/erts-%s/bin/%s", from,
				   b->erts_vsn, bins[i]))
			return -1;
		if (!br_is_file(src)) {
			br_seterr("%s: missing (ERTS %s is incomplete)", src,
				  b->erts_vsn);
			return -1;
		}
		if (bake_path(dst, sizeof(dst), "%s/%s/erts-%s/bin/%s",
			      b->root, to, b->erts_vsn, bins[i]) ||
		    br_copy_file(src, dst))
			return -1;
		strv_push(&b->elves, src);
	}
	return 0;
}

/* An application's ebin/ and priv/ from DIR into the image's TO/NAME. */
static int bake_copy_app(struct bake *b, const char *dir, const char *to,
			 const char *name)
{
	static const char *const sub[] = {"ebin", "priv"};
	char src[PATH_MAX], dst[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(sub) / sizeof(*sub); i++)
		if (bake_path(src, sizeof(src), "%s/%s", dir, sub[i]) ||
		    bake_path(dst, sizeof(dst), "%s/%s/%s/%s", b->root, to,
			      name, sub[i]) ||
		    bake_copy_tree(src, dst, &b->elves))
			return -1;
	return 0;
}

static int bake_lean_boot(struct bake *b)
{
	struct strv argv = {0};
	char src[PATH_MAX], dst[PATH_MAX], *out = NULL;
	int rc;

	if (bake_path(src, sizeof(src), "%s/bin/no_dot_erlang.boot",
		      b->otp_root) ||
	    bake_path(dst, sizeof(dst), "%s/otp/bin/start.boot", b->root))
		return -1;
	strv_push(&argv, "boot");
	strv_push(&argv, src);
	strv_push(&argv, dst);
	rc = bake_escript(&argv, "the host's Erlang could not write the boot "
				 "script (see above)",
			  &out);
	strv_free(&argv);
	free(out);
	return rc;
}

static int bake_otp(struct bake *b)
{
	static const char *const boots[] = {"start_clean.boot",
					    "no_dot_erlang.boot"};
	char src[PATH_MAX], dst[PATH_MAX];
	size_t i;

	if (bake_erts_bins(b, b->otp_root, "otp"))
		return -1;
	for (i = 0; i < b->app_dirs.n; i++) {
		const char *dir = b->app_dirs.v[i];
		const char *name = strrchr(dir, '/') + 1;

		if (bake_copy_app(b, dir, "otp/lib", name))
			return -1;
	}
	/* beam boots "start" from ROOT/bin; start_clean is kernel+stdlib. */
	if (bake_path(dst, sizeof(dst), "%s/otp/bin", b->root) ||
	    br_mkdir_p(dst, 0755))
		return -1;
	for (i = 0; i < sizeof(boots) / sizeof(*boots); i++) {
		if (bake_path(src, sizeof(src), "%s/bin/%s", b->otp_root,
			      boots[i]) ||
		    bake_path(dst, sizeof(dst), "%s/otp/bin/%s", b->root,
			      boots[i]) ||
		    br_copy_file(src, dst))
			return -1;
	}
	/*
	 * start.boot, which beam boots by default, is no_dot_erlang.boot
	 * made leaner for small guests (bake.escript's lean_boot).
	 */
	if (bake_lean_boot(b))
		return -1;
	if (bake_path(src, sizeof(src), "%s/releases/%s/OTP_VERSION",
		      b->otp_root, b->otp_release) ||
	    bake_path(dst, sizeof(dst), "%s/otp/releases/%s", b->root,
		      b->otp_release) ||
	    br_mkdir_p(dst, 0755) ||
	    bake_path(dst, sizeof(dst), "%s/otp/releases/%s/OTP_VERSION",
		      b->root, b->otp_release))
		return -1;
	if (br_is_file(src) && br_copy_file(src, dst))
		return -1;
	return 0;
}

/*
 * An OTP release directory, as relx (rebar3 release), systools or mix
 * make it: known by its releases/ folder. What it holds is read by the
 * host's Erlang (bake.escript release), which also refuses an ERTS
 * that is neither bundled nor the host's.
 */
static int bake_is_release(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/releases", dir);
	return br_is_dir(path);
}

static int bake_release_read(struct bake *b)
{
	struct strv argv = {0};
	char *out = NULL, *line, *save, what[PATH_MAX + 64];
	int rc;

	snprintf(what, sizeof(what),
		 "%s: the host's Erlang could not read the release (see above)",
		 b->src);
	strv_push(&argv, "release");
	strv_push(&argv, b->src);
	rc = bake_escript(&argv, what, &out);
	strv_free(&argv);
	if (rc)
		return -1;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "name ", 5))
			snprintf(b->rel_name, sizeof(b->rel_name), "%s",
				 line + 5);
		else if (!strncmp(line, "vsn ", 4))
			snprintf(b->rel_vsn, sizeof(b->rel_vsn), "%s", line + 4);
		else if (!strncmp(line, "erts ", 5))
			snprintf(b->erts_vsn, sizeof(b->erts_vsn), "%s",
				 line + 5);
		else if (!strncmp(line, "bundled ", 8))
			b->rel_bundled = !strcmp(line + 8, "yes");
		else if (!strncmp(line, "kind ", 5))
			b->rel_mix = !strcmp(line + 5, "mix");
		else if (!strncmp(line, "vm_args ", 8))
			b->rel_vm_args = !strcmp(line + 8, "yes");
		else if (!strncmp(line, "host_root ", 10))
			snprintf(b->otp_root, sizeof(b->otp_root), "%s",
				 line + 10);
		else if (!strncmp(line, "otp_release ", 12))
			snprintf(b->otp_release, sizeof(b->otp_release), "%s",
				 strcmp(line + 12, "-") ? line + 12 : "");
		else if (!strncmp(line, "app ", 4) && strchr(line + 4, ' '))
			strv_push(&b->rel_apps, line + 4);
	}
	free(out);
	if (!b->rel_name[0] || !b->rel_vsn[0] || !b->erts_vsn[0] ||
	    !b->rel_apps.n) {
		br_seterr("%s: the host's Erlang gave no release", b->src);
		return -1;
	}
	br_info("release %s-%s, ERTS %s (%s)", b->rel_name, b->rel_vsn,
		b->erts_vsn, b->rel_bundled ? "bundled" : "the host's");
	return 0;
}

/*
 * The release under /rel: its ERTS's programs (or the host's, same
 * version), the applications its .rel names (ebin and priv), and
 * releases/ (boot scripts, sys.config, vm.args, mix's consolidated
 * protocols). Other applications left in lib/ do not go in.
 */
static int bake_release_copy(struct bake *b)
{
	static const char *const top[] = {"start_erl.data", "RELEASES",
					  "COOKIE"};
	char src[PATH_MAX], dst[PATH_MAX];
	size_t i;

	if (bake_erts_bins(b, b->rel_bundled ? b->src : b->otp_root, "rel"))
		return -1;
	for (i = 0; i < b->rel_apps.n; i++) {
		char av[256];
		const char *dir = strchr(b->rel_apps.v[i], ' ') + 1;

		snprintf(av, sizeof(av), "%.*s",
			 (int)(dir - 1 - b->rel_apps.v[i]), b->rel_apps.v[i]);
		if (bake_copy_app(b, dir, "rel/lib", av))
			return -1;
	}
	if (bake_path(src, sizeof(src), "%s/releases/%s", b->src,
		      b->rel_vsn) ||
	    bake_path(dst, sizeof(dst), "%s/rel/releases/%s", b->root,
		      b->rel_vsn) ||
	    bake_copy_tree(src, dst, &b->elves))
		return -1;
	for (i = 0; i < sizeof(top) / sizeof(*top); i++) {
		if (bake_path(src, sizeof(src), "%s/releases/%s", b->src,
			      top[i]) ||
		    bake_path(dst, sizeof(dst), "%s/rel/releases/%s", b->root,
			      top[i]))
			return -1;
		if (br_is_file(src) && br_copy_file(src, dst))
			return -1;
	}
	return 0;
}

/*
 * The erl arguments a release starts with, as its start script would
 * pass them to erlexec in the foreground: relx's "foreground"
 * (-noinput +Bd, -mode embedded, -boot_var SYSTEM_LIB_DIR), mix's
 * "start" (-noshell, -s elixir start_cli, -extra --no-halt,
 * -boot_var RELEASE_LIB). vm.args stays a file in the image; the
 * guest's init expands -args_file as erlexec does, so neither its
 * length nor a -setcookie in it reaches the image header or the
 * kernel command line. A mix release's cookie (releases/COOKIE, which
 * its script passes with --cookie) goes into a second args file.
 */
static int bake_release_args(struct bake *b, struct strv *args)
{
	char rel[PATH_MAX], path[PATH_MAX];

	snprintf(rel, sizeof(rel), "/rel/releases/%s", b->rel_vsn);
	strv_push(args, b->rel_mix ? "-noshell" : "-noinput");
	if (!b->rel_mix)
		strv_push(args, "+Bd");
	strv_push(args, "-boot");
	strv_pushf(args, "%s/start", rel);
	strv_push(args, "-mode");
	strv_push(args, "embedded");
	strv_push(args, "-boot_var");
	strv_push(args, b->rel_mix ? "RELEASE_LIB" : "SYSTEM_LIB_DIR");
	strv_push(args, "/rel/lib");
	strv_push(args, "-config");
	strv_pushf(args, "%s/sys", rel);
	if (b->rel_vm_args) {
		strv_push(args, "-args_file");
		strv_pushf(args, "%s/vm.args", rel);
	}
	if (b->rel_mix) {
		char *cookie = NULL;
		FILE *f;

		if (bake_path(path, sizeof(path), "%s/releases/COOKIE",
			      b->src))
			return -1;
		f = fopen(path, "re");
		if (f) {
			char buf[256];
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			fclose(f);
			buf[n] = '\0';
			buf[strcspn(buf, "\r\n")] = '\0';
			if (buf[0])
				cookie = xstrdup(buf);
		}
		if (cookie) {
			if (bake_path(path, sizeof(path),
				      "%s/rel/releases/%s/beamrun.cookie.args",
				      b->root, b->rel_vsn)) {
				free(cookie);
				return -1;
			}
			f = fopen(path, "we");
			if (!f || fprintf(f, "-setcookie %s\n", cookie) < 0 ||
			    fclose(f)) {
				br_seterr("write %s: %s", path,
					  strerror(errno));
				free(cookie);
				return -1;
			}
			free(cookie);
			strv_push(args, "-args_file");
			strv_pushf(args, "%s/beamrun.cookie.args", rel);
		}
		strv_push(args, "-s");
		strv_push(args, "elixir");
		strv_push(args, "start_cli");
	}
	return 0;
}

/* The host's CA bundle (Debian's ca-certificates package). */
#define BAKE_HOST_CACERTS "/etc/ssl/certs/ca-certificates.crt"
/*
 * Where it goes: the guest's init mounts a tmpfs on /etc and links each
 * entry of /usr/etc there, so the bundle is read at
 * /etc/ssl/certs/ca-certificates.crt, the first place OTP's
 * public_key:cacerts_get/0 looks on Linux.
 */
#define BAKE_GUEST_CACERTS "usr/etc/ssl/certs/ca-certificates.crt"

static int bake_has_app(const struct bake *b, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < b->app_dirs.n; i++) {
		const char *base = strrchr(b->app_dirs.v[i], '/') + 1;

		if (!strncmp(base, name, n) && base[n] == '-')
			return 1;
	}
	/* A release's applications: "NAME-VSN DIR". */
	for (i = 0; i < b->rel_apps.n; i++)
		if (!strncmp(b->rel_apps.v[i], name, n) &&
		    b->rel_apps.v[i][n] == '-')
			return 1;
	return 0;
}

/*
 * A CA bundle for public_key:cacerts_get/0 (and so for ssl's and httpc's
 * peer verification): --cacerts FILE, --cacerts none, or by default the
 * host's, when the image has public_key (ssl brings it in).
 */
static int bake_cacerts(struct bake *b)
{
	const char *src = b->cacerts ? b->cacerts : BAKE_HOST_CACERTS;
	char dst[PATH_MAX], line[256];
	int pem = 0;
	FILE *f;

	if (b->cacerts && !strcmp(b->cacerts, "none")) {
		br_info("CA certificates: none (--cacerts none)");
		return 0;
	}
	if (!b->cacerts && !bake_has_app(b, "public_key"))
		return 0;
	if (b->cacerts && !access(src, F_OK) && !br_is_file(src)) {
		br_seterr("--cacerts %s: not a regular file", src);
		return -1;
	}
	f = fopen(src, "re");
	if (!f && !b->cacerts && errno == ENOENT) {
		fprintf(stderr,
			"beamrun: warning: %s not found (install "
			"ca-certificates, or give --cacerts FILE): the image "
			"has no CA certificates\n",
			src);
		return 0;
	}
	if (!f) {
		br_seterr("--cacerts %s: %s", src, strerror(errno));
		return -1;
	}
	while (!pem && fgets(line, sizeof(line), f))
		pem = !strncmp(line, "-----BEGIN CERTIFICATE-----", 27);
	fclose(f);
	if (!pem) {
		br_seterr("--cacerts %s: no PEM certificate in it (expected "
			  "-----BEGIN CERTIFICATE-----)",
			  src);
		return -1;
	}
	if (bake_path(dst, sizeof(dst), "%s/" BAKE_GUEST_CACERTS, b->root))
		return -1;
	*strrchr(dst, '/') = '\0';
	if (br_mkdir_p(dst, 0755))
		return -1;
	dst[strlen(dst)] = '/';
	if (br_copy_file(src, dst))
		return -1;
	br_info("CA certificates: %s", src);
	return 0;
}

/* Every shared library the emulator and the NIFs load, at its path. */
static int bake_libs(struct bake *b)
{
	struct strv libs = {0}, reals = {0};
	char dst[PATH_MAX], dir[PATH_MAX];
	size_t i;
	int rc = -1;

	for (i = 0; i < b->elves.n; i++)
		if (br_elf_closure(b->elves.v[i], &libs))
			goto out;
	for (i = 0; i < libs.n; i++) {
		char real[PATH_MAX];
		size_t j;

		if (bake_path(dst, sizeof(dst), "%s%s", b->root, libs.v[i]))
			goto out;
		snprintf(dir, sizeof(dir), "%s", dst);
		*strrchr(dir, '/') = '\0';
		if (br_mkdir_p(dir, 0755))
			goto out;
		/*
		 * One file reached by two names (the loader is both
		 * /lib64/ld-linux-x86-64.so.2 and the one in the multiarch
		 * directory) is copied once; the other name is a symlink.
		 */
		if (!realpath(libs.v[i], real)) {
			br_seterr("%s: %s", libs.v[i], strerror(errno));
			goto out;
		}
		for (j = 0; j < reals.n; j++)
			if (!strcmp(reals.v[j], real))
				break;
		if (j < reals.n) {
			if (symlink(libs.v[j], dst)) {
				br_seterr("symlink %s: %s", dst,
					  strerror(errno));
				goto out;
			}
		} else if (br_copy_file(libs.v[i], dst)) {
			goto out;
		}
		strv_push(&reals, real);
		br_info("library %s", libs.v[i]);
	}
	rc = 0;
out:
	strv_free(&libs);
	strv_free(&reals);
	return rc;
}

static int bake_skeleton(struct bake *b)
{
	char path[PATH_MAX];
	const char *init = br_data_file("init/beamrun-init");
	size_t i;

	if (!init) {
		br_seterr("init/beamrun-init not found: build it with make");
		return -1;
	}
	for (i = 0; i < sizeof(bake_dirs) / sizeof(*bake_dirs); i++)
		if (bake_path(path, sizeof(path), "%s/%s", b->root,
			      bake_dirs[i]) ||
		    br_mkdir_p(path, 0755))
			return -1;
	if (bake_path(path, sizeof(path), "%s/sbin/init", b->root))
		return -1;
	/* Static (Makefile); an init built dynamically would bring its
	 * libraries into the closure here. */
	strv_push(&b->elves, init);
	return br_copy_file(init, path);
}

static int bake_strip(struct bake *b)
{
	const char *script = br_data_file("bake.escript");
	char otp[PATH_MAX], app[PATH_MAX];
	char *argv[] = {"escript", (char *)script, "strip", otp, app, NULL};
	int rc;

	snprintf(otp, sizeof(otp), "%s/%s/lib", b->root,
		 b->release ? "rel" : "otp");
	snprintf(app, sizeof(app), "%s/app/ebin", b->root);
	rc = br_run(argv, 0);
	if (rc > 0)
		br_seterr("stripping the .beam files failed");
	return rc ? -1 : 0;
}

/* The bytes of the regular files below a path (before compression). */
static unsigned long long size_sum;
static unsigned long size_files;

static int size_one(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode)) {
		size_sum += (unsigned long long)st->st_size;
		size_files++;
	}
	return 0;
}

static unsigned long long tree_size(const char *path, unsigned long *files)
{
	size_sum = 0;
	size_files = 0;
	if (access(path, F_OK) == 0)
		nftw(path, size_one, 32, FTW_PHYS);
	if (files)
		*files += size_files;
	return size_sum;
}

static void list_line(const char *what, unsigned long long bytes)
{
	printf("  %-40s %9.1f KiB\n", what, (double)bytes / 1024.0);
}

/* Each application's folder below DIR (ROOT/otp/lib or ROOT/rel/lib). */
static unsigned long long list_apps(const char *dir)
{
	struct dirent **names;
	unsigned long long all = 0;
	char path[PATH_MAX], what[PATH_MAX];
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			unsigned long long sz;

			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i]->d_name);
			sz = tree_size(path, NULL);
			snprintf(what, sizeof(what), "application %s",
				 names[i]->d_name);
			list_line(what, sz);
			all += sz;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return all;
}

/*
 * bake --list: what went into the image and how big each part is.
 * Parts are the files' own sizes; the root file system line is what
 * they take compressed, and the image is kernel, root and header.
 */
static void bake_list(struct bake *b)
{
	static const char *const libdirs[] = {"lib", "lib64", "usr"};
	const char *top = b->release ? "rel" : "otp";
	char path[PATH_MAX], what[PATH_MAX];
	unsigned long long sz = 0, apps;
	unsigned long files = 0;
	struct stat st;
	size_t i;

	printf("%s:\n", b->out);
	if (b->release)
		printf("  release %s-%s, ERTS %s (%s)\n", b->rel_name,
		       b->rel_vsn, b->erts_vsn,
		       b->rel_bundled ? "bundled" : "the host's");
	snprintf(path, sizeof(path), "%s/%s/lib", b->root, top);
	apps = list_apps(path);
	snprintf(path, sizeof(path), "%s/app/ebin", b->root);
	if ((sz = tree_size(path, NULL)))
		list_line("application code (/app/ebin)", sz);
	apps += sz;
	list_line("applications, all", apps);
	if (b->release) {
		snprintf(path, sizeof(path), "%s/rel/releases", b->root);
		list_line("release files (boot, sys.config, vm.args)",
			  tree_size(path, NULL));
	} else {
		snprintf(path, sizeof(path), "%s/otp/bin", b->root);
		list_line("boot scripts (/otp/bin)", tree_size(path, NULL));
	}
	snprintf(path, sizeof(path), "%s/%s/erts-%s/bin", b->root, top,
		 b->erts_vsn);
	snprintf(what, sizeof(what), "emulator (beam.smp %s, erts-%s)",
		 b->emu[0] ? "emu" : b->rel_bundled ? "bundled" : "jit",
		 b->erts_vsn);
	list_line(what, tree_size(path, NULL));
	sz = 0;
	for (i = 0; i < sizeof(libdirs) / sizeof(*libdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", b->root, libdirs[i]);
		sz += tree_size(path, &files);
	}
	snprintf(what, sizeof(what), "shared libraries (%lu files)", files);
	list_line(what, sz);
	snprintf(path, sizeof(path), "%s/sbin/init", b->root);
	list_line("init (/sbin/init)", tree_size(path, NULL));
	snprintf(path, sizeof(path), "%s/root.erofs", b->stage);
	list_line("root file system (erofs, lz4hc)", tree_size(path, NULL));
	list_line("kernel (bzImage)",
		  tree_size(br_data_file("kernel/bzImage"), NULL));
	if (stat(b->out, &st) == 0)
		list_line("image, all", (unsigned long long)st.st_size);
}

static int bake_image(struct bake *b)
{
	const char *kernel = br_data_file("kernel/bzImage");
	char fs[PATH_MAX], rel[256];
	struct br_image meta;
	int rc;

	if (!kernel) {
		br_seterr("kernel/bzImage not found: build it with make");
		return -1;
	}
	if (bake_path(fs, sizeof(fs), "%s/root.erofs", b->stage))
		return -1;
	{
		/*
		 * Fixed time stamps and owners: the same input, same image.
		 * 64 KiB physical clusters compress the runtime 13% better
		 * than the default 4 KiB (8.4 MB to 7.3 MB for echoserver);
		 * 256 KiB and lz4hc's level 12 another 2% (5.45 MB to 5.33
		 * MB of root for echoserver with the interpreter). 1 MiB
		 * gains 0.4% more; Debian's erofs-utils 1.5 has no LZMA.
		 * Tail packing (each file's last block inline with its
		 * inode, read by kernels from 5.17) saves 20 KB more.
		 */
		char *argv[] = {"mkfs.erofs", "-zlz4hc,12",	"-C262144",
				"-Eztailpacking", "-T0",	"--all-root",
				"--quiet",	  fs,		b->root,
				NULL};

		rc = br_run(argv, 1);
		if (rc) {
			if (rc > 0)
				br_seterr("mkfs.erofs failed (status %d)", rc);
			return -1;
		}
	}
	memset(&meta, 0, sizeof(meta));
	meta.otp = b->otp_release;
	meta.app = b->module;
	/* Known for a module of the image's own; a release takes any. */
	meta.start_args = b->release || !b->module[0] ? -1 : b->start1;
	meta.root = "/otp";
	meta.flavor = b->emu[0] ? "emu" : "jit";
	if (b->release) {
		struct strv baked = {0};
		size_t i;

		snprintf(rel, sizeof(rel), "%s-%s", b->rel_name, b->rel_vsn);
		meta.release = rel;
		/* Words after the image in run: plain arguments. */
		meta.app = b->rel_name;
		meta.root = "/rel";
		if (b->rel_bundled && !b->emu[0])
			meta.flavor = "bundled";
		for (i = 0; i < b->rel_args.n; i++)
			strv_push(&baked, b->rel_args.v[i]);
		for (i = 0; i < b->erl_args.n; i++)
			strv_push(&baked, b->erl_args.v[i]);
		strv_push(&baked, "-extra");
		/* elixir's CLI: what follows "--" is System.argv(). */
		if (b->rel_mix) {
			strv_push(&baked, "--no-halt");
			strv_push(&baked, "--");
		}
		strv_free(&b->erl_args);
		b->erl_args = baked;
	} else if (b->module[0]) {
		strv_push(&b->erl_args, "-noshell");
		strv_push(&b->erl_args, "-pa");
		strv_push(&b->erl_args, "/app/ebin");
		/* Last, so that run's ARGs become start/1's list. */
		strv_push(&b->erl_args, "-run");
		strv_push(&b->erl_args, b->module);
		strv_push(&b->erl_args, "start");
	}
	/* Borrowed for the header; b still owns and frees the vector. */
	meta.args = b->erl_args;
	return br_image_write(b->out, kernel, fs, &meta);
}

static int bake_run(struct bake *b)
{
	struct stat st;
	struct strv mods = {0};
	const char *tmp = getenv("TMPDIR");
	int rc = -1;

	if (br_check_output(b->out))
		return -1;
	/* A source file given as -o by mistake must not be replaced. */
	if (stat(b->out, &st) == 0 && st.st_size > 0 &&
	    !br_is_image_file(b->out)) {
		br_seterr("%s: exists and is not a beamrun image; not replacing "
			  "it",
			  b->out);
		return -1;
	}
	snprintf(b->stage, sizeof(b->stage), "%s/beamrun-bake-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b->stage)) {
		br_seterr("mkdtemp %s: %s", b->stage, strerror(errno));
		return -1;
	}
	snprintf(b->root, sizeof(b->root), "%s/root", b->stage);
	if (bake_skeleton(b))
		goto out;
	if (b->release) {
		if (bake_release_read(b) || br_interrupted() ||
		    bake_pick_flavor(b) || bake_release_copy(b) ||
		    bake_release_args(b, &b->rel_args))
			goto out;
	} else {
		if (b->src && (bake_collect(b, &mods) || br_interrupted() ||
			       bake_pick_module(b, &mods)))
			goto out;
		if (br_interrupted() || bake_analyse(b) || br_interrupted() ||
		    bake_pick_flavor(b) || bake_otp(b))
			goto out;
	}
	if (br_interrupted() || bake_cacerts(b) || bake_libs(b) ||
	    br_interrupted() || bake_strip(b) || br_interrupted() ||
	    bake_image(b))
		goto out;
	if (b->list)
		bake_list(b);
	rc = 0;
out:
	strv_free(&mods);
	if (!getenv("BEAMRUN_KEEP_STAGE"))
		br_rm_rf(b->stage);
	return rc;
}

static const char bake_usage[] =
    "usage: beamrun bake [options] DIR -o IMAGE\n"
    "       beamrun bake [options] RELDIR -o IMAGE\n"
    "       beamrun bake hw_virtio IMAGE\n"
    "Bake the Erlang code in DIR (.erl compiled with the host's erlc,\n"
    "or .beam) into IMAGE, which boots with MODULE:start(): MODULE is\n"
    "the one named like DIR, the only one, or the one given with -s.\n"
    "RELDIR is an OTP release (rebar3 release, systools, mix release):\n"
    "the image boots its boot script with its sys.config and vm.args,\n"
    "on its bundled ERTS or the host's (the same version).\n"
    "The second form (rumprun-bake's) makes a generic Erlang unikernel\n"
    "with no application in it: give it erl arguments when you run it.\n"
    "  -o, --output IMAGE    the image to write (replaced atomically)\n"
    "  -s, --start MODULE    the module whose start/0 starts the app\n"
    "      --app NAME        also include OTP application NAME\n"
    "      --erl-args 'ARGS' erl arguments baked in (e.g. '+S 2')\n"
    "      --flavor emu|jit  the emulator: the interpreter (emu, the\n"
    "                        default when 'make erts' has built it) or\n"
    "                        the host's JIT\n"
    "      --list            print what went in and how big each part is\n"
    "      --cacerts FILE|none  the CA bundle for public_key:cacerts_get/0\n"
    "                        (default: the host's " BAKE_HOST_CACERTS ",\n"
    "                        when the code uses ssl or public_key)\n"
    "  -v, --verbose         show each step\n";

int cmd_bake(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"start", required_argument, NULL, 's'},
	    {"app", required_argument, NULL, 'a'},
	    {"erl-args", required_argument, NULL, 'A'},
	    {"flavor", required_argument, NULL, 'F'},
	    {"list", no_argument, NULL, 'l'},
	    {"cacerts", required_argument, NULL, 'C'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bake b;
	int c, rc = 1;
	size_t i;

	memset(&b, 0, sizeof(b));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			b.out = optarg;
			break;
		case 's':
			b.start = optarg;
			break;
		case 'a':
			strv_push(&b.apps, optarg);
			break;
		case 'A':
			if (br_split_words(optarg, &b.erl_args)) {
				br_die_msg("--erl-args: %s", br_err());
				goto out;
			}
			break;
		case 'F':
			if (strcmp(optarg, "emu") && strcmp(optarg, "jit")) {
				br_die_msg("bake: --flavor %s: expected emu or "
					   "jit",
					   optarg);
				rc = 2;
				goto out;
			}
			b.flavor = optarg;
			break;
		case 'l':
			b.list = 1;
			break;
		case 'C':
			b.cacerts = optarg;
			break;
		case 'v':
			br_verbose = 1;
			break;
		case 'h':
			fputs(bake_usage, stdout);
			rc = 0;
			goto out;
		default:
			br_die_msg("bake: unknown option or missing value: %s "
				   "(see beamrun bake --help)",
				   argv[optind - 1]);
			rc = 2;
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 2 && !br_is_dir(argv[0])) {
		for (i = 0; i < sizeof(bake_configs) / sizeof(*bake_configs);
		     i++)
			if (!strcmp(argv[0], bake_configs[i]))
				break;
		if (i == sizeof(bake_configs) / sizeof(*bake_configs)) {
			br_die_msg("bake: %s: not a directory nor a known "
				   "configuration (hw_virtio, hw_generic)",
				   argv[0]);
			rc = 2;
			goto out;
		}
		if (b.out || b.start) {
			br_die_msg("bake %s: -o and -s do not apply to the "
				   "generic image",
				   argv[0]);
			rc = 2;
			goto out;
		}
		b.out = argv[1];
	} else if (argc == 1 && !br_is_dir(argv[0]) &&
		   (!strcmp(argv[0], "hw_virtio") ||
		    !strcmp(argv[0], "hw_generic"))) {
		br_die_msg("bake %s: expected the image to write (beamrun "
			   "bake %s IMAGE)",
			   argv[0], argv[0]);
		rc = 2;
		goto out;
	} else if (argc == 1) {
		b.src = argv[0];
		if (!br_is_dir(b.src)) {
			br_die_msg("bake: %s: %s", b.src,
				   access(b.src, F_OK) ? "no such directory"
						       : "not a directory");
			goto out;
		}
		if (!b.out) {
			br_die_msg("bake: no output given (-o IMAGE)");
			rc = 2;
			goto out;
		}
		b.release = bake_is_release(b.src);
		if (b.release && (b.start || b.apps.n)) {
			br_die_msg("bake: %s is an OTP release: its .rel names "
				   "what starts and what goes in (-s and "
				   "--app do not apply)",
				   b.src);
			rc = 2;
			goto out;
		}
	} else {
		br_die_msg("bake: expected DIR -o IMAGE or CONFIG IMAGE (see "
			   "beamrun bake --help)");
		rc = 2;
		goto out;
	}
	br_hold_signals();
	if (bake_run(&b)) {
		int sig = br_interrupted();

		br_die_msg("bake: %s",
			   sig ? "interrupted; nothing written" : br_err());
		rc = sig ? 128 + sig : 1;
		goto out;
	}
	rc = 0;
out:
	strv_free(&b.apps);
	strv_free(&b.erl_args);
	strv_free(&b.app_dirs);
	strv_free(&b.elves);
	strv_free(&b.rel_apps);
	strv_free(&b.rel_args);
	return rc;
}
