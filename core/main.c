/*
 * main.c: vigil's command line (SPEC.md "Command line"): run, check the
 * configuration (-t), or print versions (-V).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <curl/curl.h>
#include <ev.h>
#include <libconfig.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <pcre2.h>

#include "core/conf.h"
#include "core/daemon.h"
#include "core/errlist.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: vigil -c FILE        run in the foreground\n"
		   "       vigil -c FILE -t     check the configuration\n"
		   "       vigil -V             print versions\n");
}

static void
print_versions(void)
{
	char pcre[64] = "?";
	int pq = PQlibVersion();

	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	printf("vigil %s\n", PACKAGE_VERSION);
	printf("  libev %d.%d\n", ev_version_major(), ev_version_minor());
	printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  libpq %d.%d\n", pq / 10000, pq % 10000);
	printf("  PCRE2 %s\n", pcre);
	printf("  libconfig %d.%d.%d\n", LIBCONFIG_VER_MAJOR,
	       LIBCONFIG_VER_MINOR, LIBCONFIG_VER_REVISION);
	printf("  %s\n", curl_version());
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	struct errlist el = { 0 };
	struct conf *conf;
	int check = 0, opt;

	while ((opt = getopt(argc, argv, "c:tVh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			print_versions();
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	conf = conf_load(path, &el);
	if (conf == NULL) {
		for (size_t i = 0; i < el.n; i++)
			fprintf(stderr, "%s\n", el.line[i]);
		if (el.oom)
			fprintf(stderr, "(more errors: out of memory)\n");
		fprintf(stderr, "configuration has %zu error%s\n", el.n,
			el.n == 1 ? "" : "s");
		errlist_clear(&el);
		curl_global_cleanup();
		return EXIT_CONFIG;
	}
	if (check) {
		if (!conf->heartbeat_enabled)
			fprintf(stderr,
				"warning: %s: health.heartbeat is not set: this "
			       "appliance is its own leader; with several "
			       "appliances in front of cluster %s, every one of "
			       "them sends the notifications and runs the "
			       "restart hooks\n",
			       conf->file, conf->cluster_name);
		printf("configuration OK\n");
		conf_free(conf);
		curl_global_cleanup();
		return EXIT_OK;
	}
	int rc = daemon_run(path, conf);

	curl_global_cleanup();
	return rc;
}
