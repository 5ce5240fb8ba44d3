/*
 * The API's routes and their handlers, one file per resource:
 * routes_organization.c, ...
 */
#ifndef SLOTD_HTTP_ROUTES_H
#define SLOTD_HTTP_ROUTES_H

#include "http/server.h"

extern const http_route_t http_api_routes[];
extern const size_t http_api_route_count;

void http_organization_get(http_ctx_t *ctx);
void http_organization_patch(http_ctx_t *ctx);
void http_locations_create(http_ctx_t *ctx);
void http_locations_list(http_ctx_t *ctx);
void http_locations_get(http_ctx_t *ctx);
void http_locations_patch(http_ctx_t *ctx);
void http_locations_delete(http_ctx_t *ctx);
void http_resources_create(http_ctx_t *ctx);
void http_resources_list(http_ctx_t *ctx);
void http_resources_get(http_ctx_t *ctx);
void http_resources_patch(http_ctx_t *ctx);
void http_resources_delete(http_ctx_t *ctx);
void http_overrides_list(http_ctx_t *ctx);
void http_overrides_put(http_ctx_t *ctx);
void http_overrides_delete(http_ctx_t *ctx);
void http_blocks_create(http_ctx_t *ctx);
void http_blocks_list(http_ctx_t *ctx);
void http_blocks_delete(http_ctx_t *ctx);
void http_services_create(http_ctx_t *ctx);
void http_services_list(http_ctx_t *ctx);
void http_services_get(http_ctx_t *ctx);
void http_services_patch(http_ctx_t *ctx);
void http_services_delete(http_ctx_t *ctx);
void http_slots_get(http_ctx_t *ctx);
void http_api_keys_create(http_ctx_t *ctx);
void http_api_keys_list(http_ctx_t *ctx);
void http_api_keys_get(http_ctx_t *ctx);
void http_api_keys_revoke(http_ctx_t *ctx);
void http_bookings_create(http_ctx_t *ctx);
void http_bookings_get(http_ctx_t *ctx);
void http_bookings_cancel(http_ctx_t *ctx);
void http_bookings_patch(http_ctx_t *ctx);
void http_bookings_reschedule(http_ctx_t *ctx);
void http_bookings_list(http_ctx_t *ctx);
void http_bookings_history(http_ctx_t *ctx);
void http_customers_list(http_ctx_t *ctx);
void http_customers_get(http_ctx_t *ctx);
void http_customers_bookings(http_ctx_t *ctx);
void http_holds_create(http_ctx_t *ctx);
void http_holds_release(http_ctx_t *ctx);

/* shared by the route files */

/** A nullable text column: a JSON string, or null. */
json_t *http_text_column(const PGresult *res, int row, int col);

/** A nullable integer column: a JSON integer, or null. */
json_t *http_integer_column(const PGresult *res, int row, int col);

/** A column of JSON text, parsed; `fallback` (stolen) when it is null or unparsable. */
json_t *http_json_column(const PGresult *res, int row, int col, json_t *fallback);

/** An epoch-seconds column rendered as RFC 3339 in the zone named by another column. */
json_t *http_instant_column(const PGresult *res, int row, int col, int zone_col);

/** Answers a list page: {"items","next_cursor"}; rows past `limit` mean another page,
 *  whose cursor is column 0 of the last item. */
void http_respond_page(http_ctx_t *ctx, const PGresult *res, int limit,
                       json_t *(*item)(const PGresult *, int));

/** Renders one row of a result as the API's JSON object. */
typedef json_t *(*http_row_fn)(const PGresult *res, int row);

/** What list and get handlers keep between their query and its answer. */
typedef struct {
    int limit;
    const char *what;
    http_row_fn item;
} route_state_t;

/** GET of a collection: ?limit=&cursor=, `statement` ($1 organization, $2 cursor, $3 limit + 1). */
void http_route_list(http_ctx_t *ctx, const char *statement, http_row_fn item);

/** GET of one object: the path's id, `statement` ($1 organization, $2 id); 404 names `what`. */
void http_route_get(http_ctx_t *ctx, const char *what, const char *statement, http_row_fn item);

/**
 * True when a query's answer is one row; otherwise answers the request itself (the
 * database error, or 404 naming `what`) and returns false.
 */
/**
 * The query parameter `name` as a window bound: an RFC 3339 instant, or a local date in `zone`
 * (its midnight, or with `end` the next midnight). False after answering 400 (required, out of
 * the supported range, a + written unencoded, or malformed: each says which).
 */
bool http_query_bound(http_ctx_t *ctx, const char *name, tz_zone_t *zone, bool end, int64_t *out);

bool http_single_row(http_ctx_t *ctx, const PGresult *res, const char *sqlstate, const char *what);

#endif
