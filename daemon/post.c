/*
 * post.c — field look-up on a decoded post.
 *
 * Posts carry a handful of extra fields (those that where conditions and
 * count_by name), so a linear scan is the fastest look-up.
 */
#include <string.h>

#include "post.h"

const char *
post_field(const struct post *p, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < p->nfields; i++) {
		if (strcmp(p->fields[i].name, name) == 0) {
			if (p->fields[i].value == NULL)
				return NULL;
			if (len != NULL)
				*len = p->fields[i].len;
			return p->fields[i].value;
		}
	}
	return NULL;
}
