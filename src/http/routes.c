/*
 * The route table: method, path, name for logs and metrics, the roles that may
 * call it, the query parameters it takes, handler. Reads of configuration are
 * for admin and agent keys (HTTP_ROLES_STAFF), its writes for admin keys; a
 * route whose set names another role (agents writing bookings; admin and sync
 * keys, calendar connections; no key, a resource's calendar feed) says so here.
 */
#include "http/routes.h"

/* The query parameters of the routes; lengths fit the handlers' buffers. */
static const http_param_t list_params[] = {
    {"limit", HTTP_PARAM_COUNT, 9, false}, {"cursor", HTTP_PARAM_TEXT, 63, false}, {NULL}};
static const http_param_t overrides_params[] = {{"from", HTTP_PARAM_TEXT, 31, false},
                                                {"to", HTTP_PARAM_TEXT, 31, false},
                                                {"cursor", HTTP_PARAM_TEXT, 31, false},
                                                {"limit", HTTP_PARAM_COUNT, 9, false},
                                                {NULL}};
static const http_param_t validation_params[] = {{"validationToken", HTTP_PARAM_TEXT, 1024, false},
                                                 {NULL}};
static const http_param_t blocks_params[] = {{"from", HTTP_PARAM_TEXT, 63, false},
                                             {"to", HTTP_PARAM_TEXT, 63, false},
                                             {"tz", HTTP_PARAM_TEXT, 63, false},
                                             {NULL}};
static const http_param_t slots_params[] = {{"service_id", HTTP_PARAM_ID, 36, false},
                                            {"from", HTTP_PARAM_TEXT, 63, false},
                                            {"to", HTTP_PARAM_TEXT, 63, false},
                                            {"tz", HTTP_PARAM_TEXT, 63, false},
                                            {"location_id", HTTP_PARAM_ID, 36, false},
                                            {"resource_id", HTTP_PARAM_ID, 36, true},
                                            {"limit", HTTP_PARAM_COUNT, 9, false},
                                            {"per_day", HTTP_PARAM_COUNT, 9, false},
                                            {NULL}};

static const http_param_t feed_params[] = {
    {"token", HTTP_PARAM_TEXT, 1024, false}, {"busy", HTTP_PARAM_TEXT, 8, false}, {NULL}};
static const http_param_t zone_params[] = {{"tz", HTTP_PARAM_TEXT, 63, false}, {NULL}};
static const http_param_t booking_list_params[] = {
    {"from", HTTP_PARAM_TEXT, 63, false},      {"to", HTTP_PARAM_TEXT, 63, false},
    {"resource_id", HTTP_PARAM_ID, 36, false}, {"service_id", HTTP_PARAM_ID, 36, false},
    {"status", HTTP_PARAM_TEXT, 16, false},    {"customer_phone", HTTP_PARAM_TEXT, 50, false},
    {"tz", HTTP_PARAM_TEXT, 63, false},        {"limit", HTTP_PARAM_COUNT, 9, false},
    {"cursor", HTTP_PARAM_TEXT, 63, false},    {NULL}};
static const http_param_t customer_bookings_params[] = {{"from", HTTP_PARAM_TEXT, 63, false},
                                                        {"to", HTTP_PARAM_TEXT, 63, false},
                                                        {"status", HTTP_PARAM_TEXT, 16, false},
                                                        {"tz", HTTP_PARAM_TEXT, 63, false},
                                                        {"limit", HTTP_PARAM_COUNT, 9, false},
                                                        {"cursor", HTTP_PARAM_TEXT, 63, false},
                                                        {NULL}};
static const http_param_t customers_params[] = {{"phone", HTTP_PARAM_TEXT, 50, false},
                                                {"email", HTTP_PARAM_TEXT, 320, false},
                                                {"limit", HTTP_PARAM_COUNT, 9, false},
                                                {"cursor", HTTP_PARAM_TEXT, 63, false},
                                                {NULL}};
static const http_param_t history_params[] = {{"tz", HTTP_PARAM_TEXT, 63, false},
                                              {"limit", HTTP_PARAM_COUNT, 9, false},
                                              {"cursor", HTTP_PARAM_TEXT, 31, false},
                                              {NULL}};

