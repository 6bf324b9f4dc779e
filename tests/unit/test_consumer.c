/*
 * test_consumer.c — the consumer's partition positions (positions.c) and
 * flush outcomes (flusher.c) over a fake store: assignment, which messages
 * are taken, the moves a flush sends, and what a stored flush, a failed one
 * and a conflict (another consumer stored first) do to positions,
 * aggregate, dead-letter sample, backoff and pausing — nothing counted
 * twice, nothing lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agg.h"
#include "flusher.h"
#include "positions.h"

/* A fake of the positions kept in Redis: field → next offset. */
struct fake_store {
	char	 fields[8][64];
	int64_t	 offs[8];
	size_t	 n;
	int	 down;		/* reads fail */
	int	 reads;
};

static int64_t
fake_get(const struct fake_store *fs, const char *field)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->fields[i], field) == 0)
			return fs->offs[i];
	return -1;
}

static void
fake_put(struct fake_store *fs, const char *field, int64_t off)
{
	size_t i;

	for (i = 0; i < fs->n && strcmp(fs->fields[i], field) != 0; i++)
		;
	if (i == fs->n)
		snprintf(fs->fields[fs->n++], sizeof fs->fields[0], "%s", field);
	fs->offs[i] = off;
}

static int
fake_read(void *arg, const char *const *fields, size_t n, int64_t *offs)
{
	struct fake_store *fs = arg;
	size_t i;

	fs->reads++;
	if (fs->down)
		return -1;
	for (i = 0; i < n; i++)
		offs[i] = fake_get(fs, fields[i]);
	return 0;
}

/* The store's side of a flush: every move applies if its from is what is
 * stored (0), or none does (-2); -1 when down.  Then the consumer's side. */
static int
fake_flush(struct fake_store *fs, struct positions *ps)
{
	struct store_pos moves[8];
	size_t n, i;
	int rc = 0;

	n = positions_moves(ps, moves, NULL, NULL);
	if (fs->down)
		rc = -1;
	for (i = 0; rc == 0 && i < n; i++)
		if (fake_get(fs, moves[i].field) != moves[i].from)
			rc = -2;
	for (i = 0; rc == 0 && i < n; i++)
		fake_put(fs, moves[i].field, moves[i].to);
	positions_flushed(ps, rc, fake_read, fs);
	return rc;
}

static int
taken(struct positions *ps, const char *topic, int32_t part, int64_t off)
{
	return positions_take(ps, topic, part, off) != NULL;
}

static void
test_assign_and_take(void **state)
{
	struct fake_store fs = { .n = 0 };
	struct positions ps = { NULL, 0, 0, 0 };
	struct position *p;
	char f[64];

	(void)state;
	fake_put(&fs, "posts/0", 5);
	positions_add(&ps, "posts", 0);
	positions_add(&ps, "posts", 1);
	positions_field(&ps.v[1], f, sizeof f);
	assert_string_equal(f, "posts/1");
	/* until the stored positions are read, nothing is taken */
	assert_true(positions_waiting(&ps));
	assert_false(taken(&ps, "posts", 0, 5));
	assert_int_equal(positions_load(&ps, 0, fake_read, &fs), 0);
	assert_false(positions_waiting(&ps));
	assert_int_equal(ps.v[0].from, 5);
	assert_int_equal(ps.v[0].next, 5);
	assert_int_equal(ps.v[1].from, -1);	/* never stored */
	/* before the stored position: counted already */
	assert_false(taken(&ps, "posts", 0, 4));
	assert_true(taken(&ps, "posts", 0, 5));
	assert_true(taken(&ps, "posts", 0, 6));
	assert_false(taken(&ps, "posts", 0, 6));	/* a redelivery */
	assert_int_equal(ps.v[0].next, 7);
	/* a partition never stored takes what Kafka gives */
	assert_true(taken(&ps, "posts", 1, 40));
	assert_int_equal(ps.v[1].next, 41);
	/* not ours */
	assert_false(taken(&ps, "posts", 2, 0));
	assert_false(taken(&ps, "other", 0, 9));
	p = positions_find(&ps, "posts", 1);
	assert_ptr_equal(p, &ps.v[1]);
	positions_free(&ps);
	assert_int_equal(ps.n, 0);
}

