/* beamrun-init: start beam.smp directly, doing what erlexec would do. */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

struct strv {
	char **v;
	size_t n, cap;
	int oom;
};

static void sv_push(struct strv *s, const char *str)
{
	char **nv;

	if (s->oom)
		return;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv) {
			s->oom = 1;
			return;
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n] = strdup(str);
	if (!s->v[s->n]) {
		s->oom = 1;
		return;
	}
	s->v[++s->n] = NULL;
}

/* Whether one of s's words starts with prefix. */
static int sv_has_prefix(const struct strv *s, const char *prefix)
{
	size_t i, pl = strlen(prefix);

	for (i = 0; i < s->n; i++)
		if (!strncmp(s->v[i], prefix, pl))
			return 1;
	return 0;
}

/*
 * Beam allocates its process and port tables for 262144 processes and
 * 65536 ports (the open-file limit init sets) when it starts, and
 * touches every slot: 2.7 MiB at -m 64, measured. A small guest could
 * never hold that many (a process needs 2.6 KiB at least, a socket its
 * buffers), so the limits follow the RAM the kernel left: a process
 * slot per 2 KiB and a port per 4 KiB, each a power of two, never under
 * 16384 and 4096 (-m 64: 16384 and 8192; -m 256: 65536 and 32768; from
 * -m 640 beam's defaults). A +P or +Q of the user's wins; mem_kib 0
 * (unknown) changes nothing.
 */
static void beam_table_limits(struct strv *emu, unsigned long mem_kib)
{
	static const struct {
		const char *flag;
		unsigned long beam_default, floor, kib_per_slot;
	} tab[] = {
	    {"-P", 262144, 16384, 2},
	    {"-Q", INIT_NOFILE, 4096, 4},
	};
	char num[24];
	size_t i, j;

	for (i = 0; i < sizeof(tab) / sizeof(*tab); i++) {
		unsigned long want = tab[i].floor;

		for (j = 0; j < emu->n; j++)
			if (!strcmp(emu->v[j], tab[i].flag))
				break;
		if (j < emu->n || !mem_kib)
			continue;
		while (want * 2 <= mem_kib / tab[i].kib_per_slot)
			want *= 2;
		if (want >= tab[i].beam_default)
			continue;
		snprintf(num, sizeof(num), "%lu", want);
		sv_push(emu, tab[i].flag);
		sv_push(emu, num);
	}
}

/*
 * Beam's mseg allocator keeps up to 10 freed carriers mapped for reuse
 * (+MMmcs): 4.4 MiB of an echoserver's 17 MiB resident at -m 64,
 * measured, more than a small guest can spare. Below 512 MiB of RAM
 * the cache is off unless the user set it (or any +MM option).
 */
#define BEAM_MSEG_CACHE_KIB (512UL * 1024)

static void beam_mseg_cache(struct strv *emu, unsigned long mem_kib)
{
	if (!mem_kib || mem_kib >= BEAM_MSEG_CACHE_KIB ||
	    sv_has_prefix(emu, "-MM"))
		return;
	sv_push(emu, "-MMmcs");
	sv_push(emu, "0");
}

/*
 * The slot of "NAME=..." in the NULL-terminated list v, or NULL; NAME
 * is the first nl bytes of name.
 */
static char **env_find(char **v, const char *name, size_t nl)
{
	for (; v && *v; v++)
		if (!strncmp(*v, name, nl) && (*v)[nl] == '=')
			return v;
	return NULL;
}

/* Set NAME=VALUE, replacing an earlier NAME: later settings win. */
static void sv_setenv(struct strv *s, const char *kv)
{
	char **slot = env_find(s->v, kv, strcspn(kv, "="));
	char *dup;

	if (!slot) {
		sv_push(s, kv);
		return;
	}
	dup = strdup(kv);
	if (!dup) {
		s->oom = 1;
		return;
	}
	free(*slot);
	*slot = dup;
}

static void sv_pushf(struct strv *s, const char *fmt, const char *a,
		     const char *b)
{
	char buf[INIT_PATH_MAX * 2];

	snprintf(buf, sizeof(buf), fmt, a, b);
	sv_push(s, buf);
}

void init_strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int is_flag(const char *a)
{
	return (a[0] == '-' || a[0] == '+') && a[1] != '\0';
}

