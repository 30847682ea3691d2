/* LD_PRELOAD fixture: run beamrun-init as PID 1 on a host, harmlessly. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Environment:
 *   FAKEPID1_LOG   transcript file, one line per faked call (appended)
 *   FAKEPID1_ROOT  stands in for /etc, /usr/etc, /sys, /dev/input and the
 *                  serial ports /dev/ttyS*; also for
 *                  /proc/cmdline when FAKEPID1_ROOT/proc/cmdline exists
 *   FAKEPID1_MOUNT_FAIL  "TARGET:ERRNO ..." (EBUSY, EINVAL, EPERM, ENODEV,
 *                  EACCES or EROFS): mount() on TARGET fails so; EROFS
 *                  only for a writable mount, like a read-only disk
 *   FAKEPID1_NO_CONSOLE  when not empty, there is no /dev/console; when
 *                  "nodev", no /dev/null either until /dev is mounted
 *   FAKEPID1_NO_SIGNALFD  when not empty, signalfd() fails with ENOSYS,
 *                  as on a kernel built without it
 * Only the process that loaded the fixture is "PID 1"; its children see
 * their real PIDs, and beam gets a clean environment without LD_PRELOAD.
 */

#define MAX_MOUNTS 64

static int log_fd = -1;
static pid_t init_pid;	/* the real PID of the faked PID 1 */
static pid_t beam_pid;	/* the last child fork() returned */
static unsigned reaped; /* children other than beam that waitpid reaped */
static char fake_root[512];
static char mounted[MAX_MOUNTS][256]; /* what mount() "mounted" */
static char made[MAX_MOUNTS][256];    /* what mkdir() "made" */

static void flog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int known(char tab[][256], const char *path);

static void flog(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) < 0)
		return;
}

static void *real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		fprintf(stderr, "fakepid1: no %s\n", name);
		_exit(98);
	}
	return f;
}

static pid_t real_pid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

__attribute__((constructor)) static void fake_init(void)
{
	const char *log = getenv("FAKEPID1_LOG");
	const char *root = getenv("FAKEPID1_ROOT");
	int fd;

	if (!log || !root || root[0] != '/' ||
	    strlen(root) >= sizeof(fake_root) - 64) {
		fprintf(stderr, "fakepid1: set FAKEPID1_LOG and an absolute "
				"FAKEPID1_ROOT\n");
		_exit(99);
	}
	snprintf(fake_root, sizeof(fake_root), "%s", root);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror("fakepid1: FAKEPID1_LOG");
		_exit(99);
	}
	/* Out of the way of the init's dup2() onto 0-2. */
	log_fd = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	close(fd);
	if (log_fd < 0)
		_exit(99);
	init_pid = real_pid();
	/* Orphans come back to us as they would to the real PID 1. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		perror("fakepid1: PR_SET_CHILD_SUBREAPER");
		_exit(99);
	}
}

static int is_init(void)
{
	return real_pid() == init_pid;
}

pid_t getpid(void)
{
	return is_init() ? 1 : real_pid();
}

static int under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* The host path that stands in for a guest path (or path itself). */
static const char *map(const char *path, char *buf, size_t len)
{
	struct stat st;

	if (!path)
		return path;
	/* Never the host's own watchdog: arming it would reboot the host. */
	/* Nor its sysctls, nor a zram device it may have. */
	/* Nor its serial ports: the stop line is a FIFO of the test's. */
	if (under(path, "/etc") || under(path, "/sys") ||
	    !strncmp(path, "/dev/ttyS", 9) ||
	    under(path, "/usr/etc") || under(path, "/dev/input") ||
	    under(path, "/dev/watchdog") || under(path, "/dev/zram0") ||
	    under(path, "/proc/sys")) {
		snprintf(buf, len, "%s%s", fake_root, path);
		return buf;
	}
	if (!strcmp(path, "/proc/cmdline")) {
		snprintf(buf, len, "%s%s", fake_root, path);
		if (stat(buf, &st) == 0)
			return buf;
	}
	return path;
}

/* /dev/console is the init's stderr, so the console is the transcript's. */
static int open_common(int dirfd, const char *path, int flags, mode_t mode)
{
	int (*ropenat)(int, const char *, int, ...) = real("openat");
	const char *nocons = getenv("FAKEPID1_NO_CONSOLE");
	char buf[1024];

	if (path && !strcmp(path, "/dev/console")) {
		if (nocons && *nocons) {
			errno = ENOENT;
			return -1;
		}
		return dup(2);
	}
	if (path && !strcmp(path, "/dev/null") && nocons &&
	    !strcmp(nocons, "nodev") && !known(mounted, "/dev")) {
		errno = ENOENT;
		return -1;
	}
	return ropenat(dirfd, map(path, buf, sizeof(buf)), flags, mode);
}

