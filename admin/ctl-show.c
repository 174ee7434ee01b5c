/*
 * ctl-show.c: vigilctl's output for people: the status table sized to its
 * content and cut to the terminal, node lines and event lines. Anything
 * vigil left out (an older vigil) shows as "-" rather than failing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "admin/ctl-show.h"

#define NCOLS                                                                  \
	9 /* NAME STATE ACTIVE HEARTBEAT PROBE CONNS REQUESTS RESTART WHY */
#define GAP	2  /* spaces between columns */
#define MIN_WHY 12 /* WHY is not cut shorter than this */

#define RED    "\033[31m"
#define GREEN  "\033[32m"
#define YELLOW "\033[33m"
#define CYAN   "\033[36m"
#define BOLD   "\033[1m"
#define RESET  "\033[0m"

void
ctl_term_detect(struct ctl_term *t)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	struct winsize ws;

	t->width = 0;
	t->colour = false;
	if (!isatty(STDOUT_FILENO))
		return;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		t->width = ws.ws_col;
	else
		t->width = 80;
	/* no-color.org: set and not empty means no colours. */
	t->colour = (nc == NULL || nc[0] == '\0') &&
		    (term == NULL || strcmp(term, "dumb") != 0);
}

char *
ctl_clean(const char *s)
{
	const unsigned char *p;
	char *out, *o;

	if (s == NULL)
		s = "";
	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)s, o = out; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			*o++ = '?';
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* U+0080..U+009F: C1 controls, CSI among them. */
			*o++ = '?';
			p++;
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

/*
 * Columns s takes on a terminal, counted as one per code point: good for
 * the names and messages vigil prints; East Asian wide characters would
 * take two, which only shifts the WHY column of their row.
 */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * s cut to at most max columns, ending in "…" when cut: s itself when it
 * fits, otherwise a new string (s is freed). NULL when out of memory.
 */
static char *
cut(char *s, size_t max)
{
	size_t w = 0;
	char *p, *out;

	if (width(s) <= max || max == 0)
		return s;
	/* Keep max - 1 code points, then the ellipsis. */
	for (p = s; *p; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && w++ == max - 1)
			break;
	out = malloc((size_t)(p - s) + sizeof("\xe2\x80\xa6"));
	if (out != NULL) {
		memcpy(out, s, (size_t)(p - s));
		strcpy(out + (p - s), "\xe2\x80\xa6");
	}
	free(s);
	return out;
}

static const char *
str_or(const struct json *v, const char *dflt)
{
	const char *s = json_string(v);

	return s != NULL ? s : dflt;
}

/* The colour of a node state (SPEC.md "How vigil decides"), or "". */
static const char *
state_colour(const char *state)
{
	static const struct {
		const char *state, *colour;
	} colours[] = {
		{ "running", GREEN },	  { "standby", CYAN },
		{ "draining", YELLOW },	  { "disabled", YELLOW },
		{ "restarting", YELLOW }, { "unreachable", RED },
		{ "hung", RED },	  { "shut_down", RED },
	};

	for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++)
		if (strcmp(state, colours[i].state) == 0)
			return colours[i].colour;
	return "";
}

