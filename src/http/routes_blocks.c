/*
 * Blocks (time off, breaks, meetings) of a resource:
 *   POST /v1/resources/{id}/blocks          {"start","end","reason"?} or
 *                                           {"rrule","start_local","duration_minutes","reason"?}
 *   GET /v1/resources/{id}/blocks?from=&to=  the concrete occurrences in a window
 *   DELETE /v1/resources/{id}/blocks/{block_id}
 *   GET /v1/resources/{id}/busy?from=&to=    everything that makes it busy in a window
 *
 * Each handler reads as JSON in → domain call → JSON out: the body is decoded
 * into a domain_block_input_t (each field as received), the domain checks
 * the rules and runs the typed store, and what comes back is rendered here.
 * A recurring block's RRULE is expanded by the domain in the resource's zone
 * exactly as the availability engine expands it, so what the list shows is
 * what makes the resource busy. Writes answer once the resource is rebuilt
 * in the index (read your writes). The busy listing adds the bookings and
 * live holds holding the resource, each as the padded range it is busy for,
 * and the busy events of its calendar connections (their titles for admin and
 * sync keys only).
 */
#include <stdlib.h>
#include <string.h>

#include "domain/blocks.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

static const char *const block_fields[] = {
    "start", "end", "rrule", "start_local", "duration_minutes", "reason", NULL};

static json_t *instant_json(tz_zone_t *zone, int64_t instant)
{
    char text[40];
    codec_format_instant(zone, instant, text, sizeof(text));
    return json_string(text);
}

/* A created block, its instants in the organization's zone; NULL when a stored text is not
 * valid UTF-8. */
static json_t *block_json(const store_block_t *block, const eng_id_t *resource,
                          const char *organization_timezone)
{
    tz_zone_t *zone;
    if (tz_zone_find(organization_timezone, &zone) != 0)
        tz_zone_find("UTC", &zone);
    char id[37], owner[37], local[24] = "";
    codec_format_uuid(&block->id, id);
    codec_format_uuid(resource, owner);
    if (block->recurring) {
        int32_t day = tz_day_of(block->start_local);
        int64_t second = block->start_local - (int64_t)day * TZ_SECONDS_PER_DAY;
        store_date_text(day, local);
        snprintf(local + 10, sizeof(local) - 10, "T%02d:%02d", (int)(second / 3600),
                 (int)(second / 60 % 60));
    }
    bool once = !block->recurring;
    /* "o" steals even when json_pack fails, and a NULL value makes it fail: no leak, no crash */
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id", id, "resource_id", owner,
                     "start", once ? instant_json(zone, block->start) : json_null(), "end",
                     once ? instant_json(zone, block->end) : json_null(), "rrule",
                     http_json_text(block->rrule), "start_local",
                     once ? json_null() : json_string(local), "duration_minutes",
                     once ? json_null() : json_integer(block->duration_minutes), "reason",
                     http_json_text(block->reason));
}

/* The resource named in the path (answered 404 when it is not an id). */
static bool path_resource(http_ctx_t *ctx, eng_id_t *resource)
{
    char text[37];
    return http_path_id(ctx, 0, "resource", text, resource);
}

static void on_created(int error, const store_block_t *block, const char *organization_timezone,
                       void *arg)
{
    http_ctx_t *ctx = arg;
    eng_id_t resource;
    json_t *body;
    http_wait_end(ctx);
    /* the path was an id when the request was made */
    codec_parse_uuid(ctx->params[0], &resource);
    if (error)
        http_respond_store_error(ctx, error, "resource");
    else if ((body = http_rendered(ctx, block_json(block, &resource, organization_timezone),
                                   "block")) != NULL)
        http_respond_after_index(ctx, 201, body, INDEX_RESOURCE, &resource);
    http_wait_release(ctx);
}

/* Decodes a body into the domain's input (types only); false after answering 400. */
static bool decode(http_ctx_t *ctx, domain_block_input_t *input)
{
    if (!http_body_object(ctx) || !http_fields_known(ctx, ctx->body, block_fields))
        return false;
    *input = (domain_block_input_t){http_text_of(ctx->body, "start"),
                                    http_text_of(ctx->body, "end"),
                                    http_text_of(ctx->body, "rrule"),
                                    http_text_of(ctx->body, "start_local"),
                                    http_whole_of(ctx->body, "duration_minutes"),
                                    http_text_of(ctx->body, "reason")};
    return true;
}

