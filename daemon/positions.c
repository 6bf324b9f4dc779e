/*
 * positions.c — a consumer thread's partitions and their positions.
 *
 * DESIGN: for each assigned partition the table knows the next offset
 * stored in Redis (`from`, -1 for none) and the next offset to consume
 * (`next`).  A new partition waits (`need_pos`) until its stored position
 * is read; then it starts there, and a message is taken only at or past
 * `next`, so after a rewind nothing is counted twice.  A flush stores every
 * (from → next) move with the counts; on success `from` catches up with
 * `next`, on a conflict (another consumer stored first) every partition
 * goes back to the stored position and the counts since the last flush are
 * recounted.  Stored positions are read through a callback, so this file
 * knows neither Kafka nor Redis.  Used by one consumer thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "positions.h"
#include "xmalloc.h"

void
positions_clear(struct positions *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		free(ps->v[i].topic);
	ps->n = 0;
	ps->hint = 0;
}

void
positions_free(struct positions *ps)
{
	positions_clear(ps);
	free(ps->v);
	ps->v = NULL;
	ps->cap = 0;
}

struct position *
positions_add(struct positions *ps, const char *topic, int32_t partition)
{
	struct position *p;

	ps->v = xgrow(ps->v, &ps->cap, ps->n + 1, sizeof *ps->v);
	p = &ps->v[ps->n++];
	memset(p, 0, sizeof *p);
	p->topic = xstrdup(topic);
	p->partition = partition;
	p->from = p->next = -1;
	p->wm_ms = -1;
	p->need_pos = 1;
	return p;
}

static int
same_partition(const struct position *p, const char *topic,
    int32_t partition)
{
	return p->partition == partition && strcmp(p->topic, topic) == 0;
}

struct position *
positions_find(struct positions *ps, const char *topic, int32_t partition)
{
	size_t i;

	if (ps->hint < ps->n &&
	    same_partition(&ps->v[ps->hint], topic, partition))
		return &ps->v[ps->hint];
	for (i = 0; i < ps->n; i++)
		if (same_partition(&ps->v[i], topic, partition)) {
			ps->hint = i;
			return &ps->v[i];
		}
	return NULL;
}

void
positions_field(const struct position *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%" PRId32, p->topic, p->partition);
}

int
positions_load(struct positions *ps, size_t first, positions_read_fn *read,
    void *arg)
{
	size_t n = first < ps->n ? ps->n - first : 0, i;
	char (*fields)[sizeof ((struct store_pos *)0)->field];
	const char **fp;
	int64_t *offs;
	int rc;

	if (n == 0)
		return 0;
	fields = xmalloc(n * sizeof *fields);
	fp = xmalloc(n * sizeof *fp);
	offs = xmalloc(n * sizeof *offs);
	for (i = 0; i < n; i++) {
		positions_field(&ps->v[first + i], fields[i], sizeof fields[i]);
		fp[i] = fields[i];
	}
	rc = read(arg, fp, n, offs);
	if (rc == 0) {
		for (i = 0; i < n; i++) {
			ps->v[first + i].from = offs[i];
			ps->v[first + i].next = offs[i];
			ps->v[first + i].need_pos = 0;
		}
	}
	free(fields);
	free(fp);
	free(offs);
	return rc;
}

int
positions_waiting(const struct positions *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i].need_pos)
			return 1;
	return 0;
}

struct position *
positions_take(struct positions *ps, const char *topic, int32_t partition,
    int64_t offset)
{
	struct position *p = positions_find(ps, topic, partition);

	if (p == NULL || p->need_pos)
		return NULL;	/* not ours (any more), or waiting */
	if (p->next >= 0 && offset < p->next)
		return NULL;	/* already counted */
	p->next = offset + 1;
	return p;
}

size_t
positions_moves(const struct positions *ps, struct store_pos *out,
    positions_lag_fn *lag, void *arg)
{
	size_t i, n = 0;

	for (i = 0; i < ps->n; i++) {
		const struct position *p = &ps->v[i];

		if (p->need_pos || p->next < 0 || p->next == p->from)
			continue;
		positions_field(p, out[n].field, sizeof out[n].field);
		out[n].from = p->from;
		out[n].to = p->next;
		out[n].time_ms = p->wm_ms;
		out[n].lag = lag != NULL ? lag(arg, p) : -1;
		n++;
	}
	return n;
}

size_t
positions_marks(const struct positions *ps, struct store_pos *out,
    positions_lag_fn *lag, void *arg)
{
	size_t i, n = 0;

	if (lag == NULL)
		return 0;
	for (i = 0; i < ps->n; i++) {
		const struct position *p = &ps->v[i];

		if (p->need_pos || (p->next >= 0 && p->next != p->from))
			continue;	/* waiting, or a move */
		/* an unknown end (nothing fetched yet) is marked too, lag -1:
		 * the partition may hold posts older than the watermark */
		positions_field(p, out[n].field, sizeof out[n].field);
		out[n].from = p->from;
		out[n].to = STORE_POS_MARK;
		out[n].time_ms = p->wm_ms;
		out[n].lag = lag(arg, p);
		n++;
	}
	return n;
}

void
positions_flushed(struct positions *ps, int rc, positions_read_fn *read,
    void *arg)
{
	size_t i;

	if (rc == 0) {
		for (i = 0; i < ps->n; i++)
			if (!ps->v[i].need_pos && ps->v[i].next >= 0)
				ps->v[i].from = ps->v[i].next;
	} else if (rc == -2 && positions_load(ps, 0, read, arg) == -1) {
		for (i = 0; i < ps->n; i++)
			ps->v[i].need_pos = 1;
	}
}
