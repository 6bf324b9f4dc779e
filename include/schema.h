/*
 * schema.h — JSON Schemas (draft 2020-12) of rule files and of the config.
 *
 * Both are generated from the loaders' own key tables (the rule loader's
 * rkeys/akeys tables, config_table through config_key_doc()), so that an
 * editor checking a file with them knows every key the loader knows, with
 * its help and allowed values.  `tidewatch schema` prints them; make
 * installs them under share/tidewatch/.
 */
#ifndef TW_SCHEMA_H
#define TW_SCHEMA_H

#include <stddef.h>

/* The schema of rule files (schema_rules) or of the config file
 * (schema_config) as indented JSON text.  Returns it (the caller frees it
 * with free()), or NULL with the reason in errstr: a key of the loader's
 * tables this generator does not describe, or one it describes that the
 * loader no longer has. */
char	*schema_rules(char *errstr, size_t errsz);
char	*schema_config(char *errstr, size_t errsz);

#endif
