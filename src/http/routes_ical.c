/*
 * iCalendar out:
 *   POST /v1/resources/{id}/feed-token          a new secret for the resource's feed, shown
 *                                               once; the one before stops working
 *   GET /v1/resources/{id}/calendar.ics?token=  the feed (no API key: the token is the
 *       [&busy=1]                               secret): the resource's bookings that are not
 *                                               cancelled and, with busy=1, its other busy
 *                                               time as anonymous events
 *   GET /v1/bookings/{id}.ics                   one booking as an invitation (REQUEST), or
 *                                               its cancellation (CANCEL)
 *
 * A wrong or replaced token and an unknown resource are all 404. Every event
 * has a UID that stays the booking's (<id>@slotd) for its life and a SEQUENCE
 * that counts its changes (its audit rows less the first). The feed's busy
 * time is the busy listing's (GET /v1/resources/{id}/busy, blocks with their
 * recurring occurrences, live holds, external events) over the window of
 * FEED_BUSY_DAYS_BEFORE days before today (UTC) to DOMAIN_BLOCK_MAX_WINDOW_DAYS
 * days after that; its bookings are those ending at most FEED_PAST_DAYS ago.
 * Answers carry an ETag (the SHA-256 of the body): If-None-Match with it is
 * 304. The text is written by codec/ical.c (folding, escaping, UTC times).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ical.h"
#include "domain/blocks.h"
#include "http/fields.h"
#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/feeds.h"

#define FEED_PAST_DAYS 90
#define FEED_BUSY_DAYS_BEFORE 7
#define ICAL_PRODID "-//slotd//slotd scheduling engine//EN"

/* ---- POST /v1/resources/{id}/feed-token ----------------------------------------------------- */

typedef struct {
    char token[STORE_FEED_TOKEN_LENGTH + 1];
    char resource[37];
} token_state_t;

static void on_token_set(int error, void *arg)
{
    http_ctx_t *ctx = arg;
    token_state_t *st = ctx->state;
    http_wait_end(ctx);
    if (error) {
        http_respond_store_error(ctx, error, "resource");
    } else {
        char base[512], url[768];
        http_public_url(ctx, base, sizeof(base));
        snprintf(url, sizeof(url), "%s/v1/resources/%s/calendar.ics?token=%s", base, st->resource,
                 st->token);
        http_respond(ctx, 201, json_pack("{s:s, s:s}", "token", st->token, "url", url));
    }
    http_wait_release(ctx);
}

void http_feed_token_create(http_ctx_t *ctx)
{
    eng_id_t resource;
    domain_error_t error;
    token_state_t *st = slotd_calloc(1, sizeof(*st));
    ctx->state = st;
    ctx->free_state = free;
    if (!http_path_id(ctx, 0, "resource", st->resource, &resource))
        return;
    store_feed_token_generate(st->token);
    http_await(ctx,
               domain_started(store_feed_token_set(http_pool(ctx), &ctx->organization, &resource,
                                                   st->token, on_token_set, ctx),
                              &error),
               &error);
}

/* ---- what the answers share ------------------------------------------------------------------ */

/* The awaited operation is over: on an error, answers it, lets the request go and returns
 * true. */
static bool ended_in_error(http_ctx_t *ctx, int error, const char *what)
{
    http_wait_end(ctx);
    if (!error)
        return false;
    http_respond_store_error(ctx, error, what);
    http_wait_release(ctx);
    return true;
}

static void begin_calendar(codec_ical_t *ics, const char *method)
{
    codec_ical_line(ics, "BEGIN", "VCALENDAR");
    codec_ical_line(ics, "VERSION", "2.0");
    codec_ical_line(ics, "PRODID", ICAL_PRODID);
    codec_ical_line(ics, "CALSCALE", "GREGORIAN");
    codec_ical_line(ics, "METHOD", method);
}