void http_blocks_create(http_ctx_t *ctx)
{
    eng_id_t resource;
    domain_block_input_t input;
    domain_error_t error;
    if (path_resource(ctx, &resource) && decode(ctx, &input))
        http_await(ctx,
                   domain_blocks_create(http_pool(ctx), &ctx->organization, &resource, &input,
                                        on_created, ctx, &error),
                   &error);
}

typedef struct {
    int64_t from, to;
    tz_zone_t *display; /* the request's tz, or NULL for the organization's */
    bool summaries;     /* external events' titles shown (admin and sync keys) */
} list_state_t;

/* The listing's occurrences as the API shows them; NULL when a stored text is not valid
 * UTF-8. */
static json_t *occurrences_json(const store_block_list_t *list, const list_state_t *st)
{
    tz_zone_t *zone, *display = st->display;
    if (tz_zone_find(list->timezone, &zone) != 0)
        tz_zone_find("UTC", &zone);
    if (display == NULL && tz_zone_find(list->organization_timezone, &display) != 0)
        display = zone;
    domain_block_occurrence_t *items;
    size_t count = domain_block_occurrences(list, zone, st->from, st->to, &items);
    json_t *json = json_array();
    for (size_t i = 0; i < count && json; i++) {
        const store_block_t *block = &list->items[items[i].block];
        char id[37];
        codec_format_uuid(&block->id, id);
        if (json_array_append_new(json, json_pack("{s:s, s:o, s:o, s:o, s:b}", "block_id", id,
                                                  "start", instant_json(display, items[i].start),
                                                  "end", instant_json(display, items[i].end),
                                                  "reason", http_json_text(block->reason),
                                                  "recurring", block->recurring)) != 0) {
            json_decref(json);
            json = NULL;
        }
    }
    free(items);
    return json;
}

static void on_listed(int error, const store_block_list_t *list, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "resource");
    else
        http_respond_items(ctx, occurrences_json(list, ctx->state), NULL, "block");
    http_wait_release(ctx);
}

/* The path's resource and the window's query (from, to, tz) into a new list state; false
 * after answering 400 or 404. */
static bool decode_window(http_ctx_t *ctx, eng_id_t *resource)
{
    char tz_buffer[64];
    if (!path_resource(ctx, resource))
        return false;
    list_state_t *st = slotd_calloc(1, sizeof(*st));
    ctx->state = st;
    ctx->free_state = free;
    st->summaries = ctx->role != HTTP_ROLE_AGENT;
    const char *tz = http_query_param(ctx, "tz", tz_buffer, sizeof(tz_buffer));
    if (tz && tz_zone_find(tz, &st->display) != 0) {
        http_respond_invalid(ctx, "tz", "tz must be an IANA time zone, e.g. Europe/Warsaw.");
        return false;
    }
    /* dates are read in tz, else the organization's zone (from the index when loaded) */
    tz_zone_t *dates_zone = st->display;
    index_org_t *org = http_index_org(ctx);
    if (dates_zone == NULL)
        dates_zone = org ? eng_org_zone(index_org_engine(org)) : NULL;
    if (dates_zone == NULL)
        tz_zone_find("UTC", &dates_zone);
    return http_query_bound(ctx, "from", dates_zone, false, &st->from) &&
           http_query_bound(ctx, "to", dates_zone, true, &st->to);
}

/* ---- GET /v1/resources/{id}/busy ------------------------------------------------------------- */

typedef struct {
    int64_t start, end;
    int order; /* of the sources at one start: booking, hold, block */
    json_t *json;
} busy_item_t;

