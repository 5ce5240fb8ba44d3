/*
 * Names as a caller says them: matching a service or a staff member's name
 * that a voice agent heard ("anna", "Zoë", "mani pedi") against the names an
 * organization has, without regard to case, accents or punctuation. Pure
 * computation over UTF-8 text; no allocation.
 *
 * The rule (docs/agents.md "Names"): both sides are folded — lower case,
 * accents and marks dropped (Latin-1 and Latin Extended-A: "ł" is "l", "ß" is
 * "ss", "æ" is "ae"), anything that is not a letter or a digit is a space,
 * runs of spaces are one. A name whose folded form equals the query's is an
 * exact match; exact matches are all that count when there is one. Otherwise
 * a name matches when every word of the query begins a word of the name, in
 * any order ("anna" matches "Anna Kowalska"; "kow" matches it too). One match
 * is the answer; several are candidates for the agent to ask about; none is
 * "not found".
 */
#ifndef SLOTD_AGENT_NAMES_H
#define SLOTD_AGENT_NAMES_H

#include <stddef.h>

/** Bytes a folded name may take (longer names are cut at a word). */
#define NAMES_FOLDED_MAX 256
/** Candidates kept for an ambiguous name. */
#define NAMES_MAX_CANDIDATES 8

/** Folds `text` into `out` (NAMES_FOLDED_MAX bytes); returns its length. Invalid UTF-8 bytes are
 *  spaces. */
size_t names_fold(const char *text, char *out);

typedef struct {
    size_t count;                         /**< how many names matched (may exceed the kept) */
    size_t matches[NAMES_MAX_CANDIDATES]; /**< indexes into the names, in their given order */
    size_t kept;                          /**< how many of `matches` are set */
    int exact;                            /**< 1 when the matches are exact ones */
} names_match_t;

/** Matches `query` against `count` names (already folded with names_fold). A query that folds
 *  to nothing matches nothing. */
void names_match(const char *query, const char *const *folded, size_t count, names_match_t *out);

#endif