/* UID, DTSTAMP, SEQUENCE, DTSTART, DTEND, SUMMARY and DESCRIPTION of a booking's event. */
static void booking_lines(codec_ical_t *ics, const store_feed_booking_t *b, const char *summary)
{
    char id[37], uid[48], sequence[24];
    codec_format_uuid(&b->id, id);
    snprintf(uid, sizeof(uid), "%s@slotd", id);
    snprintf(sequence, sizeof(sequence), "%lld", (long long)(b->sequence > 0 ? b->sequence : 0));
    codec_ical_line(ics, "UID", uid);
    codec_ical_time_line(ics, "DTSTAMP", b->updated_at);
    codec_ical_line(ics, "SEQUENCE", sequence);
    codec_ical_time_line(ics, "DTSTART", b->start);
    codec_ical_time_line(ics, "DTEND", b->end);
    codec_ical_text_line(ics, "SUMMARY", summary);
    size_t size = (b->notes ? strlen(b->notes) : 0) + 64;
    char *description = slotd_malloc(size);
    snprintf(description, size, "%s%sBooking %s", b->notes ? b->notes : "", b->notes ? "\n" : "",
             id);
    codec_ical_text_line(ics, "DESCRIPTION", description);
    free(description);
}

static const char *event_status(const char *status)
{
    return strcmp(status, "cancelled") == 0 ? "CANCELLED"
           : strcmp(status, "pending") == 0 ? "TENTATIVE"
                                            : "CONFIRMED";
}

/* The body's ETag: the first 16 bytes of its SHA-256, quoted. */
static void etag_of(const char *body, size_t length, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(body, length, hash, &size, EVP_sha256(), NULL);
    out[0] = '"';
    for (int i = 0; i < 16; i++) {
        out[1 + 2 * i] = hex[hash[i] >> 4];
        out[2 + 2 * i] = hex[hash[i] & 15];
    }
    out[33] = '"';
    out[34] = 0;
}

/* Whether If-None-Match names `etag` (or is *). */
static bool not_modified(http_ctx_t *ctx, const char *etag)
{
    size_t length;
    const char *header = http_request_header(ctx, "if-none-match", &length);
    if (header == NULL)
        return false;
    char *copy = slotd_malloc(length + 1);
    memcpy(copy, header, length);
    copy[length] = 0;
    bool found = strstr(copy, etag) != NULL || strcmp(copy, "*") == 0;
    free(copy);
    return found;
}

/* Ends the calendar and answers it, or 304 when the client has it already. */
static void respond_calendar(http_ctx_t *ctx, codec_ical_t *ics, const char *content_type)
{
    char etag[35];
    codec_ical_line(ics, "END", "VCALENDAR");
    etag_of(ics->data, ics->size, etag);
    http_respond_header(ctx, "etag", etag);
    if (not_modified(ctx, etag))
        http_respond_text(ctx, 304, content_type, "", 0);
    else
        http_respond_text(ctx, 200, content_type, ics->data, ics->size);
}

/* ---- GET /v1/resources/{id}/calendar.ics ------------------------------------------------------
 */

typedef struct {
    eng_id_t resource;
    bool busy;
    int64_t from, to; /* the busy window */
    codec_ical_t ics;
} feed_state_t;

static void free_feed_state(void *p)
{
    feed_state_t *st = p;
    codec_ical_free(&st->ics);
    free(st);
}

static void busy_event(codec_ical_t *ics, const eng_id_t *id, const char *kind, int64_t start,
                       int64_t end, int64_t stamp)
{
    char text[37], at[17], uid[96];
    codec_format_uuid(id, text);
    codec_ical_format_time(start, at);
    snprintf(uid, sizeof(uid), "%s-%s-%s@slotd", kind, text, at);
    codec_ical_line(ics, "BEGIN", "VEVENT");
    codec_ical_line(ics, "UID", uid);
    codec_ical_time_line(ics, "DTSTAMP", stamp);
    codec_ical_time_line(ics, "DTSTART", start);
    codec_ical_time_line(ics, "DTEND", end);
    codec_ical_text_line(ics, "SUMMARY", "Busy");
    codec_ical_line(ics, "CLASS", "PRIVATE");
    codec_ical_line(ics, "TRANSP", "OPAQUE");
    codec_ical_line(ics, "END", "VEVENT");
}