/*
 * Locate the emulator: ROOT/erts-VSN/bin/beam.smp. More than one ERTS
 * under one root would need start_erl.data to choose, which only
 * release tooling writes, so that is refused rather than guessed.
 * A directory scan, not glob(3): glob brings the user database (NSS)
 * into the static init.
 */
static int beam_find_emu(const char *root, char *emu, size_t len, char *err,
			 size_t errlen)
{
	char path[INIT_PATH_MAX * 2];
	struct dirent *d;
	struct stat st;
	int n, found = 0, too_long = 0;
	DIR *dir = opendir(root);

	while (dir && (d = readdir(dir))) {
		if (strncmp(d->d_name, "erts-", 5))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s/bin/beam.smp", root,
			     d->d_name);
		if (n < 0 || (size_t)n >= len) {
			too_long = 1;
			continue;
		}
		if (stat(path, &st))
			continue;
		if (found++) {
			snprintf(err, errlen,
				 "several ERTS versions under %s; keep one",
				 root);
			closedir(dir);
			return -1;
		}
		memcpy(emu, path, (size_t)n + 1);
	}
	if (dir)
		closedir(dir);
	if (!found && too_long) {
		snprintf(err, errlen, "no emulator: paths under %s too long",
			 root);
		return -1;
	}
	if (!found) {
		snprintf(err, errlen,
			 "no emulator: %s/erts-*/bin/beam.smp matches nothing",
			 root);
		return -1;
	}
	return 0;
}

/*
 * beam writes its crash dump (CASES: CRASHDUMP-READONLY) into its cwd,
 * /tmp, which is RAM: a dump as large as the node would take memory
 * from a guest that is going down, and vanish with it. With a volume
 * mounted read-write, the dump goes to the first such one (in -b order)
 * as MOUNT/erl_crash.dump, beam's own file name, where it outlives the
 * VM; a second crash replaces it, as it would in a cwd. Without one, no
 * dump is written: ERL_CRASH_DUMP_SECONDS=0 makes beam print its slogan
 * and exit at once. The user's ERL_CRASH_DUMP, ERL_CRASH_DUMP_SECONDS
 * or ERL_CRASH_DUMP_BYTES (-e or -env) come later and win; with any of
 * them set, a dump without a volume is the user's choice and stays on.
 */
static void beam_crash_dump(const struct init_cfg *cfg, const struct strv *env,
			    struct strv *envp)
{
	static const char *const user[] = {
	    "ERL_CRASH_DUMP", "ERL_CRASH_DUMP_SECONDS", "ERL_CRASH_DUMP_BYTES"};
	size_t i;

	for (i = 0; i < cfg->nvol; i++)
		if (cfg->vol[i].writable) {
			sv_pushf(envp, "ERL_CRASH_DUMP=%s/%s", cfg->vol[i].mnt,
				 "erl_crash.dump");
			return;
		}
	for (i = 0; i < sizeof(user) / sizeof(user[0]); i++)
		if (env_find(env->v, user[i], strlen(user[i])) ||
		    env_find(cfg->env, user[i], strlen(user[i])))
			return;
	sv_push(envp, "ERL_CRASH_DUMP_SECONDS=0");
}

/*
 * -args_file FILE, expanded in place as erlexec does (beam itself does
 * not read it): words separated by white space, "#" to the end of the
 * line a comment, a backslash makes the next character plain; a FILE
 * may name further -args_file FILEs. Each word remembers whether it
 * came from a file (see beam_drop_overridden).
 */
#define ARGS_FILE_DEPTH 8
#define ARGS_FILE_MAX	(256 * 1024)

struct argl {
	struct strv v;
	unsigned char *file; /* per word: from an args file */
	size_t cap;
};

static void argl_push(struct argl *l, const char *w, int from_file)
{
	if (l->v.n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		unsigned char *nf = realloc(l->file, cap);

		if (!nf) {
			l->v.oom = 1;
			return;
		}
		l->file = nf;
		l->cap = cap;
	}
	l->file[l->v.n] = (unsigned char)from_file;
	sv_push(&l->v, w);
}

static int args_expand(struct argl *out, char *const *a, size_t n,
		       int from_file, int depth, char *err, size_t errlen);

