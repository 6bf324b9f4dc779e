/*
 * disc_replay.c — discovery over a file of posts (`backtest --discover`).
 *
 * DESIGN.  Discovery is a stream in time order, so unlike counting it
 * cannot be split across threads: every line goes once through a pipeline
 * (PIPELINE_FILE, nothing counted: decoding, the post's time, the rule
 * topics it matches), the posts are sorted by time (stable: file order
 * among equal times), then each goes through the pipeline again, the
 * segmenter and one discovery engine built from the config's discovery.*
 * keys: one instance (disc_flush.c) whose flushes, one per counter bucket
 * (counters.resolution) of post time, feed the scorer, as a daemon's
 * leader is to score each counter bucket's lists once.  Each story is
 * printed when it forms: its JSON (as <prefix>alerts:_emerging carries
 * it) or a line of text; then a summary.  Output goes through termsafe:
 * terms and samples come from posts.  One thread; everything is freed
 * before returning.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "disc_replay.h"
#include "discover.h"
#include "jsonw.h"
#include "pipeline.h"
#include "segment.h"
#include "termsafe.h"
#include "xmalloc.h"

struct line_at {
	int64_t		 time_ms;
	size_t		 off, len, seq;
};

struct replay {
	int		 json;
	size_t		 stories;
	struct jsonw	 w;
};

static void
print_story(void *arg, const struct disc_story *s)
{
	struct replay *r = arg;
	char det[40], first[40], buf[160], *safe;
	size_t i;

	r->stories++;
	jsonw_reset(&r->w);
	if (r->json) {
		disc_story_json(s, &r->w);
	} else {
		clock_rfc3339_ms(s->detected_ms, det, sizeof det);
		clock_rfc3339_ms(s->first_seen_ms, first, sizeof first);
		snprintf(buf, sizeof buf, "%.19sZ  STORY %s  ", det, s->id);
		jsonw_rawz(&r->w, buf);
		for (i = 0; i < s->nterms; i++) {
			jsonw_rawz(&r->w, i > 0 ? ", " : "");
			jsonw_rawz(&r->w, s->terms[i]);
		}
		snprintf(buf, sizeof buf, "  z %.1f  posts %" PRId64 "  authors ",
		    s->score, s->posts);
		jsonw_rawz(&r->w, buf);
		if (s->authors < 0)
			snprintf(buf, sizeof buf, "?");
		else
			snprintf(buf, sizeof buf, "%" PRId64 "/%" PRId64,
			    s->authors, s->seen);
		jsonw_rawz(&r->w, buf);
		snprintf(buf, sizeof buf, "  texts %" PRId64 "/%" PRId64
		    "  first seen %.19sZ", s->texts, s->seen, first);
		jsonw_rawz(&r->w, buf);
		for (i = 0; i < s->ntopics; i++) {
			jsonw_rawz(&r->w, i == 0 ? "  topics " : ", ");
			jsonw_rawz(&r->w, s->topics[i]);
		}
	}
	safe = termsafe_dupn(r->w.buf, r->w.len, r->json ? TERMSAFE_JSON : 0);
	puts(safe);
	free(safe);
}

static int
cmp_line_at(const void *a, const void *b)
{
	const struct line_at *x = a, *y = b;

	if (x->time_ms != y->time_ms)
		return x->time_ms < y->time_ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The posts of buf that have a time, in time order. */
static struct line_at *
posts_by_time(struct pipeline *pl, const char *buf, size_t len, size_t *n)
{
	struct pipeline_result r;
	struct line_at *v = NULL;
	const char *p = buf, *end = buf + len, *nl;
	size_t cap = 0, l;

	*n = 0;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = (size_t)(nl - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0 || pipeline_process(pl, p, l, -1, -1, &r) !=
		    PIPELINE_OK)
			continue;
		v = xgrow(v, &cap, *n + 1, sizeof *v);
		v[*n].time_ms = r.time_ms;
		v[*n].off = (size_t)(p - buf);
		v[*n].len = l;
		v[*n].seq = *n;
		(*n)++;
	}
	qsort(v, *n, sizeof *v, cmp_line_at);
	return v;
}

