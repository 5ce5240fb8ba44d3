/*
 * GET /v1/slots — the hot path. Answered from the in-memory index by the
 * engine, on the loop, without a database round trip; the answer is written
 * straight into the server's reusable buffer.
 *
 * from/to are instants, or local dates in `tz` (else the organization's zone):
 * a date means its local midnight, and `to` as a date includes that whole day.
 * The window may span at most 62 days. The router has already refused unknown
 * parameters and malformed values (ids, counts, escapes); what is left here is
 * their meaning.
 *
 * An answer is at most SLOTS_MAX_ANSWER_BYTES: a query whose slots would not
 * fit is refused with 400 (field "limit"), naming the bound, so that no single
 * request can make the service hold tens of megabytes for a client. An engine
 * error is an error: 400 for a window the engine refuses, 500 (logged with the
 * request id) for anything else — never an empty list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/routes.h"
#include "slotd/codec.h"

#define MAX_FILTER 64
#define MAX_COUNT 100000
#define SLOTS_MAX_ANSWER_BYTES (8u * 1024 * 1024)

/* An instant or a local date; `end` makes a date mean the end of that day. */
/* limit or per_day: 1..MAX_COUNT (digits only: the router checked). */
static bool count(http_ctx_t *ctx, const char *name, uint32_t *out)
{
    char buffer[16];
    const char *v = http_query_param(ctx, name, buffer, sizeof(buffer));
    *out = 0;
    if (v == NULL)
        return true;
    long n = strtol(v, NULL, 10);
    if (n < 1 || n > MAX_COUNT) {
        char message[96];
        snprintf(message, sizeof(message), "%s must be a whole number from 1 to %d.", name,
                 MAX_COUNT);
        http_respond_invalid(ctx, name, message);
        return false;
    }
    *out = (uint32_t)n;
    return true;
}

#define APPEND(text, length) http_buffer_append(body, (text), (length))
#define APPEND_LITERAL(text) APPEND(text, sizeof(text) - 1)

/* Writes the slots into the body; false when they would not fit in the answer's bound. */
static bool write_slots(http_buffer_t *body, tz_zone_t *zone, const eng_slots_t *slots)
{
    char id_text[37];
    for (size_t i = 0; i < slots->count; i++) {
        const eng_slot_t *slot = &slots->slots[i];
        char instant[CODEC_INSTANT_MAX];
        if (body->size > SLOTS_MAX_ANSWER_BYTES)
            return false;
        if (i)
            APPEND_LITERAL(",");
        APPEND_LITERAL("{\"start\":\"");
        APPEND(instant, codec_write_instant(zone, slot->start, instant));
        APPEND_LITERAL("\",\"end\":\"");
        APPEND(instant, codec_write_instant(zone, slot->end, instant));
        APPEND_LITERAL("\",\"resource_ids\":[");
        for (uint32_t k = 0; k < slot->resource_count; k++) {
            codec_format_uuid(eng_resource_id(slots->resources[slot->first_resource + k]), id_text);
            if (k)
                APPEND_LITERAL(",");
            APPEND_LITERAL("\"");
            APPEND(id_text, 36);
            APPEND_LITERAL("\"");
        }
        APPEND_LITERAL("]}");
    }
    return body->size + 2 <= SLOTS_MAX_ANSWER_BYTES;
}

