/*
 * store_conn.c — opening a Redis connection, and telling why one failed.
 *
 * DESIGN: store_conn_dial() is the one place a connection is made: it
 * parses the address (host:port, [v6]:port, host, unix:/path), connects
 * with the timeout, sets the same timeout on every reply, authenticates
 * (AUTH password, or AUTH user password for an ACL user) and selects the
 * database.  Every failure, there or in a later command, is sorted into a
 * store_fault by store_fault_of_reply(): a refused or timed-out connection
 * and a server that is loading or failing over are transient (retry), a
 * refused password, an ACL denial and a database that does not exist are
 * permanent (retrying cannot help; the daemon does not start).  With
 * Sentinel, every connection asks the sentinels in turn for the master of
 * redis.master_name (SENTINEL get-master-addr-by-name) and checks with ROLE
 * that the server it reached is a master: after a failover the next
 * connection goes to the new master, and a demoted one answering READONLY
 * is left (store.c drops the connection on that fault).  Pure functions
 * and blocking connects on the caller's thread; no state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "store.h"
#include "store_int.h"

static const struct {
	const char		*prefix;
	enum store_fault	 fault;
} REPLY_FAULTS[] = {
	{ "NOAUTH",		STORE_FAULT_AUTH },
	{ "WRONGPASS",		STORE_FAULT_AUTH },
	{ "ERR invalid password", STORE_FAULT_AUTH },
	{ "ERR invalid username-password", STORE_FAULT_AUTH },
	{ "ERR Client sent AUTH", STORE_FAULT_AUTH },
	{ "ERR AUTH",		STORE_FAULT_AUTH },
	{ "NOPERM",		STORE_FAULT_NOPERM },
	{ "ERR DB index",	STORE_FAULT_DATABASE },
	{ "ERR invalid DB index", STORE_FAULT_DATABASE },
	{ "LOADING",		STORE_FAULT_UNAVAILABLE },
	{ "BUSY",		STORE_FAULT_UNAVAILABLE },
	{ "MASTERDOWN",		STORE_FAULT_UNAVAILABLE },
	{ "READONLY",		STORE_FAULT_UNAVAILABLE },
	{ "TRYAGAIN",		STORE_FAULT_UNAVAILABLE },
	{ "OOM",		STORE_FAULT_UNAVAILABLE },
};

enum store_fault
store_fault_of_reply(const char *reply)
{
	size_t i;

	if (reply == NULL)
		return STORE_FAULT_ERROR;
	for (i = 0; i < sizeof REPLY_FAULTS / sizeof REPLY_FAULTS[0]; i++)
		if (strncmp(reply, REPLY_FAULTS[i].prefix,
		    strlen(REPLY_FAULTS[i].prefix)) == 0)
			return REPLY_FAULTS[i].fault;
	return STORE_FAULT_ERROR;
}

const char *
store_fault_name(enum store_fault f)
{
	switch (f) {
	case STORE_FAULT_NONE:		return "ok";
	case STORE_FAULT_UNREACHABLE:	return "unreachable";
	case STORE_FAULT_UNAVAILABLE:	return "not serving";
	case STORE_FAULT_AUTH:		return "authentication failed";
	case STORE_FAULT_NOPERM:	return "permission denied";
	case STORE_FAULT_DATABASE:	return "no such database";
	case STORE_FAULT_LAYOUT:	return "counters of another layout";
	case STORE_FAULT_ERROR:		return "error";
	}
	return "error";
}

bool
store_fault_permanent(enum store_fault f)
{
	return f == STORE_FAULT_AUTH || f == STORE_FAULT_NOPERM ||
	    f == STORE_FAULT_DATABASE || f == STORE_FAULT_LAYOUT;
}

static redisContext *
connect_address(const char *address, struct timeval tv)
{
	char host[256];
	const char *colon;
	int port = 6379;
	size_t n;

	if (strncmp(address, "unix:", 5) == 0)
		return redisConnectUnixWithTimeout(address + 5, tv);
	colon = strrchr(address, ':');
	if (colon != NULL) {
		snprintf(host, sizeof host, "%.*s", (int)(colon - address),
		    address);
		port = atoi(colon + 1);
	} else
		snprintf(host, sizeof host, "%s", address);
	n = strlen(host);	/* [::1]:6379 */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	return redisConnectWithTimeout(host, port, tv);
}

/* Runs one set-up command (AUTH, SELECT); 0, or -1 with *fault and err
 * set (what names the command, never its arguments: they hold the
 * password). */
static int
setup_command(redisContext *c, const char *address, const char *what,
    int argc, const char **argv, enum store_fault *fault, char *err,
    size_t errsz)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r != NULL && r->type != REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return 0;
	}
	if (r == NULL)
		*fault = STORE_FAULT_UNREACHABLE;
	else {
		*fault = store_fault_of_reply(r->str);
		/* any refusal of AUTH itself is a refused password */
		if (strcmp(what, "AUTH") == 0 && *fault == STORE_FAULT_ERROR)
			*fault = STORE_FAULT_AUTH;
	}
	snprintf(err, errsz, "redis %s: %s: %s", address, what,
	    r != NULL ? r->str : c->errstr);
	if (r != NULL)
		freeReplyObject(r);
	return -1;
}

