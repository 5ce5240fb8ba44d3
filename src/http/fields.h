/*
 * Decoding request bodies and query strings into the domain's types, and
 * what the route files share to answer. Each decoder answers 400 (with
 * details.field) itself and returns false when a value is not of its type, so
 * a handler reads as a list of decodings, then one domain call:
 *
 *     if (!http_field_text(ctx, body, "name", false, &input.name, &present)) return;
 *
 * The rules (lengths, ranges, what is required) are the domain's.
 */
#ifndef SLOTD_HTTP_FIELDS_H
#define SLOTD_HTTP_FIELDS_H

#include <stdbool.h>

#include "domain/domain.h"
#include "http/server.h"
#include "store/operation.h"

/** Refuses any key of `object` not in the NULL-terminated `allowed` list. */
bool http_fields_known(http_ctx_t *ctx, const json_t *object, const char *const *allowed);

/** A JSON object body, or 400. */
bool http_body_object(http_ctx_t *ctx);

/** true/false. */
bool http_field_bool(http_ctx_t *ctx, const json_t *object, const char *name, bool *out,
                     bool *present);

/** A UUID (canonical text into text37), possibly null. */
bool http_field_uuid(http_ctx_t *ctx, const json_t *object, const char *name, bool nullable,
                     char *text37, bool *present, bool *is_null);

/** A WEEK object, normalized into compact JSON text (caller frees *text). */
bool http_field_week(http_ctx_t *ctx, const json_t *object, const char *name, bool required,
                     bool nullable, char **text, bool *present);

/** A list of local dates (at most 1000) as a PostgreSQL date[] literal (caller frees *literal). */
bool http_field_dates(http_ctx_t *ctx, const json_t *object, const char *name, char **literal,
                      bool *present);

/** Text, with no limit of its own (the domain checks lengths); null allowed when nullable. */
bool http_field_text(http_ctx_t *ctx, const json_t *object, const char *name, bool nullable,
                     const char **out, bool *present);

/** An integer in min..max; absent or null (when nullable) leaves *out and sets *is_null. */
bool http_field_int(http_ctx_t *ctx, const json_t *object, const char *name, long long min,
                    long long max, bool required, bool nullable, long long *out, bool *present,
                    bool *is_null);

/** An IANA zone name, possibly null. */
bool http_field_zone(http_ctx_t *ctx, const json_t *object, const char *name, bool nullable,
                     const char **out, bool *present);

/** A WEEK object into *week; null (when nullable) sets *is_null. */
bool http_field_week_value(http_ctx_t *ctx, const json_t *object, const char *name, bool nullable,
                           eng_week_t *week, bool *present, bool *is_null);

/** A list of dates (YYYY-MM-DD) into *days (caller frees; NULL when absent). */
bool http_field_day_list(http_ctx_t *ctx, const json_t *object, const char *name, int32_t **days,
                         size_t *count, bool *present);

/** How a value was received, for the domain (domain_given_t): absent, null, or `typed` (of
 *  the field's type) or not. */
domain_given_t http_received(const json_t *value, bool typed);

/** A string holding no NUL: the only text the domain takes. */
bool http_is_text(const json_t *value);

/** The field `name` of `object` as a text as received. */
domain_text_t http_text_of(const json_t *object, const char *name);

/** The field `name` of `object` as a whole number as received. */
domain_whole_t http_whole_of(const json_t *object, const char *name);

/** Answers a refusal of the domain layer (400 naming the field, or 503: details.setting names
 *  a missing setting). */
void http_respond_domain_error(http_ctx_t *ctx, const domain_error_t *error);

/** Answers a STORE_E* error: 404 naming `what`, 409, 503 or 500. */
void http_respond_store_error(http_ctx_t *ctx, int error, const char *what);

/** A nullable text as JSON: a string, or null. */
json_t *http_json_text(const char *text);

/** UTC seconds as an RFC 3339 instant in the zone named `zone_name` (UTC when unknown). */
json_t *http_json_instant(const char *zone_name, int64_t instant);

/** `body`; or, when it is NULL (it could not be rendered), answers 500 and returns NULL. */
json_t *http_rendered(http_ctx_t *ctx, json_t *body, const char *what);

/** Waits for a typed store `operation` (cancelled if the request ends), or answers the
 *  domain's refusal in `error` when `operation` is NULL. */
void http_await(http_ctx_t *ctx, store_operation_t *operation, const domain_error_t *error);

/** Answers a list page {"items","next_cursor"}: `items` (stolen; NULL: 500), and the cursor
 *  `next` (the page's last id) when another page follows. */
void http_respond_items(http_ctx_t *ctx, json_t *items, const eng_id_t *next, const char *what);

/** ?limit= (default 100, 1..1000) and ?cursor= (a UUID or absent). */
bool http_list_params(http_ctx_t *ctx, int *limit, char *cursor37, bool *has_cursor);

/** http_list_params with the cursor as an id: *cursor points to `after`, or is NULL when no
 *  cursor was given. */
bool http_list_page(http_ctx_t *ctx, int *limit, eng_id_t *after, const eng_id_t **cursor);

/** Starts a route's domain list call for a page: `cursor` NULL for the first page. */
typedef store_operation_t *(*http_page_start_fn)(http_ctx_t *ctx, const eng_id_t *cursor, int limit,
                                                 domain_error_t *error);

/** GET of a collection through the domain: reads ?limit= and ?cursor= (http_list_page), then
 *  awaits what `start` starts (http_await). */
void http_await_page(http_ctx_t *ctx, http_page_start_fn start);

/** The path parameter `index` as a UUID; answers 404 (`what`) when it is not one. */
bool http_path_id(http_ctx_t *ctx, int index, const char *what, char *text37, eng_id_t *id);

#endif
