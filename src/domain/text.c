/*
 * The rules every configuration object shares: required fields, text
 * limits counted in characters (Unicode code points, as the API's messages
 * say, not bytes), zone names, lists of dates, whole numbers in a range. The
 * JSON parser already guarantees valid UTF-8 for strings it hands over, but
 * domain functions are also called with text from other edges, so validity is
 * checked here too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/domain.h"
#include "slotd/tz.h"

struct store_operation *domain_started(struct store_operation *operation, domain_error_t *error)
{
    if (operation == NULL) {
        error->code = DOMAIN_EBUSY;
        error->field[0] = 0;
        snprintf(error->message, sizeof(error->message), "%s", "The service is busy.");
    }
    return operation;
}

int domain_invalid(domain_error_t *error, const char *field, const char *format, ...)
{
    error->code = DOMAIN_EINVALID;
    snprintf(error->field, sizeof(error->field), "%s", field);
    va_list ap;
    va_start(ap, format);
    vsnprintf(error->message, sizeof(error->message), format, ap);
    va_end(ap);
    return DOMAIN_EINVALID;
}

long domain_text_length(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    long count = 0;
    while (*p) {
        unsigned c = *p;
        int extra;
        unsigned least;
        if (c < 0x80) {
            extra = 0, least = 0;
        } else if (c >= 0xc2 && c <= 0xdf) {
            extra = 1, least = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2, least = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3, least = 0x10000;
        } else {
            return -1;
        }
        unsigned code = extra ? c & (0x3fu >> extra) : c;
        for (int i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return -1;
            code = (code << 6) | (p[i] & 0x3f);
        }
        if (code < least || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            return -1;
        p += extra + 1;
        count++;
    }
    return count;
}

int domain_check_required(domain_error_t *error, const char *field, bool given)
{
    return given ? 0 : domain_invalid(error, field, "%s is required.", field);
}

static int text_refused(domain_error_t *error, const char *field, long min, long max)
{
    return domain_invalid(error, field, "%s must be text of %ld to %ld characters.", field, min,
                          max);
}

int domain_check_text(domain_error_t *error, const char *field, const char *text, long min,
                      long max)
{
    if (text == NULL)
        return 0;
    long length = domain_text_length(text);
    if (length < min || length > max)
        return text_refused(error, field, min, max);
    return 0;
}

int domain_check_given_text(domain_error_t *error, const char *field, const domain_text_t *text,
                            long min, long max, bool required)
{
    if (text->given == DOMAIN_ABSENT)
        return required ? domain_check_required(error, field, false) : 0;
    if (text->given == DOMAIN_GIVEN)
        return domain_check_text(error, field, text->text, min, max);
    return text_refused(error, field, min, max);
}

int domain_check_zone(domain_error_t *error, const char *field, const char *zone)
{
    tz_zone_t *found;
    if (zone && tz_zone_find(zone, &found) != 0)
        return domain_invalid(error, field, "Use an IANA time zone, e.g. Europe/Warsaw.");
    return 0;
}

int domain_check_whole(domain_error_t *error, const char *field, const domain_whole_t *number,
                       long long min, long long max, bool nullable, bool required)
{
    if (number->given == DOMAIN_ABSENT)
        return required ? domain_check_required(error, field, false) : 0;
    if ((number->given == DOMAIN_NULL && nullable) ||
        (number->given == DOMAIN_GIVEN && number->value >= min && number->value <= max))
        return 0;
    return domain_invalid(error, field, "%s must be a whole number from %lld to %lld%s.", field,
                          min, max, nullable ? ", or null" : "");
}

static int compare_days(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int domain_check_dates(domain_error_t *error, const char *field, const int32_t *days, size_t count,
                       size_t max)
{
    if (count > max)
        return domain_invalid(error, field, "Give a list of dates (YYYY-MM-DD), at most %zu.", max);
    if (count < 2)
        return 0;
    int32_t *sorted = malloc(count * sizeof(*sorted));
    if (sorted == NULL)
        abort();
    memcpy(sorted, days, count * sizeof(*sorted));
    qsort(sorted, count, sizeof(*sorted), compare_days);
    int rc = 0;
    for (size_t i = 1; i < count && rc == 0; i++) {
        if (sorted[i] != sorted[i - 1])
            continue;
        /* name the second listing of the date, as the client wrote the list */
        size_t seen = 0, at = 0;
        for (size_t j = 0; j < count; j++) {
            if (days[j] == sorted[i] && ++seen == 2) {
                at = j;
                break;
            }
        }
        char name[CODEC_FIELD_MAX];
        snprintf(name, sizeof(name), "%s[%zu]", field, at);
        rc = domain_invalid(error, name, "This date is listed twice.");
    }
    free(sorted);
    return rc;
}
