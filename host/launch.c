/* beamrun: boot a VM with qemu, relay its console, return its status. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "beamrun.h"

/* Must match init/init.h. */
#define STATUS_TAG   "beamrun-init: exit "
#define STATUS_SETUP "setup-failed"
/*
 * The kernel has PCI for machines that have it; on microvm, which has
 * none, it says so at error level even with pci=off. Hidden unless -v.
 */
#define PCI_NOISE "PCI: Fatal: No config space access function found"
/* What the kernel prints, at emergency level even when quiet, on a panic. */
#define PANIC_LINE "Kernel panic - not syncing"

struct console {
	char line[4096];
	size_t len;
	int status; /* -1 until the guest reports one */
	int setup_failed;
	int panic;	     /* the kernel said it panicked */
	size_t panic_seen;   /* how much of PANIC_LINE the stream just had */
	unsigned held_blank; /* empty lines not yet shown */
	int mid_line;	     /* the start of this line is already shown */
};

static void console_write(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(1, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* A complete line: the status report is consumed, the rest shown. */
static void console_line(struct console *c)
{
	size_t n = c->len, tl = strlen(STATUS_TAG);
	char *l = c->line;

	while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
		n--;
	if (n > tl && !memcmp(l, STATUS_TAG, tl)) {
		l[n] = '\0';
		if (!strcmp(l + tl, STATUS_SETUP)) {
			c->setup_failed = 1;
		} else {
			char *end;
			long v = strtol(l + tl, &end, 10);

			if (*end == '\0' && v >= 0 && v <= 255)
				c->status = (int)v;
		}
		if (!br_verbose) {
			c->len = 0;
			return;
		}
		l[n] = '\n';
	} else if (!br_verbose && !c->mid_line && n == strlen(PCI_NOISE) &&
		   !memcmp(l, PCI_NOISE, n)) {
		c->len = 0;
		return;
	} else if (n == 0 && !c->mid_line && !br_verbose) {
		/*
		 * init starts its status line on a fresh line; an empty
		 * line is held until we know it is not that separator.
		 */
		c->held_blank++;
		c->len = 0;
		return;
	}
	for (; c->held_blank; c->held_blank--)
		console_write("\n", 1);
	console_write(c->line, c->len);
	c->len = 0;
	c->mid_line = 0;
}

/* Could the partial line still become one the launcher hides? */
static int console_may_hide(const struct console *c)
{
	static const char *const hidden[] = {STATUS_TAG, PCI_NOISE};
	size_t i, k;

	if (c->mid_line)
		return 0;
	/* The "\r" of a "\r\n" split across two reads. */
	if (c->len == 1 && c->line[0] == '\r')
		return 1;
	for (i = 0; i < sizeof(hidden) / sizeof(*hidden); i++) {
		k = strlen(hidden[i]);
		if (!memcmp(c->line, hidden[i], c->len < k ? c->len : k))
			return 1;
	}
	return 0;
}

static void console_feed(struct console *c, const char *buf, size_t n)
{
	size_t i;

	/* After the status line only the kernel's farewell remains. */
	if ((c->status >= 0 || c->setup_failed) && !br_verbose)
		return;

	for (i = 0; i < n; i++) {
		/*
		 * Lines can reach console_line() in pieces, so the panic
		 * message is matched on the stream. No proper prefix of it
		 * recurs inside it, so a mismatch restarts the match.
		 */
		if (buf[i] == PANIC_LINE[c->panic_seen])
			c->panic_seen++;
		else
			c->panic_seen = buf[i] == PANIC_LINE[0];
		if (c->panic_seen == strlen(PANIC_LINE)) {
			c->panic = 1;
			c->panic_seen = 0;
		}
		c->line[c->len++] = buf[i];
		if (buf[i] == '\n' || c->len == sizeof(c->line)) {
			console_line(c);
			if ((c->status >= 0 || c->setup_failed) && !br_verbose)
				return;
		}
	}
	/*
	 * Show a partial line at once (a prompt, progress dots) unless it
	 * could still become a line that is hidden.
	 */
	if (c->len && !console_may_hide(c)) {
		for (; c->held_blank; c->held_blank--)
			console_write("\n", 1);
		console_write(c->line, c->len);
		c->len = 0;
		c->mid_line = 1;
	}
}

/* The host's TSC rate in kHz, measured against CLOCK_MONOTONIC_RAW. */
static unsigned long host_tsc_khz(void)
{
	struct timespec a, b, nap = {0, 20 * 1000 * 1000};
	unsigned long long t0, t1;
	double ns;

	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = __rdtsc();
	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	t1 = __rdtsc();
	ns = (double)(b.tv_sec - a.tv_sec) * 1e9 +
	     (double)(b.tv_nsec - a.tv_nsec);
	if (ns <= 0 || t1 <= t0)
		return 0;
	return (unsigned long)((double)(t1 - t0) / ns * 1e6);
}

/*
 * The same, measured once per boot of the host and then read from the
 * cache ("BOOT_ID KHZ"), since measuring sleeps 20 ms of every launch:
 * a constant TSC keeps its rate until the host reboots. A cache that
 * cannot be read or written only means measuring again.
 */
static unsigned long host_tsc_khz_cached(void)
{
	char path[4200], tmp[4300], boot[64] = "", line[128], id[64];
	unsigned long khz = 0;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = '\0';
		fclose(f);
	}
	boot[strcspn(boot, "\n")] = '\0';
	if (!boot[0])
		return host_tsc_khz();
	snprintf(path, sizeof(path), "%s/tsc-khz", br_cache_dir());
	if ((f = fopen(path, "re"))) {
		int hit = fgets(line, sizeof(line), f) &&
			  sscanf(line, "%63s %lu", id, &khz) == 2 &&
			  !strcmp(id, boot) && khz >= 1000 && khz <= 100000000;

		fclose(f);
		if (hit)
			return khz;
	}
	khz = host_tsc_khz();
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	if (khz && !br_mkdir_p(br_cache_dir(), 0700) &&
	    (f = fopen(tmp, "we"))) {
		int ok = fprintf(f, "%s %lu\n", boot, khz) > 0;

		if (fclose(f) || !ok || rename(tmp, path))
			unlink(tmp);
	}
	return khz;
}

/* DIR/name, where DIR holds the QMP socket: the run's private directory. */
static int launch_beside_qmp(const struct br_vm *vm, const char *name,
			     char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", vm->qmp_path);
	slash = strrchr(buf, '/');
	if (!slash) {
		br_seterr("no private directory for the %s", name);
		return -1;
	}
	snprintf(slash + 1, len - (size_t)(slash + 1 - buf), "%s", name);
	return 0;
}

/*
 * The cookie goes to qemu in a file of the run's private directory (the
 * QMP socket's), never on a command line; fw_cfg hands it to the guest.
 */
static int launch_cookie(struct br_vm *vm)
{
	size_t n = strlen(vm->cookie);
	int fd;

	if (vm->dry_run) {
		snprintf(vm->cookie_path, sizeof(vm->cookie_path),
			 "COOKIE-FILE");
		return 0;
	}
	if (launch_beside_qmp(vm, "cookie", vm->cookie_path,
			      sizeof(vm->cookie_path)))
		return -1;
	fd = open(vm->cookie_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd < 0 || write(fd, vm->cookie, n) != (ssize_t)n || close(fd)) {
		br_seterr("%s: %s", vm->cookie_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int launch_prepare(struct br_vm *vm, struct strv *argv)
{
	/* --pvh: the ELF vmlinux at its PVH entry, as Xen boots it. */
	const char *k =
	    vm->pvh ? br_image_vmlinux(&vm->img) : br_image_kernel(&vm->img);

	if (vm->cookie && launch_cookie(vm))
		return -1;
	/*
	 * The stop line's socket, where QMP's is; a dry run names it as it
	 * names the cookie's file, so that it prints the guest's whole
	 * configuration (and checks its length). None for an image whose
	 * init would refuse the configuration's "stop".
	 */
	if (vm->img.stop_line && vm->dry_run)
		snprintf(vm->stop_path, sizeof(vm->stop_path), "STOP-SOCKET");
	else if (vm->img.stop_line && vm->qmp_path[0] &&
		 launch_beside_qmp(vm, "stop.sock", vm->stop_path,
				   sizeof(vm->stop_path)))
		return -1;
	if (vm->accel == BR_ACCEL_TCG && !vm->tsc_khz)
		vm->tsc_khz = host_tsc_khz_cached();

	if (!k)
		return -1;
	snprintf(vm->kernel_path, sizeof(vm->kernel_path), "%s", k);
	return br_qemu_argv(vm, argv);
}

static int launch_dry_run(const struct strv *argv)
{
	char *s = strv_join_shell(argv);

	printf("%s\n", s);
	free(s);
	return 0;
}

/* How the run ended, as beamrun's exit status (README, "Exit status"). */
struct outcome {
	int st;		/* qemu's wait status */
	int signal;	/* the signal that stopped beamrun, or 0 */
	int killed;	/* beamrun kill ended qemu */
	int broken_pipe; /* the console's reader went away (SIGPIPE) */
	int exec_errno; /* qemu could not be executed */
};

static int launch_result(const struct console *c, const struct br_qmp *q,
			 const struct outcome *o)
{
	int st = o->st;

	if (o->exec_errno) {
		br_die_msg("qemu-system-x86_64: %s",
			   o->exec_errno == ENOENT
			       ? "not found (apt-get install qemu-system-x86)"
			       : strerror(o->exec_errno));
		return BR_EXIT_QEMU;
	}
	if (c->setup_failed) {
		br_die_msg("the guest could not start the Erlang VM (see the "
			   "beamrun-init error above)");
		return BR_EXIT_SETUP;
	}
	if (c->status >= 0)
		return c->status;
	if (o->killed) {
		br_die_msg("the VM was killed (beamrun kill)");
		return BR_EXIT_KILLED;
	}
	if (q->watchdog) {
		br_die_msg("the guest stopped answering: its watchdog expired "
			   "and qemu powered it off");
		return BR_EXIT_WATCHDOG;
	}
	if (c->panic || q->panicked) {
		br_die_msg("the guest kernel panicked (see its message above)");
		return BR_EXIT_PANIC;
	}
	if (o->signal) {
		br_die_msg("stopped by signal %d; the VM was terminated",
			   o->signal);
		return 128 + o->signal;
	}
	if (WIFSIGNALED(st)) {
		br_die_msg("qemu was killed by signal %d before the guest "
			   "reported an exit status",
			   WTERMSIG(st));
		return BR_EXIT_NOSTATUS;
	}
	if (WEXITSTATUS(st) != 0) {
		br_die_msg("qemu failed (exit status %d)", WEXITSTATUS(st));
		return BR_EXIT_QEMU;
	}
	br_die_msg("the guest stopped without reporting an exit status");
	return BR_EXIT_NOSTATUS;
}

/* Where the QMP socket lives for one foreground run; removed after. */
static int launch_rundir(struct br_vm *vm, char *dir, size_t len)
{
	const char *t = getenv("TMPDIR");

	/* A socket's path has at most 107 bytes: a deep TMPDIR gets /tmp. */
	if (!t || !*t || strlen(t) > 107 - sizeof("/beamrun-XXXXXX/qmp.sock"))
		t = "/tmp";
	snprintf(dir, len, "%s/beamrun-XXXXXX", t);
	if (!mkdtemp(dir)) {
		br_seterr("mkdtemp %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(vm->qmp_path, sizeof(vm->qmp_path), "%s/qmp.sock", dir);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * A press of the guest's power button: a byte on the stop line, and
 * ACPI's button through QMP for a guest that keeps ACPI (br_no_acpi
 * says when). Either may not be connected yet: the next press, a
 * second later, reaches it.
 */
static void launch_press(const struct br_vm *vm, struct br_qmp *q,
			 int *stopfd)
{
	if (vm->stop_path[0])
		br_stop_press(stopfd, vm->stop_path);
	br_qmp_powerdown(q);
}

/*
 * The first ^C or SIGTERM presses the guest's power button: init stops
 * the Erlang VM (init:stop(), then SIGKILL after its deadline) and
 * powers off. The button is pressed again every second, since a press
 * before the guest's init listens is lost. A second signal, or a guest
 * that does not stop within the deadline plus a margin, ends qemu.
 */
static void launch_stop(struct br_vm *vm, struct br_qmp *q, int *stopfd,
			pid_t qemu, int *stops, long *deadline)
{
	if ((*stops)++ == 0 && vm->qmp_path[0]) {
		launch_press(vm, q, stopfd);
		fprintf(stderr,
			"beamrun: stopping the guest (again to force)\n");
		*deadline =
		    now_ms() +
		    ((vm->stop_timeout ? vm->stop_timeout : 10) + 10) * 1000L;
		return;
	}
	kill(qemu, SIGKILL);
}

/* Fork and exec qemu with its console on out; errno in *err if exec
 * failed (qemu then has already exited). no_thp: see below. */
static pid_t launch_qemu(const struct strv *argv, int out, const sigset_t *old,
			 int no_thp, int *err)
{
	int ex[2];
	pid_t pid;
	ssize_t n;

	*err = 0;
	if (pipe2(ex, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY), e;

		sigprocmask(SIG_SETMASK, old, NULL);
		/* Its own process group: the terminal's ^C is ours to handle.
		 */
		setpgid(0, 0);
		/* If beamrun itself is killed, the VM must not live on. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);
		/*
		 * Under TCG, no transparent huge pages for qemu (the flag
		 * survives exec): qemu asks for them on its translation
		 * buffers, and each 2 MiB it first writes made the host
		 * clear all of it while the guest waited. Beam's exec came
		 * 50 ms earlier and the first echo 85 ms (medians of 7
		 * interleaved boots, guest RAM already in a memfd). Best
		 * effort: a kernel without the flag runs qemu as before.
		 */
		if (no_thp)
			prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
		dup2(null, 0);
		dup2(out, 1);
		execvp(argv->v[0], argv->v);
		/* The pipe closes on exec; errno through it says exec failed.
		 */
		e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(ex[1]);
	if (pid > 0) {
		while ((n = read(ex[0], err, sizeof(*err))) < 0 &&
		       errno == EINTR)
			;
		if (n != sizeof(*err))
			*err = 0;
	}
	close(ex[0]);
	return pid;
}

int br_launch(struct br_vm *vm)
{
	struct strv argv = {0};
	struct console con = {.status = -1};
	struct outcome o = {0};
	struct br_qmp qmp;
	struct pollfd p[3];
	sigset_t sigs, old;
	char rundir[4096] = "";
	int pipefd[2], sfd, stops = 0, stopfd = -1;
	long deadline = 0; /* when stopping: the time to give up */
	long qmp_until;	   /* keep trying to reach QMP until then */
	pid_t pid;

	br_qmp_init(&qmp);
	if (!vm->dry_run && !vm->qmp_path[0] &&
	    launch_rundir(vm, rundir, sizeof(rundir))) {
		br_die_msg("%s", br_err());
		return BR_EXIT_BADINPUT;
	}
	if (launch_prepare(vm, &argv)) {
		br_die_msg("%s", br_err());
		strv_free(&argv);
		if (rundir[0])
			br_rm_rf(rundir);
		return BR_EXIT_BADINPUT;
	}
	if (vm->dry_run) {
		launch_dry_run(&argv);
		strv_free(&argv);
		return 0;
	}
	if (vm->accel_why)
		fprintf(stderr, "beamrun: accelerator: %s (%s)\n",
			vm->accel == BR_ACCEL_KVM ? "kvm" : "tcg",
			vm->accel_why);
	if (br_verbose) {
		char *s = strv_join_shell(&argv);

		br_info("%s", s);
		free(s);
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1); /* beamrun kill, for a detached VM */
	/*
	 * Held too: a console piped to a reader that exits (| head) stops
	 * the guest as ^C does, instead of killing beamrun and leaving
	 * qemu and the QMP directory behind.
	 */
	sigaddset(&sigs, SIGPIPE);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (pipe2(pipefd, O_CLOEXEC) || sfd < 0) {
		br_die_msg("pipe: %s", strerror(errno));
		strv_free(&argv);
		br_rm_rf(rundir);
		return BR_EXIT_QEMU;
	}
	pid = launch_qemu(&argv, pipefd[1], &old,
			  vm->accel != BR_ACCEL_KVM, &o.exec_errno);
	close(pipefd[1]);
	strv_free(&argv);
	if (pid < 0) {
		br_die_msg("fork: %s", strerror(errno));
		br_rm_rf(rundir);
		return BR_EXIT_QEMU;
	}
	if (vm->ready_fd > 0) {
		/* A detached launch: tell the command that started us. */
		dprintf(vm->ready_fd, "%d\n", o.exec_errno ? 0 : (int)pid);
		close(vm->ready_fd);
		vm->ready_fd = 0;
	}

	qmp_until = now_ms() + 10000;
	p[0].fd = pipefd[0];
	p[0].events = POLLIN;
	p[1].fd = sfd;
	p[1].events = POLLIN;
	p[2].events = POLLIN;
	while (!o.exec_errno) {
		char buf[4096];
		ssize_t n;
		int r, wait_qmp = qmp.fd < 0 && now_ms() < qmp_until;

		if (wait_qmp && br_qmp_connect(&qmp, vm->qmp_path) == 0)
			wait_qmp = 0;
		p[2].fd = qmp.fd;
		r = poll(p, 3, wait_qmp ? 50 : deadline ? 1000 : -1);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && deadline && now_ms() >= deadline) {
			br_die_msg("the guest did not stop in time; ending "
				   "qemu");
			kill(pid, SIGKILL);
			deadline = 0;
			continue;
		}
		if (r == 0 && deadline) {
			launch_press(vm, &qmp, &stopfd);
			continue;
		}
		if (p[2].fd >= 0 && (p[2].revents & (POLLIN | POLLHUP)))
			br_qmp_read(&qmp);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1) {
					o.killed = 1;
					kill(pid, SIGKILL);
					continue;
				}
				/* Every later console line raises it again. */
				if (si.ssi_signo == SIGPIPE &&
				    o.broken_pipe++)
					continue;
				o.signal = (int)si.ssi_signo;
				launch_stop(vm, &qmp, &stopfd, pid, &stops,
					    &deadline);
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			n = read(pipefd[0], buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			console_feed(&con, buf, (size_t)n);
		}
	}
	if (con.len)
		console_line(&con);
	close(pipefd[0]);
	while (waitpid(pid, &o.st, 0) < 0 && errno == EINTR)
		;
	if (vm->cookie_path[0])
		unlink(vm->cookie_path);
	/* qemu is gone: what it said last (a WATCHDOG event) is all there. */
	if (qmp.fd >= 0) {
		fcntl(qmp.fd, F_SETFL, fcntl(qmp.fd, F_GETFL) & ~O_NONBLOCK);
		br_qmp_read(&qmp);
	}
	br_qmp_close(&qmp);
	if (stopfd >= 0)
		close(stopfd);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rundir[0])
		br_rm_rf(rundir);
	return launch_result(&con, &qmp, &o);
}