static void on_busy(int error, const store_busy_list_t *list, void *arg)
{
    http_ctx_t *ctx = arg;
    feed_state_t *st = ctx->state;
    if (ended_in_error(ctx, error, "calendar feed"))
        return;
    for (size_t i = 0; i < list->occupied_count; i++) {
        const store_occupied_time_t *o = &list->occupied[i];
        if (o->external)
            busy_event(&st->ics, &o->id, "external", o->start, o->end, st->from);
        else if (o->hold)
            busy_event(&st->ics, &o->id, "hold", o->padded_start, o->padded_end, st->from);
        /* bookings are events of their own */
    }
    tz_zone_t *zone;
    if (tz_zone_find(list->blocks.timezone, &zone) != 0)
        tz_zone_find("UTC", &zone);
    domain_block_occurrence_t *blocks;
    size_t count = domain_block_occurrences(&list->blocks, zone, st->from, st->to, &blocks);
    for (size_t i = 0; i < count; i++)
        busy_event(&st->ics, &list->blocks.items[blocks[i].block].id, "block", blocks[i].start,
                   blocks[i].end, st->from);
    free(blocks);
    respond_calendar(ctx, &st->ics, "text/calendar; charset=utf-8");
    http_wait_release(ctx);
}

static void on_feed(int error, const store_feed_t *feed, void *arg)
{
    http_ctx_t *ctx = arg;
    feed_state_t *st = ctx->state;
    if (ended_in_error(ctx, error, "calendar feed"))
        return;
    codec_ical_t *ics = &st->ics;
    begin_calendar(ics, "PUBLISH");
    codec_ical_text_line(ics, "X-WR-CALNAME", feed->resource_name);
    codec_ical_line(ics, "X-PUBLISHED-TTL", "PT15M");
    codec_ical_begin(ics, "REFRESH-INTERVAL;VALUE=DURATION");
    codec_ical_raw(ics, "PT15M");
    codec_ical_end(ics);
    for (size_t i = 0; i < feed->count; i++) {
        const store_feed_booking_t *b = &feed->bookings[i];
        size_t size = strlen(b->service_name) + strlen(b->customer_name) + 4;
        char *summary = slotd_malloc(size);
        snprintf(summary, size, "%s - %s", b->service_name, b->customer_name);
        codec_ical_line(ics, "BEGIN", "VEVENT");
        booking_lines(ics, b, summary);
        codec_ical_line(ics, "STATUS", event_status(b->status));
        codec_ical_line(ics, "TRANSP", "OPAQUE");
        codec_ical_line(ics, "END", "VEVENT");
        free(summary);
    }
    if (!st->busy) {
        respond_calendar(ctx, ics, "text/calendar; charset=utf-8");
        http_wait_release(ctx);
        return;
    }
    /* the token named the organization: the busy listing is its own */
    ctx->organization = feed->organization;
    codec_format_uuid(&feed->organization, ctx->organization_text);
    domain_error_t domain_error;
    store_operation_t *op =
        domain_resource_busy(http_pool(ctx), &ctx->organization, &st->resource, st->from, st->to,
                             http_now(ctx->server), on_busy, ctx, &domain_error);
    http_await(ctx, op, &domain_error);
    http_wait_release(ctx);
}

