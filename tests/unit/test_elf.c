/* Unit tests for host/elf.c: the shared-library closure of ELF files. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamrun.h"

#define INTERP "/lib64/ld-linux-x86-64.so.2"

static char tmpdir[] = "/tmp/beamrun-elf-XXXXXX";
/*
 * libuser.so needs libbeamrun_missing.so, which setup deletes;
 * liborigin.so finds libbeamrun_present.so through $ORIGIN.
 */
static char lib_missing[128], lib_origin[128], stub_path[128];
static char text_path[128];
static char beam[4096];

static void clear_err(void)
{
	br_seterr("%s", "");
}

static void assert_err_has(const char *needle)
{
	if (!strstr(br_err(), needle))
		fail_msg("error \"%s\" does not mention \"%s\"", br_err(),
			 needle);
}

/* How many entries of libs are name, or end in "/name". */
static size_t count_lib(const struct strv *libs, const char *name)
{
	size_t i, n = 0, nl = strlen(name);

	for (i = 0; i < libs->n; i++) {
		size_t l = strlen(libs->v[i]);

		if (!strcmp(libs->v[i], name) ||
		    (l > nl && libs->v[i][l - nl - 1] == '/' &&
		     !strcmp(libs->v[i] + l - nl, name)))
			n++;
	}
	return n;
}

static void dump(const struct strv *libs)
{
	size_t i;

	for (i = 0; i < libs->n; i++)
		fprintf(stderr, "  closure: %s\n", libs->v[i]);
}

static void test_beam_closure(void **state)
{
	static const char *const want[] = {"libc.so.6", "libtinfo.so.6",
					   "libstdc++.so.6", "libm.so.6"};
	struct strv libs = {0};
	size_t i, j;

	(void)state;
	if (!beam[0])
		skip();
	clear_err();
	if (br_elf_closure(beam, &libs))
		fail_msg("closure of %s: %s", beam, br_err());
	for (i = 0; i < sizeof(want) / sizeof(*want); i++)
		if (count_lib(&libs, want[i]) != 1) {
			dump(&libs);
			fail_msg("%s appears %zu times in the closure", want[i],
				 count_lib(&libs, want[i]));
		}
	/* The program interpreter, at the path the kernel execs it by. */
	for (j = 0, i = 0; i < libs.n; i++)
		j += !strcmp(libs.v[i], INTERP);
	assert_int_equal(j, 1);
	for (i = 0; i < libs.n; i++) {
		/* Real files on the host, absolute, no repeats. */
		assert_true(libs.v[i][0] == '/');
		if (!br_is_file(libs.v[i]))
			fail_msg("%s is not a file", libs.v[i]);
		for (j = i + 1; j < libs.n; j++)
			if (!strcmp(libs.v[i], libs.v[j])) {
				dump(&libs);
				fail_msg("%s is listed twice", libs.v[i]);
			}
		if (strstr(libs.v[i], "beam.smp"))
			fail_msg("the closure lists the file itself");
	}
	assert_null(libs.v[libs.n]);

	/* Asking again adds nothing: what is there is skipped. */
	j = libs.n;
	assert_int_equal(br_elf_closure(beam, &libs), 0);
	assert_int_equal(libs.n, j);
	strv_free(&libs);
}

static void test_is_elf(void **state)
{
	(void)state;
	if (beam[0])
		assert_int_equal(br_elf_is_elf(beam), 1);
	assert_int_equal(br_elf_is_elf(lib_missing), 1);
	assert_int_equal(br_elf_is_elf(text_path), 0);
	assert_int_equal(br_elf_is_elf("/nonexistent/beamrun/x"), 0);
}

static void test_not_elf(void **state)
{
	struct strv libs = {0};

	(void)state;
	clear_err();
	assert_int_equal(br_elf_closure(text_path, &libs), -1);
	assert_err_has("not an ELF");
	assert_err_has(text_path);
	assert_int_equal(libs.n, 0);
	strv_free(&libs);

	clear_err();
	assert_int_equal(br_elf_closure("/nonexistent/beamrun/x", &libs), -1);
	assert_err_has("/nonexistent/beamrun/x");
	strv_free(&libs);
}

static void test_missing_needed(void **state)
{
	struct strv libs = {0};

	(void)state;
	clear_err();
	assert_int_equal(br_elf_closure(lib_missing, &libs), -1);
	assert_err_has("libbeamrun_missing.so");
	assert_err_has(lib_missing);
	strv_free(&libs);
}

/* DT_RUNPATH with $ORIGIN finds a library next to the file. */
static void test_runpath_origin(void **state)
{
	struct strv libs = {0};
	size_t i, n = 0;

	(void)state;
	clear_err();
	if (br_elf_closure(lib_origin, &libs))
		fail_msg("closure of %s: %s", lib_origin, br_err());
	for (i = 0; i < libs.n; i++)
		n += !strcmp(libs.v[i], stub_path);
	if (n != 1) {
		dump(&libs);
		fail_msg("%s not found through $ORIGIN", stub_path);
	}
	/* A library has no interpreter; the stub needs nothing more. */
	assert_int_equal(libs.n, 1);
	strv_free(&libs);
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		fprintf(stderr, "setup: \"%s\" failed (%d)\n", cmd, rc);
	return rc;
}

static int setup(void **state)
{
	char cmd[1024];
	glob_t g;
	FILE *f;

	(void)state;
	if (glob("/usr/lib/erlang/erts-*/bin/beam.smp", 0, NULL, &g) == 0) {
		snprintf(beam, sizeof(beam), "%s", g.gl_pathv[0]);
		globfree(&g);
	}
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(text_path, sizeof(text_path), "%s/notes.txt", tmpdir);
	f = fopen(text_path, "w");
	if (!f)
		return -1;
	fputs("#!/bin/sh\necho not an ELF file\n", f);
	fclose(f);
	chmod(text_path, 0755);

	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf 'int stub(void) { return 1; }\\n' >stub.c"
		 " && printf 'int stub(void);\\n"
		 "int user(void) { return stub(); }\\n' >user.c"
		 " && cc -shared -fPIC -o libbeamrun_missing.so stub.c"
		 " && cc -shared -fPIC -o libuser.so user.c -L. "
		 "-lbeamrun_missing"
		 " && rm libbeamrun_missing.so"
		 " && cc -shared -fPIC -o libbeamrun_present.so stub.c"
		 " && cc -shared -fPIC -o liborigin.so user.c -L. "
		 "-lbeamrun_present -Wl,-rpath,'$ORIGIN'",
		 tmpdir);
	if (run(cmd))
		return -1;
	snprintf(lib_missing, sizeof(lib_missing), "%s/libuser.so", tmpdir);
	snprintf(lib_origin, sizeof(lib_origin), "%s/liborigin.so", tmpdir);
	snprintf(stub_path, sizeof(stub_path), "%s/libbeamrun_present.so",
		 tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return br_rm_rf(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_beam_closure),
	    cmocka_unit_test(test_is_elf),
	    cmocka_unit_test(test_not_elf),
	    cmocka_unit_test(test_missing_needed),
	    cmocka_unit_test(test_runpath_origin),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
