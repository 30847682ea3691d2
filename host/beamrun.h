/* beamrun: internal interfaces of the host tool (bake, launch, volumes). */
#ifndef BEAMRUN_H
#define BEAMRUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes of the launcher beyond the guest's own status (README). */
#define BR_EXIT_NOSTATUS 124 /* guest stopped without reporting one */
#define BR_EXIT_BADINPUT 125 /* refused before anything started */
#define BR_EXIT_QEMU	 126 /* qemu could not be started */
#define BR_EXIT_SETUP	 123 /* the guest could not start the Erlang VM */
#define BR_EXIT_PANIC	 122 /* the guest kernel panicked */
#define BR_EXIT_WATCHDOG 121 /* the guest stopped answering its watchdog */
#define BR_EXIT_KILLED	 137 /* beamrun kill: qemu ended with SIGKILL */

#define BR_MAX_NIC 8
#define BR_MAX_VOL 16
#define BR_MAX_FWD 32
/*
 * Below this the guest kernel and beam do not fit (measured with the
 * guest's zram swap: helloworld runs at 28 MiB in 4.4 s, thrashing, and
 * never finishes at 24; the echoserver serves 100 clients and stops
 * cleanly from 30).
 */
#ifndef BR_MIN_MEM
#define BR_MIN_MEM 28
#endif
/* The Erlang VM's distribution port without epmd (epmd's 4369 + 1). */
#define BR_DIST_PORT 4370
/*
 * qemu boots the kernel's ELF vmlinux at its PVH entry (decompressed
 * from the image's bzImage once, into the cache): no decompression in
 * the emulated guest, 0.12 s of a 1.32 s echoserver boot under TCG,
 * measured. run --bzimage boots the bzImage.
 */
#define BR_BOOT_PVH 1

/* ---- util.c: errors, string vectors, processes, files ---------------- */

/*
 * Helpers never print: they record a one-line reason with br_seterr()
 * and return -1; the command that called them prints it.
 */
void br_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *br_err(void);
/* Print "beamrun: <msg>" on stderr. */
void br_die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int br_verbose;
void br_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct strv {
	char **v; /* NULL-terminated */
	size_t n, cap;
};
void strv_push(struct strv *s, const char *str);
void strv_pushf(struct strv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);
/* Join with spaces, quoting words a shell would split; caller frees. */
char *strv_join_shell(const struct strv *s);

void *xmalloc(size_t n);
char *xstrdup(const char *s);

/*
 * Run argv[0] (searched in PATH) and wait. Returns its exit status, or
 * -1 with a reason if it could not run. With quiet, its stdout goes to
 * /dev/null; stderr always passes through.
 */
int br_run(char *const argv[], int quiet);
/* Same, with stdout captured into a malloc'd string (*out). */
int br_run_capture(char *const argv[], char **out);

int br_mkdir_p(const char *path, mode_t mode);
/* Copy a file, keeping its mode; -1 with a reason on failure. */
int br_copy_file(const char *src, const char *dst);
/* Remove a tree; used for staging directories only. */
int br_rm_rf(const char *path);
int br_is_dir(const char *path);
/*
 * Create OUT.tmp-XXXXXX next to out, for writing an output that is then
 * renamed over out, so a failure never leaves a half-written file.
 * Returns the fd and the temporary name in *tmp (caller frees), or -1.
 */
int br_tmp_open(const char *out, char **tmp);
/*
 * An output path beamrun may write: not empty, not an existing
 * non-regular file (a device, a FIFO, a symlink), in a writable
 * directory, with room for the temporary suffix in its name.
 */
int br_check_output(const char *out);
/* Whether a and b name one existing file (the same inode). */
int br_same_file(const char *a, const char *b);
/* Whether path is a file that starts as a beamrun image does. */
int br_is_image_file(const char *path);
/* Whether path (existing or not) lies below the directory dir. */
int br_path_inside(const char *path, const char *dir);
/*
 * Commands that write files hold SIGINT, SIGTERM and SIGHUP back and
 * look for them between steps, so an interrupted one still removes its
 * temporary files. br_interrupted() returns the pending signal or 0.
 */
