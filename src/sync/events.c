/*
 * Provider pages into sync_event_t (see events.h for the rules).
 */
#include "sync/events.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"
#include "slotd/codec.h"

#define BOOKING_MARK_GOOGLE "slotdBookingId"
#define BOOKING_MARK_MICROSOFT "slotd-"
#define BOOKING_MARK_CALCOM "slotd_booking_id"

static const char *text_at(const json_t *object, const char *key)
{
    return json_string_value(json_object_get(object, key));
}

/* A copy of `text` cut to at most `max` bytes at a UTF-8 character boundary (NULL: NULL). */
char *sync_text_cut(const char *text, size_t max)
{
    if (text == NULL)
        return NULL;
    size_t n = strlen(text);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    char *out = slotd_malloc(n + 1);
    memcpy(out, text, n);
    out[n] = 0;
    return out;
}

/* "YYYY-MM-DDTHH:MM[:SS[.fraction]]" (no offset) as wall seconds; the date part alone with
 * `date_only`. 0 or -1. */
static int parse_wall(const char *text, bool date_only, int64_t *wall)
{
    char date[11];
    if (text == NULL || strlen(text) < 10)
        return -1;
    memcpy(date, text, 10);
    date[10] = 0;
    int32_t days;
    if (tz_parse_date(date, &days) != 0)
        return -1;
    *wall = (int64_t)days * TZ_SECONDS_PER_DAY;
    if (date_only)
        return text[10] == 0 || text[10] == 'T' ? 0 : -1;
    int hour, minute, second = 0, used = 0;
    const char *t = text + 10;
    /* digits only: sscanf alone would take a sign or a space */
    if (t[0] != 'T' || !isdigit((unsigned char)t[1]) || !isdigit((unsigned char)t[2]) ||
        t[3] != ':' || !isdigit((unsigned char)t[4]) || !isdigit((unsigned char)t[5]) ||
        sscanf(text + 11, "%2d:%2d%n", &hour, &minute, &used) != 2)
        return -1;
    const char *rest = text + 11 + used;
    if (rest[0] == ':') {
        int more = 0;
        if (!isdigit((unsigned char)rest[1]) || !isdigit((unsigned char)rest[2]) ||
            sscanf(rest + 1, "%2d%n", &second, &more) != 1 || more != 2)
            return -1;
        rest += 3;
        if (rest[0] == '.')
            for (rest++; *rest >= '0' && *rest <= '9'; rest++)
                ;
    }
    if (*rest != 0 || hour > 23 || minute > 59 || second > 59)
        return -1;
    *wall += hour * 3600 + minute * 60 + second;
    return 0;
}

/* A zone by name, or NULL. */
static tz_zone_t *zone_named(const char *name)
{
    tz_zone_t *zone;
    return name && tz_zone_find(name, &zone) == 0 ? zone : NULL;
}

/* Local midnights of all-day dates [first, last) in `zone`, into the event. */
static int whole_days(sync_event_t *e, const char *first, const char *last, tz_zone_t *zone)
{
    int64_t a, b;
    if (parse_wall(first, true, &a) != 0 || parse_wall(last, true, &b) != 0)
        return -1;
    e->all_day = true;
    e->start = tz_from_wall(zone, a);
    e->end = tz_from_wall(zone, b);
    return 0;
}

/* Google's EventDateTime: an RFC 3339 dateTime (an offset, else in its timeZone). */
static int google_instant(const json_t *when, tz_zone_t *fallback, int64_t *out)
{
    const char *text = text_at(when, "dateTime");
    if (text == NULL)
        return -1;
    if (codec_parse_instant(text, out) == 0)
        return 0;
    tz_zone_t *zone = zone_named(text_at(when, "timeZone"));
    int64_t wall;
    if (parse_wall(text, false, &wall) != 0)
        return -1;
    *out = tz_from_wall(zone ? zone : fallback, wall);
    return 0;
}

static bool google_declined(const json_t *item)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(item, "attendees"), i, a)
    {
        const char *status = text_at(a, "responseStatus");
        if (json_is_true(json_object_get(a, "self")) && status && strcmp(status, "declined") == 0)
            return true;
    }
    return false;
}

