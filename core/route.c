/*
 * route.c: publishing routing tables with epoch-based reclamation. A
 * reader records the global epoch when it starts using a table and clears
 * it when done; a table retired at epoch E is freed once no reader holds
 * an epoch ≤ E. Readers never wait and never write shared cache lines
 * other than their own slot.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "core/route.h"

struct node_stats *
node_stats_new(void)
{
	struct node_stats *s = calloc(1, sizeof(*s));

	if (s != NULL)
		atomic_init(&s->refs, 1);
	return s;
}

struct node_stats *
node_stats_ref(struct node_stats *s)
{
	if (s != NULL)
		atomic_fetch_add(&s->refs, 1);
	return s;
}

void
node_stats_unref(struct node_stats *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
		free(s);
}

void
route_settings_copy(struct route_settings *dst,
		    const struct route_settings *src)
{
	*dst = *src;
	if (dst->node_tls != NULL)
		SSL_CTX_up_ref(dst->node_tls);
}

void
route_settings_release(struct route_settings *rs)
{
	SSL_CTX_free(rs->node_tls);
	rs->node_tls = NULL;
	sticky_key_wipe(&rs->key);
}

void
route_settings_from_conf(struct route_settings *rs, const struct conf *c,
			 const struct sticky_key *key,
			 struct ssl_ctx_st *node_tls)
{
	memset(rs, 0, sizeof(*rs));
	rs->proxy = c->proxy;
	rs->stick_mode = c->stick_mode;
	snprintf(rs->cookie, sizeof(rs->cookie), "%s", c->stick_cookie);
	snprintf(rs->cluster, sizeof(rs->cluster), "%s", c->cluster_name);
	if (key != NULL)
		rs->key = *key;
	rs->node_tls = node_tls;
	if (node_tls != NULL)
		SSL_CTX_up_ref(node_tls);
}

struct route_table *
route_table_new(size_t n, unsigned long generation,
		const struct route_settings *rs)
{
	struct route_table *t = calloc(1, sizeof(*t) + n * sizeof(t->nodes[0]));

	if (t == NULL)
		return NULL;
	t->n = n;
	t->generation = generation;
	if (rs != NULL)
		route_settings_copy(&t->settings, rs);
	return t;
}

int
route_node_set(struct route_node *rn, const struct conf_node *node,
	       bool draining, struct node_stats *stats)
{
	rn->stats = node_stats_ref(stats);
	rn->name = strdup(node->name);
	rn->host = strdup(node->addr.host);
	rn->port = strdup(node->addr.port);
	rn->tls = node->tls;
	rn->draining = draining;
	rn->sa = node->addr.sa;
	rn->salen = node->addr.salen;
	return rn->name && rn->host && rn->port ? 0 : -1;
}

static void
table_free(struct route_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].host);
		free(t->nodes[i].port);
		node_stats_unref(t->nodes[i].stats);
	}
	route_settings_release(&t->settings);
	free(t);
}

void
route_publish(struct route_holder *h, struct route_table *t)
{
	struct route_table *old = atomic_exchange(&h->current, t);

	if (old != NULL) {
		old->retired_epoch = atomic_fetch_add(&h->epoch, 1) + 1;
		old->next_retired = h->retired;
		h->retired = old;
	}
	route_collect(h);
	if (h->on_publish != NULL)
		h->on_publish(h->on_publish_ctx);
}

bool
route_has_node(const struct route_table *t, const char *node)
{
	for (size_t i = 0; t != NULL && i < t->n; i++)
		if (strcmp(t->nodes[i].name, node) == 0)
			return true;
	return false;
}

void
route_collect(struct route_holder *h)
{
	unsigned long oldest = atomic_load(&h->epoch) + 1;
	struct route_table **pp = &h->retired;

	for (size_t i = 0; i < h->n_readers; i++) {
		unsigned long e = atomic_load(&h->reader_epoch[i]);

		if (e != 0 && e < oldest)
			oldest = e;
	}
	/* A reader that entered at epoch e may hold any table retired at
	 * an epoch ≥ e; older ones are unreachable. */
	while (*pp != NULL) {
		struct route_table *t = *pp;

		if (t->retired_epoch < oldest) {
			*pp = t->next_retired;
			table_free(t);
		} else {
			pp = &t->next_retired;
		}
	}
}

size_t
route_reader_add(struct route_holder *h)
{
	return h->n_readers < ROUTE_MAX_READERS ? h->n_readers++
						: ROUTE_MAX_READERS - 1;
}

const struct route_table *
route_read(struct route_holder *h, size_t reader)
{
	if (atomic_load(&h->reader_epoch[reader]) == 0)
		atomic_store(&h->reader_epoch[reader],
			     atomic_load(&h->epoch) + 1);
	return atomic_load(&h->current);
}

void
route_quiesce(struct route_holder *h, size_t reader)
{
	atomic_store(&h->reader_epoch[reader], 0);
}

void
route_holder_free(struct route_holder *h)
{
	table_free(atomic_exchange(&h->current, NULL));
	while (h->retired != NULL) {
		struct route_table *t = h->retired;

		h->retired = t->next_retired;
		table_free(t);
	}
}