static void
test_moves_and_flush(void **state)
{
	struct fake_store fs = { .n = 0 };
	struct positions ps = { NULL, 0, 0, 0 };
	struct store_pos moves[4];

	(void)state;
	fake_put(&fs, "posts/0", 10);
	positions_add(&ps, "posts", 0);
	positions_add(&ps, "posts", 1);
	positions_load(&ps, 0, fake_read, &fs);
	/* nothing consumed: nothing to store */
	assert_int_equal(positions_moves(&ps, moves, NULL, NULL), 0);
	taken(&ps, "posts", 0, 10);
	taken(&ps, "posts", 0, 11);
	ps.v[0].wm_ms = 1234;
	assert_int_equal(positions_moves(&ps, moves, NULL, NULL), 1);
	assert_string_equal(moves[0].field, "posts/0");
	assert_int_equal(moves[0].from, 10);
	assert_int_equal(moves[0].to, 12);
	assert_int_equal(moves[0].time_ms, 1234);
	assert_int_equal(moves[0].lag, -1);
	/* Redis away: nothing changes, the same move goes with the next */
	fs.down = 1;
	assert_int_equal(fake_flush(&fs, &ps), -1);
	assert_int_equal(ps.v[0].from, 10);
	taken(&ps, "posts", 0, 12);
	fs.down = 0;
	assert_int_equal(fake_flush(&fs, &ps), 0);
	assert_int_equal(fake_get(&fs, "posts/0"), 13);
	assert_int_equal(ps.v[0].from, 13);
	assert_int_equal(positions_moves(&ps, moves, NULL, NULL), 0);
	positions_free(&ps);
}

static int64_t
lag_of(void *arg, const struct position *p)
{
	(void)arg;
	return 100 - p->next;
}

static void
test_lag(void **state)
{
	struct fake_store fs = { .n = 0 };
	struct positions ps = { NULL, 0, 0, 0 };
	struct store_pos moves[2];

	(void)state;
	positions_add(&ps, "posts", 3);
	positions_load(&ps, 0, fake_read, &fs);
	taken(&ps, "posts", 3, 60);
	assert_int_equal(positions_moves(&ps, moves, lag_of, NULL), 1);
	assert_int_equal(moves[0].lag, 39);
	positions_free(&ps);
}

static int64_t
lag_unknown(void *arg, const struct position *p)
{
	(void)arg;
	return p->partition == 1 ? -1 : 0;
}

/* A partition not moved is marked with its lag, and also while its end is
 * unknown (nothing fetched yet, lag -1): its posts may all be older than
 * the other partitions' newest, so the watermark must wait for it. */
static void
test_marks_unknown_end(void **state)
{
	struct fake_store fs = { .n = 0 };
	struct positions ps = { NULL, 0, 0, 0 };
	struct store_pos out[2];

	(void)state;
	positions_add(&ps, "posts", 0);
	positions_add(&ps, "posts", 1);
	positions_load(&ps, 0, fake_read, &fs);
	taken(&ps, "posts", 0, 0);
	assert_int_equal(positions_moves(&ps, out, lag_unknown, NULL), 1);
	assert_int_equal(positions_marks(&ps, out, lag_unknown, NULL), 1);
	assert_string_equal(out[0].field, "posts/1");
	assert_int_equal(out[0].to, STORE_POS_MARK);
	assert_int_equal(out[0].time_ms, -1);
	assert_int_equal(out[0].lag, -1);
	positions_free(&ps);
}

/* Another consumer stored first: everything since the last flush is
 * recounted from the stored positions, and nothing before them twice. */
