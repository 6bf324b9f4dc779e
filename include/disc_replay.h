/*
 * disc_replay.h — discovery replayed over a file of posts, for
 * `tidewatch backtest --discover`, and the config → engine options that a
 * daemon's discovery uses too.
 */
#ifndef TW_DISC_REPLAY_H
#define TW_DISC_REPLAY_H

#include <stddef.h>

#include "config.h"
#include "discover.h"
#include "matcher.h"
#include "normalize.h"
#include "segment.h"

/* The engine's and the segmenter's options from the discovery.* keys (the
 * strings stay c's). */
void disc_replay_opts(const struct config *c, struct disc_opts *o,
    struct seg_opts *so);

/* Replays the JSON lines of buf[0, len) through the pipeline of cfg and m
 * (m and norm borrowed), in the posts' time order, into one discovery
 * engine, and prints each story as it forms (its JSON with json, else a
 * line) and a summary.  Returns 0, or 1 with the reason on stderr (no
 * dictionary, memory too small). */
int disc_replay(const char *buf, size_t len, const struct config *cfg,
    const struct matcher *m, const struct normalizer *norm, int json);

#endif