static mode_t open_mode(int flags, va_list ap)
{
	if (flags & (O_CREAT | __O_TMPFILE))
		return (mode_t)va_arg(ap, int);
	return 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(dirfd, path, flags, mode);
}

static FILE *fopen_common(const char *fn, const char *path, const char *how)
{
	FILE *(*rfopen)(const char *, const char *) = real(fn);
	char buf[1024];

	if (path && under(path, "/etc"))
		flog("fopen %s %s", path, how);
	return rfopen(map(path, buf, sizeof(buf)), how);
}

FILE *fopen(const char *path, const char *how)
{
	return fopen_common("fopen", path, how);
}

FILE *fopen64(const char *path, const char *how)
{
	return fopen_common("fopen64", path, how);
}

/* FAKEPID1_MEM_KIB: the RAM the init sees, instead of this host's. */
int sysinfo(struct sysinfo *si)
{
	int (*rsysinfo)(struct sysinfo *) = real("sysinfo");
	const char *kib = getenv("FAKEPID1_MEM_KIB");
	int rc = rsysinfo(si);

	if (rc == 0 && kib && *kib) {
		si->totalram = strtoul(kib, NULL, 10);
		si->mem_unit = 1024;
	}
	return rc;
}

int access(const char *path, int mode)
{
	int (*raccess)(const char *, int) = real("access");
	char buf[1024];

	return raccess(map(path, buf, sizeof(buf)), mode);
}

DIR *opendir(const char *path)
{
	DIR *(*ropendir)(const char *) = real("opendir");
	char buf[1024];

	return ropendir(map(path, buf, sizeof(buf)));
}

int scandir(const char *path, struct dirent ***list,
	    int (*sel)(const struct dirent *),
	    int (*cmp)(const struct dirent **, const struct dirent **))
{
	int (*rscandir)(
	    const char *, struct dirent ***, int (*)(const struct dirent *),
	    int (*)(const struct dirent **, const struct dirent **)) =
	    real("scandir");
	char buf[1024];

	return rscandir(map(path, buf, sizeof(buf)), list, sel, cmp);
}

/* Links made in /etc go to the fake /etc, and are logged. */
int symlink(const char *from, const char *to)
{
	int (*rsymlink)(const char *, const char *) = real("symlink");
	char buf[1024];

	flog("symlink %s %s", from, to);
	return rsymlink(from, map(to, buf, sizeof(buf)));
}

static void remember(char tab[][256], const char *path)
{
	size_t i;

	for (i = 0; i < MAX_MOUNTS; i++)
		if (!tab[i][0]) {
			snprintf(tab[i], sizeof(tab[i]), "%s", path);
			return;
		}
}

static int known(char tab[][256], const char *path)
{
	size_t i;

	for (i = 0; i < MAX_MOUNTS; i++)
		if (tab[i][0] && !strcmp(tab[i], path))
			return 1;
	return 0;
}

/* Exists here, or only in the guest the init believes it runs in. */
static int exists(const char *path)
{
	struct stat st;

	return known(made, path) || stat(path, &st) == 0;
}

/* The errno FAKEPID1_MOUNT_FAIL gives mounts on target, or 0. */
static int mount_fail(const char *target, unsigned long flags)
{
	static const struct {
		int err;
		const char *name;
	} errs[] = {
	    {EBUSY, "EBUSY"},	{EINVAL, "EINVAL"}, {EPERM, "EPERM"},
	    {ENODEV, "ENODEV"}, {EACCES, "EACCES"}, {EROFS, "EROFS"},
	};
	const char *spec = getenv("FAKEPID1_MOUNT_FAIL");
	size_t tl = strlen(target), i;
	const char *p;

	for (p = spec; p && *p; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncmp(p, target, tl) || p[tl] != ':')
			continue;
		for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
			size_t n = strlen(errs[i].name);

			if (strncmp(p + tl + 1, errs[i].name, n) ||
			    (p[tl + 1 + n] != ' ' && p[tl + 1 + n] != '\0'))
				continue;
			if (errs[i].err == EROFS && (flags & MS_RDONLY))
				return 0;
			return errs[i].err;
		}
	}
	return 0;
}

static void flags_str(unsigned long f, char *buf, size_t len)
{
	static const struct {
		unsigned long bit;
		const char *name;
	} names[] = {
	    {MS_RDONLY, "ro"},	   {MS_NOSUID, "nosuid"},   {MS_NODEV, "nodev"},
	    {MS_NOEXEC, "noexec"}, {MS_REMOUNT, "remount"}, {MS_BIND, "bind"},
	};
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(f & names[i].bit))
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 buf[0] ? "," : "", names[i].name);
		f &= ~names[i].bit;
	}
	if (f)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%#lx",
			 buf[0] ? "," : "", f);
	if (!buf[0])
		snprintf(buf, len, "-");
}