static void
test_conflict_rewinds(void **state)
{
	struct fake_store fs = { .n = 0 };
	struct positions ps = { NULL, 0, 0, 0 };
	int64_t off;

	(void)state;
	positions_add(&ps, "posts", 0);
	positions_add(&ps, "posts", 1);
	positions_load(&ps, 0, fake_read, &fs);
	for (off = 0; off < 5; off++) {
		taken(&ps, "posts", 0, off);
		taken(&ps, "posts", 1, off);
	}
	assert_int_equal(fake_flush(&fs, &ps), 0);
	for (off = 5; off < 8; off++)
		taken(&ps, "posts", 0, off);
	/* meanwhile the partition went elsewhere and came back moved on */
	fake_put(&fs, "posts/0", 6);
	assert_int_equal(fake_flush(&fs, &ps), -2);
	assert_int_equal(ps.v[0].from, 6);
	assert_int_equal(ps.v[0].next, 6);
	assert_int_equal(ps.v[1].next, 5);
	assert_false(positions_waiting(&ps));
	/* from the stored position on, taken again */
	assert_false(taken(&ps, "posts", 0, 5));
	assert_true(taken(&ps, "posts", 0, 6));
	assert_true(taken(&ps, "posts", 0, 7));
	assert_int_equal(fake_flush(&fs, &ps), 0);
	assert_int_equal(fake_get(&fs, "posts/0"), 8);
	assert_int_equal(fake_get(&fs, "posts/1"), 5);
	positions_free(&ps);
}

/* A conflict while Redis cannot be read: every partition waits. */
static void
test_conflict_unreadable(void **state)
{
	struct fake_store fs = { .n = 0 };
	struct positions ps = { NULL, 0, 0, 0 };
	struct store_pos moves[1];

	(void)state;
	positions_add(&ps, "posts", 0);
	positions_load(&ps, 0, fake_read, &fs);
	taken(&ps, "posts", 0, 0);
	fake_put(&fs, "posts/0", 3);
	/* the flush sees the conflict, the read after it fails */
	fs.down = 1;
	positions_flushed(&ps, -2, fake_read, &fs);
	assert_int_equal(fs.reads, 2);
	assert_true(positions_waiting(&ps));
	assert_false(taken(&ps, "posts", 0, 3));
	assert_int_equal(positions_moves(&ps, moves, NULL, NULL), 0);
	fs.down = 0;
	/* once Redis answers, it starts at the stored position */
	assert_int_equal(positions_load(&ps, 0, fake_read, &fs), 0);
	assert_int_equal(ps.v[0].next, 3);
	assert_true(taken(&ps, "posts", 0, 3));
	positions_free(&ps);
}

/* A partition assigned while Redis is away waits; others go on. */
static void
test_assignment_waits(void **state)
{
	struct fake_store fs = { .n = 0 };
	struct positions ps = { NULL, 0, 0, 0 };

	(void)state;
	fake_put(&fs, "posts/1", 2);
	positions_add(&ps, "posts", 0);
	positions_load(&ps, 0, fake_read, &fs);
	positions_add(&ps, "posts", 1);
	fs.down = 1;
	assert_int_equal(positions_load(&ps, 1, fake_read, &fs), -1);
	assert_true(taken(&ps, "posts", 0, 0));
	assert_false(taken(&ps, "posts", 1, 2));
	/* a flush stores only what is known */
	fs.down = 0;
	assert_int_equal(fake_flush(&fs, &ps), 0);
	assert_int_equal(fake_get(&fs, "posts/0"), 1);
	assert_int_equal(fake_get(&fs, "posts/1"), 2);
	assert_true(ps.v[1].need_pos);
	/* loading only the new ones does not move the others */
	assert_int_equal(positions_load(&ps, 1, fake_read, &fs), 0);
	assert_int_equal(ps.v[0].next, 1);
	assert_true(taken(&ps, "posts", 1, 2));
	positions_clear(&ps);
	assert_false(positions_waiting(&ps));
	positions_free(&ps);
}