static int args_file_read(struct argl *out, const char *path, int depth,
			  char *err, size_t errlen)
{
	struct strv words = {0};
	char *buf, *w, *p;
	FILE *f;
	size_t len;
	int rc;

	if (depth >= ARGS_FILE_DEPTH) {
		snprintf(err, errlen,
			 "-args_file %s: nested more than %d deep (a loop?)",
			 path, ARGS_FILE_DEPTH);
		return -1;
	}
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "-args_file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	buf = malloc(ARGS_FILE_MAX + 1);
	len = buf ? fread(buf, 1, ARGS_FILE_MAX + 1, f) : 0;
	fclose(f);
	if (!buf || len > ARGS_FILE_MAX) {
		snprintf(err, errlen, "-args_file %s: %s", path,
			 buf ? "too large" : "out of memory");
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	w = malloc(len + 1);
	if (!w) {
		free(buf);
		snprintf(err, errlen, "-args_file %s: out of memory", path);
		return -1;
	}
	for (p = buf; *p;) {
		size_t k = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		       *p == '\f' || *p == '\v')
			p++;
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		while (*p && !strchr(" \t\n\r\f\v", *p)) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '#')
				break;
			w[k++] = *p++;
		}
		if (k) {
			w[k] = '\0';
			sv_push(&words, w);
		}
	}
	free(w);
	free(buf);
	rc = words.oom ? -1 : args_expand(out, words.v, words.n, 1, depth + 1,
					  err, errlen);
	if (words.oom)
		snprintf(err, errlen, "-args_file %s: out of memory", path);
	init_strv_free(words.v);
	return rc;
}

static int args_expand(struct argl *out, char *const *a, size_t n,
		       int from_file, int depth, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(a[i], "-extra")) {
			/* Plain arguments from here on, files included. */
			for (; i < n; i++)
				argl_push(out, a[i], from_file);
			break;
		}
		if (strcmp(a[i], "-args_file")) {
			argl_push(out, a[i], from_file);
			continue;
		}
		if (i + 1 >= n) {
			snprintf(err, errlen, "-args_file needs a file");
			return -1;
		}
		if (args_file_read(out, a[++i], depth, err, errlen))
			return -1;
	}
	return 0;
}

/*
 * The words of an ERL_AFLAGS, ERL_FLAGS or ERL_ZFLAGS value, split as
 * erlexec splits them: at blanks, except inside '...' or "...", and a
 * backslash takes the next character as it is.
 */
static void env_flags_words(const char *s, struct strv *out)
{
	char *w = malloc(strlen(s) + 1);
	char q = 0;
	size_t k = 0;
	int word = 0;

	if (!w) {
		out->oom = 1;
		return;
	}
	for (;; s++) {
		if (!*s || (!q && strchr(" \t\n\r\f\v", *s))) {
			if (word) {
				w[k] = '\0';
				sv_push(out, w);
			}
			k = 0;
			word = 0;
			if (!*s)
				break;
			continue;
		}
		word = 1;
		if (*s == '\\' && s[1] && q != '\'')
			w[k++] = *++s;
		else if (!q && (*s == '"' || *s == '\''))
			q = *s;
		else if (q && *s == q)
			q = 0;
		else
			w[k++] = *s;
	}
	free(w);
}

/* The value of NAME in the configuration's environment (the last). */
static const char *cfg_getenv(const struct init_cfg *cfg, const char *name)
{
	size_t nl = strlen(name), i;
	const char *v = NULL;

	for (i = 0; i < cfg->nenv; i++)
		if (!strncmp(cfg->env[i], name, nl) && cfg->env[i][nl] == '=')
			v = cfg->env[i] + nl + 1;
	return v;
}

/*
 * The arguments as erlexec puts them together: ERL_AFLAGS first, then
 * the command line's, then ERL_FLAGS and ERL_ZFLAGS, then the command
 * line's -extra and what follows it.
 */
static void args_with_env_flags(const struct init_cfg *cfg, struct strv *out)
{
	size_t i, extra = cfg->nargs;
	const char *v;

	for (i = 0; i < cfg->nargs; i++)
		if (!strcmp(cfg->args[i], "-extra")) {
			extra = i;
			break;
		}
	if ((v = cfg_getenv(cfg, "ERL_AFLAGS")))
		env_flags_words(v, out);
	for (i = 0; i < extra; i++)
		sv_push(out, cfg->args[i]);
	if ((v = cfg_getenv(cfg, "ERL_FLAGS")))
		env_flags_words(v, out);
	if ((v = cfg_getenv(cfg, "ERL_ZFLAGS")))
		env_flags_words(v, out);
	for (i = extra; i < cfg->nargs; i++)
		sv_push(out, cfg->args[i]);
}