int mount(const char *src, const char *dst, const char *type,
	  unsigned long flags, const void *data)
{
	char fl[128];
	int err;

	flags_str(flags, fl, sizeof(fl));
	flog("mount %s %s %s %s%s%s", src ? src : "-", dst ? dst : "-",
	     type ? type : "-", fl, data ? " " : "",
	     data ? (const char *)data : "");
	if (!dst)
		return 0;
	err = mount_fail(dst, flags);
	if (err) {
		errno = err;
		return -1;
	}
	remember(mounted, dst);
	return 0;
}

/* Like the kernel: only what was mounted can be unmounted. */
int umount2(const char *target, int flags)
{
	size_t i;

	if (flags)
		flog("umount2 %s %#x", target, (unsigned)flags);
	else
		flog("umount2 %s", target);
	for (i = MAX_MOUNTS; i-- > 0;)
		if (mounted[i][0] && !strcmp(mounted[i], target)) {
			mounted[i][0] = '\0';
			return 0;
		}
	errno = exists(target) ? EINVAL : ENOENT;
	return -1;
}

int umount(const char *target)
{
	return umount2(target, 0);
}

int swapon(const char *path, int flags)
{
	char sig[11] = "";
	FILE *f = fopen(path, "re");

	/* What the init wrote there: the swap signature at its place. */
	if (f && fseek(f, 4096 - 10, SEEK_SET) == 0)
		(void)!fread(sig, 1, 10, f);
	if (f)
		fclose(f);
	flog("swapon %s %#x %s", path, (unsigned)flags,
	     sig[0] ? sig : "(no signature)");
	return 0;
}

void sync(void)
{
	flog("sync");
}

int sethostname(const char *name, size_t len)
{
	flog("sethostname %.*s", (int)len, name);
	return 0;
}

/* Nothing is made here: the init is told so, and it is remembered. */
int mkdir(const char *path, mode_t mode)
{
	flog("mkdir %s %04o", path, (unsigned)mode);
	if (exists(path)) {
		errno = EEXIST;
		return -1;
	}
	remember(made, path);
	return 0;
}

static void rlim_str(rlim_t v, char *buf, size_t len)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	static const struct {
		int res;
		const char *name;
	} names[] = {
	    {RLIMIT_NOFILE, "RLIMIT_NOFILE"}, {RLIMIT_FSIZE, "RLIMIT_FSIZE"},
	    {RLIMIT_DATA, "RLIMIT_DATA"},     {RLIMIT_AS, "RLIMIT_AS"},
	    {RLIMIT_STACK, "RLIMIT_STACK"},   {RLIMIT_CORE, "RLIMIT_CORE"},
	};
	const char *name = "other";
	char soft[32], hard[32];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].res == (int)res)
			name = names[i].name;
	rlim_str(rl->rlim_cur, soft, sizeof(soft));
	rlim_str(rl->rlim_max, hard, sizeof(hard));
	flog("setrlimit %s %s %s", name, soft, hard);
	return 0;
}

static const char *sig_name(int sig, char *buf, size_t len)
{
	const char *abbr = sigabbrev_np(sig);

	if (sig == 0)
		return "0";
	if (abbr)
		snprintf(buf, len, "SIG%s", abbr);
	else
		snprintf(buf, len, "%d", sig);
	return buf;
}

int kill(pid_t pid, int sig)
{
	int (*rkill)(pid_t, int) = real("kill");
	char sb[32];

	if (pid <= 0) {
		/* -1, 0 or a group: in a VM, every other process; here,
		 * the tester's own. Never delivered. */
		flog("kill %d %s", (int)pid, sig_name(sig, sb, sizeof(sb)));
		return 0;
	}
	if (pid == beam_pid)
		flog("kill beam %s", sig_name(sig, sb, sizeof(sb)));
	else
		flog("kill %d %s", (int)pid, sig_name(sig, sb, sizeof(sb)));
	return rkill(pid, sig);
}

pid_t fork(void)
{
	pid_t (*rfork)(void) = real("fork");
	pid_t pid;

	/* Logged before, so the child's lines always come after it. */
	flog("fork");
	pid = rfork();
	if (pid > 0)
		beam_pid = pid;
	return pid;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	int (*rexecve)(const char *, char *const[], char *const[]) =
	    real("execve");

	flog("execve %s", path);
	return rexecve(path, argv, envp);
}

int signalfd(int fd, const sigset_t *mask, int flags)
{
	int (*rsignalfd)(int, const sigset_t *, int) = real("signalfd");

	const char *no = getenv("FAKEPID1_NO_SIGNALFD");

	/* Not logged: the parent's line would race the child's. */
	if (no && *no && is_init()) {
		errno = ENOSYS;
		return -1;
	}
	return rsignalfd(fd, mask, flags);
}