const http_route_t http_api_routes[] = {
    {"GET", "/v1/organization", "GET /v1/organization", HTTP_ROLES_EVERY, NULL,
     http_organization_get},
    {"PATCH", "/v1/organization", "PATCH /v1/organization", HTTP_ROLES_ADMIN, NULL,
     http_organization_patch},
    {"POST", "/v1/locations", "POST /v1/locations", HTTP_ROLES_ADMIN, NULL, http_locations_create},
    {"GET", "/v1/locations", "GET /v1/locations", HTTP_ROLES_STAFF, list_params,
     http_locations_list},
    {"GET", "/v1/locations/:id", "GET /v1/locations/{id}", HTTP_ROLES_STAFF, NULL,
     http_locations_get},
    {"PATCH", "/v1/locations/:id", "PATCH /v1/locations/{id}", HTTP_ROLES_ADMIN, NULL,
     http_locations_patch},
    {"DELETE", "/v1/locations/:id", "DELETE /v1/locations/{id}", HTTP_ROLES_ADMIN, NULL,
     http_locations_delete},
    {"POST", "/v1/resources", "POST /v1/resources", HTTP_ROLES_ADMIN, NULL, http_resources_create},
    {"GET", "/v1/resources", "GET /v1/resources", HTTP_ROLES_STAFF, list_params,
     http_resources_list},
    {"GET", "/v1/resources/:id", "GET /v1/resources/{id}", HTTP_ROLES_STAFF, NULL,
     http_resources_get},
    {"PATCH", "/v1/resources/:id", "PATCH /v1/resources/{id}", HTTP_ROLES_ADMIN, NULL,
     http_resources_patch},
    {"DELETE", "/v1/resources/:id", "DELETE /v1/resources/{id}", HTTP_ROLES_ADMIN, NULL,
     http_resources_delete},
    {"GET", "/v1/resources/:id/overrides", "GET /v1/resources/{id}/overrides", HTTP_ROLES_STAFF,
     overrides_params, http_overrides_list},
    {"PUT", "/v1/resources/:id/overrides/:date", "PUT /v1/resources/{id}/overrides/{date}",
     HTTP_ROLES_ADMIN, NULL, http_overrides_put},
    {"DELETE", "/v1/resources/:id/overrides/:date", "DELETE /v1/resources/{id}/overrides/{date}",
     HTTP_ROLES_ADMIN, NULL, http_overrides_delete},
    {"POST", "/v1/resources/:id/blocks", "POST /v1/resources/{id}/blocks", HTTP_ROLES_ADMIN, NULL,
     http_blocks_create},
    {"GET", "/v1/resources/:id/blocks", "GET /v1/resources/{id}/blocks", HTTP_ROLES_STAFF,
     blocks_params, http_blocks_list},
    {"GET", "/v1/resources/:id/busy", "GET /v1/resources/{id}/busy", HTTP_ROLES_EVERY,
     blocks_params, http_resources_busy},
    {"DELETE", "/v1/resources/:id/blocks/:block", "DELETE /v1/resources/{id}/blocks/{block_id}",
     HTTP_ROLES_ADMIN, NULL, http_blocks_delete},
    {"POST", "/v1/services", "POST /v1/services", HTTP_ROLES_ADMIN, NULL, http_services_create},
    {"GET", "/v1/services", "GET /v1/services", HTTP_ROLES_STAFF, list_params, http_services_list},
    {"GET", "/v1/services/:id", "GET /v1/services/{id}", HTTP_ROLES_STAFF, NULL, http_services_get},
    {"PATCH", "/v1/services/:id", "PATCH /v1/services/{id}", HTTP_ROLES_ADMIN, NULL,
     http_services_patch},
    {"DELETE", "/v1/services/:id", "DELETE /v1/services/{id}", HTTP_ROLES_ADMIN, NULL,
     http_services_delete},
    {"POST", "/v1/api-keys", "POST /v1/api-keys", HTTP_ROLES_ADMIN, NULL, http_api_keys_create},
    {"GET", "/v1/api-keys", "GET /v1/api-keys", HTTP_ROLES_ADMIN, list_params, http_api_keys_list},
    {"GET", "/v1/api-keys/:id", "GET /v1/api-keys/{id}", HTTP_ROLES_ADMIN, NULL, http_api_keys_get},
    {"DELETE", "/v1/api-keys/:id", "DELETE /v1/api-keys/{id}", HTTP_ROLES_ADMIN, NULL,
     http_api_keys_revoke},
    {"GET", "/v1/slots", "GET /v1/slots", HTTP_ROLES_STAFF, slots_params, http_slots_get},
    /* agents create and change holds and bookings */
    {"POST", "/v1/holds", "POST /v1/holds", HTTP_ROLES_STAFF, NULL, http_holds_create},
    {"DELETE", "/v1/holds/:id", "DELETE /v1/holds/{id}", HTTP_ROLES_STAFF, NULL,
     http_holds_release},
    {"POST", "/v1/bookings", "POST /v1/bookings", HTTP_ROLES_STAFF, NULL, http_bookings_create},
    {"GET", "/v1/bookings", "GET /v1/bookings", HTTP_ROLES_STAFF, booking_list_params,
     http_bookings_list},
    {"GET", "/v1/bookings/:id/history", "GET /v1/bookings/{id}/history", HTTP_ROLES_STAFF,
     history_params, http_bookings_history},
    {"GET", "/v1/customers", "GET /v1/customers", HTTP_ROLES_STAFF, customers_params,
     http_customers_list},
    {"GET", "/v1/customers/:id", "GET /v1/customers/{id}", HTTP_ROLES_STAFF, NULL,
     http_customers_get},
    {"GET", "/v1/customers/:id/bookings", "GET /v1/customers/{id}/bookings", HTTP_ROLES_STAFF,
     customer_bookings_params, http_customers_bookings},
    {"GET", "/v1/bookings/:id.ics", "GET /v1/bookings/{id}.ics", HTTP_ROLES_STAFF, NULL,
     http_bookings_ics},
    {"GET", "/v1/bookings/:id", "GET /v1/bookings/{id}", HTTP_ROLES_STAFF, zone_params,
     http_bookings_get},
    {"PATCH", "/v1/bookings/:id", "PATCH /v1/bookings/{id}", HTTP_ROLES_STAFF, zone_params,
     http_bookings_patch},
    {"POST", "/v1/bookings/:id/reschedule", "POST /v1/bookings/{id}/reschedule", HTTP_ROLES_STAFF,
     NULL, http_bookings_reschedule},
    {"POST", "/v1/bookings/:id/cancel", "POST /v1/bookings/{id}/cancel", HTTP_ROLES_STAFF,
     zone_params, http_bookings_cancel},
    /* iCalendar out: the feed's token is its secret (no API key) */
    {"POST", "/v1/resources/:id/feed-token", "POST /v1/resources/{id}/feed-token", HTTP_ROLES_ADMIN,
     NULL, http_feed_token_create},
    {"GET", "/v1/resources/:id/calendar.ics", "GET /v1/resources/{id}/calendar.ics",
     HTTP_ROLES_PUBLIC, feed_params, http_feed_get},
    /* calendar sync: admin and sync keys */
    {"POST", "/v1/resources/:id/calendar-connections",
     "POST /v1/resources/{id}/calendar-connections", HTTP_ROLES_SYNC, NULL,
     http_connections_create},
    {"GET", "/v1/resources/:id/calendar-connections", "GET /v1/resources/{id}/calendar-connections",
     HTTP_ROLES_SYNC, list_params, http_connections_list},
    {"GET", "/v1/calendar-connections/:id", "GET /v1/calendar-connections/{id}", HTTP_ROLES_SYNC,
     NULL, http_connections_get},
    {"PATCH", "/v1/calendar-connections/:id", "PATCH /v1/calendar-connections/{id}",
     HTTP_ROLES_SYNC, NULL, http_connections_patch},
    {"POST", "/v1/calendar-connections/:id/sync", "POST /v1/calendar-connections/{id}/sync",
     HTTP_ROLES_SYNC, NULL, http_connections_sync},
    {"POST", "/v1/webhooks/google", "POST /v1/webhooks/google", HTTP_ROLES_PUBLIC, NULL,
     http_webhooks_google},
    {"POST", "/v1/webhooks/microsoft", "POST /v1/webhooks/microsoft", HTTP_ROLES_PUBLIC,
     validation_params, http_webhooks_microsoft},
    {"POST", "/v1/webhooks/calcom/:id", "POST /v1/webhooks/calcom/{connection_id}",
     HTTP_ROLES_PUBLIC, NULL, http_webhooks_calcom},
    {"DELETE", "/v1/calendar-connections/:id", "DELETE /v1/calendar-connections/{id}",
     HTTP_ROLES_SYNC, NULL, http_connections_delete},
};

const size_t http_api_route_count = sizeof(http_api_routes) / sizeof(http_api_routes[0]);