void
disc_replay_opts(const struct config *c, struct disc_opts *o,
    struct seg_opts *so)
{
	disc_opts_default(o);
	o->bucket_ms = c->disc_bucket_s * 1000;
	o->half_life_ms = c->disc_half_life_s * 1000;
	o->check_ms = c->disc_check_s * 1000;
	o->story_ttl_ms = c->disc_story_ttl_s * 1000;
	o->memory = (size_t)c->disc_memory;
	o->hashes = (int)c->disc_hashes;
	o->candidates = (size_t)c->disc_candidates;
	o->threshold = (double)c->disc_threshold;
	o->floor = o->beta = (double)c->disc_noise_floor;
	o->min_posts = c->disc_min_posts;
	o->max_pairs = (int)c->disc_max_pairs;
	/* a daemon's leader scores each counter bucket's lists once */
	o->flush_ms = c->resolution_s * 1000;
	memset(so, 0, sizeof *so);
	so->dictionary = c->disc_dictionary;
	so->stop_terms = c->disc_stop_terms;
	so->nstop_terms = c->disc_nstop_terms;
	so->mentions = c->disc_mentions;
	so->max_terms = DISC_TERMS_PER_POST;
}

/* Feeds the posts in time order; returns the number fed. */
static size_t
feed(struct pipeline *pl, struct seg_ctx *sc, struct discover *d,
    const struct config *cfg, const struct ruleset *rs, const char *buf,
    const struct line_at *v, size_t n)
{
	const char *topics[DISC_TOPICS];
	struct pipeline_result r;
	struct seg_result terms;
	struct disc_post dp;
	size_t i, k, fed = 0;

	for (i = 0; i < n; i++) {
		if (pipeline_process(pl, buf + v[i].off, v[i].len, -1, -1,
		    &r) != PIPELINE_OK)
			continue;
		(void)seg_text(sc, r.post.text, r.post.text_len, &terms);
		memset(&dp, 0, sizeof dp);
		dp.time_ms = v[i].time_ms;
		dp.terms = &terms;
		dp.author = post_field(&r.post, cfg->disc_author_field,
		    &dp.author_len);
		dp.text = r.post.text;
		dp.text_len = r.post.text_len;
		for (k = 0; k < r.match.ntopics && k < DISC_TOPICS; k++)
			topics[k] = rs->topics[r.match.topics[k].topic].id;
		dp.topics = topics;
		dp.ntopics = k;
		disc_add(d, &dp);
		fed++;
	}
	disc_finish(d);
	return fed;
}

int
disc_replay(const char *buf, size_t len, const struct config *cfg,
    const struct matcher *m, const struct normalizer *norm, int json)
{
	struct replay rp = { json, 0, { NULL, 0, 0 } };
	struct pipeline_opts popts;
	struct disc_opts o;
	struct seg_opts so;
	struct segmenter *seg = NULL;
	struct seg_ctx *sc = NULL;
	struct discover *d = NULL;
	struct pipeline *pl;
	struct line_at *v = NULL;
	char err[256];
	size_t n = 0, fed = 0;
	int rc = 1;

	memset(&popts, 0, sizeof popts);
	popts.mode = PIPELINE_FILE;
	popts.cfg = cfg;
	popts.m = m;
	if ((pl = pipeline_new(&popts, err, sizeof err)) == NULL)
		goto out;
	disc_replay_opts(cfg, &o, &so);
	if ((seg = seg_new(&so, norm, err, sizeof err)) == NULL ||
	    (d = disc_new(&o, print_story, &rp, err, sizeof err)) == NULL)
		goto out;
	sc = seg_ctx_new(seg);
	v = posts_by_time(pl, buf, len, &n);
	fed = feed(pl, sc, d, cfg, match_ruleset(m), buf, v, n);
	if (json)
		printf("{\"discovery\":{\"posts\":%zu,\"stories\":%zu,"
		    "\"memory\":%zu}}\n", fed, rp.stories, disc_memory(d));
	else
		printf("discovery: %zu stories over %zu posts (%zu bytes of "
		    "tables)\n", rp.stories, fed, disc_memory(d));
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "tidewatch backtest: %s\n", err);
	free(v);
	disc_free(d);
	seg_ctx_free(sc);
	seg_free(seg);
	pipeline_free(pl);
	jsonw_free(&rp.w);
	return rc;
}