void http_feed_get(http_ctx_t *ctx)
{
    char id[37], token[1025], busy[16]; /* as long as routes.c lets them be */
    feed_state_t *st = slotd_calloc(1, sizeof(*st));
    ctx->state = st;
    ctx->free_state = free_feed_state;
    if (!http_path_id(ctx, 0, "calendar feed", id, &st->resource))
        return;
    const char *given = http_query_param(ctx, "token", token, sizeof(token));
    const char *busy_text = http_query_param(ctx, "busy", busy, sizeof(busy));
    if (busy_text && strcmp(busy_text, "0") != 0 && strcmp(busy_text, "1") != 0) {
        http_respond_invalid(ctx, "busy", "busy must be 0 or 1.");
        return;
    }
    st->busy = busy_text && strcmp(busy_text, "1") == 0;
    if (given == NULL || strlen(given) != STORE_FEED_TOKEN_LENGTH) {
        http_respond_not_found(ctx, "calendar feed");
        return;
    }
    int64_t now = http_now(ctx->server);
    st->from = ((int64_t)tz_day_of(now) - FEED_BUSY_DAYS_BEFORE) * TZ_SECONDS_PER_DAY;
    st->to = st->from + (int64_t)DOMAIN_BLOCK_MAX_WINDOW_DAYS * TZ_SECONDS_PER_DAY;
    domain_error_t error;
    http_await(ctx,
               domain_started(store_feed_get(http_pool(ctx), &st->resource, given, strlen(given),
                                             now - (int64_t)FEED_PAST_DAYS * TZ_SECONDS_PER_DAY,
                                             on_feed, ctx),
                              &error),
               &error);
}

/* ---- GET /v1/bookings/{id}.ics ----------------------------------------------------------------
 */

/* A tel: URI of a phone number as given: its digits, and a leading +. */
static void tel_uri(const char *phone, char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, "tel:");
    for (const char *p = phone; *p && n + 1 < size; p++)
        if ((*p >= '0' && *p <= '9') || (*p == '+' && n == 4))
            out[n++] = *p;
    out[n] = 0;
}

static void on_invitation(int error, const store_feed_booking_t *b, void *arg)
{
    http_ctx_t *ctx = arg;
    if (ended_in_error(ctx, error, "booking"))
        return;
    bool cancelled = strcmp(b->status, "cancelled") == 0;
    codec_ical_t ics = {0};
    begin_calendar(&ics, cancelled ? "CANCEL" : "REQUEST");
    codec_ical_line(&ics, "BEGIN", "VEVENT");
    booking_lines(&ics, b, b->service_name);
    if (b->location_address)
        codec_ical_text_line(&ics, "LOCATION", b->location_address);
    /* the organization has no e-mail address: a mailto that reaches no one (.invalid) */
    char organizer[96], attendee[400];
    snprintf(organizer, sizeof(organizer), "mailto:organization-%s@slotd.invalid",
             ctx->organization_text);
    codec_ical_begin(&ics, "ORGANIZER");
    codec_ical_param(&ics, "CN", b->organization_name);
    codec_ical_raw(&ics, organizer);
    codec_ical_end(&ics);
    if (b->customer_email)
        snprintf(attendee, sizeof(attendee), "mailto:%s", b->customer_email);
    else
        tel_uri(b->customer_phone ? b->customer_phone : "", attendee, sizeof(attendee));
    codec_ical_begin(&ics, "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE");
    codec_ical_param(&ics, "CN", b->customer_name);
    codec_ical_raw(&ics, attendee);
    codec_ical_end(&ics);
    codec_ical_line(&ics, "STATUS", event_status(b->status));
    codec_ical_line(&ics, "TRANSP", "OPAQUE");
    codec_ical_line(&ics, "END", "VEVENT");
    respond_calendar(ctx, &ics,
                     cancelled ? "text/calendar; charset=utf-8; method=CANCEL"
                               : "text/calendar; charset=utf-8; method=REQUEST");
    codec_ical_free(&ics);
    http_wait_release(ctx);
}

void http_bookings_ics(http_ctx_t *ctx)
{
    char id[37];
    eng_id_t booking;
    domain_error_t error;
    if (http_path_id(ctx, 0, "booking", id, &booking))
        http_await(ctx,
                   domain_started(store_booking_invitation(http_pool(ctx), &ctx->organization,
                                                           &booking, on_invitation, ctx),
                                  &error),
                   &error);
}