/* The flusher's world: the fake store plus what Kafka was told. */
struct fake_io {
	struct fake_store fs;
	int	 conflict;	/* the next flush finds another owner's move */
	int	 flushes, commits, reassigns, pause_calls, paused;
	int64_t	 rejects_written;	/* rejects counted by stored flushes */
	size_t	 letters_written;	/* dead letters they kept */
	char	 first_where[224];
	size_t	 entries_sent;	/* aggregate size at the last flush */
};

static int
io_flush(void *arg, const struct agg *a, const struct store_pos *moves,
    size_t n, const struct store_rejects *rj, struct store_flush_stats *st)
{
	struct fake_io *io = arg;
	size_t i;

	memset(st, 0, sizeof *st);
	io->flushes++;
	io->entries_sent = agg_size(a);
	if (io->fs.down)
		return -1;
	if (io->conflict) {
		/* another consumer stored its own move meanwhile */
		for (i = 0; i < n; i++)
			fake_put(&io->fs, moves[i].field, moves[i].from + 7);
		io->conflict = 0;
	}
	for (i = 0; i < n; i++)
		if (fake_get(&io->fs, moves[i].field) != moves[i].from)
			return -2;
	for (i = 0; i < n; i++)
		fake_put(&io->fs, moves[i].field, moves[i].to);
	/* the rejects are stored with the moves, in the same step */
	for (i = 0; i < rj->nreasons; i++)
		if (strcmp(rj->reasons[i], REJECTS_NOT_KEPT) != 0)
			io->rejects_written += rj->counts[i];
	if (io->letters_written == 0 && rj->nkept > 0)
		snprintf(io->first_where, sizeof io->first_where, "%s",
		    rj->kept[0].where);
	io->letters_written += rj->nkept;
	return 0;
}

static const char *
io_errstr(void *arg)
{
	(void)arg;
	return "fake";
}

static int
io_read(void *arg, const char *const *fields, size_t n, int64_t *offs)
{
	return fake_read(&((struct fake_io *)arg)->fs, fields, n, offs);
}

static void
io_commit(void *arg)
{
	((struct fake_io *)arg)->commits++;
}

static void
io_pause(void *arg, int paused)
{
	struct fake_io *io = arg;

	io->pause_calls++;
	io->paused = paused;
}

static void
io_reassign(void *arg)
{
	((struct fake_io *)arg)->reassigns++;
}

static const struct flusher_io fake_flusher_io = {
	.flush = io_flush, .errstr = io_errstr,
	.read = io_read, .lag = NULL, .commit = io_commit, .pause = io_pause,
	.reassign = io_reassign,
};

/* A flusher on one partition posts/0 stored at 10, with messages 10 and 11
 * consumed into three aggregate entries and one reject kept. */
static void
flusher_setup(struct flusher *f, struct fake_io *io, struct positions *ps)
{
	memset(io, 0, sizeof *io);
	memset(ps, 0, sizeof *ps);
	memset(f, 0, sizeof *f);
	fake_put(&io->fs, "posts/0", 10);
	positions_add(ps, "posts", 0);
	assert_int_equal(positions_load(ps, 0, io_read, io), 0);
	f->io = &fake_flusher_io;
	f->arg = io;
	f->pos = ps;
	f->agg = agg_new(60, 0);
	f->pause_at = 1000;
	assert_true(taken(ps, "posts", 0, 10));
	assert_true(taken(ps, "posts", 0, 11));
	agg_add_total(f->agg, 0);
	agg_add_total(f->agg, 60);
	agg_add_total(f->agg, 120);
	f->rj.budget = 4096;
	rejects_add(&f->rj, DEC_NOT_JSON, "x", "posts/0@11", "nope", 4);
}

static void
flusher_teardown(struct flusher *f, struct positions *ps)
{
	agg_free(f->agg);
	flusher_free(f);
	positions_free(ps);
}

