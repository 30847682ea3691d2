/*
 * The benchmark's load client for an echo server on 127.0.0.1 (only).
 *
 *   echoclient probe PORT TIMEOUT_S [PID]
 *       poll-connect (a new attempt every 25 ms, each waiting up to 2 s)
 *       and send a byte until one comes back; prints the wall clock
 *       (s.ns) of the first echo; exits 3 as soon as PID is gone
 *   echoclient latency PORT N
 *       N sequential 64-byte round trips on one connection: median,
 *       p10 and p90 in microseconds
 *   echoclient bulk PORT BYTES
 *       echo BYTES through one connection, sending and receiving at
 *       once, every byte checked: MB/s (10^6 bytes)
 *   echoclient load PORT CLIENTS SECS
 *       CLIENTS connections, started one after the other (each makes
 *       one round trip before the next connects), then all making 1 KiB
 *       round trips for SECS, every byte checked; exits 0 only without
 *       any error (a failed connect, a closed connection, a 10 s stall,
 *       a wrong byte). Raises its open-file limit to fit CLIENTS.
 *       Prints one line of key=value: the round trips, the errors by
 *       kind, and the wall clock (s) when the ramp ended and when the
 *       load stopped, to place the guest's samples in time.
 *   echoclient stamp
 *       copy stdin to stdout, each line prefixed with the wall clock
 *
 * Every loop is bounded in time; the only address used is 127.0.0.1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%ld.%09ld", (long)ts.tv_sec, ts.tv_nsec);
}

static struct sockaddr_in addr(void)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A blocking connection with receive/send timeouts; -1 on failure. */
static int dial(int timeout_s)
{
	struct sockaddr_in a = addr();
	struct timeval tv = {.tv_sec = timeout_s};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* --- probe ------------------------------------------------------------ */

#define PROBE_MAX 64
#define PROBE_EVERY 0.025 /* s between new attempts */
#define PROBE_AGE 2.0	  /* s an attempt may wait for its echo */

static int probe(double timeout, int watch)
{
	struct pollfd p[PROBE_MAX];
	double born[PROBE_MAX], end = now() + timeout, next = 0;
	int sent[PROBE_MAX], n = 0, i;

	while (now() < end) {
		double t = now();

		if (watch > 0 && kill(watch, 0) && errno == ESRCH) {
			fprintf(stderr, "echoclient: probe: the VM (pid %d) exited\n", watch);
			return 3;
		}

		if (t >= next && n < PROBE_MAX) {
			struct sockaddr_in a = addr();
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

			next = t + PROBE_EVERY;
			if (fd >= 0 &&
			    (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ||
			     errno == EINPROGRESS)) {
				p[n].fd = fd;
				p[n].events = POLLOUT;
				born[n] = t;
				sent[n++] = 0;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		if (poll(p, (nfds_t)n, 5) < 0 && errno != EINTR)
			return 2;
		for (i = 0; i < n; i++) {
			int drop = 0;

			if (!sent[i] && (p[i].revents & POLLOUT)) {
				int err = 0;
				socklen_t l = sizeof(err);

				getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err || write(p[i].fd, "x", 1) != 1) {
					drop = 1;
				} else {
					sent[i] = 1;
					p[i].events = POLLIN;
				}
			} else if (sent[i] && (p[i].revents & POLLIN)) {
				char c;

				if (read(p[i].fd, &c, 1) == 1 && c == 'x') {
					print_wall();
					printf("\n");
					return 0;
				}
				drop = 1;
			} else if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
				drop = 1;
			}
			if (drop || now() - born[i] > PROBE_AGE) {
				close(p[i].fd);
				p[i] = p[n - 1];
				born[i] = born[n - 1];
				sent[i] = sent[n - 1];
				n--;
				i--;
			}
		}
	}
	fprintf(stderr, "echoclient: probe: no echo within %.0f s\n", timeout);
	return 1;
}

/* --- latency ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int latency(int count)
{
	char out[64], in[64];
	double *t = calloc((size_t)count, sizeof(double));
	int fd = dial(10), i;

	if (fd < 0 || !t) {
		fprintf(stderr, "echoclient: latency: cannot connect\n");
		return 1;
	}
	for (i = 0; i < count; i++) {
		double t0;

		memset(out, 'a' + i % 26, sizeof(out));
		t0 = now();
		if (write_all(fd, out, sizeof(out)) || read_all(fd, in, sizeof(in)) ||
		    memcmp(in, out, sizeof(in))) {
			fprintf(stderr, "echoclient: latency: round trip %d failed\n", i);
			return 1;
		}
		t[i] = (now() - t0) * 1e6;
	}
	close(fd);
	qsort(t, (size_t)count, sizeof(double), cmp_double);
	printf("median_us=%.0f p10_us=%.0f p90_us=%.0f n=%d\n", t[count / 2],
	       t[count / 10], t[count * 9 / 10], count);
	return 0;
}

/* --- bulk ------------------------------------------------------------- */

static int bulk(long total)
{
	struct pollfd p;
	char buf[65536], in[65536];
	long sent = 0, got = 0, i;
	double t0, end;
	int fd = dial(10);

	if (fd < 0) {
		fprintf(stderr, "echoclient: bulk: cannot connect\n");
		return 1;
	}
	for (i = 0; i < (long)sizeof(buf); i++)
		buf[i] = (char)(i * 7 + i / 251);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	p.fd = fd;
	t0 = now();
	end = t0 + 300;
	while (got < total) {
		p.events = POLLIN | (sent < total ? POLLOUT : 0);
		if (now() > end || poll(&p, 1, 30000) <= 0) {
			fprintf(stderr, "echoclient: bulk: stalled at %ld of %ld bytes\n",
				got, total);
			return 1;
		}
		if ((p.revents & POLLOUT) && sent < total) {
			long off = sent % (long)sizeof(buf);
			long len = (long)sizeof(buf) - off;
			ssize_t w;

			if (len > total - sent)
				len = total - sent;
			w = write(fd, buf + off, (size_t)len);
			if (w > 0)
				sent += w;
			else if (errno != EAGAIN && errno != EINTR)
				return fprintf(stderr, "echoclient: bulk: write: %s\n",
					       strerror(errno)), 1;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(fd, in, sizeof(in));

			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				fprintf(stderr, "echoclient: bulk: closed at %ld bytes\n", got);
				return 1;
			}
			for (i = 0; i < r; i++)
				if (in[i] != buf[(got + i) % (long)sizeof(buf)]) {
					fprintf(stderr, "echoclient: bulk: wrong byte at %ld\n",
						got + i);
					return 1;
				}
			if (r > 0)
				got += r;
		}
	}
	close(fd);
	printf("mb_per_s=%.2f bytes=%ld seconds=%.3f\n", total / 1e6 / (now() - t0),
	       total, now() - t0);
	return 0;
}

