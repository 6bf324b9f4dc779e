/*
 * pipeline.c — one post: decode → post time → clock checks → match →
 * count.
 *
 * DESIGN: the one place that turns the config and a rule set into decoder
 * options, and the one per-post path the daemon's consumer threads,
 * `backtest`'s workers and `match` share.  pipeline_new() reads the config
 * once; pipeline_process() then takes message bytes (plus the Kafka
 * timestamp and the arrival clock its caller knows) and returns a struct
 * pipeline_result: nothing is logged, counted in a metric or reported here,
 * so each caller handles rejects its own way (dead-letter stream, error
 * list, JSON line).  A post is counted under "_all" and, when it matched,
 * under each of its topics, in the bucket of the second its time falls in
 * (rounded down, also before 1970); a matched post also adds its author
 * (input.author_field, decoded as the post field "_author") and its text
 * key (textkey.c, from the text the matcher normalised) to its topics'
 * distinct counts.  A pipeline owns its decoder and match
 * context and is used by one thread; the matcher and the aggregate are
 * borrowed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"
#include "textkey.h"
#include "xmalloc.h"

/* The post field the author is decoded as. */
#define AUTHOR_FIELD	"_author"

struct pipeline {
	enum pipeline_mode	 mode;
	enum time_source	 time_source;
	int64_t			 max_future_ms;
	int64_t			 retention_ms;
	const struct ruleset	*rs;
	struct decoder		*dec;
	struct match_ctx	*ctx;
	struct agg		*agg;
	struct pipeline_timing	*timing;
	struct textkey_params	 tk;
	struct textkey_scratch	 tks;
	const char		*no_time;	/* detail of PIPELINE_NO_TIME */
	char			 detail[256];
};

/* A file has no arrival times, and a plain text line carries no time of
 * its own. */
int
pipeline_check(const struct pipeline_opts *o, char *errstr, size_t errsz)
{
	const struct config *cfg = o->cfg;

	if (o->mode != PIPELINE_FILE)
		return 0;
	if (cfg->time_source == TIME_ARRIVAL) {
		snprintf(errstr, errsz, "input.time is arrival, but the posts of "
		    "a file have no arrival time: set input.time to post "
		    "(each post's %s field) to replay them", cfg->field_time);
		return -1;
	}
	if (o->text_lines || cfg->input_format == INPUT_TEXT) {
		snprintf(errstr, errsz, "input.format is text, but plain text "
		    "lines carry no time to replay them at: use JSON lines with "
		    "a %s field and input.format json", cfg->field_time);
		return -1;
	}
	return 0;
}

struct pipeline *
pipeline_new(const struct pipeline_opts *o, char *errstr, size_t errsz)
{
	const struct config *cfg = o->cfg;
	struct decoder_opts dopts;
	const char **names, **paths;
	struct pipeline *pl;
	size_t n;

	if (pipeline_check(o, errstr, errsz) == -1)
		return NULL;
	pl = xcalloc(1, sizeof *pl);
	pl->mode = o->mode;
	pl->time_source = cfg->time_source;
	pl->max_future_ms = cfg->max_future_s * 1000;
	pl->retention_ms = cfg->retention_s * 1000;
	pl->rs = match_ruleset(o->m);
	pl->agg = o->mode == PIPELINE_MATCH ? NULL : o->agg;
	if (pl->agg != NULL)
		agg_forget_rules(pl->agg);	/* pl->rs may be new */
	pl->timing = o->timing;
	pl->no_time = cfg->time_source == TIME_KAFKA ?
	    "the post has no time (a file has no Kafka timestamps: with "
	    "input.time kafka each post's own time field is read)" :
	    "the post has no time";

	decoder_rule_fields(pl->rs, cfg->field_map, cfg->field_nmap, &names,
	    &paths, &n);
	if (cfg->field_author != NULL && cfg->field_author[0] != '\0') {
		names = xrealloc(names, (n + 1) * sizeof *names);
		paths = xrealloc(paths, (n + 1) * sizeof *paths);
		names[n] = AUTHOR_FIELD;
		paths[n++] = cfg->field_author;
	}
	textkey_params_default(&pl->tk);
	memset(&dopts, 0, sizeof dopts);
	dopts.format = o->text_lines || cfg->input_format == INPUT_TEXT ?
	    DEC_FORMAT_TEXT : DEC_FORMAT_JSON;
	dopts.id_field = cfg->field_id;
	dopts.text_field = o->text_field != NULL ? o->text_field :
	    cfg->field_text;
	/* the time field is read when it decides the post's time: a file's
	 * posts are always placed at their own time */
	if (o->mode == PIPELINE_FILE ||
	    (o->mode == PIPELINE_STREAM && cfg->time_source == TIME_POST))
		dopts.time_field = cfg->field_time;
	dopts.fields = names;
	dopts.field_paths = paths;
	dopts.nfields = n;
	dopts.max_bytes = (size_t)cfg->max_post_bytes;
	pl->dec = decoder_new(&dopts);
	free(names);
	free(paths);
	pl->ctx = match_ctx_new(o->m);
	return pl;
}