/* Asks one sentinel for the master's address into buf ("ip:port");
 * 0, or -1 with err set. */
static int
ask_sentinel(const char *sentinel, const char *name, struct timeval tv,
    char *buf, size_t sz, char *err, size_t errsz)
{
	const char *argv[3] = { "SENTINEL", "get-master-addr-by-name", name };
	redisContext *c = connect_address(sentinel, tv);
	redisReply *r = NULL;
	int rc = -1;

	if (c == NULL || c->err) {
		snprintf(err, errsz, "sentinel %s: %s", sentinel,
		    c != NULL ? c->errstr : "cannot allocate a context");
		goto out;
	}
	redisSetTimeout(c, tv);
	if ((r = redisCommandArgv(c, 3, argv, NULL)) == NULL)
		snprintf(err, errsz, "sentinel %s: %s", sentinel, c->errstr);
	else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->str != NULL && r->element[1]->str != NULL) {
		snprintf(buf, sz, strchr(r->element[0]->str, ':') != NULL ?
		    "[%s]:%s" : "%s:%s", r->element[0]->str,
		    r->element[1]->str);
		rc = 0;
	} else
		snprintf(err, errsz, "sentinel %s: no master named %s%s%s",
		    sentinel, name, r->type == REDIS_REPLY_ERROR ? ": " : "",
		    r->type == REDIS_REPLY_ERROR ? r->str : "");
out:
	if (r != NULL)
		freeReplyObject(r);
	if (c != NULL)
		redisFree(c);
	return rc;
}

/* Whether the server of c is a master (ROLE); 0, or -1 with err set. */
static int
check_master(redisContext *c, const char *address, char *err, size_t errsz)
{
	const char *argv[1] = { "ROLE" };
	redisReply *r = redisCommandArgv(c, 1, argv, NULL);
	int rc = -1;

	if (r == NULL)
		snprintf(err, errsz, "redis %s: ROLE: %s", address, c->errstr);
	else if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->str != NULL &&
	    strcmp(r->element[0]->str, "master") == 0)
		rc = 0;
	else
		snprintf(err, errsz, "redis %s: not a master (%s); the "
		    "sentinels have not seen the failover yet", address,
		    r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->str != NULL ? r->element[0]->str :
		    r->type == REDIS_REPLY_ERROR ? r->str : "no role");
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/* Connects to the master the sentinels name (the first that answers),
 * authenticated, and checks it is one. */
static redisContext *
dial_via_sentinels(const struct store_dial_conf *dc, enum store_fault *fault,
    struct timeval tv, char *err, size_t errsz)
{
	struct store_dial_conf direct = *dc;
	char master[300];
	redisContext *c;
	size_t i;

	*fault = STORE_FAULT_UNREACHABLE;
	snprintf(err, errsz, "no sentinel configured");
	for (i = 0; i < dc->nsentinels; i++)
		if (ask_sentinel(dc->sentinels[i], dc->master_name, tv, master,
		    sizeof master, err, errsz) == 0)
			break;
	if (i == dc->nsentinels)
		return NULL;
	direct.address = master;
	direct.nsentinels = 0;
	if ((c = store_conn_dial(&direct, fault, err, errsz)) == NULL)
		return NULL;
	if (check_master(c, master, err, errsz) == -1) {
		*fault = STORE_FAULT_UNAVAILABLE;
		redisFree(c);
		return NULL;
	}
	return c;
}

redisContext *
store_conn_dial(const struct store_dial_conf *dc, enum store_fault *fault,
    char *err, size_t errsz)
{
	int64_t timeout_ms = dc->timeout_ms > 0 ? dc->timeout_ms :
	    STORE_TIMEOUT_MS;
	struct timeval tv;
	redisContext *c;
	const char *argv[3];
	char db[24];
	int argc = 0;

	*fault = STORE_FAULT_NONE;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (dc->nsentinels > 0)
		return dial_via_sentinels(dc, fault, tv, err, errsz);
	c = connect_address(dc->address, tv);
	if (c == NULL || c->err) {
		*fault = STORE_FAULT_UNREACHABLE;
		snprintf(err, errsz, "redis %s: %s", dc->address,
		    c != NULL ? c->errstr : "cannot allocate a context");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if ((dc->password != NULL && dc->password[0] != '\0') ||
	    (dc->username != NULL && dc->username[0] != '\0')) {
		argv[argc++] = "AUTH";
		if (dc->username != NULL && dc->username[0] != '\0')
			argv[argc++] = dc->username;
		argv[argc++] = dc->password != NULL ? dc->password : "";
		if (setup_command(c, dc->address, "AUTH", argc, argv, fault,
		    err, errsz) == -1)
			goto fail;
	}
	if (dc->database != 0) {
		snprintf(db, sizeof db, "%lld", (long long)dc->database);
		argv[0] = "SELECT";
		argv[1] = db;
		if (setup_command(c, dc->address, "SELECT", 2, argv, fault,
		    err, errsz) == -1)
			goto fail;
	}
	return c;
fail:
	redisFree(c);
	return NULL;
}
