/*
 * webhook-sink — a webhook receiver for tests: Alertmanager's notifications
 * written down as they arrive.
 *
 *   webhook-sink [-a AUTHFILE] PORT FILE
 *
 * Listens on 127.0.0.1:PORT (libmicrohttpd, one thread) and appends the
 * body of every POST to FILE as one line (its newlines turned into
 * spaces), flushed at once, then answers 200; a request with an
 * Authorization header has it written on a line of its own before
 * ("Authorization: Bearer …").  Anything else gets 405.  Runs until
 * killed.  It also stands in for an Alertmanager, to see what is posted,
 * and with -a for one behind a proxy that checks credentials (Alertmanager
 * checks none itself): a POST whose Authorization header is not exactly
 * the first line of AUTHFILE (read at each request, so a test can change
 * it) gets 401, and only "refused Authorization: <header or none>" is
 * written for it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

struct body {
	char	*p;
	size_t	 n;
};

static FILE *out;
static const char *authfile;	/* NULL: no check */

/* Whether the request carries the credentials AUTHFILE holds now. */
static int
auth_ok(const char *auth)
{
	char want[1024];
	FILE *fp;

	if (authfile == NULL)
		return 1;
	if ((fp = fopen(authfile, "r")) == NULL)
		return 0;
	if (fgets(want, sizeof want, fp) == NULL)
		want[0] = '\0';
	fclose(fp);
	want[strcspn(want, "\r\n")] = '\0';
	return auth != NULL && strcmp(auth, want) == 0;
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned int status)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
serve(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **state)
{
	struct body *b = *state;
	const char *auth;
	size_t i;

	(void)cls, (void)url, (void)version;
	if (strcmp(method, "POST") != 0)
		return answer(conn, 405);
	if (b == NULL) {
		*state = calloc(1, sizeof *b);
		return *state != NULL ? MHD_YES : MHD_NO;
	}
	if (*size > 0) {
		char *p = realloc(b->p, b->n + *size + 1);

		if (p == NULL)
			return MHD_NO;
		b->p = p;
		memcpy(b->p + b->n, data, *size);
		b->n += *size;
		*size = 0;
		return MHD_YES;
	}
	for (i = 0; i < b->n; i++)
		if (b->p[i] == '\n' || b->p[i] == '\r')
			b->p[i] = ' ';
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (!auth_ok(auth)) {
		fprintf(out, "refused Authorization: %s\n",
		    auth != NULL ? auth : "none");
		fflush(out);
		return answer(conn, 401);
	}
	if (auth != NULL)
		fprintf(out, "Authorization: %s\n", auth);
	fprintf(out, "%.*s\n", (int)b->n, b->p != NULL ? b->p : "");
	fflush(out);
	return answer(conn, 200);
}

static void
done(void *cls, struct MHD_Connection *conn, void **state,
    enum MHD_RequestTerminationCode code)
{
	struct body *b = *state;

	(void)cls, (void)conn, (void)code;
	if (b != NULL) {
		free(b->p);
		free(b);
	}
	*state = NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;

	if (argc == 5 && strcmp(argv[1], "-a") == 0) {
		authfile = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: webhook-sink [-a AUTHFILE] PORT FILE\n");
		return 2;
	}
	if ((out = fopen(argv[2], "a")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    serve, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	    MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "webhook-sink: cannot listen on 127.0.0.1:%s\n",
		    argv[1]);
		return 1;
	}
	for (;;)
		pause();
}