static int arg_is(const char *a, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(a, *names))
			return 1;
	return 0;
}

/*
 * A node name or cookie given to beamrun run (--node, --cookie, or
 * --erl-args) replaces the release's own -name/-sname or -setcookie
 * from vm.args: beam would otherwise see two names (and start no
 * distribution) or use the file's cookie over the launcher's. The
 * other way round for the port mapper: when vm.args chooses its own
 * (-start_epmd, -erl_epmd_port, -epmd_module), the launcher's
 * epmd-less defaults give way. Each dropped flag takes one value.
 */
static void beam_drop_overridden(const struct init_cfg *cfg,
				 struct argl *l)
{
	static const char *const names[] = {"-name", "-sname", NULL};
	static const char *const cookie[] = {"-setcookie", NULL};
	static const char *const epmd[] = {"-start_epmd", "-erl_epmd_port",
					   "-epmd_module", NULL};
	int out_name = 0, out_cookie = cfg->cookie, file_epmd = 0;
	size_t i, j;

	for (i = 0; i < l->v.n && strcmp(l->v.v[i], "-extra"); i++) {
		if (!l->file[i] && arg_is(l->v.v[i], names))
			out_name = 1;
		if (!l->file[i] && arg_is(l->v.v[i], cookie))
			out_cookie = 1;
		if (l->file[i] && arg_is(l->v.v[i], epmd))
			file_epmd = 1;
	}
	for (i = j = 0; i < l->v.n; i++) {
		const char *w = l->v.v[i];
		int drop = (l->file[i] && out_name && arg_is(w, names)) ||
			   (l->file[i] && out_cookie && arg_is(w, cookie)) ||
			   (!l->file[i] && file_epmd && arg_is(w, epmd));

		if (!strcmp(w, "-extra")) {
			for (; i < l->v.n; i++) {
				l->v.v[j] = l->v.v[i];
				l->file[j++] = l->file[i];
			}
			break;
		}
		if (drop) {
			init_info("%s from %s gives way", w,
				  l->file[i] ? "vm.args" : "the launcher");
			free(l->v.v[i]);
			if (i + 1 < l->v.n && !is_flag(l->v.v[i + 1]))
				free(l->v.v[++i]);
			continue;
		}
		l->v.v[j] = l->v.v[i];
		l->file[j++] = l->file[i];
	}
	l->v.n = j;
	if (l->v.v)
		l->v.v[j] = NULL;
}

/*
 * Split erl-style arguments the way erlexec does: "+" flags and their
 * values go to the emulator, "-" flags to init; the flags erlexec
 * itself consumes (-root, -progname, -home, -bindir, -env) set the
 * values this function passes on, and everything from -extra on is
 * passed as is. A flag's values are the words after it up to the next
 * word that starts with "-" or "+".
 */
