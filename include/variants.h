/*
 * variants.h — traditional spellings of literal keywords, found with
 * OpenCC's phrase tables when a rule set is compiled.
 *
 * Posts are folded to simplified Chinese one character at a time
 * (normalize.h), which cannot know that 一目了然 is written 一目瞭然 or 抵触
 * 牴觸: 瞭 and 牴 stay as they are.  variants_build() converts the literal
 * keywords of a rule set with OpenCC (s2tw and s2hk, phrase by phrase) and
 * keeps each result that folds to something other than the keyword itself,
 * so the matcher can add it as another literal of the same keyword.  Only
 * conversions that bring in a character everyday simplified text does not
 * use are kept (variants.c explains why): 家具 → 傢俱 folds to 家俱, which
 * simplified text holds in 皇家俱乐部, and is not a variant.
 *
 * A struct variants is built by one thread and then only read; it borrows
 * nothing from the rule set, and the caller frees it with variants_free().
 */
#ifndef TW_VARIANTS_H
#define TW_VARIANTS_H

#include <stddef.h>

struct normalizer;
struct ruleset;
struct variants;

/* Counters of one build, for measurements and tests. */
struct variants_stats {
	size_t	candidates;	/* literal keywords that could have a variant */
	size_t	converted;	/* distinct texts sent through OpenCC (those
				 * the previous build did not convert) */
	size_t	keywords;	/* keywords with at least one variant */
	size_t	variants;	/* variant texts kept (distinct per keyword) */
};

/*
 * The variants of every literal keyword of rs (regex keywords are left
 * alone), folded with norm.  With norm's t2s option off the result is
 * empty and OpenCC is not opened.  Returns NULL with the reason in errstr
 * when OpenCC's data cannot be opened or a conversion fails.
 */
struct variants *variants_build(const struct ruleset *rs,
    const struct normalizer *norm, char *errstr, size_t errstr_size);

/*
 * The variant spellings of keyword ki of topic ti, as UTF-8 texts to fold
 * like the keyword (*texts points at n of them, owned by v).  Returns n,
 * 0 when the keyword has none (v may be NULL).
 */
size_t variants_of(const struct variants *v, size_t ti, size_t ki,
    const char *const **texts);

/*
 * The i-th keyword that has variants, in order of topic and keyword: its
 * topic in *ti, its keyword in *ki and its texts as variants_of() gives
 * them.  Returns their number, 0 when i is past the last such keyword.
 */
size_t variants_at(const struct variants *v, size_t i, size_t *ti,
    size_t *ki, const char *const **texts);

void variants_get_stats(const struct variants *v, struct variants_stats *st);
void variants_free(struct variants *v);

#endif
