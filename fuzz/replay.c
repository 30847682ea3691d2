/*
 * beamrun fuzz targets without libFuzzer: feed each file named on the
 * command line to LLVMFuzzerTestOneInput once, so that a target builds
 * with any C compiler and its seed corpus runs in the unit suite.
 * Usage: TARGET FILE... ; exits 0 when every input passed.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "fuzz.h"

/* In the sanitizer runtimes; absent (NULL) in a build without them. */
extern void __sanitizer_set_death_callback(void (*cb)(void))
    __attribute__((weak));

static const char *replay_current;

/* Name the input that failed; only async-signal-safe calls here. */
static void replay_blame(void)
{
	static const char pre[] = "replay: failed on ";

	if (!replay_current)
		return;
	(void)!write(2, pre, sizeof(pre) - 1);
	(void)!write(2, replay_current, strlen(replay_current));
	(void)!write(2, "\n", 1);
}

static void replay_on_abort(int sig)
{
	replay_blame();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The whole file in a buffer of its own size, so ASan sees overreads. */
static uint8_t *replay_read(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n ? (size_t)n : 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	signal(SIGABRT, replay_on_abort);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(replay_blame);

	for (i = 1; i < argc; i++) {
		size_t size = 0;
		uint8_t *data = replay_read(argv[i], &size);

		if (!data) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				errno ? strerror(errno) : "cannot read");
			return 1;
		}
		replay_current = argv[i];
		LLVMFuzzerTestOneInput(data, size);
		replay_current = NULL;
		free(data);
	}
	printf("replay: %s: %d inputs passed\n", argv[0], argc - 1);
	return 0;
}