pid_t waitpid(pid_t pid, int *status, int options)
{
	pid_t (*rwaitpid)(pid_t, int *, int) = real("waitpid");
	pid_t r = rwaitpid(pid, status, options);

	if (r > 0 && r != beam_pid && is_init())
		reaped++;
	return r;
}

static int ifreq_log(const char *req, int fd, void *arg)
{
	struct ifreq *ifr = arg;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr->ifr_addr;
	int dom = AF_INET;
	socklen_t dl = sizeof(dom);
	char a[INET6_ADDRSTRLEN] = "";

	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl);
	if (dom == AF_INET6) {
		/* The kernel's struct in6_ifreq: address, prefix, index. */
		const struct {
			struct in6_addr addr;
			uint32_t prefixlen;
			int ifindex;
		} *r6 = arg;

		inet_ntop(AF_INET6, &r6->addr, a, sizeof(a));
		flog("ioctl %s ifindex %d %s/%u", req, r6->ifindex, a,
		     (unsigned)r6->prefixlen);
		return 0;
	}
	inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	flog("ioctl %s %.*s %s", req, IFNAMSIZ, ifr->ifr_name, a);
	return 0;
}

static int flags_log(void *arg)
{
	struct ifreq *ifr = arg;
	short f = ifr->ifr_flags;
	char buf[64] = "";

	if (f & IFF_UP)
		strcat(buf, "up,");
	if (f & IFF_RUNNING)
		strcat(buf, "running,");
	f &= (short)~(IFF_UP | IFF_RUNNING);
	if (f)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%#x,",
			 (unsigned)(unsigned short)f);
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	flog("ioctl SIOCSIFFLAGS %.*s %s", IFNAMSIZ, ifr->ifr_name,
	     buf[0] ? buf : "-");
	return 0;
}

static int route_log(int fd, void *arg)
{
	int dom = AF_INET;
	socklen_t dl = sizeof(dom);
	char a[INET6_ADDRSTRLEN] = "";

	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl);
	if (dom == AF_INET6) {
		struct in6_rtmsg *rt = arg;

		inet_ntop(AF_INET6, &rt->rtmsg_gateway, a, sizeof(a));
		flog("ioctl SIOCADDRT ifindex %d via %s", rt->rtmsg_ifindex, a);
	} else {
		struct rtentry *rt = arg;
		struct sockaddr_in *gw = (struct sockaddr_in *)&rt->rt_gateway;

		inet_ntop(AF_INET, &gw->sin_addr, a, sizeof(a));
		flog("ioctl SIOCADDRT %s via %s", rt->rt_dev ? rt->rt_dev : "-",
		     a);
	}
	return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	int (*rioctl)(int, unsigned long, ...) = real("ioctl");
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	switch (req) {
	case SIOCGIFFLAGS:
		/* The guest's interfaces need not exist here: all down. */
		((struct ifreq *)arg)->ifr_flags = 0;
		return 0;
	case SIOCSIFFLAGS:
		return flags_log(arg);
	case SIOCSIFADDR:
		return ifreq_log("SIOCSIFADDR", fd, arg);
	case SIOCSIFNETMASK:
		return ifreq_log("SIOCSIFNETMASK", fd, arg);
	case SIOCADDRT:
		return route_log(fd, arg);
	}
	return rioctl(fd, req, arg);
}

/* Children of ours that have exited but were never waited for. */
static unsigned count_zombies(void)
{
	DIR *(*ropendir)(const char *) = real("opendir");
	DIR *d = ropendir("/proc");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[300], buf[512], *p, state;
		int fd, ppid;
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) S ppid ...": comm may hold spaces and ')' */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 &&
		    state == 'Z' && ppid == init_pid)
			n++;
	}
	closedir(d);
	return n;
}

int reboot(int cmd)
{
	static const struct {
		unsigned cmd;
		const char *name;
	} names[] = {
	    {RB_AUTOBOOT, "RB_AUTOBOOT"},
	    {RB_POWER_OFF, "RB_POWER_OFF"},
	    {RB_HALT_SYSTEM, "RB_HALT_SYSTEM"},
	    {RB_DISABLE_CAD, "RB_DISABLE_CAD"},
	    {RB_ENABLE_CAD, "RB_ENABLE_CAD"},
	    {RB_SW_SUSPEND, "RB_SW_SUSPEND"},
	    {RB_KEXEC, "RB_KEXEC"},
	};
	const char *name = "?";
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cmd == (unsigned)cmd)
			name = names[i].name;
	flog("reboot %s", name);
	if ((unsigned)cmd == RB_DISABLE_CAD || (unsigned)cmd == RB_ENABLE_CAD)
		return 0;
	/* The machine stops here: what did PID 1 leave behind? */
	flog("reaped %u", reaped);
	flog("zombies %u", count_zombies());
	fflush(NULL);
	_exit(0);
}
