/* beamrun-init: console logging with one prefix and two levels. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "init.h"

int init_verbose;

static void init_vlog(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "beamrun-init: %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* Always printed: lines the user and the launcher need to see. */
void init_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	init_vlog("", fmt, ap);
	va_end(ap);
}

/* Printed only with "verbose": one line per boot step, with a timestamp. */
void init_info(const char *fmt, ...)
{
	va_list ap;
	char prefix[32];

	if (!init_verbose)
		return;
	snprintf(prefix, sizeof(prefix), "[%ld ms] ", init_uptime_ms());
	va_start(ap, fmt);
	init_vlog(prefix, fmt, ap);
	va_end(ap);
}

void init_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	init_vlog("error: ", fmt, ap);
	va_end(ap);
}

long init_uptime_ms(void)
{
	struct timespec ts;

	/* CLOCK_BOOTTIME starts with the kernel, like printk timestamps. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}
