/*
 * httpc.h — a minimal HTTP/1.0 GET client for the daemon's own endpoint.
 *
 * `tidewatch health` and `tidewatch reload` ask the running daemon through
 * its metrics listener (metrics.listen) without curl, which slim container
 * images lack.  Blocking, one request per connection, bounded by a timeout
 * and a body limit; for loopback use, no TLS, no redirects.
 */
#ifndef TW_HTTPC_H
#define TW_HTTPC_H

#include <stddef.h>

/* The address to connect to for a listen address "host:port" (as
 * metrics.listen takes it): a wildcard host ("", "*", 0.0.0.0, [::])
 * becomes the loopback address of its family.  Returns 0, or -1 with the
 * reason in err (no port, port 0, empty listen). */
int httpc_target(const char *listen, char *host, size_t hostsz, char *port,
    size_t portsz, char *err, size_t errsz);

/* GET path from host:port.  Returns 0 with the HTTP status in *status and
 * the body in *body (NUL-terminated; caller frees), or -1 with the reason
 * in err (cannot connect, timeout, not HTTP). */
int httpc_get(const char *host, const char *port, const char *path,
    int timeout_ms, int *status, char **body, char *err, size_t errsz);

#endif
