/*
 * JSON forms of weeks, days and instants (see include/slotd/codec.h).
 *
 * Validation happens here, at the edge, and reports where: every refusal names
 * the JSON path of the value at fault, so that a client sees
 * {"field":"working_hours.mon[1]"} rather than a guess.
 */
#include "slotd/codec.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int codec_day_hours_from_json(const json_t *value, const char *name, eng_day_hours_t *hours,
                              char *field, size_t field_size)
{
    *hours = (eng_day_hours_t){0};
    if (!json_is_array(value)) {
        snprintf(field, field_size, "%s", name);
        return ENG_EINVAL;
    }
    if (json_array_size(value) > ENG_MAX_DAY_RANGES) {
        snprintf(field, field_size, "%s", name);
        return ENG_ELIMIT;
    }
    for (size_t i = 0; i < json_array_size(value); i++) {
        const json_t *range = json_array_get(value, i);
        uint16_t start, end;
        if (!json_is_array(range) || json_array_size(range) != 2 ||
            !json_is_string(json_array_get(range, 0)) ||
            !json_is_string(json_array_get(range, 1)) ||
            eng_parse_wall_minutes(json_string_value(json_array_get(range, 0)), false, &start) ||
            eng_parse_wall_minutes(json_string_value(json_array_get(range, 1)), true, &end)) {
            snprintf(field, field_size, "%s[%zu]", name, i);
            return ENG_EINVAL;
        }
        hours->ranges[hours->count].start = start;
        hours->ranges[hours->count].end = end;
        hours->count++;
    }
    int bad = 0;
    int rc = eng_day_hours_normalize(hours, &bad);
    if (rc)
        snprintf(field, field_size, "%s[%d]", name, bad);
    return rc;
}

int codec_week_from_json(const json_t *value, const char *name, eng_week_t *week, char *field,
                         size_t field_size)
{
    *week = (eng_week_t){0};
    if (!json_is_object(value)) {
        snprintf(field, field_size, "%s", name);
        return ENG_EINVAL;
    }
    const char *key;
    const json_t *day;
    json_object_foreach((json_t *)value, key, day)
    {
        int d = -1;
        for (int i = 0; i < 7; i++)
            if (strcmp(key, day_names[i]) == 0)
                d = i;
        char path[CODEC_FIELD_MAX];
        snprintf(path, sizeof(path), "%s.%.8s", name, key);
        if (d < 0) {
            snprintf(field, field_size, "%s", path);
            return ENG_EINVAL;
        }
        if (json_is_null(day))
            continue;
        int rc = codec_day_hours_from_json(day, path, &week->day[d], field, field_size);
        if (rc)
            return rc;
    }
    return ENG_OK;
}

json_t *codec_week_to_json(const eng_week_t *week)
{
    json_t *obj = json_object();
    for (int d = 0; d < 7; d++) {
        json_t *ranges = json_array();
        for (int i = 0; i < week->day[d].count; i++) {
            char start[16], end[16];
            const eng_hours_range_t *r = &week->day[d].ranges[i];
            snprintf(start, sizeof(start), "%02d:%02d", r->start / 60, r->start % 60);
            snprintf(end, sizeof(end), "%02d:%02d", r->end / 60, r->end % 60);
            json_array_append_new(ranges, json_pack("[ss]", start, end));
        }
        json_object_set_new(obj, day_names[d], ranges);
    }
    return obj;
}

json_t *codec_week_ordered(json_t *week)
{
    if (!json_is_object(week))
        return week;
    json_t *ordered = json_object();
    for (int d = 0; d < 7; d++) {
        json_t *day = json_object_get(week, day_names[d]);
        if (day)
            json_object_set(ordered, day_names[d], day);
    }
    const char *key;
    json_t *value;
    json_object_foreach(week, key, value)
    {
        if (json_object_get(ordered, key) == NULL)
            json_object_set(ordered, key, value);
    }
    json_decref(week);
    return ordered;
}

