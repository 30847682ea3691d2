/* beamrun fuzz targets: what every target and the replay driver share. */
#ifndef BEAMRUN_FUZZ_H
#define BEAMRUN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each target defines this. libFuzzer calls it with generated inputs,
 * fuzz/replay.c with the files of a corpus; it returns 0 and aborts
 * when the code under test breaks one of the target's invariants.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant the code under test broke: name it, then abort, so that
 * libFuzzer writes the input out and the replay driver fails.
 */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz: %s:%d: broken: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/*
 * The input as a C string, as the parsers take it: the bytes up to the
 * first NUL. Aborts when out of memory; the caller frees.
 */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