void br_hold_signals(void);
int br_interrupted(void);
int br_is_file(const char *path);
/* Directory of the running beamrun binary (for its kernel and init). */
const char *br_self_dir(void);
/*
 * Locate a file beamrun ships (kernel/bzImage, init/beamrun-init,
 * lib/bake.escript): BEAMRUN_LIBDIR, then the build tree next to the
 * binary, then PREFIX/lib/beamrun. Returns a static buffer or NULL.
 */
const char *br_data_file(const char *rel);
/* beamrun's cache directory: $BEAMRUN_CACHE_DIR, else XDG's. Static. */
const char *br_cache_dir(void);

/* ---- spec.c: parsing of user-facing option values ---------------------- */

struct br_fwd {
	char proto[4]; /* "tcp" or "udp" */
	unsigned host_port, guest_port;
};
/* "-p [tcp:|udp:]HOST[:GUEST]" as in container tools. */
int br_parse_fwd(const char *spec, struct br_fwd *f);

enum br_net_method { BR_NET_NONE, BR_NET_STATIC, BR_NET_DHCP, BR_NET_AUTO6 };

struct br_nic {
	char tag[32];  /* rumprun -I tag; "" for run's default NIC */
	char base[16]; /* rumprun driver name (vioif), kept for naming */
	char *backend; /* qemu -netdev text, e.g. "user" or "tap,..." */
	enum br_net_method method;
	char addr[64];
	int prefix;
	char gw[64];
	int family;
	unsigned char mac[6];
	/*
	 * A -W of the other family for the same NIC: its IPv6 (method6
	 * static or auto) beside the IPv4 above (static or dhcp).
	 */
	enum br_net_method method6;
	char addr6[64];
	int prefix6;
	char gw6[64];
	int w_inet, w_inet6; /* a -W of that family came already */
};
/* "-I TAG,BASE,BACKEND": BACKEND is qemu's -net/-netdev text. */
int br_parse_nic(const char *spec, struct br_nic *n);
/*
 * -I for a platform: qemu/kvm as above; xen: TAG,xenif[,VIF] (VIF: xl's
 * vif text); virsh-xml: TAG,vioif[,user|network=NAME|bridge=NAME];
 * iso, disk: TAG,vioif (the NIC is the hypervisor's).
 */
int br_parse_nic_for(const char *spec, struct br_nic *n, const char *platform);
/*
 * "-W TAG,inet,static,ADDR/BITS[,GW]", "TAG,inet,dhcp",
 * "TAG,inet6,auto", "TAG,inet6,static,ADDR/BITS[,GW]": fills the NIC
 * with that tag, which must exist. One IPv4 and one IPv6 -W may name
 * the same NIC; a second one of a family replaces the first.
 */
int br_parse_netspec(const char *spec, struct br_nic *nics, size_t nnic);
/*
 * "--lan SWITCH,ADDR/BITS": a NIC on the vde_switch whose directory is
 * SWITCH (a segment several VMs share without root), static address.
 */
int br_parse_lan(const char *spec, struct br_nic *n);
/* Whether the NIC uses qemu's user-mode network (slirp). */
int br_nic_is_user(const struct br_nic *n);
/* Parse ADDR/BITS[,GW] into a NIC (shared by -W and --lan). */
int br_parse_addr(const char *spec, int family, struct br_nic *n);
/*
 * "--dns ADDR[#PORT]": a nameserver for the guest's DNS client, written
 * to out as "ADDR" (port 53) or "ADDR#PORT".
 */
#define BR_MAX_DNS 4
int br_parse_dns(const char *spec, char *out, size_t len);
/* "--add-host NAME:ADDR": a line for the guest's /etc/hosts. */
#define BR_MAX_HOSTS 16
struct br_host {
	char name[65];
	char addr[64];
};
int br_parse_host(const char *spec, struct br_host *h);

