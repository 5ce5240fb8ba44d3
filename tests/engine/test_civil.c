/* Civil date arithmetic. */
#include "test.h"

#include "slotd/tz.h"

TEST(civil_epoch_is_day_zero_and_a_thursday)
{
    CHECK_EQ(tz_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ(tz_weekday(0), 3);
}

TEST(civil_round_trips_every_day_from_1600_to_2400)
{
    int32_t first = tz_days_from_civil(1600, 1, 1), last = tz_days_from_civil(2400, 12, 31);
    int weekday = tz_weekday(first);
    for (int32_t d = first; d <= last; d++) {
        tz_date_t c = tz_civil_from_days(d);
        CHECK_EQ(tz_days_from_civil(c.year, c.month, c.day), d);
        CHECK_EQ(tz_weekday(d), weekday);
        weekday = (weekday + 1) % 7;
    }
}

TEST(civil_leap_days_follow_the_gregorian_rule)
{
    CHECK_EQ(tz_days_from_civil(2024, 3, 1) - tz_days_from_civil(2024, 2, 28), 2);
    CHECK_EQ(tz_days_from_civil(2100, 3, 1) - tz_days_from_civil(2100, 2, 28), 1);
    CHECK_EQ(tz_days_from_civil(2000, 3, 1) - tz_days_from_civil(2000, 2, 28), 2);
}

TEST(civil_parse_date_accepts_only_real_dates)
{
    int32_t d;
    CHECK_EQ(tz_parse_date("2026-03-29", &d), 0);
    CHECK_EQ(d, tz_days_from_civil(2026, 3, 29));
    CHECK_EQ(tz_parse_date("2024-02-29", &d), 0);
    CHECK_EQ(tz_parse_date("2023-02-29", &d), TZ_EINVAL);
    CHECK_EQ(tz_parse_date("2026-13-01", &d), TZ_EINVAL);
    CHECK_EQ(tz_parse_date("2026-3-01", &d), TZ_EINVAL);
    CHECK_EQ(tz_parse_date("2026-03-01T", &d), TZ_EINVAL);
    CHECK_EQ(tz_parse_date("", &d), TZ_EINVAL);
    CHECK_EQ(tz_parse_date("0000-01-01", &d), TZ_EINVAL);
}
