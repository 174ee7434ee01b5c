/*
 * fuzz-conf.c: libFuzzer target for conf_load() and conf_reload(), the
 * reader of the configuration file: libconfig's parser, the schema
 * tables, the checks and the rules that span settings. Any input must
 * give either a configuration and no error, or no configuration and
 * errors that each name the file; never a crash, a leak or undefined
 * behaviour.
 *
 * The input is written to a file of its own (the loader reads a path)
 * in a private temporary folder. Two things of the world are kept out:
 * "@include" (libconfig would read whatever file it names, /dev/zero
 * included) and name resolution (a node or database given by name would
 * be looked up in the DNS): getaddrinfo() is replaced below by one that
 * takes numeric addresses only.
 *
 * FUZZ_SOURCES: core/conf.c core/conf-check.c core/addr.c
 * FUZZ_SOURCES: core/errlist.c core/log.c
 * FUZZ_PKGS: libconfig libpq libpcre2-8 libcurl openssl
 */
#include "config.h"

#include <dlfcn.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/errlist.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res);
const char *__lsan_default_suppressions(void);

/* Not assert(): it must hold in every build the fuzzer is run with. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static char dir[] = "/tmp/vigil-fuzz-conf.XXXXXX";
static char path[sizeof(dir) + 16];

/* libc's getaddrinfo(), with AI_NUMERICHOST: no query leaves the host. */
int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
	    struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	struct addrinfo h = { 0 };

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
	CHECK(real != NULL);
	if (hints != NULL)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return real(node, service, &h, res);
}

/*
 * libconfig before 1.7.3 loses the string token a syntax error discards
 * (hyperrealm/libconfig#142, fixed by #155; Debian 12 ships 1.5): a few
 * bytes per broken file, not ours to free. Only the lexer's allocations
 * are forgiven, not libconfig's tree (which conf.c must destroy).
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig_yylex\nleak:strbuf_append\n";
}

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/vigil.conf", dir);
	atexit(cleanup);
	/* The loader warns through the log; the fuzzer's output is enough. */
	log_setup(LOG_LEVEL_ERROR, LOG_TARGET_STDERR);
	return 0;
}

/* Every error line names the file it is about. */
static void
check_errors(const struct errlist *el)
{
	for (size_t i = 0; i < el->n; i++) {
		CHECK(el->line[i] != NULL);
		CHECK(strncmp(el->line[i], path, strlen(path)) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errlist el = { 0 };
	struct conf *c;
	FILE *f;

	if (memmem(data, size, "@include", 8) != NULL)
		return 0;
	f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK(fwrite(data, 1, size, f) == size);
	CHECK(fclose(f) == 0);

	c = conf_load(path, &el);
	CHECK((c != NULL) == (el.n == 0 && !el.oom));
	check_errors(&el);
	conf_free(c);
	errlist_clear(&el);

	/* A reload checks less; it must be as safe. */
	c = conf_reload(path, &el);
	check_errors(&el);
	conf_free(c);
	errlist_clear(&el);
	return 0;
}
