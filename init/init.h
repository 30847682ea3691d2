/* beamrun-init: internal interfaces of the guest's PID 1. */
#ifndef BEAMRUN_INIT_H
#define BEAMRUN_INIT_H

#include <net/if.h>
#include <stddef.h>
#include <sys/types.h>

#define INIT_MAX_NET  8
#define INIT_MAX_VOL  16
#define INIT_PATH_MAX 256
/* Open files for beam (RLIMIT_NOFILE, soft and hard). */
#define INIT_NOFILE 65536

/*
 * The status line the launcher looks for on the console. The guest's
 * exit status travels to the host this way because qemu's own exit code
 * cannot carry a full byte from the guest.
 */
#define INIT_STATUS_TAG "beamrun-init: exit "
/* Reported instead of a number when the Erlang VM could not be started. */
#define INIT_STATUS_SETUP "setup-failed"

enum init_net_method { INIT_NET_STATIC, INIT_NET_DHCP, INIT_NET_AUTO6 };

struct init_net {
	char ifname[IF_NAMESIZE];
	enum init_net_method method;
	int family; /* AF_INET or AF_INET6 */
	char addr[64];
	int prefix;
	char gw[64]; /* empty: no default route */
};

struct init_vol {
	char serial[21]; /* virtio-blk serial the launcher gave the disk */
	char dev[16];	 /* or its name under /dev (Xen's xvdb, loop1) */
	char mnt[INIT_PATH_MAX];
	char fstype[16]; /* "auto" tries ext4, iso9660, erofs, squashfs */
	int ro;
	int mounted;  /* set by init_fs_volumes, read by the teardown */
	int writable; /* mounted read-write: set by init_fs_volumes */
};

#define INIT_MAX_DNS   4
#define INIT_MAX_HOSTS 16

struct init_host {
	char name[65];
	char addr[64];
};

struct init_cfg {
	int verbose;
	char hostname[65];
	struct init_net net[INIT_MAX_NET];
	size_t nnet;
	char dns[INIT_MAX_DNS][64]; /* nameserver addresses */
	unsigned dns_port[INIT_MAX_DNS];
	size_t ndns;
	int no_dhcp_dns; /* "dhcp_dns":false: ignore the lease's nameservers */
	struct init_host hosts[INIT_MAX_HOSTS]; /* extra /etc/hosts lines */
	size_t nhosts;
	struct init_vol vol[INIT_MAX_VOL];
	size_t nvol;
	char **env; /* NULL-terminated "NAME=VALUE" list */
	size_t nenv;
	char **args; /* erl-style arguments, NULL-terminated */
	size_t nargs;
	char root[INIT_PATH_MAX]; /* OTP root unless -root overrides it */
	int cookie; /* the launcher's cookie is in INIT_COOKIE_FILE */
	unsigned stop_timeout_s;
	/* Guest RAM in KiB (sysinfo(2), not from the launcher); 0: unknown. */
	unsigned long mem_kib;
	long swap_mib; /* zram swap, MiB; 0: none; -1: by the RAM (swap.c) */
	/* A serial port where any byte is a stop request; "" for none. */
	char stop_dev[INIT_PATH_MAX];
};

/* swap.c: below this much RAM a guest gets zram swap unless told. */
#define INIT_SWAP_AUTO_MIB     256
#define INIT_SWAP_AUTO_MAX_MIB 64
int init_swap_setup(const struct init_cfg *cfg, char *err, size_t errlen);

/* log.c: every line goes to the console with the "beamrun-init: " prefix. */
extern int init_verbose;
void init_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void init_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void init_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Monotonic milliseconds since the kernel started, for the boot timeline. */
long init_uptime_ms(void);

/*
 * config.c: parse the JSON text the launcher passed. Returns 0, or -1
 * with a one-line reason in err (which names the offending key).
 */
int init_cfg_parse(struct init_cfg *cfg, const char *json, char *err,
		   size_t errlen);
/*
 * Find the configuration in a kernel command line: the text after
 * "beamrun=" in the first word that starts with it. Returns a pointer
 * into cmdline (cut at the next space), or NULL.
 */
