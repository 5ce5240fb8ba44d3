/* Request validation helpers (see fields.h). */
#include "http/fields.h"

#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "slotd/codec.h"
#include "slotd/tz.h"

static bool invalid(http_ctx_t *ctx, const char *field, const char *message)
{
    http_respond_invalid(ctx, field, message);
    return false;
}

bool http_body_object(http_ctx_t *ctx)
{
    if (json_is_object(ctx->body))
        return true;
    return invalid(ctx, "body", "Send a JSON object.");
}

bool http_fields_known(http_ctx_t *ctx, const json_t *object, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known)
            return invalid(ctx, key, "Unknown field.");
    }
    return true;
}

/* Looks a field up: false after answering when it is absent but required. */
static bool lookup(http_ctx_t *ctx, const json_t *object, const char *name, bool required,
                   json_t **value, bool *present)
{
    *value = json_object_get(object, name);
    if (present)
        *present = *value != NULL;
    if (*value == NULL && required) {
        char message[96];
        snprintf(message, sizeof(message), "%s is required.", name);
        return invalid(ctx, name, message);
    }
    return true;
}

/* lookup(), with a JSON null counted as absent where the field may be null. */
static bool lookup_value(http_ctx_t *ctx, const json_t *object, const char *name, bool required,
                         bool nullable, json_t **value, bool *present)
{
    if (!lookup(ctx, object, name, required, value, present))
        return false;
    if (*value && nullable && json_is_null(*value))
        *value = NULL;
    return true;
}

bool http_field_bool(http_ctx_t *ctx, const json_t *object, const char *name, bool *out,
                     bool *present)
{
    json_t *v;
    if (!lookup(ctx, object, name, false, &v, present))
        return false;
    if (v == NULL)
        return true;
    if (!json_is_boolean(v)) {
        char message[96];
        snprintf(message, sizeof(message), "%s must be true or false.", name);
        return invalid(ctx, name, message);
    }
    *out = json_is_true(v);
    return true;
}

bool http_field_uuid(http_ctx_t *ctx, const json_t *object, const char *name, bool nullable,
                     char *text37, bool *present, bool *is_null)
{
    json_t *v;
    *is_null = true;
    if (!lookup_value(ctx, object, name, false, nullable, &v, present))
        return false;
    if (v == NULL)
        return true;
    eng_id_t id;
    if (!json_is_string(v) || codec_parse_uuid(json_string_value(v), &id) != 0) {
        char message[96];
        snprintf(message, sizeof(message), "%s must be an id.", name);
        return invalid(ctx, name, message);
    }
    codec_format_uuid(&id, text37);
    *is_null = false;
    return true;
}

bool http_field_int(http_ctx_t *ctx, const json_t *object, const char *name, long long min,
                    long long max, bool required, bool nullable, long long *out, bool *present,
                    bool *is_null)
{
    json_t *v;
    if (is_null)
        *is_null = false;
    if (!lookup(ctx, object, name, required, &v, present))
        return false;
    if (v == NULL)
        return true;
    if (nullable && json_is_null(v)) {
        if (is_null)
            *is_null = true;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char message[128];
        snprintf(message, sizeof(message), "%s must be a whole number from %lld to %lld%s.", name,
                 min, max, nullable ? ", or null" : "");
        return invalid(ctx, name, message);
    }
    *out = json_integer_value(v);
    return true;
}

bool http_field_zone(http_ctx_t *ctx, const json_t *object, const char *name, bool nullable,
                     const char **out, bool *present)
{
    if (!http_field_text(ctx, object, name, nullable, out, present))
        return false;
    tz_zone_t *zone;
    if (*out && tz_zone_find(*out, &zone) != 0) {
        *out = NULL;
        return invalid(ctx, name, "Use an IANA time zone, e.g. Europe/Warsaw.");
    }
    return true;
}

bool http_field_week(http_ctx_t *ctx, const json_t *object, const char *name, bool required,
                     bool nullable, char **text, bool *present)
{
    json_t *v;
    *text = NULL;
    if (!lookup_value(ctx, object, name, required, nullable, &v, present))
        return false;
    if (v == NULL)
        return true;
    eng_week_t week;
    char field[CODEC_FIELD_MAX];
    int rc = codec_week_from_json(v, name, &week, field, sizeof(field));
    if (rc)
        return invalid(ctx, field,
                       rc == ENG_ERANGE_OVERLAP ? "Ranges of one day must not overlap."
                       : rc == ENG_ERANGE_ORDER ? "A range must end after it starts."
                       : rc == ENG_ELIMIT       ? "At most 16 ranges a day."
                                                : "Hours are a WEEK object: "
                                                  "{\"mon\":[[\"09:00\",\"17:00\"]],...}.");
    json_t *normalized = codec_week_to_json(&week);
    *text = json_dumps(normalized, JSON_COMPACT);
    json_decref(normalized);
    return true;
}

bool http_list_params(http_ctx_t *ctx, int *limit, char *cursor37, bool *has_cursor)
{
    char buffer[64];
    const char *v = http_query_param(ctx, "limit", buffer, sizeof(buffer));
    *limit = 100;
    if (v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*v == 0 || *end || n < 1 || n > 1000)
            return invalid(ctx, "limit", "limit must be a whole number from 1 to 1000.");
        *limit = (int)n;
    }
    v = http_query_param(ctx, "cursor", buffer, sizeof(buffer));
    *has_cursor = v != NULL;
    if (v) {
        eng_id_t id;
        if (codec_parse_uuid(v, &id) != 0)
            return invalid(ctx, "cursor", "cursor must be a next_cursor from an earlier page.");
        codec_format_uuid(&id, cursor37);
    }
    return true;
}

