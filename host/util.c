/* beamrun: shared helpers: error text, string vectors, processes, files. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beamrun.h"

static char br_errbuf[8192];
int br_verbose;

void br_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(br_errbuf, sizeof(br_errbuf), fmt, ap);
	va_end(ap);
}

const char *br_err(void)
{
	return br_errbuf[0] ? br_errbuf : "unknown error";
}

void br_die_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("beamrun: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void br_info(const char *fmt, ...)
{
	va_list ap;

	if (!br_verbose)
		return;
	fputs("beamrun: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		br_die_msg("out of memory");
		exit(BR_EXIT_BADINPUT);
	}
	return p;
}

char *xstrdup(const char *s)
{
	char *p = xmalloc(strlen(s) + 1);

	return strcpy(p, s);
}

void strv_push(struct strv *s, const char *str)
{
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv) {
			br_die_msg("out of memory");
			exit(BR_EXIT_BADINPUT);
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = xstrdup(str);
	s->v[s->n] = NULL;
}

void strv_pushf(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0) {
		br_die_msg("out of memory");
		exit(BR_EXIT_BADINPUT);
	}
	va_end(ap);
	strv_push(s, p);
	free(p);
}

void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int needs_quote(const char *w)
{
	if (!*w)
		return 1;
	for (; *w; w++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789-_=+/.,:@%^",
			*w))
			return 1;
	return 0;
}

char *strv_join_shell(const struct strv *s)
{
	size_t i, len = 1;
	char *out, *p;
	const char *c;

	for (i = 0; i < s->n; i++)
		len += strlen(s->v[i]) * 4 + 3;
	out = p = xmalloc(len);
	for (i = 0; i < s->n; i++) {
		if (i)
			*p++ = ' ';
		if (!needs_quote(s->v[i])) {
			p = stpcpy(p, s->v[i]);
			continue;
		}
		*p++ = '\'';
		for (c = s->v[i]; *c; c++) {
			if (*c == '\'')
				p = stpcpy(p, "'\\''");
			else
				*p++ = *c;
		}
		*p++ = '\'';
	}
	*p = '\0';
	return out;
}

/* Whether br_hold_signals is in force (SIGINT blocked). */
static int br_signals_held(void)
{
	sigset_t cur;

	return !sigprocmask(SIG_BLOCK, NULL, &cur) && sigismember(&cur, SIGINT);
}

/*
 * Wait for a command. With the stop signals held (bake, volume: they
 * clean up before they exit), a pending one stops the command too:
 * SIGTERM to its process group, SIGKILL after 2 s, and the caller
 * sees br_interrupted().
 */
static int br_wait(pid_t pid, const char *name)
{
	const struct timespec tick = {0, 20 * 1000 * 1000};
	int st, held = br_signals_held(), sig = 0, ticks = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, held ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			br_seterr("%s: wait: %s", name, strerror(errno));
			return -1;
		}
		if (r != 0)
			continue;
		if (!sig && br_interrupted()) {
			sig = SIGTERM;
			kill(-pid, sig);
		} else if (sig == SIGTERM && ++ticks > 100) {
			sig = SIGKILL;
			kill(-pid, sig);
		}
		nanosleep(&tick, NULL);
	}
	if (sig) {
		br_interrupted(); /* the error names the signal */
		return -1;
	}
	if (WIFEXITED(st)) {
		if (WEXITSTATUS(st) == 127) {
			br_seterr("%s: not found (is it installed?)", name);
			return -1;
		}
		return WEXITSTATUS(st);
	}
	br_seterr("%s: killed by signal %d", name, WTERMSIG(st));
	return -1;
}

