/*
 * tap.h: the Test Anything Protocol for vigil's C unit tests, read by
 * automake's tap-driver.sh so that `make check` counts single assertions.
 */
#ifndef VIGIL_TAP_H
#define VIGIL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static inline int __attribute__((format(printf, 2, 3)))
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

/* A diagnostic line, shown in the test's log. */
static inline void __attribute__((format(printf, 1, 2)))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

#define is_int(got, want, ...)                                                 \
	do {                                                                   \
		long long g_ = (got), w_ = (want);                             \
		if (!tap_ok(g_ == w_, __VA_ARGS__))                            \
			tap_diag("got %lld, want %lld", g_, w_);               \
	} while (0)

#define is_str(got, want, ...)                                                 \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (!tap_ok(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_,         \
			    __VA_ARGS__))                                      \
			tap_diag("got \"%s\", want \"%s\"",                    \
				 g_ ? g_ : "(null)", w_ ? w_ : "(null)");      \
	} while (0)

/* Prints the plan; the exit status is 0 so the driver alone counts. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return 0;
}

#endif