char *init_cfg_find(char *cmdline);
void init_cfg_free(struct init_cfg *cfg);

/*
 * stage.c: booted from an ISO or disk by GRUB, with the root as a file in
 * the initial RAM file system: attach it (and the volumes) to loop
 * devices, switch to it and exec its /sbin/init. Returns 0 at once on a
 * normal boot; -1 (after a message) if the switch failed.
 */
int init_stage_switch(char **argv);

/* fs.c: the fixed mounts (/proc, /sys, /dev, /tmp) and the volumes. */
int init_fs_basic(void);
/* Mount every volume; -1 with a reason in err on the first failure. */
int init_fs_volumes(struct init_cfg *cfg, char *err, size_t errlen);
/* Sync and unmount the volumes in reverse order, then the rest. */
void init_fs_teardown(const struct init_cfg *cfg);

/*
 * etc.c: a tmpfs over /etc with hosts, resolv.conf, hostname and the
 * Erlang inet configuration (its path from init_etc_inetrc()).
 */
int init_etc_setup(struct init_cfg *cfg, char *err, size_t errlen);
const char *init_etc_inetrc(void);
/* Write text to path (created, or a sysfs or procfs file). */
int init_write_file(const char *path, const char *text, char *err,
		    size_t errlen);
/* The cookie from fw_cfg, if the launcher passed one, into HOME. */
#define INIT_COOKIE_FWCFG                                                      \
	"/sys/firmware/qemu_fw_cfg/by_name/opt/beamrun/cookie/raw"
#define INIT_COOKIE_FILE "/tmp/.erlang.cookie"
int init_etc_cookie(char *err, size_t errlen);

/* net.c: loopback, hostname, addresses and routes. */
int init_net_up(const struct init_cfg *cfg, char *err, size_t errlen);

/*
 * beam.c: what erlexec would do. init_beam_argv() turns erl-style
 * arguments into the emulator's argv and environment; both arrays are
 * NULL-terminated and owned by the caller (free with init_strv_free).
 */
struct init_beam {
	char *emu; /* path of beam.smp */
	char **argv;
	char **envp;
};
int init_beam_prepare(const struct init_cfg *cfg, struct init_beam *b,
		      char *err, size_t errlen);
void init_beam_free(struct init_beam *b);
/* Fork and exec the emulator with a clean signal state. */
pid_t init_beam_spawn(const struct init_beam *b);
void init_strv_free(char **v);

/*
 * supervise.c: wait for beam, reaping every other child, and turn a stop
 * request (SIGTERM, SIGINT from ctrl-alt-del, SIGPWR, the ACPI power
 * button, a byte on stop_dev unless it is "") into SIGTERM to beam, then
 * SIGKILL after the deadline.
 * Returns beam's status in shell form (128+N when killed by signal N).
 */
int init_supervise(pid_t beam, unsigned stop_timeout_s, int watchdog,
		   const char *stop_dev);
/* Block the signals the supervisor reads; done first thing at boot. */
int init_signals_block(void);

/* node.c: "-name NAME@%IF" gets IF's IPv4 address as its host part. */
int init_node_resolve(struct init_cfg *cfg, char *err, size_t errlen);

/*
 * watchdog.c: open and arm /dev/watchdog if the VM has one (-1 if not);
 * pet it at most every INIT_WATCHDOG_PET_S seconds.
 */
#define INIT_WATCHDOG_PET_S 5
int init_watchdog_open(void);
void init_watchdog_pet(int fd);

/*
 * power.c: print the status line, tear down and power the VM off. Under
 * qemu, libvirt and Xen the VM ends by a reboot (see power.c); booted from
 * firmware media (the stage init passes INIT_ARG_POWEROFF, which sets
 * init_poweroff) a reboot would boot the media again, so it powers off.
 */
#define INIT_ARG_POWEROFF "beamrun.poweroff"
extern int init_poweroff;
void init_power_off(const struct init_cfg *cfg, const char *status)
    __attribute__((noreturn));

#endif