static pid_t br_spawn(char *const argv[], int out_fd)
{
	int held = br_signals_held();
	pid_t pid = fork();

	if (pid < 0) {
		br_seterr("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		/*
		 * Commands run without the signals beamrun held back; while
		 * it holds them, in a process group of their own, which
		 * br_wait stops whole (erlc's beam too) when told to.
		 */
		if (held)
			setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (out_fd >= 0) {
			dup2(out_fd, 1);
			close(out_fd);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (held)
		setpgid(pid, pid); /* as the child does: no race with kill */
	return pid;
}

int br_run(char *const argv[], int quiet)
{
	int fd = -1, rc;
	pid_t pid;

	if (br_verbose) {
		struct strv tmp = {(char **)argv, 0, 0};
		char *s;

		while (argv[tmp.n])
			tmp.n++;
		s = strv_join_shell(&tmp);
		br_info("run: %s", s);
		free(s);
	}
	if (quiet && !br_verbose)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = br_spawn(argv, fd);
	if (fd >= 0)
		close(fd);
	if (pid < 0)
		return -1;
	rc = br_wait(pid, argv[0]);
	return rc;
}

int br_run_capture(char *const argv[], char **out)
{
	int p[2], rc;
	size_t len = 0, cap = 4096;
	char *buf;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		br_seterr("pipe: %s", strerror(errno));
		return -1;
	}
	pid = br_spawn(argv, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	buf = xmalloc(cap);
	while ((n = read(p[0], buf + len, cap - len - 1)) > 0 ||
	       (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		len += (size_t)n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf) {
				br_die_msg("out of memory");
				exit(BR_EXIT_BADINPUT);
			}
		}
	}
	buf[len] = '\0';
	close(p[0]);
	rc = br_wait(pid, argv[0]);
	*out = buf;
	return rc;
}

int br_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		br_seterr("%s: path too long", path);
		return -1;
	}
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST) {
			br_seterr("mkdir %s: %s", buf, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST) {
		br_seterr("mkdir %s: %s", buf, strerror(errno));
		return -1;
	}
	return 0;
}

int br_copy_file(const char *src, const char *dst)
{
	char buf[65536];
	struct stat st;
	int in, out, rc = -1;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st)) {
		br_seterr("%s: %s", src, strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		   st.st_mode & 0777);
	if (out < 0) {
		br_seterr("%s: %s", dst, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ssize_t w = write(out, buf, (size_t)n);

		if (w != n) {
			/* A short write sets no errno: the disk is full. */
			if (w >= 0)
				errno = ENOSPC;
			n = -1;
			break;
		}
	}
	if (n == 0)
		rc = 0;
	else
		br_seterr("copy %s to %s: %s", src, dst, strerror(errno));
	if (close(out) && rc == 0) {
		br_seterr("%s: %s", dst, strerror(errno));
		rc = -1;
	}
	close(in);
	return rc;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

int br_rm_rf(const char *path)
{
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) && errno != ENOENT) {
		br_seterr("remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int br_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int br_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *br_self_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		return strcpy(dir, ".");
	dir[n] = '\0';
	*strrchr(dir, '/') = '\0';
	return dir;
}

const char *br_data_file(const char *rel)
{
	static char path[PATH_MAX];
	const char *env = getenv("BEAMRUN_LIBDIR");
	/* build/bin/beamrun finds build/kernel, build/init, host/ ... */
	const char *fmts[] = {"%s/../%s", "%s/../../host/%s",
			      "%s/../lib/beamrun/%s"};
	size_t i;

	if (env && *env) {
		snprintf(path, sizeof(path), "%s/%s", env, rel);
		return br_is_file(path) ? path : NULL;
	}
	for (i = 0; i < sizeof(fmts) / sizeof(*fmts); i++) {
		snprintf(path, sizeof(path), fmts[i], br_self_dir(), rel);
		if (br_is_file(path))
			return path;
	}
	return NULL;
}

int br_tmp_open(const char *out, char **tmp)
{
	mode_t mask;
	int fd;

	if (asprintf(tmp, "%s.tmp-XXXXXX", out) < 0) {
		br_seterr("out of memory");
		return -1;
	}
	fd = mkstemp(*tmp);
	if (fd < 0) {
		br_seterr("%s: %s", out, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	/* mkstemp makes 0600 files; an output gets what umask allows. */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	return fd;
}

/* The directory path names its entry in ("." for a bare name). */
static char *parent_dir(const char *path, char *dir, size_t len)
{
	char *slash;

	snprintf(dir, len, "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, len, ".");
	return slash;
}

int br_check_output(const char *out)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (!*out) {
		br_seterr("empty output file name");
		return -1;
	}
	if (lstat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
		br_seterr("%s: exists and is not a regular file; not "
			  "replacing it",
			  out);
		return -1;
	}
	slash = parent_dir(out, dir, sizeof(dir));
	if (access(dir, W_OK)) {
		br_seterr("%s: cannot write in %s: %s", out, dir,
			  strerror(errno));
		return -1;
	}
	if (strlen(out) - (slash ? (size_t)(slash - dir) + 1 : 0) + 16 >
	    NAME_MAX) {
		br_seterr("%s: file name too long (at most %d bytes)", out,
			  NAME_MAX - 16);
		return -1;
	}
	return 0;
}

int br_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int br_is_image_file(const char *path)
{
	char head[sizeof(BR_IMAGE_MAGIC) - 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), ok;

	if (fd < 0)
		return 0;
	ok = read(fd, head, sizeof(head)) == (ssize_t)sizeof(head) &&
	     !memcmp(head, BR_IMAGE_MAGIC, sizeof(head));
	close(fd);
	return ok;
}

int br_path_inside(const char *path, const char *dir)
{
	char parent[PATH_MAX], rp[PATH_MAX], rd[PATH_MAX];
	size_t n;

	parent_dir(path, parent, sizeof(parent));
	if (!realpath(parent, rp) || !realpath(dir, rd))
		return 0;
	n = strlen(rd);
	return !strncmp(rp, rd, n) && (rp[n] == '\0' || rp[n] == '/' ||
				       !strcmp(rd, "/"));
}

static const int br_stop_sigs[] = {SIGINT, SIGTERM, SIGHUP};

void br_hold_signals(void)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(br_stop_sigs) / sizeof(*br_stop_sigs); i++)
		sigaddset(&set, br_stop_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int br_interrupted(void)
{
	sigset_t set;
	size_t i;

	if (sigpending(&set))
		return 0;
	for (i = 0; i < sizeof(br_stop_sigs) / sizeof(*br_stop_sigs); i++)
		if (sigismember(&set, br_stop_sigs[i])) {
			br_seterr("interrupted by signal %d", br_stop_sigs[i]);
			return br_stop_sigs[i];
		}
	return 0;
}