static int google_event(const json_t *item, tz_zone_t *calendar_zone, sync_event_t *e)
{
    const char *status = text_at(item, "status");
    if (status && strcmp(status, "cancelled") == 0) {
        e->removed = true;
        return 0;
    }
    const json_t *start = json_object_get(item, "start"), *end = json_object_get(item, "end");
    const char *first = text_at(start, "date");
    if (first) {
        tz_zone_t *zone = zone_named(text_at(start, "timeZone"));
        if (whole_days(e, first, text_at(end, "date"), zone ? zone : calendar_zone) != 0)
            return -1;
    } else if (google_instant(start, calendar_zone, &e->start) != 0 ||
               google_instant(end, calendar_zone, &e->end) != 0) {
        return -1;
    }
    const char *transparency = text_at(item, "transparency");
    const char *type = text_at(item, "eventType");
    e->busy = !(transparency && strcmp(transparency, "transparent") == 0) &&
              !(type && strcmp(type, "workingLocation") == 0) && !google_declined(item);
    e->summary = sync_text_cut(text_at(item, "summary"), SYNC_SUMMARY_MAX);
    const char *booking =
        text_at(json_object_get(json_object_get(item, "extendedProperties"), "private"),
                BOOKING_MARK_GOOGLE);
    if (booking) {
        e->ours = true;
        e->booking_id = sync_text_cut(booking, 64);
    }
    return 0;
}

/* Graph's dateTimeTimeZone: a wall time in its timeZone (UTC when we asked for it). */
static int graph_instant(const json_t *when, int64_t *out)
{
    const char *name = text_at(when, "timeZone");
    tz_zone_t *zone = zone_named(name && strcmp(name, "UTC") != 0 ? name : "UTC");
    int64_t wall;
    if (zone == NULL || parse_wall(text_at(when, "dateTime"), false, &wall) != 0)
        return -1;
    *out = tz_from_wall(zone, wall);
    return 0;
}

static int graph_event(const json_t *item, tz_zone_t *fallback, sync_event_t *e)
{
    if (json_object_get(item, "@removed")) {
        e->removed = true;
        return 0;
    }
    const json_t *start = json_object_get(item, "start"), *end = json_object_get(item, "end");
    if (json_is_true(json_object_get(item, "isAllDay"))) {
        tz_zone_t *zone = zone_named(text_at(item, "originalStartTimeZone"));
        if (whole_days(e, text_at(start, "dateTime"), text_at(end, "dateTime"),
                       zone ? zone : fallback) != 0)
            return -1;
    } else if (graph_instant(start, &e->start) != 0 || graph_instant(end, &e->end) != 0) {
        return -1;
    }
    const char *show = text_at(item, "showAs");
    const char *response = text_at(json_object_get(item, "responseStatus"), "response");
    e->busy = !json_is_true(json_object_get(item, "isCancelled")) &&
              !(show && strcmp(show, "free") == 0) &&
              !(response && strcmp(response, "declined") == 0);
    e->summary = sync_text_cut(text_at(item, "subject"), SYNC_SUMMARY_MAX);
    const char *transaction = text_at(item, "transactionId");
    size_t mark = strlen(BOOKING_MARK_MICROSOFT);
    if (transaction && strncmp(transaction, BOOKING_MARK_MICROSOFT, mark) == 0) {
        e->ours = true;
        e->booking_id = sync_text_cut(transaction + mark, 64);
    }
    return 0;
}

static int calcom_event(const json_t *item, sync_event_t *e)
{
    if (codec_parse_instant(text_at(item, "start") ? text_at(item, "start") : "", &e->start) != 0 ||
        codec_parse_instant(text_at(item, "end") ? text_at(item, "end") : "", &e->end) != 0)
        return -1;
    const char *status = text_at(item, "status");
    e->busy = status && (strcmp(status, "accepted") == 0 || strcmp(status, "pending") == 0);
    e->summary = sync_text_cut(text_at(item, "title"), SYNC_SUMMARY_MAX);
    const char *booking = text_at(json_object_get(item, "metadata"), BOOKING_MARK_CALCOM);
    if (booking) {
        e->ours = true;
        e->booking_id = sync_text_cut(booking, 64);
    }
    return 0;
}

static void event_free(sync_event_t *e)
{
    free(e->id);
    free(e->summary);
    free(e->booking_id);
    memset(e, 0, sizeof(*e));
}