/* A heartbeat age for people: 0.2s, 61s, 5m03s, 2h10m, 3d04h. */
static void
fmt_age(char *out, size_t len, double ms)
{
	long s = (long)(ms / 1000);

	if (ms < 10000)
		snprintf(out, len, "%.1fs", ms / 1000);
	else if (s < 60)
		snprintf(out, len, "%lds", s);
	else if (s < 3600)
		snprintf(out, len, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, len, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, len, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

static void
fmt_count(char *out, size_t len, const struct json *v)
{
	double d;

	if (json_number(v, &d) == 0)
		snprintf(out, len, "%.0f", d);
	else
		snprintf(out, len, "-");
}

/* The nine cells of a node's row, each allocated (NULL: out of memory). */
static void
node_cells(const struct json *n, const char *source, char *cell[NCOLS])
{
	const struct json *probe = json_get(n, "probe");
	const struct json *restart = json_get(n, "restart");
	char buf[128], age[32];
	const char *s;
	double d;
	int b;

	cell[0] = ctl_clean(str_or(json_get(n, "name"), "?"));
	cell[1] = ctl_clean(str_or(json_get(n, "state"), "?"));

	b = json_bool(json_get(n, "active"));
	snprintf(buf, sizeof(buf), "%s%s",
		 b == 1	  ? "yes"
		 : b == 0 ? "no"
			  : "-",
		 json_bool(json_get(n, "ejected")) == 1 ? " (ejected)" : "");
	cell[2] = ctl_clean(buf);

	/* No database: every heartbeat is unknown, which says nothing. */
	s = str_or(json_get(n, "heartbeat"), "-");
	if (strcmp(source, "none") == 0)
		snprintf(buf, sizeof(buf), "-");
	else if (json_number(json_get(n, "heartbeat_age_ms"), &d) == 0) {
		fmt_age(age, sizeof(age), d);
		snprintf(buf, sizeof(buf), "%s %s", s, age);
	} else
		snprintf(buf, sizeof(buf), "%s", s);
	cell[3] = ctl_clean(buf);

	s = str_or(json_get(probe, "verdict"), "-");
	if (strcmp(s, "none") == 0)
		snprintf(buf, sizeof(buf), "-");
	else if (json_number(json_get(probe, "latency_ms"), &d) == 0)
		snprintf(buf, sizeof(buf), "%s %.1fms", s, d);
	else
		snprintf(buf, sizeof(buf), "%s", s);
	cell[4] = ctl_clean(buf);

	fmt_count(buf, sizeof(buf), json_get(n, "connections"));
	cell[5] = ctl_clean(buf);
	fmt_count(buf, sizeof(buf), json_get(n, "requests"));
	cell[6] = ctl_clean(buf);

	s = str_or(json_get(restart, "state"), "-");
	if (json_number(json_get(restart, "attempts"), &d) != 0)
		d = 0;
	if (d == 0 && (strcmp(s, "idle") == 0 || strcmp(s, "-") == 0))
		snprintf(buf, sizeof(buf), "-");
	else if (d == 0)
		snprintf(buf, sizeof(buf), "%s", s);
	else
		snprintf(buf, sizeof(buf), "%s, %.0f %s", s, d,
			 d == 1 ? "try" : "tries");
	cell[7] = ctl_clean(buf);

	cell[8] = ctl_clean(str_or(json_get(n, "why"), ""));
}

/* The line above the table: who is who, the database, the active set. */
static void
show_header(FILE *f, const struct json *st, const struct ctl_term *t)
{
	const struct json *active = json_get(st, "active");
	char *cluster = ctl_clean(str_or(json_get(st, "cluster"), "?"));
	char *appl = ctl_clean(str_or(json_get(st, "appliance"), "?"));
	char *source = ctl_clean(str_or(json_get(st, "heartbeat_source"), "?"));
	int leader = json_bool(json_get(st, "leader"));
	double want;

	fprintf(f, "cluster: %s  appliance: %s%s  heartbeat database: %s%s",
		cluster ? cluster : "?", appl ? appl : "?",
		leader == 1   ? " (leader)"
		: leader == 0 ? " (follower)"
			      : "",
		source ? source : "?",
		source && strcmp(source, "none") == 0 ? " (probes only)" : "");
	fputs("  active: ", f);
	if (active == NULL || active->type != JSON_ARRAY || active->n == 0)
		fputs("none", f);
	for (size_t i = 0;
	     active != NULL && active->type == JSON_ARRAY && i < active->n;
	     i++) {
		char *name = ctl_clean(str_or(&active->item[i], "?"));

		fprintf(f, "%s%s", i ? ", " : "", name ? name : "?");
		free(name);
	}
	if (json_number(json_get(st, "active_nodes"), &want) == 0) {
		if (want == 0)
			fputs(" (all running nodes)", f);
		else
			fprintf(f, " (wanted: %.0f)", want);
	}
	fputc('\n', f);

	if (json_bool(json_get(st, "all_down")) == 1)
		fprintf(f,
			"%sALL DOWN: no node is running; clients get 503%s\n",
			t->colour ? BOLD RED : "", t->colour ? RESET : "");
	if (json_bool(json_get(st, "split_brain")) == 1)
		fprintf(f,
			"%sSPLIT BRAIN: more nodes are running than the "
			"cluster runs active%s\n",
			t->colour ? BOLD RED : "", t->colour ? RESET : "");
	free(cluster);
	free(appl);
	free(source);
}

void
ctl_show_status(FILE *f, const struct json *st, const struct ctl_term *t)
{
	static const char *const head[NCOLS] = {
		"NAME",	 "STATE",    "ACTIVE",	"HEARTBEAT", "PROBE",
		"CONNS", "REQUESTS", "RESTART", "WHY",
	};
	const struct json *nodes = json_get(st, "nodes");
	const char *source = str_or(json_get(st, "heartbeat_source"), "?");
	size_t rows = nodes != NULL && nodes->type == JSON_ARRAY ? nodes->n : 0;
	char *(*cell)[NCOLS] = calloc(rows + 1, sizeof(*cell));
	size_t w[NCOLS] = { 0 }, used = 0;

	show_header(f, st, t);
	if (cell == NULL) {
		fputs("(out of memory)\n", f);
		return;
	}
	for (int j = 0; j < NCOLS; j++)
		cell[0][j] = strdup(head[j]);
	for (size_t i = 0; i < rows; i++)
		node_cells(&nodes->item[i], source, cell[i + 1]);
	for (size_t i = 0; i <= rows; i++)
		for (int j = 0; j < NCOLS; j++) {
			if (cell[i][j] == NULL)
				cell[i][j] = strdup("?");
			if (cell[i][j] != NULL && width(cell[i][j]) > w[j])
				w[j] = width(cell[i][j]);
		}
	for (int j = 0; j < NCOLS - 1; j++)
		used += w[j] + GAP;

	for (size_t i = 0; i <= rows; i++) {
		for (int j = 0; j < NCOLS - 1; j++) {
			const char *c = cell[i][j] ? cell[i][j] : "?";
			const char *col =
			    i > 0 && j == 1 && t->colour ? state_colour(c) : "";

			fprintf(f, "%s%s%s%*s", col, c, col[0] ? RESET : "",
				(int)(w[j] - width(c) + GAP), "");
		}
		/*
		 * WHY takes what the terminal has left. When that is next
		 * to nothing the row wraps anyway: then better whole.
		 */
		if (cell[i][NCOLS - 1] != NULL &&
		    (size_t)t->width >= used + MIN_WHY)
			cell[i][NCOLS - 1] =
			    cut(cell[i][NCOLS - 1], (size_t)t->width - used);
		fprintf(f, "%s\n",
			cell[i][NCOLS - 1] ? cell[i][NCOLS - 1] : "");
	}
	for (size_t i = 0; i <= rows; i++)
		for (int j = 0; j < NCOLS; j++)
			free(cell[i][j]);
	free(cell);
}

void
ctl_show_nodes(FILE *f, const struct json *st)
{
	const struct json *nodes = json_get(st, "nodes");
	size_t wn = 0, ws = 0;

	if (nodes == NULL || nodes->type != JSON_ARRAY)
		return;
	/* Aligned for eyes, still one word a column for read and awk. */
	for (size_t i = 0; i < nodes->n; i++) {
		char *n =
		    ctl_clean(str_or(json_get(&nodes->item[i], "name"), "?"));
		char *s =
		    ctl_clean(str_or(json_get(&nodes->item[i], "state"), "?"));

		if (n != NULL && width(n) > wn)
			wn = width(n);
		if (s != NULL && width(s) > ws)
			ws = width(s);
		free(n);
		free(s);
	}
	for (size_t i = 0; i < nodes->n; i++) {
		const struct json *n = &nodes->item[i];
		char *name = ctl_clean(str_or(json_get(n, "name"), "?"));
		char *state = ctl_clean(str_or(json_get(n, "state"), "?"));
		int a = json_bool(json_get(n, "active"));

		if (name != NULL && state != NULL)
			fprintf(f, "%s%*s %s%*s %s\n", name,
				(int)(wn - width(name)), "", state,
				(int)(ws - width(state)), "",
				a == 1	 ? "yes"
				: a == 0 ? "no"
					 : "-");
		free(name);
		free(state);
	}
}

void
ctl_show_event(FILE *f, const struct json *ev)
{
	const char *from = json_string(json_get(ev, "from"));
	const char *to = json_string(json_get(ev, "to"));
	char *time = ctl_clean(str_or(json_get(ev, "time"), "-"));
	char *event = ctl_clean(str_or(json_get(ev, "event"), "-"));
	char *node = NULL;
	char *state = ctl_clean(str_or(json_get(ev, "state"), "-"));
	char *reason = ctl_clean(str_or(json_get(ev, "reason"), ""));

	if (from != NULL && to != NULL) {
		size_t n = strlen(from) + strlen(to) + 4;
		char *ft = malloc(n);

		if (ft != NULL) {
			snprintf(ft, n, "%s\xe2\x86\x92%s", from, to);
			node = ctl_clean(ft);
			free(ft);
		}
	} else {
		node = ctl_clean(str_or(json_get(ev, "node"), "-"));
	}
	if (time && event && node && state && reason)
		fprintf(f, "%s %s %s %s %s%s\n", time, event, node, state,
			reason,
			json_bool(json_get(ev, "dry_run")) == 1 ? " (dry run)"
								: "");
	else
		fputs("(out of memory)\n", f);
	free(time);
	free(event);
	free(node);
	free(state);
	free(reason);
}