struct br_vol {
	char *path;
	char mnt[256];	 /* "" means attached but not mounted */
	char fstype[16]; /* as libblkid names it; "" when not mounted */
	int ro;
	char dev[16]; /* the guest's name for it where no serial (xvdb) */
};
/*
 * "-b IMAGE[,MOUNTPOINT]": IMAGE must exist and, to be mounted, hold a
 * file system the guest kernel reads (iso9660, ext2/3/4, erofs,
 * squashfs); read-only ones are attached read-only.
 */
int br_parse_vol(const char *spec, struct br_vol *v);
/* "-e NAME=VALUE" (or "-e NAME" taking the value from the host). */
int br_parse_env(const char *spec, char **out);
/* A size such as 64, 64M, 1G, in MiB for memory options. */
int br_parse_mib(const char *s, unsigned *mib);
/* Split a string into words as rumprun's guest does: quotes, backslash. */
int br_split_words(const char *s, struct strv *out);

/* ---- image.c: the beamrun image file ------------------------------------ */

/*
 * An image is one file: a 4 KiB header (a magic line, then JSON with
 * the offsets, lengths and CRC-32s of the parts, and the baked guest
 * configuration), the kernel, and the root file system (erofs), each
 * part aligned to 4 KiB so qemu can attach the root by offset.
 */
#define BR_IMAGE_MAGIC "BEAMRUN-IMAGE 1\n"
#define BR_IMAGE_HDR   4096
#define BR_IMAGE_ALIGN 4096

struct br_image {
	char *path;
	uint64_t kernel_off, kernel_len;
	uint64_t root_off, root_len;
	uint32_t kernel_sum; /* Adler-32, names the cached kernel */
	uint32_t root_sum;   /* Adler-32, names the cached root */
	char *otp;	     /* OTP release of the runtime, "" if none */
	char *app;	     /* start module, "" for a generic image */
	struct strv args;    /* baked erl arguments */
	char *root;	     /* OTP root inside the guest */
	char *flavor;	     /* emulator: "emu", "jit", "bundled", "" */
	char *release;	     /* OTP release NAME-VSN, "" if none */
	int start_args;	     /* start module exports start/1: 1, 0; -1 unknown */
	int stop_line;	     /* its init takes stop requests on BR_STOP_DEV */
};
/* Write OUT atomically from a kernel and a root image. */
int br_image_write(const char *out, const char *kernel, const char *rootfs,
		   const struct br_image *meta);
/* Read and check an image (magic, bounds, CRCs). */
int br_image_open(const char *path, struct br_image *img);
void br_image_free(struct br_image *img);
/*
 * The kernel part as a file qemu can load: extracted once into the
 * cache directory (named by its CRC) and reused. Returns a static path.
 */
const char *br_image_kernel(const struct br_image *img);
/* The root file system (erofs) as a file of its own, cached the same way. */
const char *br_image_rootfs(const struct br_image *img);
/*
 * The kernel as the uncompressed ELF vmlinux (what Xen's PVH loader and
 * qemu's PVH path take: the ELF note with the 32-bit entry), decompressed
 * from the bzImage once into the cache. Static path, NULL on failure.
 */
const char *br_image_vmlinux(const struct br_image *img);
/*
 * Both files a hypervisor boots from: the kernel (the ELF vmlinux when
 * vmlinux, else the bzImage; in storage that lives as long as the
 * process) and the root file system. -1 and br_err() on failure.
 */
int br_image_files(const struct br_image *img, int vmlinux,
		   const char **kernel, const char **rootfs);
/* Decompress a bzImage's payload (LZ4) into the file out. */
int br_bzimage_vmlinux(const unsigned char *bz, size_t len, const char *out);

/* ---- elf.c: the shared-library closure of ELF files --------------------- */

/*
 * Add to libs every shared object that file needs, transitively
 * (DT_NEEDED, resolved through DT_RUNPATH/DT_RPATH and the system
 * directories), and its program interpreter. Paths are real files on
 * the host; duplicates are skipped. -1 names a library not found.
 */
int br_elf_closure(const char *file, struct strv *libs);
/* 1 if path is an ELF file, 0 if not. */
int br_elf_is_elf(const char *path);

