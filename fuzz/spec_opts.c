/*
 * Fuzz target: the launcher's one-value option parsers in host/spec.c.
 * The input's first byte picks the parser, the rest is the value typed:
 * 'p' -p PORTS, 'm' -m SIZE, 'e' -e NAME[=VALUE], 'w' the erl argument
 * string split into words.
 */
#include "beamrun.h"
#include "fuzz.h"

static int is_port(unsigned p)
{
	return p >= 1 && p <= 65535;
}

/* An accepted forward prints back as a spec that parses the same. */
static void fuzz_fwd(const char *spec)
{
	struct br_fwd f, again;
	char text[32];

	if (br_parse_fwd(spec, &f))
		return;
	FUZZ_CHECK(!strcmp(f.proto, "tcp") || !strcmp(f.proto, "udp"));
	FUZZ_CHECK(is_port(f.host_port) && is_port(f.guest_port));
	snprintf(text, sizeof(text), "%s:%u:%u", f.proto, f.host_port,
		 f.guest_port);
	FUZZ_CHECK(br_parse_fwd(text, &again) == 0);
	FUZZ_CHECK(!memcmp(&f, &again, sizeof(f)));
}

static void fuzz_mib(const char *s)
{
	unsigned mib;

	if (br_parse_mib(s, &mib))
		return;
	FUZZ_CHECK(mib >= 1 && mib <= 1024 * 1024);
}

/* NAME=VALUE with a variable name, whether the value was typed or not. */
static void fuzz_env(const char *spec)
{
	char *out = NULL;
	size_t nl;

	if (br_parse_env(spec, &out))
		return;
	FUZZ_CHECK(out != NULL);
	nl = strcspn(out, "=");
	FUZZ_CHECK(nl > 0 && out[nl] == '=');
	FUZZ_CHECK(!strncmp(out, spec, nl));
	if (strchr(spec, '='))
		FUZZ_CHECK(!strcmp(out, spec));
	free(out);
}

/*
 * The words, quoted for a shell as --dry-run prints them, split back
 * into the same words: rumprun's quoting rules are a subset of the
 * shell's.
 */
static void fuzz_words(const char *s)
{
	struct strv words = {0}, again = {0};
	char *joined;
	size_t i;

	if (br_split_words(s, &words)) {
		strv_free(&words);
		return;
	}
	joined = strv_join_shell(&words);
	FUZZ_CHECK(br_split_words(joined, &again) == 0);
	FUZZ_CHECK(again.n == words.n);
	for (i = 0; i < words.n; i++)
		FUZZ_CHECK(!strcmp(words.v[i], again.v[i]));
	free(joined);
	strv_free(&words);
	strv_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	text = fuzz_cstr(data + 1, size - 1);
	switch (data[0]) {
	case 'p':
		fuzz_fwd(text);
		break;
	case 'm':
		fuzz_mib(text);
		break;
	case 'e':
		fuzz_env(text);
		break;
	case 'w':
		fuzz_words(text);
		break;
	}
	free(text);
	return 0;
}