static void
test_flush_stored(void **state)
{
	struct fake_io io;
	struct positions ps;
	struct flusher f;

	(void)state;
	flusher_setup(&f, &io, &ps);
	f.backoff_ms = 1000;	/* after an outage */
	f.redis_down = 1;
	io.paused = 1;
	assert_int_equal(flusher_flush(&f), 0);
	assert_int_equal(io.entries_sent, 3);
	assert_int_equal(fake_get(&io.fs, "posts/0"), 12);
	assert_int_equal(ps.v[0].from, 12);
	assert_int_equal(agg_size(f.agg), 0);
	assert_int_equal(io.rejects_written, 1);
	assert_int_equal(io.letters_written, 1);
	assert_string_equal(io.first_where, "posts/0@11");
	assert_int_equal(rejects_pending(&f.rj), 0);
	assert_int_equal(io.commits, 1);
	assert_int_equal(f.backoff_ms, 0);
	assert_false(f.redis_down);
	assert_false(io.paused);
	/* nothing pending: no flush at all, rejects not written again */
	assert_int_equal(flusher_flush(&f), 0);
	assert_int_equal(io.flushes, 1);
	assert_int_equal(io.rejects_written, 1);
	flusher_teardown(&f, &ps);
}

static void
test_flush_redis_down(void **state)
{
	static const int64_t backoff[] = { 250, 500, 1000, 2000, 4000, 5000,
	    5000 };
	struct fake_io io;
	struct positions ps;
	struct flusher f;
	size_t i;

	(void)state;
	flusher_setup(&f, &io, &ps);
	f.pause_at = 4;
	io.fs.down = 1;
	for (i = 0; i < sizeof backoff / sizeof backoff[0]; i++) {
		assert_int_equal(flusher_flush(&f), -1);
		assert_int_equal(f.backoff_ms, backoff[i]);
		assert_true(f.redis_down);
		/* counts, moves and rejects all kept */
		assert_int_equal(agg_size(f.agg), 3);
		assert_int_equal(ps.v[0].from, 10);
		assert_int_equal(ps.v[0].next, 12);
		assert_int_equal(rejects_pending(&f.rj), 1);
	}
	assert_int_equal(io.rejects_written, 0);
	assert_int_equal(io.commits, 0);
	assert_int_equal(io.reassigns, 0);
	/* below the threshold consumption goes on */
	assert_int_equal(io.pause_calls, 0);
	agg_add_total(f.agg, 180);
	assert_int_equal(flusher_flush(&f), -1);
	assert_int_equal(io.pause_calls, 1);
	assert_true(io.paused);
	assert_int_equal(f.backoff_ms, FLUSHER_BACKOFF_MAX_MS);

	/* back: everything counted while away is stored once */
	io.fs.down = 0;
	assert_true(taken(&ps, "posts", 0, 12));
	assert_int_equal(flusher_flush(&f), 0);
	assert_int_equal(io.entries_sent, 4);
	assert_int_equal(fake_get(&io.fs, "posts/0"), 13);
	assert_int_equal(io.rejects_written, 1);
	assert_int_equal(io.commits, 1);
	assert_int_equal(agg_size(f.agg), 0);
	assert_int_equal(f.backoff_ms, 0);
	assert_false(f.redis_down);
	assert_false(io.paused);
	/* the next outage starts its backoff again */
	io.fs.down = 1;
	agg_add_total(f.agg, 240);
	assert_int_equal(flusher_flush(&f), -1);
	assert_int_equal(f.backoff_ms, FLUSHER_BACKOFF_FIRST_MS);
	flusher_teardown(&f, &ps);
}

