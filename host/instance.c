/*
 * beamrun: detached instances. "run -d" forks a supervisor: a beamrun
 * process of its own session that runs qemu exactly as a foreground
 * run does, with the console going to the instance's log. ps, stop,
 * kill, logs, wait and rm find it by name in the state directory:
 *
 *   STATE/NAME/lock         held (flock) by the supervisor while it runs
 *   STATE/NAME/info.json    pids, image, forwards, start time
 *   STATE/NAME/console.log  the console, as a foreground run shows it
 *   STATE/NAME/qmp.sock     qemu's QMP socket
 *   STATE/NAME/exit         the exit status, written when it ends
 *
 * The lock, not a pid, says whether an instance runs: it goes with the
 * supervisor however that ends, so a directory whose lock is free and
 * that has no exit file was left by a crash, and is cleaned up.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "beamrun.h"

#define NAME_MAX_LEN 63

/* The state directory: BEAMRUN_STATE_DIR, $XDG_RUNTIME_DIR/beamrun or
 * /tmp/beamrun-UID; private to this user. */
int br_state_root(char *out, size_t len)
{
	const char *s = getenv("BEAMRUN_STATE_DIR");
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (s && *s)
		snprintf(out, len, "%s", s);
	else if (x && *x)
		snprintf(out, len, "%s/beamrun", x);
	else
		snprintf(out, len, "/tmp/beamrun-%u", (unsigned)getuid());
	if (br_mkdir_p(out, 0700))
		return -1;
	if (lstat(out, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 022)) {
		br_seterr("state directory %s is not a private directory of "
			  "this user",
			  out);
		return -1;
	}
	return 0;
}

int br_instance_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > NAME_MAX_LEN || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

struct inst {
	char dir[PATH_MAX];
	char name[NAME_MAX_LEN + 1];
};

static int inst_path(const struct inst *in, const char *file, char *out,
		     size_t len)
{
	if ((size_t)snprintf(out, len, "%s/%s", in->dir, file) >= len) {
		br_seterr("%s: path too long", in->dir);
		return -1;
	}
	return 0;
}

static int inst_find(const char *name, struct inst *in)
{
	char root[PATH_MAX];

	if (!br_instance_name_ok(name)) {
		br_seterr("\"%s\" is not an instance name (letters, digits, "
			  "_ . -, at most %d)",
			  name, NAME_MAX_LEN);
		return -1;
	}
	if (br_state_root(root, sizeof(root)))
		return -1;
	snprintf(in->name, sizeof(in->name), "%s", name);
	if ((size_t)snprintf(in->dir, sizeof(in->dir), "%s/%s", root, name) >=
	    sizeof(in->dir)) {
		br_seterr("%s: path too long", root);
		return -1;
	}
	return 0;
}