void
pipeline_free(struct pipeline *pl)
{
	if (pl == NULL)
		return;
	decoder_free(pl->dec);
	match_ctx_free(pl->ctx);
	textkey_scratch_free(&pl->tks);
	free(pl);
}

int64_t
pipeline_second(int64_t ms)
{
	return ms / 1000 - (ms < 0 && ms % 1000 != 0 ? 1 : 0);
}

static double
clock_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum pipeline_status
refuse(struct pipeline_result *r, int reason, const char *detail)
{
	r->reason = reason;
	r->detail = detail;
	return r->status = PIPELINE_REJECTED;
}

/* The post's time in a stream, per input.time (see pipeline.h). */
static int64_t
stream_time(const struct pipeline *pl, const struct post *p, int64_t kafka_ms,
    int64_t now_ms)
{
	if (pl->time_source == TIME_ARRIVAL)
		return now_ms;
	if (pl->time_source == TIME_POST && p->time_ms >= 0)
		return p->time_ms;
	return kafka_ms >= 0 ? kafka_ms : now_ms;
}

/* The post's author and text key into its topics' distinct counts. */
static void
add_distinct(struct pipeline *pl, const struct post *p, int64_t t,
    const struct match_result *res)
{
	struct agg_keys k;
	const char *au;
	size_t aulen;

	au = post_field(p, AUTHOR_FIELD, &aulen);
	k.has_author = au != NULL && aulen > 0;
	k.author = k.has_author ? textkey_hash(au, aulen) : 0;
	k.text = textkey_of(&pl->tk, p->text, p->text_len,
	    match_normalized(pl->ctx), &pl->tks);
	agg_add_distinct(pl->agg, pl->rs, t, res, &k);
}

enum pipeline_status
pipeline_process(struct pipeline *pl, const char *buf, size_t len,
    int64_t kafka_ms, int64_t now_ms, struct pipeline_result *r)
{
	enum dec_result dr;
	double t0 = 0, t1 = 0, t2 = 0;
	int64_t t = -1, s;

	r->decoded = 0;
	r->detail = "";
	r->time_ms = -1;
	if (pl->timing != NULL)
		t0 = clock_s();
	dr = decoder_decode(pl->dec, buf, len, &r->post, pl->detail,
	    sizeof pl->detail);
	if (pl->timing != NULL)
		pl->timing->decode += (t1 = clock_s()) - t0;
	if (dr != DEC_OK)
		return refuse(r, dr, pl->detail);
	r->decoded = 1;
	if (pl->mode == PIPELINE_STREAM) {
		t = r->time_ms = stream_time(pl, &r->post, kafka_ms, now_ms);
		if (t > now_ms + pl->max_future_ms)
			return refuse(r, PIPELINE_REJ_FUTURE,
			    "post time too far in the future");
		if (t < now_ms - pl->retention_ms)
			return r->status = PIPELINE_LATE;
	} else if (pl->mode == PIPELINE_FILE) {
		if ((t = r->time_ms = r->post.time_ms) < 0) {
			r->detail = pl->no_time;
			return r->status = PIPELINE_NO_TIME;
		}
	}
	if (match_post(pl->ctx, &r->post, &r->match) == -1)
		return refuse(r, DEC_NOT_UTF8, "invalid UTF-8");
	if (pl->timing != NULL)
		pl->timing->match += (t2 = clock_s()) - t1;
	if (pl->agg != NULL) {
		s = pipeline_second(t);
		agg_add_total(pl->agg, s);
		if (r->match.ntopics > 0) {
			agg_add(pl->agg, pl->rs, &r->post, t, &r->match);
			add_distinct(pl, &r->post, t, &r->match);
		}
		if (pl->timing != NULL)
			pl->timing->count += clock_s() - t2;
	}
	return r->status = PIPELINE_OK;
}