/* ---- guestcfg.c / qemu.c: what the launcher hands the guest ------------- */

enum br_accel { BR_ACCEL_AUTO, BR_ACCEL_TCG, BR_ACCEL_KVM };

struct br_vm {
	struct br_image img;
	enum br_accel accel;
	const char *accel_why; /* how run chose it: said as qemu starts */
	unsigned mem_mib, cpus;
	struct br_nic nic[BR_MAX_NIC];
	size_t nnic;
	struct br_fwd fwd[BR_MAX_FWD];
	size_t nfwd;
	struct br_vol vol[BR_MAX_VOL];
	size_t nvol;
	struct strv env;
	char hostname[65];
	char dns[BR_MAX_DNS][64]; /* --dns: replaces the network's own */
	size_t ndns;
	struct br_host hosts[BR_MAX_HOSTS]; /* --add-host */
	size_t nhosts;
	struct strv args;	/* erl arguments replacing the baked ones */
	struct strv app_args;	/* appended to the baked start function */
	struct strv qemu_extra; /* rumprun -g */
	const char *root;	/* OTP root override (-root in args wins) */
	unsigned gdb_port;
	unsigned stop_timeout;
	int swap_set;	    /* --swap given: swap_mib is the guest's */
	unsigned swap_mib;  /* zram swap in the guest, MiB; 0: none */
	char node[256];		/* --node NAME@HOST, "" for none */
	unsigned dist_port;	/* its distribution port (epmd-less) */
	char *cookie;		/* --cookie, handed over by fw_cfg */
	const char *dist_tls;	/* guest directory of the TLS dist certs */
	char cookie_path[4096]; /* the file qemu reads it from */
	int paused, interactive, dry_run, guest_verbose;
	char kernel_path[4096]; /* filled by the launcher before building */
	char qmp_path[4096];	/* QMP socket; "" for none */
	char stop_path[4096];	/* the stop line's socket; "" for none */
	int ready_fd; /* detached: gets "QEMUPID\n" once qemu runs; 0: none */
	unsigned long tsc_khz; /* TCG: the host's TSC rate, 0 unknown */
	/* Other platforms (xen, iso, disk, virsh-xml): */
	const char
	    *kernel_base;     /* console=, root=, panic= words; NULL: qemu's */
	int blk_dev;	      /* volumes by vol[].dev, not virtio serial */
	int destroy;	      /* rumprun -d: Xen destroys it when it stops */
	const char *platform; /* "qemu", "kvm", "xen", "iso", ... */
	char *out;	      /* -o FILE */
	char *console_log; /* virsh-xml --console-log FILE */
	int pvh;	      /* run --pvh: boot the ELF vmlinux */
};

/*
 * The guest configuration as compact JSON the kernel keeps as one word
 * (no spaces, no \" escapes: see guestcfg.c); caller frees. -1 if it
 * cannot be built.
 */
char *br_guestcfg_json(const struct br_vm *vm);
/* The kernel command line for vm, including beamrun=<config>. */
char *br_kernel_cmdline(const struct br_vm *vm);
/* The same, or NULL (br_err says why) when longer than BR_CMDLINE_MAX. */
char *br_kernel_cmdline_fits(const struct br_vm *vm);
/*
 * microvm without ACPI: qemu then describes no devices, so the kernel
 * learns of each virtio-mmio transport from its command line. Whether
 * run boots vm so: not when it has more devices than such a machine has
 * usable transports, when -g adds devices (qemu would put them where
 * the kernel does not look), when the longer command line would not fit
 * while ACPI's would, nor for an image whose init has no stop line
 * (ACPI's power button is how it is stopped). ACPI then lists them.
 */
int br_no_acpi(const struct br_vm *vm);
/* Whether one of -g's words is one of the NOPTS options in OPTS. */
int br_qemu_extra_has(const struct br_vm *vm, const char *const *opts,
		      size_t nopts);
/* The transport of the Nth virtio device without ACPI, in the order
 * br_qemu_argv adds them: root, volumes, NICs, RNG. */
unsigned br_mmio_transport(size_t n);

