/*
 * fuzz-conf.c: libFuzzer target for conf_load() and conf_reload(), the
 * reader of the configuration file: libconfig's parser, the schema
 * tables, the checks and the rules that span settings. Any input must
 * give either a configuration and no error, or no configuration and
 * errors that each name the file; never a crash, a leak or undefined
 * behaviour.
 *
 * The input is written to a memfd, which the loader reads by its path in
 * /proc/self/fd. Two things of the world are kept out:
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
#include <sys/mman.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/errlist.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res);
const char *__lsan_default_suppressions(void);

/* The input's file: a memfd, named by its /proc path, so that nothing
 * is left behind however the fuzzer ends (a crash skips atexit). */
static int fd = -1;
static char path[64];

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

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("vigil.conf", MFD_CLOEXEC);
	CHECK(fd != -1);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
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

	if (memmem(data, size, "@include", 8) != NULL)
		return 0;
	CHECK(ftruncate(fd, 0) == 0);
	for (size_t off = 0; off < size;) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);

		CHECK(n > 0);
		off += (size_t)n;
	}

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