void http_slots_get(http_ctx_t *ctx)
{
    index_org_t *org = http_index_org(ctx);
    if (org == NULL) {
        http_respond_error(ctx, 503, "unavailable",
                           "Availability is still loading; please try again.", NULL);
        return;
    }
    char buffer[2][64];
    const char *service_text = http_query_param(ctx, "service_id", buffer[0], sizeof(buffer[0]));
    eng_id_t service_id;
    if (service_text == NULL || codec_parse_uuid(service_text, &service_id) != 0) {
        http_respond_invalid(ctx, "service_id", "service_id (a service's id) is required.");
        return;
    }
    tz_zone_t *zone = eng_org_zone(index_org_engine(org));
    const char *tz = http_query_param(ctx, "tz", buffer[1], sizeof(buffer[1]));
    if (tz && tz_zone_find(tz, &zone) != 0) {
        http_respond_invalid(ctx, "tz", "tz must be an IANA time zone, e.g. Europe/Warsaw.");
        return;
    }
    int64_t from, to;
    if (!http_query_bound(ctx, "from", zone, false, &from) ||
        !http_query_bound(ctx, "to", zone, true, &to))
        return;
    if (to < from) {
        http_respond_invalid(ctx, "to", "to must not be before from.");
        return;
    }
    if (to - from > ENG_MAX_WINDOW_SECONDS) {
        http_respond_invalid(ctx, "to", "The window may span at most 62 days.");
        return;
    }
    uint32_t limit, per_day;
    if (!count(ctx, "limit", &limit) || !count(ctx, "per_day", &per_day))
        return;

    eng_location_t *location = NULL;
    char location_buffer[40];
    const char *location_text =
        http_query_param(ctx, "location_id", location_buffer, sizeof(location_buffer));
    if (location_text) {
        eng_id_t id;
        if (codec_parse_uuid(location_text, &id) != 0 ||
            (location = index_org_location(org, &id)) == NULL) {
            http_respond_not_found(ctx, "location");
            return;
        }
    }
    char filter_text[MAX_FILTER][40];
    eng_resource_t *filter[MAX_FILTER];
    int filter_count = http_query_param_all(ctx, "resource_id", filter_text[0], 40, MAX_FILTER);
    if (filter_count < 0 || filter_count > MAX_FILTER) {
        http_respond_invalid(ctx, "resource_id", "At most 64 resource ids, each an id.");
        return;
    }
    for (int i = 0; i < filter_count; i++) {
        eng_id_t id;
        if (codec_parse_uuid(filter_text[i], &id) != 0 ||
            (filter[i] = index_org_resource(org, &id)) == NULL) {
            http_respond_not_found(ctx, "resource");
            return;
        }
    }
    bool bookable = false;
    eng_service_t *service = index_org_service(org, &service_id, &bookable);
    if (service == NULL) {
        http_respond_not_found(ctx, "service");
        return;
    }

    http_buffer_t *body = http_buffer(ctx);
    char id_text[37];
    codec_format_uuid(&service_id, id_text);
    APPEND_LITERAL("{\"service_id\":\"");
    APPEND(id_text, 36);
    APPEND_LITERAL("\",\"timezone\":\"");
    APPEND(tz_zone_name(zone), strlen(tz_zone_name(zone)));
    APPEND_LITERAL("\",\"slots\":[");
    if (bookable) {
        eng_query_t q = {.service = service,
                         .from = from,
                         .to = to,
                         .now = http_now(ctx->server),
                         .zone = zone,
                         .resources = filter,
                         .resource_count = (size_t)filter_count,
                         .location = location,
                         .limit = limit,
                         .per_day = per_day};
        eng_slots_t slots;
        int rc = eng_slots(http_workspace(ctx), &q, &slots);
        if (rc == ENG_EWINDOW) {
            http_respond_invalid(ctx, "to", "The engine refuses this window.");
            return;
        }
        if (rc != 0) {
            char cause[64];
            snprintf(cause, sizeof(cause), "eng_slots returned %d", rc);
            http_respond_internal(ctx, cause);
            return;
        }
        if (!write_slots(body, zone, &slots)) {
            char message[160];
            snprintf(message, sizeof(message),
                     "The answer would be larger than %u MiB; ask for a shorter window or a "
                     "lower limit.",
                     SLOTS_MAX_ANSWER_BYTES / (1024 * 1024));
            http_respond_error(ctx, 400, "invalid_request", message,
                               json_pack("{s:s, s:i}", "field", "limit", "max_bytes",
                                         (json_int_t)SLOTS_MAX_ANSWER_BYTES));
            return;
        }
    }
    APPEND_LITERAL("]}");
    http_respond_buffer(ctx, 200);
}
