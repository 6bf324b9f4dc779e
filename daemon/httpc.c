/*
 * httpc.c — a minimal HTTP/1.0 GET client (httpc.h).
 *
 * DESIGN: getaddrinfo, one blocking socket with SO_SNDTIMEO/SO_RCVTIMEO
 * (which bound connect() too on Linux), "GET path HTTP/1.0", then read to
 * EOF (libmicrohttpd closes an HTTP/1.0 connection after the reply) up to
 * HTTPC_MAX_BODY bytes.  The status comes from the status line; headers are
 * skipped.  Used by the short-lived `health` and `reload` commands only,
 * single-threaded.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "httpc.h"
#include "xmalloc.h"

#define HTTPC_MAX_BODY	(1024 * 1024)

int
httpc_target(const char *listen, char *host, size_t hostsz, char *port,
    size_t portsz, char *err, size_t errsz)
{
	const char *colon;
	size_t hlen;

	if (listen == NULL || listen[0] == '\0') {
		snprintf(err, errsz, "metrics.listen is empty: the daemon has "
		    "no HTTP endpoint to ask");
		return -1;
	}
	colon = strrchr(listen, ':');
	if (colon == NULL || colon[1] == '\0' || strcmp(colon + 1, "0") == 0 ||
	    strlen(colon + 1) >= portsz) {
		snprintf(err, errsz, "'%s': expected host:port with a fixed port",
		    listen);
		return -1;
	}
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
		listen++;
		hlen -= 2;
	}
	if (hlen >= hostsz) {
		snprintf(err, errsz, "'%s': host name too long", listen);
		return -1;
	}
	snprintf(host, hostsz, "%.*s", (int)hlen, listen);
	snprintf(port, portsz, "%s", colon + 1);
	if (host[0] == '\0' || strcmp(host, "*") == 0 ||
	    strcmp(host, "0.0.0.0") == 0)
		snprintf(host, hostsz, "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, hostsz, "::1");
	return 0;
}

/* A socket connected to host:port, or -1 with the reason in err. */
static int
connect_to(const char *host, const char *port, int timeout_ms, char *err,
    size_t errsz)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv;
	int fd = -1, rc, saved = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsz, "%s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errsz, "cannot connect to %s:%s: %s", host, port,
		    strerror(saved == EINPROGRESS ? ETIMEDOUT : saved));
	return fd;
}

/* Sends all of buf.  Returns 0, or -1. */
static int
send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
httpc_get(const char *host, const char *port, const char *path,
    int timeout_ms, int *status, char **body, char *err, size_t errsz)
{
	char req[1024], *buf, *p;
	size_t len = 0, cap = 4096;
	ssize_t n;
	int fd;

	*body = NULL;
	if ((fd = connect_to(host, port, timeout_ms, err, errsz)) == -1)
		return -1;
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "User-Agent: tidewatch\r\n\r\n", path, host);
	if (send_all(fd, req, strlen(req)) == -1) {
		snprintf(err, errsz, "%s:%s: send: %s", host, port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	buf = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap >= HTTPC_MAX_BODY)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "%s:%s: no answer: %s", host, port,
			    errno == EAGAIN ? "timed out" : strerror(errno));
			close(fd);
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*c %d", status) != 1 ||
	    (p = strstr(buf, "\r\n\r\n")) == NULL) {
		snprintf(err, errsz, "%s:%s: not an HTTP answer", host, port);
		free(buf);
		return -1;
	}
	p += 4;
	memmove(buf, p, strlen(p) + 1);
	*body = buf;
	return 0;
}