/* --- load ------------------------------------------------------------- */

static double load_end;
static long load_trips, load_errors, load_idle, load_setup_errors;
static long load_why[5]; /* connect, write, read timeout, closed, wrong bytes */
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t load_go;
static sem_t load_ready;

/* One round trip of a 1 KiB message; the error kind (load_why) or -1. */
static int load_trip(int fd, char *out, char *in, long n)
{
	out[0] = (char)n;
	if (write_all(fd, out, 1024))
		return 1;
	if (read_all(fd, in, 1024))
		return errno == EAGAIN || errno == EWOULDBLOCK ? 2 : 3;
	return memcmp(in, out, 1024) ? 4 : -1;
}

/*
 * A client connects and makes one round trip (the ramp: main starts the
 * next client only then), waits for all the others, then makes round
 * trips until the end. Setup failures and steady-state ones both count.
 */
static void *load_client(void *arg)
{
	char out[1024], in[1024];
	long id = (long)arg, trips = 0;
	int fd = dial(10), i, why = -1, setup;

	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (char)(id + i);
	why = fd < 0 ? 0 : load_trip(fd, out, in, 0);
	setup = why >= 0;
	sem_post(&load_ready);
	pthread_barrier_wait(&load_go);
	while (why < 0 && now() < load_end) {
		why = load_trip(fd, out, in, trips + 1);
		if (why < 0)
			trips++;
	}
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&load_mu);
	load_trips += trips;
	load_errors += why >= 0;
	load_setup_errors += setup;
	load_idle += why < 0 && trips == 0;
	if (why >= 0)
		load_why[why]++;
	pthread_mutex_unlock(&load_mu);
	return NULL;
}