int codec_parse_instant(const char *text, int64_t *instant)
{
    /* YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|+HH:MM|-HH:MM) */
    size_t len = strlen(text);
    if (len < 17 || len > 64 || (text[10] != 'T' && text[10] != 't') || text[13] != ':')
        return ENG_EINVAL;
    char date[11];
    memcpy(date, text, 10);
    date[10] = 0;
    int32_t day;
    int32_t hour, minute, second = 0;
    int date_rc = tz_parse_date(date, &day);
    if (date_rc == TZ_ERANGE) { /* a real date: the instant is checked below, offset applied */
        int32_t y, m, d;
        tz_parse_digits(date, 4, &y);
        tz_parse_digits(date + 5, 2, &m);
        tz_parse_digits(date + 8, 2, &d);
        day = tz_days_from_civil(y, m, d);
    } else if (date_rc) {
        return ENG_EINVAL;
    }
    if (!tz_parse_digits(text + 11, 2, &hour) || !tz_parse_digits(text + 14, 2, &minute) ||
        hour > 23 || minute > 59)
        return ENG_EINVAL;
    const char *p = text + 16;
    if (*p == ':') {
        if (!tz_parse_digits(p + 1, 2, &second) || second > 59)
            return ENG_EINVAL;
        p += 3;
        if (*p == '.') {
            p++;
            if (*p < '0' || *p > '9')
                return ENG_EINVAL;
            while (*p >= '0' && *p <= '9')
                p++;
        }
    }
    int offset;
    if ((*p == 'Z' || *p == 'z') && p[1] == 0) {
        offset = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int32_t oh, om;
        if (!tz_parse_digits(p + 1, 2, &oh) || !tz_parse_digits(p + 4, 2, &om) || oh > 23 ||
            om > 59)
            return ENG_EINVAL;
        offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
    } else {
        return ENG_EINVAL;
    }
    int64_t value = (int64_t)day * 86400 + hour * 3600 + minute * 60 + second - offset;
    if (!tz_instant_supported(value))
        return ENG_ERANGE;
    *instant = value;
    return ENG_OK;
}

static char *two_digits(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

size_t codec_write_instant(tz_zone_t *zone, int64_t instant, char *out)
{
    /* Written by hand, not with printf: this runs for every slot of every answer. */
    int32_t offset = tz_offset_at(zone, instant);
    int64_t wall = instant + offset;
    int32_t day = tz_day_of(wall);
    tz_date_t d = tz_civil_from_days(day);
    int64_t sec = wall - (int64_t)day * 86400;
    if (d.year < 0 || d.year > 9999) /* outside RFC 3339: clamp to its range */
        d.year = d.year < 0 ? 0 : 9999;
    char *p = out;
    p = two_digits(p, d.year / 100);
    p = two_digits(p, d.year % 100);
    *p++ = '-';
    p = two_digits(p, d.month);
    *p++ = '-';
    p = two_digits(p, d.day);
    *p++ = 'T';
    p = two_digits(p, (int)(sec / 3600));
    *p++ = ':';
    p = two_digits(p, (int)(sec / 60 % 60));
    *p++ = ':';
    p = two_digits(p, (int)(sec % 60));
    if (offset == 0 && strcmp(tz_zone_name(zone), "UTC") == 0) {
        *p++ = 'Z';
    } else {
        int32_t abs_offset = offset < 0 ? -offset : offset;
        *p++ = offset < 0 ? '-' : '+';
        p = two_digits(p, abs_offset / 3600);
        *p++ = ':';
        p = two_digits(p, abs_offset / 60 % 60);
    }
    *p = 0;
    return (size_t)(p - out);
}

void codec_format_instant(tz_zone_t *zone, int64_t instant, char *buffer, size_t size)
{
    char text[CODEC_INSTANT_MAX];
    codec_write_instant(zone, instant, text);
    snprintf(buffer, size, "%s", text);
}

int codec_parse_uuid(const char *text, eng_id_t *id)
{
    if (strlen(text) != 36)
        return ENG_EINVAL;
    int byte = 0;
    for (int i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return ENG_EINVAL;
            i++;
            continue;
        }
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = text[i + k];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return ENG_EINVAL;
            v = v * 16 + d;
        }
        id->bytes[byte++] = (uint8_t)v;
        i += 2;
    }
    return ENG_OK;
}

void codec_format_uuid(const eng_id_t *id, char *text)
{
    static const char hex[] = "0123456789abcdef";
    char *p = text;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[id->bytes[i] >> 4];
        *p++ = hex[id->bytes[i] & 15];
    }
    *p = 0;
}

bool codec_is_http_url(const char *text)
{
    if (text == NULL)
        return false;
    size_t scheme = strncasecmp(text, "https://", 8) == 0  ? 8
                    : strncasecmp(text, "http://", 7) == 0 ? 7
                                                           : 0;
    if (scheme == 0)
        return false;
    for (const char *p = text; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return false;
    /* a host: something before the path, query or fragment, and not only a port or user */
    size_t host = strcspn(text + scheme, "/?#");
    return host > 0 && text[scheme] != ':' && text[scheme] != '@';
}
