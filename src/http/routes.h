/*
 * The API's routes and their handlers, one file per resource:
 * routes_organization.c, ...
 */
#ifndef SLOTD_HTTP_ROUTES_H
#define SLOTD_HTTP_ROUTES_H

#include "domain/bookings.h"
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
void http_resources_busy(http_ctx_t *ctx);
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
void http_connections_create(http_ctx_t *ctx);
void http_connections_list(http_ctx_t *ctx);
void http_connections_get(http_ctx_t *ctx);
void http_connections_patch(http_ctx_t *ctx);
void http_connections_delete(http_ctx_t *ctx);
void http_connections_sync(http_ctx_t *ctx);
void http_webhook_endpoints_create(http_ctx_t *ctx);
void http_webhook_endpoints_list(http_ctx_t *ctx);
void http_webhook_endpoints_get(http_ctx_t *ctx);
void http_webhook_endpoints_patch(http_ctx_t *ctx);
void http_webhook_endpoints_delete(http_ctx_t *ctx);
void http_webhook_endpoints_deliveries(http_ctx_t *ctx);
void http_webhooks_google(http_ctx_t *ctx);
void http_webhooks_microsoft(http_ctx_t *ctx);
void http_webhooks_calcom(http_ctx_t *ctx);
void http_feed_token_create(http_ctx_t *ctx);
void http_feed_get(http_ctx_t *ctx);
void http_bookings_ics(http_ctx_t *ctx);
void http_mcp_post(http_ctx_t *ctx);
void http_vapi_post(http_ctx_t *ctx);
void http_vapi_tools(http_ctx_t *ctx);
void http_retell_post(http_ctx_t *ctx);
void http_retell_tools(http_ctx_t *ctx);

/* shared by the route files (see also http/fields.h) */

/**
 * The query parameter `name` as a window bound: an RFC 3339 instant, or a local date in `zone`
 * (its midnight, or with `end` the next midnight). False after answering 400 (required, out of
 * the supported range, a + written unencoded, or malformed: each says which).
 */
bool http_query_bound(http_ctx_t *ctx, const char *name, tz_zone_t *zone, bool end, int64_t *out);

/** The API's form of a booking in `zone` (a zone's name), or NULL when a stored text is not
 *  valid UTF-8. */
json_t *http_booking_json(const store_booking_t *b, const char *zone);

/** The API's form of a hold in `zone`. */
json_t *http_hold_json(const eng_id_t *id, const store_hold_write_t *hold, const char *zone);

/** Why the rules said no, as the error envelope the booking routes answer (alternatives in
 *  `zone`), and its status. */
json_t *http_refusal_json(const domain_refusal_t *refusal, const char *zone, int *status);

#endif
