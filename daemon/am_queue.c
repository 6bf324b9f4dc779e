/*
 * am_queue.c — one delivery target's queue of alerts waiting to be taken.
 *
 * DESIGN: an array of items (the alert log entry each came from, and the
 * text to send) consumed from its head: the sender looks at the first
 * items (amq_at), sends them, and drops them once taken (amq_pop).  The
 * consumed prefix is reclaimed as soon as it is as long as what is left
 * (and at least AMQ_COMPACT items): the array then holds at most about
 * twice what waits, however long the target is slow and the queue never
 * empties, and its storage shrinks back after a backlog drained.  Pure:
 * no I/O, no counters; the thread that owns the queue (the delivery
 * thread, alertmanager.c) is the only one to touch it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertmanager.h"
#include "xmalloc.h"

#define AMQ_COMPACT	256	/* consumed items worth a move */

void
amq_push(struct am_queue *q, const char *entry, const char *text)
{
	struct am_item *it;

	q->items = xgrow(q->items, &q->cap, q->n + 1, sizeof *q->items);
	it = &q->items[q->n++];
	snprintf(it->entry, sizeof it->entry, "%s", entry);
	it->text = xstrdup(text);
}

/* Moves what waits to the front, and gives back storage a drained
 * backlog left behind. */
static void
reclaim_consumed(struct am_queue *q)
{
	size_t left = q->n - q->head;

	memmove(q->items, q->items + q->head, left * sizeof *q->items);
	q->head = 0;
	q->n = left;
	if (q->cap > 4 * AMQ_COMPACT && q->cap > 4 * left) {
		q->cap = left > AMQ_COMPACT ? 2 * left : 2 * AMQ_COMPACT;
		q->items = xrealloc(q->items, q->cap * sizeof *q->items);
	}
}

void
amq_pop(struct am_queue *q, size_t n)
{
	size_t i;

	if (n > q->n - q->head)
		n = q->n - q->head;
	for (i = 0; i < n; i++)
		free(q->items[q->head + i].text);
	q->head += n;
	if (q->head == q->n)
		q->head = q->n = 0;
	else if (q->head >= AMQ_COMPACT && q->head >= q->n - q->head)
		reclaim_consumed(q);
}

void
amq_free(struct am_queue *q)
{
	amq_pop(q, amq_len(q));
	free(q->items);
	memset(q, 0, sizeof *q);
}