sync_provider_t sync_provider_named(const char *name)
{
    return strcmp(name, "google") == 0      ? SYNC_GOOGLE
           : strcmp(name, "microsoft") == 0 ? SYNC_MICROSOFT
           : strcmp(name, "ics") == 0       ? SYNC_ICS
                                            : SYNC_CALCOM;
}

/* The page's paging state, and where its events are. */
static const json_t *paging(sync_provider_t provider, const json_t *root, sync_page_t *page)
{
    switch (provider) {
    case SYNC_GOOGLE:
        page->next_page = sync_text_cut(text_at(root, "nextPageToken"), 4096);
        page->sync_state = sync_text_cut(text_at(root, "nextSyncToken"), 4096);
        return json_object_get(root, "items");
    case SYNC_MICROSOFT:
        page->next_page = sync_text_cut(text_at(root, "@odata.nextLink"), 8192);
        page->sync_state = sync_text_cut(text_at(root, "@odata.deltaLink"), 8192);
        return json_object_get(root, "value");
    case SYNC_CALCOM: {
        const json_t *p = json_object_get(root, "pagination");
        json_int_t current = json_integer_value(json_object_get(p, "currentPage"));
        json_int_t per_page = json_integer_value(json_object_get(p, "itemsPerPage"));
        /* a next page that cannot be named (no or absurd page numbers) is not asked for */
        if (json_is_true(json_object_get(p, "hasNextPage")) && current >= 1 && current <= 1000000 &&
            per_page >= 1 && per_page <= 1000) {
            char next[32];
            snprintf(next, sizeof(next), "%lld", (long long)(current * per_page));
            page->next_page = sync_text_cut(next, sizeof(next));
        }
        return json_object_get(root, "data");
    }
    case SYNC_ICS: /* a feed, not pages (ics.h) */
        break;
    }
    return NULL;
}

int sync_page_parse(sync_provider_t provider, const char *body, size_t length, tz_zone_t *zone,
                    sync_page_t *page, char *error, size_t error_size)
{
    memset(page, 0, sizeof(*page));
    json_error_t json_error;
    json_t *root = json_loadb(body, length, JSON_REJECT_DUPLICATES, &json_error);
    if (!json_is_object(root)) {
        snprintf(error, error_size, "not a JSON object: %s", root ? "other JSON" : json_error.text);
        json_decref(root);
        return -1;
    }
    const json_t *items = paging(provider, root, page);
    if (!json_is_array(items)) {
        snprintf(error, error_size, "no list of events in the answer");
        json_decref(root);
        sync_page_free(page);
        return -1;
    }
    tz_zone_t *calendar_zone = zone_named(text_at(root, "timeZone"));
    page->events = slotd_calloc(json_array_size(items) + 1, sizeof(sync_event_t));
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        sync_event_t *e = &page->events[page->count];
        const char *id = text_at(item, provider == SYNC_CALCOM ? "uid" : "id");
        int rc = -1;
        if (id && id[0] && strlen(id) <= SYNC_EVENT_ID_MAX) {
            e->id = sync_text_cut(id, SYNC_EVENT_ID_MAX);
            rc = provider == SYNC_GOOGLE
                     ? google_event(item, calendar_zone ? calendar_zone : zone, e)
                 : provider == SYNC_MICROSOFT ? graph_event(item, zone, e)
                                              : calcom_event(item, e);
        }
        bool usable =
            rc == 0 && (e->removed || (e->end > e->start && tz_instant_supported(e->start) &&
                                       tz_instant_supported(e->end)));
        if (usable) {
            page->count++;
        } else {
            event_free(e);
            page->skipped++;
        }
    }
    json_decref(root);
    return 0;
}

void sync_page_free(sync_page_t *page)
{
    for (size_t i = 0; i < page->count; i++)
        event_free(&page->events[i]);
    free(page->events);
    free(page->next_page);
    free(page->sync_state);
    memset(page, 0, sizeof(*page));
}

void sync_utc_text(int64_t instant, bool offset, char *out)
{
    tz_zone_t *utc;
    tz_zone_find("UTC", &utc);
    size_t n = codec_write_instant(utc, instant, out);
    if (!offset && n > 0)
        out[n - 1] = 0; /* the "Z" */
}