bool http_list_page(http_ctx_t *ctx, int *limit, eng_id_t *after, const eng_id_t **cursor)
{
    char text[37];
    bool has_cursor;
    *cursor = NULL;
    if (!http_list_params(ctx, limit, text, &has_cursor))
        return false;
    /* http_list_params answered 400 unless the cursor is an id */
    if (has_cursor && codec_parse_uuid(text, after) == 0)
        *cursor = after;
    return true;
}

void http_await_page(http_ctx_t *ctx, http_page_start_fn start)
{
    int limit;
    eng_id_t after;
    const eng_id_t *cursor;
    domain_error_t error;
    if (http_list_page(ctx, &limit, &after, &cursor))
        http_await(ctx, start(ctx, cursor, limit, &error), &error);
}

bool http_path_id(http_ctx_t *ctx, int index, const char *what, char *text37, eng_id_t *id)
{
    if (ctx->params[index] == NULL || codec_parse_uuid(ctx->params[index], id) != 0) {
        http_respond_not_found(ctx, what);
        return false;
    }
    codec_format_uuid(id, text37);
    return true;
}

bool http_field_dates(http_ctx_t *ctx, const json_t *object, const char *name, char **literal,
                      bool *present)
{
    json_t *value;
    *literal = NULL;
    if (!lookup(ctx, object, name, false, &value, present))
        return false;
    if (value == NULL)
        return true;
    if (!json_is_array(value) || json_array_size(value) > 1000)
        return invalid(ctx, name, "Give a list of dates (YYYY-MM-DD), at most 1000.");
    char *text = malloc(3 + json_array_size(value) * 11), *p = text;
    *p++ = '{';
    size_t i;
    const json_t *day;
    json_array_foreach(value, i, day)
    {
        int32_t d;
        if (!json_is_string(day) || tz_parse_date(json_string_value(day), &d)) {
            char field[CODEC_FIELD_MAX];
            snprintf(field, sizeof(field), "%s[%zu]", name, i);
            free(text);
            return invalid(ctx, field, "A date must be YYYY-MM-DD.");
        }
        if (i)
            *p++ = ',';
        memcpy(p, json_string_value(day), 10);
        p += 10;
    }
    *p++ = '}';
    *p = 0;
    *literal = text;
    return true;
}

bool http_field_text(http_ctx_t *ctx, const json_t *object, const char *name, bool nullable,
                     const char **out, bool *present)
{
    json_t *v;
    *out = NULL;
    if (!lookup_value(ctx, object, name, false, nullable, &v, present))
        return false;
    if (v == NULL)
        return true;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        char message[96];
        snprintf(message, sizeof(message), "%s must be text%s.", name, nullable ? " or null" : "");
        return invalid(ctx, name, message);
    }
    *out = json_string_value(v);
    return true;
}

bool http_field_week_value(http_ctx_t *ctx, const json_t *object, const char *name, bool nullable,
                           eng_week_t *week, bool *present, bool *is_null)
{
    char *text = NULL;
    bool was_present;
    if (!http_field_week(ctx, object, name, false, nullable, &text, &was_present))
        return false;
    if (present)
        *present = was_present;
    *is_null = text == NULL;
    if (text) {
        /* http_field_week validated and normalized it: decoding again cannot fail */
        json_t *value = json_loads(text, 0, NULL);
        char field[CODEC_FIELD_MAX];
        int rc = codec_week_from_json(value, name, week, field, sizeof(field));
        json_decref(value);
        free(text);
        if (rc)
            return invalid(ctx, field, "Hours are a WEEK object.");
    }
    return true;
}

bool http_field_day_list(http_ctx_t *ctx, const json_t *object, const char *name, int32_t **days,
                         size_t *count, bool *present)
{
    json_t *value;
    *days = NULL;
    *count = 0;
    if (!lookup(ctx, object, name, false, &value, present))
        return false;
    if (value == NULL)
        return true;
    if (!json_is_array(value))
        return invalid(ctx, name, "Give a list of dates (YYYY-MM-DD).");
    int32_t *list = malloc((json_array_size(value) + 1) * sizeof(*list));
    if (list == NULL)
        abort();
    size_t i;
    const json_t *day;
    json_array_foreach(value, i, day)
    {
        if (!json_is_string(day) || tz_parse_date(json_string_value(day), &list[i])) {
            char field[CODEC_FIELD_MAX];
            snprintf(field, sizeof(field), "%s[%zu]", name, i);
            free(list);
            return invalid(ctx, field, "A date must be YYYY-MM-DD.");
        }
    }
    *days = list;
    *count = json_array_size(value);
    return true;
}

domain_given_t http_received(const json_t *value, bool typed)
{
    if (value == NULL)
        return DOMAIN_ABSENT;
    if (json_is_null(value))
        return DOMAIN_NULL;
    return typed ? DOMAIN_GIVEN : DOMAIN_MALFORMED;
}

bool http_is_text(const json_t *value)
{
    return json_is_string(value) && strlen(json_string_value(value)) == json_string_length(value);
}

domain_text_t http_text_of(const json_t *object, const char *name)
{
    const json_t *value = json_object_get(object, name);
    return (domain_text_t){http_received(value, http_is_text(value)), json_string_value(value)};
}

domain_whole_t http_whole_of(const json_t *object, const char *name)
{
    const json_t *value = json_object_get(object, name);
    return (domain_whole_t){http_received(value, json_is_integer(value)),
                            json_integer_value(value)};
}
