/*
 * What the route files share: rendering values, waiting for a domain or
 * typed-store operation, answering a list page and the store's and the
 * domain's errors, and window bounds in query strings.
 */
#include <stdio.h>
#include <string.h>

#include "http/fields.h"
#include "log/log.h"
#include "store/operation.h"
#include "http/routes.h"
#include "slotd/codec.h"

json_t *http_json_text(const char *text)
{
    return text ? json_string(text) : json_null();
}

json_t *http_json_instant(const char *zone_name, int64_t instant)
{
    tz_zone_t *zone;
    if (tz_zone_find(zone_name, &zone) != 0)
        tz_zone_find("UTC", &zone);
    char text[40];
    codec_format_instant(zone, instant, text, sizeof(text));
    return json_string(text);
}

json_t *http_rendered(http_ctx_t *ctx, json_t *body, const char *what)
{
    if (body == NULL)
        http_respond_store_error(ctx, STORE_EINTERNAL, what);
    return body;
}

static void cancel_operation(void *operation)
{
    store_operation_cancel(operation);
}

static bool operation_sent(const void *operation)
{
    return store_operation_sent(operation);
}

void http_await(http_ctx_t *ctx, store_operation_t *operation, const domain_error_t *error)
{
    if (operation)
        http_wait(ctx, operation, cancel_operation, operation_sent);
    else
        http_respond_domain_error(ctx, error);
}

void http_respond_items(http_ctx_t *ctx, json_t *items, const eng_id_t *next, const char *what)
{
    char cursor[37];
    if (next)
        codec_format_uuid(next, cursor);
    json_t *body = items ? json_pack("{s:o, s:o}", "items", items, "next_cursor",
                                     next ? json_string(cursor) : json_null())
                         : NULL;
    if (http_rendered(ctx, body, what))
        http_respond(ctx, 200, body);
}

void http_respond_domain_error(http_ctx_t *ctx, const domain_error_t *error)
{
    if (error->code == DOMAIN_EINVALID)
        http_respond_invalid(ctx, error->field, error->message);
    else if (error->code == DOMAIN_EUNAVAILABLE)
        http_respond_error(ctx, 503, "unavailable", error->message,
                           json_pack("{s:s}", "setting", error->field));
    else
        http_respond_refused(ctx);
}

void http_respond_store_error(http_ctx_t *ctx, int error, const char *what)
{
    switch (error) {
    case STORE_ENOTFOUND:
        http_respond_not_found(ctx, what);
        break;
    case STORE_ECONFLICT:
        http_respond_error(ctx, 409, "conflict", "The change conflicts with other data.", NULL);
        break;
    case STORE_EOUTCOME:
        http_respond_outcome_unknown(ctx);
        break;
    case STORE_EUNAVAILABLE:
    case STORE_EBUSY:
        http_respond_database_error(ctx, NULL);
        break;
    default:
        log_error("store_failed", "request_id", ctx->request_id, "what", what, NULL);
        http_respond_error(ctx, 500, "internal", "Something went wrong on our side.", NULL);
    }
}

bool http_query_bound(http_ctx_t *ctx, const char *name, tz_zone_t *zone, bool end, int64_t *out)
{
    char buffer[64], message[192];
    const char *text = http_query_param(ctx, name, buffer, sizeof(buffer));
    int32_t day;
    int rc = text ? codec_parse_instant(text, out) : ENG_EINVAL;
    if (rc == 0)
        return true;
    if (text && rc != ENG_ERANGE) {
        int date_rc = tz_parse_date(text, &day);
        if (date_rc == 0) {
            *out = tz_from_wall(zone, ((int64_t)day + (end ? 1 : 0)) * TZ_SECONDS_PER_DAY);
            return true;
        }
        if (date_rc == TZ_ERANGE)
            rc = ENG_ERANGE;
    }
    if (text == NULL)
        snprintf(message, sizeof(message),
                 "%s is required: an RFC 3339 instant or a date (YYYY-MM-DD).", name);
    else if (rc == ENG_ERANGE)
        snprintf(message, sizeof(message),
                 "%s lies outside the supported range of dates, 1970-01-01 to 2199-12-31.", name);
    else if (strchr(text, ' '))
        snprintf(message, sizeof(message),
                 "%s is not an RFC 3339 instant or a date: it has a space where the offset's "
                 "sign should be; write + as %%2B in a query.",
                 name);
    else
        snprintf(
            message, sizeof(message),
            "%s is neither an RFC 3339 instant (2026-03-02T09:00:00+01:00) nor a real date of the "
            "calendar (YYYY-MM-DD).",
            name);
    http_respond_invalid(ctx, name, message);
    return false;
}