/* Whether /dev/kvm opens and speaks the KVM API qemu was built for. */
int br_kvm_usable(void);
/* A string vector as a JSON array (a json_object *, to keep json-c's
 * header out of this one). */
struct json_object *br_json_strv(const struct strv *s);
/* Kernel's limit on the command line (x86 COMMAND_LINE_SIZE). */
#define BR_CMDLINE_MAX 2048
/*
 * The rate of qemu's local APIC timer (TCG's and KVM's in-kernel APIC),
 * in kHz, for the kernel's lapic_timer_khz= (kernel/patches).
 */
#define BR_QEMU_APIC_KHZ "1000000"

/*
 * qmp.c: one QMP connection to qemu, kept for the life of the VM. It
 * presses the ACPI power button (the guest's init turns that into a
 * graceful stop of the Erlang VM) and records qemu's events.
 */
struct br_qmp {
	int fd; /* -1 until connected, and after qemu closes it */
	char buf[8192];
	size_t len;
	int watchdog; /* qemu reported WATCHDOG: the guest stopped answering */
	int panicked; /* qemu reported GUEST_PANICKED */
};
void br_qmp_init(struct br_qmp *q);
/* Connect and enter command mode; -1 (try again later) if qemu is not
 * listening yet. */
int br_qmp_connect(struct br_qmp *q, const char *sock);
int br_qmp_powerdown(struct br_qmp *q);
/* Read what qemu sent; -1 once qemu has closed the connection. */
int br_qmp_read(struct br_qmp *q);
/* Take note of one message (a line of JSON) from qemu. */
void br_qmp_message(struct br_qmp *q, const char *line);
void br_qmp_close(struct br_qmp *q);

/*
 * The stop line: a second serial port of the guest (its ttyS1), whose
 * other end is a socket qemu listens on in the run's private directory.
 * Each byte the launcher writes is a stop request to the guest's init;
 * qemu's microvm without ACPI has no power button. br_stop_press
 * connects on first use (*fd -1 until then) and writes one byte; -1 if
 * qemu is not listening yet (the next press tries again).
 */
#define BR_STOP_DEV "/dev/ttyS1"
int br_stop_press(int *fd, const char *sock);

/* Build the full qemu argv for vm. */
int br_qemu_argv(const struct br_vm *vm, struct strv *argv);

/* ---- commands ----------------------------------------------------------- */

int cmd_bake(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_rumprun(int argc, char **argv); /* qemu and kvm */
/*
 * rumprun's guest options for the platform argv[0] (qemu, kvm, xen, iso,
 * disk, virsh-xml): fills vm, opens the image, splits the arguments. 0 on
 * success, 1 for --help, -1 after printing a one-line error. Free with
 * br_vm_free in every case.
 */
int br_rump_parse(int argc, char **argv, struct br_vm *vm);
void br_vm_free(struct br_vm *vm);
int cmd_xen(int argc, char **argv);
int cmd_bootimg(int argc, char **argv); /* iso and disk */
int cmd_virsh_xml(int argc, char **argv);
/* xen.c: the xl domain configuration for vm; caller frees. */
char *br_xl_config(const struct br_vm *vm, const char *name, const char *kernel,
		   const char *rootfs);
/* libvirt.c: the libvirt domain XML for vm; caller frees. */
char *br_libvirt_xml(const struct br_vm *vm, const char *name,
		     const char *kernel, const char *rootfs);
int cmd_volume(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* launch.c: boot vm in the foreground, relay its console, return status. */
int br_launch(struct br_vm *vm);
/*
 * instance.c: start vm detached under a supervisor, as instance NAME
 * (NULL: named after the image). Prints the name, or for rumprun-style
 * launches "qemu:PID". Returns beamrun's exit status.
 */
int br_instance_start(struct br_vm *vm, const char *name, int rumprun);
int br_instance_name_ok(const char *name);
/* The private directory that holds instances (created if missing). */
int br_state_root(char *out, size_t len);
int br_instance_running(const char *name);
int cmd_cluster(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_rm(int argc, char **argv);

#endif
