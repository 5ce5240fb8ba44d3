/*
 * Civil (proleptic Gregorian) calendar arithmetic on day numbers.
 *
 * Day numbers count days since 1970-01-01 and are the only date representation
 * the engine computes with: weekday, "the next day" and date ranges are integer
 * arithmetic, and no libc time function (with its TZ environment) is involved.
 * The conversion works in 400-year eras, which repeat exactly (146097 days), with
 * years starting on March 1 so that the leap day is the last day of a year.
 */
#include "slotd/tz.h"

#include <stdio.h>
#include <string.h>

int32_t tz_days_from_civil(int32_t year, int32_t month, int32_t day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t year_of_era = y - era * 400;                              /* 0..399 */
    int64_t month_from_march = month > 2 ? month - 3 : month + 9;     /* 0..11 */
    int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1; /* 0..365 */
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return (int32_t)(era * 146097 + day_of_era - 719468);
}

tz_date_t tz_civil_from_days(int32_t days)
{
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t day_of_era = z - era * 146097; /* 0..146096 */
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;
    tz_date_t d;
    d.day = (int32_t)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    d.month = (int32_t)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    d.year = (int32_t)(year_of_era + era * 400 + (d.month <= 2));
    return d;
}

int tz_weekday(int32_t days)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int64_t w = ((int64_t)days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

int tz_days_in_month(int32_t year, int32_t month)
{
    static const int lengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : lengths[month - 1];
}

bool tz_parse_digits(const char *text, int count, int32_t *out)
{
    int32_t v = 0;
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
}

int tz_parse_date(const char *text, int32_t *days_out)
{
    int32_t y, m, d;
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return TZ_EINVAL;
    if (!tz_parse_digits(text, 4, &y) || !tz_parse_digits(text + 5, 2, &m) ||
        !tz_parse_digits(text + 8, 2, &d))
        return TZ_EINVAL;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > tz_days_in_month(y, m))
        return TZ_EINVAL;
    if (y < TZ_MIN_YEAR || y > TZ_MAX_YEAR)
        return TZ_ERANGE;
    *days_out = tz_days_from_civil(y, m, d);
    return TZ_OK;
}