static int by_item_start(const void *a, const void *b)
{
    const busy_item_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

static json_t *busy_json(tz_zone_t *zone, int64_t start, int64_t end, const char *source,
                         const char *id_field, const eng_id_t *id)
{
    char text[37];
    codec_format_uuid(id, text);
    return json_pack("{s:o, s:o, s:s, s:s}", "start", instant_json(zone, start), "end",
                     instant_json(zone, end), "source", source, id_field, text);
}

/* The busy listing as the API shows it, sorted by start. */
static json_t *busy_items_json(const store_busy_list_t *list, const list_state_t *st)
{
    tz_zone_t *zone, *display = st->display;
    if (tz_zone_find(list->blocks.timezone, &zone) != 0)
        tz_zone_find("UTC", &zone);
    if (display == NULL && tz_zone_find(list->blocks.organization_timezone, &display) != 0)
        display = zone;
    domain_block_occurrence_t *blocks;
    size_t block_count = domain_block_occurrences(&list->blocks, zone, st->from, st->to, &blocks);
    size_t count = 0, capacity = block_count + list->occupied_count + 1;
    busy_item_t *items = slotd_calloc(capacity, sizeof(*items));
    for (size_t i = 0; i < list->occupied_count; i++) {
        const store_occupied_time_t *o = &list->occupied[i];
        if (o->external && o->series) { /* an imported calendar's series: its occurrences */
            domain_block_occurrence_t *occurrences;
            size_t n = domain_series_occurrences(o->series, zone, st->from, st->to, &occurrences);
            for (size_t k = 0; k < n; k++) {
                json_t *item = busy_json(display, occurrences[k].start, occurrences[k].end,
                                         "external", "connection_id", &o->connection_id);
                if (st->summaries)
                    json_object_set_new(item, "summary", http_json_text(o->summary));
                items = slotd_grow(items, &capacity, count + 1, sizeof(*items));
                items[count++] = (busy_item_t){occurrences[k].start, occurrences[k].end, 3, item};
            }
            free(occurrences);
            continue;
        }
        items = slotd_grow(items, &capacity, count + block_count + 1, sizeof(*items));
        if (o->external) {
            json_t *item = busy_json(display, o->start, o->end, "external", "connection_id",
                                     &o->connection_id);
            if (st->summaries) /* titles are for admin and sync keys */
                json_object_set_new(item, "summary", http_json_text(o->summary));
            items[count++] = (busy_item_t){o->start, o->end, 3, item};
            continue;
        }
        json_t *item =
            busy_json(display, o->padded_start, o->padded_end, o->hold ? "hold" : "booking",
                      o->hold ? "hold_id" : "booking_id", &o->id);
        json_object_set_new(item, "buffer_before_minutes",
                            json_integer((o->start - o->padded_start) / 60));
        json_object_set_new(item, "buffer_after_minutes",
                            json_integer((o->padded_end - o->end) / 60));
        items[count++] = (busy_item_t){o->padded_start, o->padded_end, o->hold ? 1 : 0, item};
    }
    items = slotd_grow(items, &capacity, count + block_count + 1, sizeof(*items));
    for (size_t i = 0; i < block_count; i++)
        items[count++] =
            (busy_item_t){blocks[i].start, blocks[i].end, 2,
                          busy_json(display, blocks[i].start, blocks[i].end, "block", "block_id",
                                    &list->blocks.items[blocks[i].block].id)};
    free(blocks);
    qsort(items, count, sizeof(*items), by_item_start);
    json_t *json = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(json, items[i].json);
    free(items);
    return json;
}

static void on_busy(int error, const store_busy_list_t *list, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    if (error)
        http_respond_store_error(ctx, error, "resource");
    else
        http_respond_items(ctx, busy_items_json(list, ctx->state), NULL, "busy time");
    http_wait_release(ctx);
}

/* GET .../blocks or .../busy: the window decoded, the listing awaited. */
static void list_window(http_ctx_t *ctx, bool busy)
{
    eng_id_t resource;
    domain_error_t error;
    if (!decode_window(ctx, &resource))
        return;
    list_state_t *st = ctx->state;
    store_pool_t *pool = http_pool(ctx);
    store_operation_t *op =
        busy ? domain_resource_busy(pool, &ctx->organization, &resource, st->from, st->to,
                                    http_now(ctx->server), on_busy, ctx, &error)
             : domain_blocks_list(pool, &ctx->organization, &resource, st->from, st->to, on_listed,
                                  ctx, &error);
    http_await(ctx, op, &error);
}

void http_blocks_list(http_ctx_t *ctx)
{
    list_window(ctx, false);
}

void http_resources_busy(http_ctx_t *ctx)
{
    list_window(ctx, true);
}

static void on_deleted(int error, void *arg)
{
    http_ctx_t *ctx = arg;
    eng_id_t resource;
    http_wait_end(ctx);
    codec_parse_uuid(ctx->params[0], &resource);
    if (error)
        http_respond_store_error(ctx, error, "block");
    else
        http_respond_after_index(ctx, 204, NULL, INDEX_RESOURCE, &resource);
    http_wait_release(ctx);
}

void http_blocks_delete(http_ctx_t *ctx)
{
    char block_text[37];
    eng_id_t resource, block;
    domain_error_t error;
    if (path_resource(ctx, &resource) && http_path_id(ctx, 1, "block", block_text, &block))
        http_await(ctx,
                   domain_blocks_delete(http_pool(ctx), &ctx->organization, &resource, &block,
                                        on_deleted, ctx, &error),
                   &error);
}