static void
test_flush_conflict(void **state)
{
	struct fake_io io;
	struct positions ps;
	struct flusher f;
	int reads;

	(void)state;
	flusher_setup(&f, &io, &ps);
	io.conflict = 1;	/* another consumer stored posts/0 at 17 */
	reads = io.fs.reads;
	assert_int_equal(flusher_flush(&f), -1);
	assert_int_equal(agg_size(f.agg), 0);
	assert_int_equal(io.fs.reads, reads + 1);
	assert_int_equal(ps.v[0].from, 17);
	assert_int_equal(ps.v[0].next, 17);
	assert_int_equal(io.reassigns, 1);
	assert_int_equal(io.commits, 0);
	assert_int_equal(fake_get(&io.fs, "posts/0"), 17);
	/* the counts and the rejects are dropped: whoever stored posts/0
	 * counted (and dead-lettered) message 11 */
	assert_int_equal(rejects_pending(&f.rj), 0);
	assert_int_equal(f.rj.nkept, 0);
	assert_int_equal(f.backoff_ms, 0);
	/* what comes next counts from the stored position */
	assert_false(taken(&ps, "posts", 0, 12));
	assert_true(taken(&ps, "posts", 0, 17));
	assert_int_equal(flusher_flush(&f), 0);
	assert_int_equal(fake_get(&io.fs, "posts/0"), 18);
	assert_int_equal(io.rejects_written, 0);
	assert_int_equal(io.letters_written, 0);
	flusher_teardown(&f, &ps);
}

/* Every reject is counted; those over the byte budget are counted as not
 * kept too, and the budget starts again after a stored flush. */
static void
test_flush_rejects_budget(void **state)
{
	struct fake_io io;
	struct positions ps;
	struct flusher f;
	char payload[2048];

	(void)state;
	flusher_setup(&f, &io, &ps);	/* one kept: 4 + 1 + 10 + 64 bytes */
	memset(payload, '{', sizeof payload);
	f.rj.budget = 79 + 2 * (300 + 10 + 64) + 100;
	assert_true(taken(&ps, "posts", 0, 12));
	assert_true(taken(&ps, "posts", 0, 13));
	assert_true(taken(&ps, "posts", 0, 14));
	assert_true(taken(&ps, "posts", 0, 15));
	rejects_add(&f.rj, DEC_NOT_JSON, "", "posts/0@12", payload, 300);
	rejects_add(&f.rj, DEC_TOO_DEEP, "", "posts/0@13", payload, 300);
	rejects_add(&f.rj, DEC_TOO_DEEP, "", "posts/0@14", payload, 300);
	rejects_add(&f.rj, REJ_FUTURE, "", "posts/0@15", "{}", 2);
	assert_int_equal(rejects_pending(&f.rj), 5);
	assert_int_equal(f.rj.nkept, 4);	/* the third 300-byte one is out */
	assert_int_equal(f.rj.count[DEC_TOO_DEEP], 2);
	assert_int_equal(f.rj.count[REJ__COUNT], 1);
	assert_int_equal(flusher_flush(&f), 0);
	assert_int_equal(io.rejects_written, 5);
	assert_int_equal(io.letters_written, 4);
	/* a payload is cut at REJECTS_PAYLOAD_MAX, its size kept */
	f.rj.budget = 2 * REJECTS_PAYLOAD_MAX;
	assert_true(taken(&ps, "posts", 0, 16));
	rejects_add(&f.rj, DEC_TOO_LARGE, "", "posts/0@16", payload, 1 << 20);
	assert_int_equal(f.rj.nkept, 1);
	assert_int_equal(f.rj.kept[0].len, REJECTS_PAYLOAD_MAX);
	assert_int_equal(f.rj.kept[0].size, 1 << 20);
	assert_string_equal(f.rj.kept[0].reason, "too_large");
	flusher_teardown(&f, &ps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign_and_take),
		cmocka_unit_test(test_moves_and_flush),
		cmocka_unit_test(test_lag),
		cmocka_unit_test(test_marks_unknown_end),
		cmocka_unit_test(test_conflict_rewinds),
		cmocka_unit_test(test_conflict_unreadable),
		cmocka_unit_test(test_assignment_waits),
		cmocka_unit_test(test_flush_stored),
		cmocka_unit_test(test_flush_redis_down),
		cmocka_unit_test(test_flush_conflict),
		cmocka_unit_test(test_flush_rejects_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
