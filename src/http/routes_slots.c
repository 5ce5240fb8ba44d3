/*
 * GET /v1/slots — the hot path. Answered from the in-memory index by the
 * engine, on the loop, without a database round trip; the response is written
 * straight into a buffer.
 *
 * from/to are instants, or local dates in `tz` (else the organization's zone):
 * a date means its local midnight, and `to` as a date includes that whole day.
 * The window may span at most 62 days.
 */
#include <stdio.h>
#include <string.h>

#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

#define MAX_FILTER 64

static eng_workspace_t *workspace; /* one loop, one query at a time */

/* An instant or a local date; `end` makes a date mean the end of that day. */
static bool parse_bound(const char *text, tz_zone_t *zone, bool end, int64_t *out)
{
    int32_t day;
    if (codec_parse_instant(text, out) == 0)
        return true;
    if (tz_parse_date(text, &day) != 0)
        return false;
    *out = tz_from_wall(zone, ((int64_t)day + (end ? 1 : 0)) * TZ_SECONDS_PER_DAY);
    return true;
}

static bool positive(http_ctx_t *ctx, const char *name, uint32_t *out)
{
    char buffer[32];
    const char *v = http_query_param(ctx, name, buffer, sizeof(buffer));
    *out = 0;
    if (v == NULL)
        return true;
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == 0 || *end || n < 1 || n > 100000) {
        char message[96];
        snprintf(message, sizeof(message), "%s must be a whole number from 1 to 100000.", name);
        http_respond_invalid(ctx, name, message);
        return false;
    }
    *out = (uint32_t)n;
    return true;
}

void http_slots_get(http_ctx_t *ctx)
{
    index_org_t *org = http_index_org(ctx);
    if (org == NULL) {
        http_respond_error(ctx, 503, "unavailable",
                           "Availability is still loading; please try again.", NULL);
        return;
    }
    char buffer[4][128];
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
    const char *from_text = http_query_param(ctx, "from", buffer[2], sizeof(buffer[2]));
    const char *to_text = http_query_param(ctx, "to", buffer[3], sizeof(buffer[3]));
    int64_t from, to;
    if (from_text == NULL || !parse_bound(from_text, zone, false, &from)) {
        http_respond_invalid(ctx, "from", "from is required: an RFC 3339 instant or a date.");
        return;
    }
    if (to_text == NULL || !parse_bound(to_text, zone, true, &to)) {
        http_respond_invalid(ctx, "to", "to is required: an RFC 3339 instant or a date.");
        return;
    }
    if (to < from) {
        http_respond_invalid(ctx, "to", "to must not be before from.");
        return;
    }
    if (to - from > ENG_MAX_WINDOW_SECONDS) {
        http_respond_invalid(ctx, "to", "The window may span at most 62 days.");
        return;
    }
    uint32_t limit, per_day;
    if (!positive(ctx, "limit", &limit) || !positive(ctx, "per_day", &per_day))
        return;

    eng_location_t *location = NULL;
    char location_buffer[64];
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

    /* The answer, written straight into a reused buffer: this is the hot path. */
    static char *body;
    static size_t capacity;
    size_t size = 0;
#define APPEND(text, length)                                                                       \
    do {                                                                                           \
        body = slotd_grow(body, &capacity, size + (length) + 1, 1);                                \
        memcpy(body + size, (text), (length));                                                     \
        size += (length);                                                                          \
    } while (0)
#define APPEND_LITERAL(text) APPEND(text, sizeof(text) - 1)
    char id_text[37];
    codec_format_uuid(&service_id, id_text);
    APPEND_LITERAL("{\"service_id\":\"");
    APPEND(id_text, 36);
    APPEND_LITERAL("\",\"timezone\":\"");
    APPEND(tz_zone_name(zone), strlen(tz_zone_name(zone)));
    APPEND_LITERAL("\",\"slots\":[");
    if (bookable) {
        if (workspace == NULL)
            workspace = eng_workspace_new();
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
        if (eng_slots(workspace, &q, &slots) == 0) {
            for (size_t i = 0; i < slots.count; i++) {
                const eng_slot_t *slot = &slots.slots[i];
                char instant[CODEC_INSTANT_MAX];
                if (i)
                    APPEND_LITERAL(",");
                APPEND_LITERAL("{\"start\":\"");
                APPEND(instant, codec_write_instant(zone, slot->start, instant));
                APPEND_LITERAL("\",\"end\":\"");
                APPEND(instant, codec_write_instant(zone, slot->end, instant));
                APPEND_LITERAL("\",\"resource_ids\":[");
                for (uint32_t k = 0; k < slot->resource_count; k++) {
                    codec_format_uuid(eng_resource_id(slots.resources[slot->first_resource + k]),
                                     id_text);
                    if (k)
                        APPEND_LITERAL(",");
                    APPEND_LITERAL("\"");
                    APPEND(id_text, 36);
                    APPEND_LITERAL("\"");
                }
                APPEND_LITERAL("]}");
            }
        }
    }
    APPEND_LITERAL("]}");
#undef APPEND_LITERAL
#undef APPEND
    http_respond_raw(ctx, 200, body, size);
}