int init_beam_prepare(const struct init_cfg *cfg, struct init_beam *b,
		      char *err, size_t errlen)
{
	struct strv emu = {0}, args = {0}, env = {0}, cmdline = {0};
	char root[INIT_PATH_MAX], home[INIT_PATH_MAX] = "/tmp";
	char progname[64] = "erl", bindir[INIT_PATH_MAX] = "";
	char path[INIT_PATH_MAX];
	struct argl all = {0};
	char *const *a;
	size_t i = 0, n;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	args_with_env_flags(cfg, &cmdline);
	if (cmdline.oom)
		goto oom;
	if (args_expand(&all, cmdline.v, cmdline.n, 0, 0, err, errlen))
		goto out;
	if (all.v.oom)
		goto oom;
	beam_drop_overridden(cfg, &all);
	a = all.v.v;
	n = all.v.n;
	snprintf(root, sizeof(root), "%s", cfg->root);
	while (i < n) {
		const char *f = a[i];
		struct strv *dst;

		if (!strcmp(f, "--")) {
			i++;
			continue;
		}
		if (!strcmp(f, "-extra")) {
			for (; i < n; i++)
				sv_push(&args, a[i]);
			break;
		}
		if (!strcmp(f, "-root") || !strcmp(f, "-progname") ||
		    !strcmp(f, "-home") || !strcmp(f, "-bindir")) {
			char *dstbuf = f[1] == 'r'   ? root
				       : f[1] == 'p' ? progname
				       : f[1] == 'h' ? home
						     : bindir;
			size_t dlen =
			    f[1] == 'p' ? sizeof(progname) : INIT_PATH_MAX;

			if (i + 1 >= n || is_flag(a[i + 1])) {
				snprintf(err, errlen, "%s needs a value", f);
				goto out;
			}
			snprintf(dstbuf, dlen, "%s", a[i + 1]);
			i += 2;
			continue;
		}
		if (!strcmp(f, "-env")) {
			if (i + 2 >= n) {
				snprintf(err, errlen, "-env needs NAME VALUE");
				goto out;
			}
			sv_pushf(&env, "%s=%s", a[i + 1], a[i + 2]);
			i += 3;
			continue;
		}
		if (!strcmp(f, "-noinput")) {
			/* erlexec: never read input, so no shell either. */
			sv_push(&args, "-noshell");
			sv_push(&args, a[i++]);
			continue;
		}
		if (!strcmp(f, "-no_epmd")) {
			/* rumprun's OTP 18 flag; nothing starts epmd here. */
			init_info("ignoring -no_epmd");
			i++;
			continue;
		}
		dst = f[0] == '+' ? &emu : &args;
		if (f[0] == '+') {
			/* erlexec hands beam "+S 2" as "-S 2". */
			char flag[INIT_PATH_MAX];

			snprintf(flag, sizeof(flag), "-%s", f + 1);
			sv_push(dst, flag);
			i++;
		} else {
			sv_push(dst, a[i++]);
		}
		while (i < n && !is_flag(a[i]))
			sv_push(dst, a[i++]);
	}

	/*
	 * Schedulers that spin before they sleep burn vCPU time the host
	 * could give elsewhere; under TCG the spinning also slows the boot
	 * (0.4 s of 3.3 s for helloworld, measured). Off unless the user
	 * set any of these.
	 */
	if (!sv_has_prefix(&emu, "-sbwt")) {
		sv_push(&emu, "-sbwt");
		sv_push(&emu, "none");
		sv_push(&emu, "-sbwtdcpu");
		sv_push(&emu, "none");
		sv_push(&emu, "-sbwtdio");
		sv_push(&emu, "none");
	}

	/*
	 * The image carries no locale data, so beam would read file names
	 * as latin1 whatever LANG says; UTF-8 unless the user chose.
	 */
	if (!sv_has_prefix(&emu, "-fn"))
		sv_push(&emu, "-fnu");

	beam_table_limits(&emu, cfg->mem_kib);
	beam_mseg_cache(&emu, cfg->mem_kib);

	if (beam_find_emu(root, path, sizeof(path), err, errlen))
		goto out;
	if (!bindir[0]) {
		snprintf(bindir, sizeof(bindir), "%s", path);
		*strrchr(bindir, '/') = '\0';
	}

	b->emu = strdup(path);
	{
		struct strv argv = {0};

		sv_push(&argv, path);
		for (i = 0; i < emu.n; i++)
			sv_push(&argv, emu.v[i]);
		sv_push(&argv, "--");
		sv_push(&argv, "-root");
		sv_push(&argv, root);
		sv_push(&argv, "-bindir");
		sv_push(&argv, bindir);
		sv_push(&argv, "-progname");
		sv_push(&argv, progname);
		sv_push(&argv, "--");
		sv_push(&argv, "-home");
		sv_push(&argv, home);
		for (i = 0; i < args.n; i++)
			sv_push(&argv, args.v[i]);
		b->argv = argv.v;
		if (argv.oom)
			goto oom;
	}

	{
		struct strv envp = {0};

		sv_pushf(&envp, "%s%s", "ROOTDIR=", root);
		sv_pushf(&envp, "%s%s", "BINDIR=", bindir);
		sv_push(&envp, "EMU=beam");
		sv_pushf(&envp, "%s%s", "PROGNAME=", progname);
		sv_pushf(&envp, "%s%s", "HOME=", home);
		sv_pushf(&envp, "PATH=%s:%s", bindir, "/bin");
		/* beam's io and file name encoding follow the locale. */
		sv_push(&envp, "LANG=C.UTF-8");
		sv_pushf(&envp, "%s%s", "ERL_INETRC=", init_etc_inetrc());
		beam_crash_dump(cfg, &env, &envp);
		for (i = 0; i < env.n; i++)
			sv_setenv(&envp, env.v[i]);
		for (i = 0; i < cfg->nenv; i++)
			sv_setenv(&envp, cfg->env[i]);
		b->envp = envp.v;
		if (envp.oom)
			goto oom;
	}
	if (!b->emu)
		goto oom;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory building beam's arguments");
	init_beam_free(b);
out:
	if (emu.oom || args.oom || env.oom || cmdline.oom) {
		snprintf(err, errlen,
			 "out of memory building beam's arguments");
		init_beam_free(b);
		rc = -1;
	}
	init_strv_free(emu.v);
	init_strv_free(args.v);
	init_strv_free(env.v);
	init_strv_free(cmdline.v);
	init_strv_free(all.v.v);
	free(all.file);
	return rc;
}