/* One descriptor per client, and some for stdio and the C library. */
static int load_fd_limit(int clients)
{
	struct rlimit r;
	rlim_t want = (rlim_t)clients + 64;

	if (getrlimit(RLIMIT_NOFILE, &r))
		return -1;
	if (r.rlim_cur >= want)
		return 0;
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want) {
		fprintf(stderr, "echoclient: load: %d clients need %lu open "
				"files; the hard limit is %lu\n", clients,
			(unsigned long)want, (unsigned long)r.rlim_max);
		return -1;
	}
	r.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &r);
}

static int load(int clients, int secs)
{
	pthread_t *th = calloc((size_t)clients, sizeof(pthread_t));
	pthread_attr_t attr;
	double t0 = now(), ramp_end, stop_wall;
	long i;

	if (!th || clients < 1 || load_fd_limit(clients))
		return 2;
	/* A client needs a few KiB of stack; 1000 default 8 MiB stacks
	 * would reserve 8 GiB of address space for nothing. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sem_init(&load_ready, 0, 0);
	pthread_barrier_init(&load_go, NULL, (unsigned)clients + 1);
	for (i = 0; i < clients; i++) {
		if (pthread_create(&th[i], &attr, load_client, (void *)i)) {
			fprintf(stderr, "echoclient: load: pthread_create failed\n");
			return 2;
		}
		sem_wait(&load_ready);
	}
	load_end = now() + secs;
	ramp_end = wall();
	pthread_barrier_wait(&load_go);
	for (i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	stop_wall = wall();
	printf("clients=%d seconds=%d ramp_s=%.2f roundtrips=%ld errors=%ld "
	       "idle=%ld connect=%ld write=%ld timeout=%ld closed=%ld "
	       "wrong=%ld ramp_end=%.3f stop=%.3f\n",
	       clients, secs, load_end - secs - t0, load_trips, load_errors,
	       load_idle, load_why[0], load_why[1], load_why[2], load_why[3],
	       load_why[4], ramp_end, stop_wall);
	if (load_errors)
		fprintf(stderr, "echoclient: load: %ld errors (%ld while connecting): "
				"connect %ld, write %ld, read timeout (10 s) %ld, "
				"closed %ld, wrong bytes %ld\n", load_errors,
			load_setup_errors, load_why[0], load_why[1], load_why[2],
			load_why[3], load_why[4]);
	return load_errors || load_idle ? 1 : 0;
}

/* --- stamp ------------------------------------------------------------ */

static int stamp(void)
{
	char line[8192];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		print_wall();
		printf(" %s", line);
		if (!strchr(line, '\n'))
			printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "stamp"))
		return stamp();
	if (argc < 4) {
		fprintf(stderr, "usage: echoclient probe|latency|bulk PORT ARG | "
				"load PORT CLIENTS SECS | stamp\n");
		return 2;
	}
	port = atoi(argv[2]);
	if (!strcmp(argv[1], "probe"))
		return probe(atof(argv[3]), argc > 4 ? atoi(argv[4]) : 0);
	if (!strcmp(argv[1], "latency"))
		return latency(atoi(argv[3]) > 0 ? atoi(argv[3]) : 1);
	if (!strcmp(argv[1], "bulk"))
		return bulk(atol(argv[3]));
	if (!strcmp(argv[1], "load") && argc == 5)
		return load(atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "echoclient: unknown mode %s\n", argv[1]);
	return 2;
}