/* Whether the supervisor holds the lock (1), or not (0). */
static int inst_running(const struct inst *in)
{
	char p[PATH_MAX];
	int fd, held;

	if (inst_path(in, "lock", p, sizeof(p)))
		return 0;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/* The status in STATE/NAME/exit, or -1 if there is none. */
static int inst_exit_status(const struct inst *in)
{
	char p[PATH_MAX];
	FILE *f;
	int v = -1;

	if (inst_path(in, "exit", p, sizeof(p)) || !(f = fopen(p, "re")))
		return -1;
	if (fscanf(f, "%d", &v) != 1 || v < 0 || v > 255)
		v = -1;
	fclose(f);
	return v;
}

static json_object *inst_info(const struct inst *in)
{
	char p[PATH_MAX];

	if (inst_path(in, "info.json", p, sizeof(p)))
		return NULL;
	return json_object_from_file(p);
}

static long info_int(json_object *info, const char *key)
{
	json_object *v;

	if (info && json_object_object_get_ex(info, key, &v))
		return (long)json_object_get_int64(v);
	return 0;
}

static const char *info_str(json_object *info, const char *key)
{
	json_object *v;

	if (info && json_object_object_get_ex(info, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "-";
}

/* Hold the state directory's lock while names are taken or freed. */
static int root_lock(void)
{
	char root[PATH_MAX], p[PATH_MAX + 8];
	int fd;

	if (br_state_root(root, sizeof(root)))
		return -1;
	snprintf(p, sizeof(p), "%s/.lock", root);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		br_seterr("%s: %s", p, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	return fd;
}

/*
 * Take NAME for a new instance: a free name, or one whose instance has
 * ended (it is replaced). Returns the lock fd, held, or -1.
 */
static int inst_claim(struct inst *in)
{
	char p[PATH_MAX];
	int fd;

	if (inst_running(in)) {
		br_seterr("an instance named %s is already running (beamrun "
			  "stop %s)",
			  in->name, in->name);
		return -1;
	}
	br_rm_rf(in->dir);
	if (mkdir(in->dir, 0700)) {
		br_seterr("%s: %s", in->dir, strerror(errno));
		return -1;
	}
	if (inst_path(in, "lock", p, sizeof(p)))
		return -1;
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		br_seterr("%s: %s", p, strerror(errno));
		if (fd >= 0)
			close(fd);
		br_rm_rf(in->dir);
		return -1;
	}
	return fd;
}

/* A name for an instance started without --name: the image's, numbered. */
static int inst_auto_name(const char *image, struct inst *in)
{
	const char *b = strrchr(image, '/');
	char base[NAME_MAX_LEN - 7];
	size_t i;
	unsigned n;

	b = b ? b + 1 : image;
	snprintf(base, sizeof(base), "%s", b);
	if (strlen(base) > 4 && !strcmp(base + strlen(base) - 4, ".img"))
		base[strlen(base) - 4] = '\0';
	for (i = 0; base[i]; i++)
		if (!isalnum((unsigned char)base[i]) && base[i] != '_' &&
		    base[i] != '.')
			base[i] = '-';
	if (!isalnum((unsigned char)base[0]))
		snprintf(base, sizeof(base), "vm");
	for (n = 1; n < 10000; n++) {
		char name[NAME_MAX_LEN + 1];

		snprintf(name, sizeof(name), "%s-%u", base, n);
		if (inst_find(name, in))
			return -1;
		if (access(in->dir, F_OK))
			return 0;
	}
	br_seterr("no free instance name for %s", base);
	return -1;
}

static int write_file_atomic(const char *path, const char *text)
{
	char *tmp;
	int fd = br_tmp_open(path, &tmp);
	size_t n = strlen(text);

	if (fd < 0)
		return -1;
	if (write(fd, text, n) != (ssize_t)n || close(fd) ||
	    rename(tmp, path)) {
		br_seterr("%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static int inst_write_info(const struct inst *in, const struct br_vm *vm,
			   pid_t sup, pid_t qemu)
{
	json_object *o = json_object_new_object(), *ports;
	char p[PATH_MAX];
	size_t i;
	int rc;

	json_object_object_add(o, "name", json_object_new_string(in->name));
	json_object_object_add(o, "image",
			       json_object_new_string(vm->img.path));
	json_object_object_add(o, "pid", json_object_new_int(sup));
	json_object_object_add(o, "qemu_pid", json_object_new_int(qemu));
	json_object_object_add(o, "started",
			       json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "memory_mib",
			       json_object_new_int((int)vm->mem_mib));
	json_object_object_add(o, "cpus", json_object_new_int((int)vm->cpus));
	json_object_object_add(
	    o, "stop_timeout",
	    json_object_new_int(
		(int)(vm->stop_timeout ? vm->stop_timeout : 10)));
	ports = json_object_new_array();
	for (i = 0; i < vm->nfwd; i++) {
		char s[64];

		snprintf(s, sizeof(s), "127.0.0.1:%u->%u/%s",
			 vm->fwd[i].host_port, vm->fwd[i].guest_port,
			 vm->fwd[i].proto);
		json_object_array_add(ports, json_object_new_string(s));
	}
	json_object_object_add(o, "ports", ports);
	rc = inst_path(in, "info.json", p, sizeof(p)) ||
	     write_file_atomic(
		 p, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return rc ? -1 : 0;
}

/* The supervisor: run the VM as a foreground run would, console to log. */
static void supervise(struct br_vm *vm, const struct inst *in, int lock,
		      int ready)
{
	char p[PATH_MAX], st[16];
	int null = open("/dev/null", O_RDWR), log, rc;

	setsid();
	if (inst_path(in, "console.log", p, sizeof(p)))
		_exit(BR_EXIT_BADINPUT);
	log = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (log < 0 || null < 0)
		_exit(BR_EXIT_BADINPUT);
	dup2(null, 0);
	dup2(log, 1);
	dup2(log, 2);
	/* Keep only the lock (3) and the ready pipe (4): nothing the
	 * caller had open, such as the pipe of a $(...), stays open. */
	lock = fcntl(lock, F_DUPFD_CLOEXEC, 10);
	ready = fcntl(ready, F_DUPFD_CLOEXEC, 10);
	if (lock < 0 || ready < 0 || dup3(lock, 3, O_CLOEXEC) < 0 ||
	    dup3(ready, 4, O_CLOEXEC) < 0)
		_exit(BR_EXIT_BADINPUT);
	close_range(5, ~0U, 0);
	vm->ready_fd = 4;
	rc = br_launch(vm);
	snprintf(st, sizeof(st), "%d\n", rc);
	if (inst_path(in, "exit", p, sizeof(p)) == 0)
		write_file_atomic(p, st);
	_exit(rc);
}

/* Print the supervisor's own "beamrun:" lines from the log on stderr. */
static void echo_errors(const struct inst *in)
{
	char p[PATH_MAX], line[1024];
	FILE *f;

	if (inst_path(in, "console.log", p, sizeof(p)) || !(f = fopen(p, "re")))
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "beamrun: ", 9))
			fputs(line, stderr);
	fclose(f);
}

int br_instance_start(struct br_vm *vm, const char *name, int rumprun)
{
	struct inst in;
	int rl, lock, pipefd[2], st;
	pid_t sup, qemu = 0;
	char buf[32];
	ssize_t n;

	rl = root_lock();
	if (rl < 0)
		goto fail;
	if (name ? inst_find(name, &in) : inst_auto_name(vm->img.path, &in))
		goto fail_unlock;
	lock = inst_claim(&in);
	if (lock < 0)
		goto fail_unlock;
	close(rl);
	snprintf(vm->qmp_path, sizeof(vm->qmp_path), "%s/qmp.sock", in.dir);
	if (pipe2(pipefd, O_CLOEXEC)) {
		br_seterr("pipe: %s", strerror(errno));
		goto fail;
	}
	fflush(NULL);
	sup = fork();
	if (sup == 0) {
		close(pipefd[0]);
		supervise(vm, &in, lock, pipefd[1]);
	}
	close(pipefd[1]);
	close(lock);
	if (sup < 0) {
		br_seterr("fork: %s", strerror(errno));
		close(pipefd[0]);
		goto fail;
	}
	while ((n = read(pipefd[0], buf, sizeof(buf) - 1)) < 0 &&
	       errno == EINTR)
		;
	close(pipefd[0]);
	if (n > 0) {
		buf[n] = '\0';
		qemu = (pid_t)atoi(buf);
	}
	if (qemu <= 0) {
		/* qemu did not start; the supervisor said why in the log. */
		while (waitpid(sup, &st, 0) < 0 && errno == EINTR)
			;
		echo_errors(&in);
		return WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st)
							: BR_EXIT_QEMU;
	}
	if (inst_write_info(&in, vm, sup, qemu))
		br_die_msg("%s (the instance runs, but ps cannot show it)",
			   br_err());
	if (rumprun) {
		printf("qemu:%d\n", (int)qemu);
		fprintf(stderr,
			"beamrun: instance %s: beamrun logs %s, beamrun stop "
			"%s\n",
			in.name, in.name, in.name);
	} else {
		printf("%s\n", in.name);
	}
	return 0;

fail_unlock:
	close(rl);
fail:
	br_die_msg("%s", br_err());
	return BR_EXIT_BADINPUT;
}

/* ---- the commands ---------------------------------------------------- */

static void fmt_uptime(long s, char *out, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, len, "%lds", s);
	else if (s < 3600)
		snprintf(out, len, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, len, "%ldh%02ldm", s / 3600, (s / 60) % 60);
	else
		snprintf(out, len, "%ldd%02ldh", s / 86400, (s / 3600) % 24);
}

static void ports_str(json_object *info, char *out, size_t len)
{
	json_object *a;
	size_t i, used = 0;

	snprintf(out, len, "-");
	if (!info || !json_object_object_get_ex(info, "ports", &a) ||
	    !json_object_is_type(a, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(a) && used < len; i++)
		used += (size_t)snprintf(
		    out + used, len - used, "%s%s", i ? "," : "",
		    json_object_get_string(json_object_array_get_idx(a, i)));
}

static const char ps_usage[] =
    "usage: beamrun ps [-a]\n"
    "List running instances (started with run -d); -a: ended ones too.\n";

int cmd_ps(int argc, char **argv)
{
	struct dirent **ents;
	char root[PATH_MAX];
	int all = 0, n, i, rl;

	if (argc == 2 && (!strcmp(argv[1], "-a") || !strcmp(argv[1], "--all")))
		all = 1;
	else if (argc == 2 &&
		 (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(ps_usage, stdout);
		return 0;
	} else if (argc != 1) {
		br_die_msg("ps: unexpected argument %s (usage: beamrun ps "
			   "[-a])",
			   argv[1]);
		return 2;
	}
	rl = root_lock();
	if (rl < 0 || br_state_root(root, sizeof(root))) {
		br_die_msg("%s", br_err());
		return 1;
	}
	n = scandir(root, &ents, NULL, alphasort);
	if (n < 0) {
		br_die_msg("%s: %s", root, strerror(errno));
		close(rl);
		return 1;
	}
	printf("%-20s %-8s %-24s %-28s %-8s %s\n", "NAME", "PID", "IMAGE",
	       "PORTS", "UPTIME", "STATUS");
	for (i = 0; i < n; i++) {
		struct inst in;
		json_object *info;
		char up[16] = "-", ports[256], status[32];
		const char *img;
		int running, code;

		if (!br_instance_name_ok(ents[i]->d_name) ||
		    inst_find(ents[i]->d_name, &in) || !br_is_dir(in.dir)) {
			free(ents[i]);
			continue;
		}
		free(ents[i]);
		running = inst_running(&in);
		code = running ? -1 : inst_exit_status(&in);
		if (!running && code < 0) {
			/* No supervisor and no exit status: a crash left it. */
			fprintf(stderr,
				"beamrun: %s: its supervisor is gone without "
				"an exit status (host crash?); cleaned up\n",
				in.name);
			br_rm_rf(in.dir);
			continue;
		}
		if (!running && !all)
			continue;
		info = inst_info(&in);
		img = info_str(info, "image");
		if (strrchr(img, '/'))
			img = strrchr(img, '/') + 1;
		ports_str(info, ports, sizeof(ports));
		if (running) {
			fmt_uptime(
			    (long)(time(NULL) - info_int(info, "started")), up,
			    sizeof(up));
			snprintf(status, sizeof(status), "running");
		} else {
			snprintf(status, sizeof(status), "exited (%d)", code);
		}
		printf("%-20s %-8ld %-24s %-28s %-8s %s\n", in.name,
		       info_int(info, "qemu_pid"), img, ports, up, status);
		json_object_put(info);
	}
	free(ents);
	close(rl);
	return 0;
}

/* Wait up to ms for the instance to end; 0 once it has. */
static int inst_wait_end(const struct inst *in, long ms)
{
	struct timespec nap = {0, 100 * 1000 * 1000};

	for (; ms > 0; ms -= 100) {
		if (!inst_running(in))
			return 0;
		nanosleep(&nap, NULL);
	}
	return inst_running(in) ? -1 : 0;
}

/* Find a running instance for stop/kill; -1 after printing why not. */
static int running_inst(const char *cmd, const char *name, struct inst *in,
			json_object **info)
{
	if (inst_find(name, in)) {
		br_die_msg("%s: %s", cmd, br_err());
		return -1;
	}
	if (!inst_running(in)) {
		br_die_msg("%s: no running instance named %s (beamrun ps)", cmd,
			   name);
		return -1;
	}
	*info = inst_info(in);
	if (info_int(*info, "pid") <= 0) {
		br_die_msg("%s: %s has no pid on record yet; try again", cmd,
			   name);
		json_object_put(*info);
		return -1;
	}
	return 0;
}

int br_instance_running(const char *name)
{
	struct inst in;

	return inst_find(name, &in) == 0 && inst_running(&in);
}

static const char stop_usage[] =
    "usage: beamrun stop NAME...\n"
    "Press each instance's power button (the Erlang VM gets SIGTERM and\n"
    "runs init:stop()) and wait until it has powered off; past its stop\n"
    "deadline it is killed.\n";
static const char kill_usage[] =
    "usage: beamrun kill NAME...\n"
    "End each instance's qemu at once (no graceful stop).\n";

static int stop_or_kill(int argc, char **argv, int hard)
{
	const char *cmd = hard ? "kill" : "stop";
	int i, rc = 0;

	if (argc < 2) {
		br_die_msg("%s: no instance named (usage: beamrun %s NAME...)",
			   cmd, cmd);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(hard ? kill_usage : stop_usage, stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		struct inst in;
		json_object *info;
		long grace;
		pid_t sup;

		if (running_inst(cmd, argv[i], &in, &info)) {
			rc = 1;
			continue;
		}
		sup = (pid_t)info_int(info, "pid");
		/* The supervisor's own deadline is stop_timeout + 10 s. */
		grace = (info_int(info, "stop_timeout") + 15) * 1000L;
		json_object_put(info);
		kill(sup, hard ? SIGUSR1 : SIGTERM);
		if (inst_wait_end(&in, hard ? 10000 : grace) == 0)
			continue;
		if (!hard) {
			br_die_msg("stop: %s did not stop in time; killing it",
				   in.name);
			kill(sup, SIGUSR1);
			if (inst_wait_end(&in, 10000) == 0)
				continue;
		}
		br_die_msg("%s: %s is still running (supervisor pid %d)", cmd,
			   in.name, (int)sup);
		rc = 1;
	}
	return rc;
}

int cmd_stop(int argc, char **argv)
{
	return stop_or_kill(argc, argv, 0);
}

int cmd_kill(int argc, char **argv)
{
	return stop_or_kill(argc, argv, 1);
}

/* An instance that exists (running or ended), for logs/wait/rm. */
static int known_inst(const char *cmd, const char *name, struct inst *in)
{
	if (inst_find(name, in)) {
		br_die_msg("%s: %s", cmd, br_err());
		return -1;
	}
	if (!br_is_dir(in->dir)) {
		br_die_msg("%s: no instance named %s (beamrun ps -a)", cmd,
			   name);
		return -1;
	}
	return 0;
}

static int copy_from(int fd, off_t *off)
{
	char buf[65536];
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), *off)) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -1;
		*off += n;
	}
	fflush(stdout);
	return n < 0 ? -1 : 0;
}

static const char logs_usage[] =
    "usage: beamrun logs [-f] NAME\n"
    "Print an instance's console; -f: keep following it until it ends.\n";

int cmd_logs(int argc, char **argv)
{
	struct timespec nap = {0, 100 * 1000 * 1000};
	struct inst in;
	char p[PATH_MAX];
	int follow = 0, fd, c;
	off_t off = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+fh")) != -1) {
		if (c == 'f') {
			follow = 1;
		} else if (c == 'h') {
			fputs(logs_usage, stdout);
			return 0;
		} else {
			br_die_msg("logs: unknown option %s (usage: beamrun "
				   "logs [-f] NAME)",
				   argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		br_die_msg("logs: expected one instance name (usage: beamrun "
			   "logs [-f] NAME)");
		return 2;
	}
	if (known_inst("logs", argv[optind], &in) ||
	    inst_path(&in, "console.log", p, sizeof(p)))
		return 1;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		br_die_msg("logs: %s: %s", p, strerror(errno));
		return 1;
	}
	for (;;) {
		int running = follow && inst_running(&in);

		if (copy_from(fd, &off)) {
			close(fd);
			return 1;
		}
		/* One last read after it ends: its final lines. */
		if (!running)
			break;
		nanosleep(&nap, NULL);
	}
	close(fd);
	return 0;
}

static const char wait_usage[] =
    "usage: beamrun wait NAME\n"
    "Wait until an instance ends; print its exit status and exit with "
    "it.\n";

int cmd_wait(int argc, char **argv)
{
	struct inst in;
	int code;

	if (argc == 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(wait_usage, stdout);
		return 0;
	}
	if (argc != 2) {
		br_die_msg("wait: expected one instance name (usage: beamrun "
			   "wait NAME)");
		return 2;
	}
	if (known_inst("wait", argv[1], &in))
		return 1;
	while (inst_wait_end(&in, 1000))
		;
	code = inst_exit_status(&in);
	if (code < 0) {
		br_die_msg("wait: %s ended without an exit status", in.name);
		return 1;
	}
	printf("%d\n", code);
	return code;
}

static const char rm_usage[] = "usage: beamrun rm NAME...\n"
			       "Forget ended instances and their logs.\n";

int cmd_rm(int argc, char **argv)
{
	int i, rc = 0, rl;

	if (argc < 2) {
		br_die_msg("rm: no instance named (usage: beamrun rm NAME...)");
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(rm_usage, stdout);
		return 0;
	}
	rl = root_lock();
	if (rl < 0) {
		br_die_msg("%s", br_err());
		return 1;
	}
	for (i = 1; i < argc; i++) {
		struct inst in;

		if (known_inst("rm", argv[i], &in)) {
			rc = 1;
		} else if (inst_running(&in)) {
			br_die_msg("rm: %s is running (beamrun stop %s first)",
				   in.name, in.name);
			rc = 1;
		} else {
			br_rm_rf(in.dir);
		}
	}
	close(rl);
	return rc;
}