void init_beam_free(struct init_beam *b)
{
	free(b->emu);
	init_strv_free(b->argv);
	init_strv_free(b->envp);
	memset(b, 0, sizeof(*b));
}

/*
 * The resource limits beam runs with.
 * The kernel starts PID 1 with 1024 open files (soft); beam sizes its
 * port table from that limit, each socket is a port, and nothing else
 * runs in the guest, so beam gets 65536. File size, data and address
 * space are set unlimited here rather than trusted to the kernel's
 * defaults: beam's JIT writes a 64 MiB memfd (a small RLIMIT_FSIZE
 * kills beam with SIGXFSZ before any Erlang code runs) and ERTS
 * reserves address space up front. Left as the kernel sets them for
 * PID 1 (read in a 128 MiB guest): STACK 8 MiB soft (hard unlimited),
 * MEMLOCK 8 MiB, NPROC and SIGPENDING scaled to the guest's RAM (442),
 * MSGQUEUE 800 KiB, NICE and RTPRIO 0, CPU, RSS, LOCKS and RTTIME
 * unlimited. NPROC does not bind root; the kernel's threads-max (twice
 * NPROC) counts every thread in the guest, beam's own included. CORE
 * does not matter: the kernel is built without core dumps.
 */
static const struct beam_limit {
	int resource;
	const char *name;
	rlim_t soft, hard;
} beam_limits[] = {
    {RLIMIT_NOFILE, "NOFILE", INIT_NOFILE, INIT_NOFILE},
    {RLIMIT_FSIZE, "FSIZE", RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_DATA, "DATA", RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_AS, "AS", RLIM_INFINITY, RLIM_INFINITY},
};

static void init_beam_limits(void)
{
	size_t i;

	for (i = 0; i < sizeof(beam_limits) / sizeof(beam_limits[0]); i++) {
		const struct beam_limit *l = &beam_limits[i];
		struct rlimit rl = {l->soft, l->hard};

		if (setrlimit(l->resource, &rl))
			init_err("setrlimit %s: %s", l->name, strerror(errno));
	}
}

/*
 * Every signal back to its default action. glibc's signal() refuses the
 * two real-time signals it keeps for itself (32 and 33), so those go
 * to the kernel directly: an ignored disposition survives exec, and
 * a parent that ignored them (a test harness, a host shell) would
 * hand that on to beam. The kernel's sigaction for SIG_DFL needs no
 * restorer and only the handler field set.
 */
static void init_beam_default_signals(void)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} dfl = {0};
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (signal(sig, SIG_DFL) == SIG_ERR && sig != SIGKILL &&
		    sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL,
				sizeof(dfl.mask));
}

pid_t init_beam_spawn(const struct init_beam *b)
{
	pid_t pid = fork();
	sigset_t none;

	if (pid != 0)
		return pid;

	/*
	 * PID 1 blocks the signals it reads with signalfd; a blocked mask
	 * and ignored dispositions are inherited across exec and would
	 * stop beam from seeing SIGTERM (its graceful stop).
	 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	init_beam_default_signals();
	setsid();
	init_beam_limits();
	if (chdir("/tmp"))
		_exit(127);
	execve(b->emu, b->argv, b->envp);
	init_err("exec %s: %s", b->emu, strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}
