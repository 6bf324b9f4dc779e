/*
 * reloadst.h — the outcome of the daemon's reloads, for `tidewatch reload`.
 *
 * The main thread numbers each reload request (SIGHUP) and records the
 * outcome of the reload that covered it; the HTTP thread answers GET
 * /reload-status with the latest, so a client that sent SIGHUP can wait for
 * the result of its own request.  Also the last successful load's time,
 * for the tidewatch_rules_last_reload_success_timestamp_seconds metric.
 */
#ifndef TW_RELOADST_H
#define TW_RELOADST_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

/* A reload was asked for: returns its number (1, 2, …). */
uint64_t reloadst_request(void);
/* The latest request number so far (0: none). */
uint64_t reloadst_requested(void);
/* A reload covering every request up to upto finished: ok, or failed with
 * errs (copied; NULL: none).  upto 0 records the load at start-up. */
void reloadst_done(uint64_t upto, bool ok, const struct diag *errs);
/* Wall-clock ms of the last successful load (0: none yet). */
int64_t reloadst_last_success_ms(void);
/* The /reload-status text (caller frees):
 *   pid N / requested N / done N / result ok|failed|none / then one
 *   "error: …" line per error of the last reload. */
char *reloadst_render(void);

#endif
