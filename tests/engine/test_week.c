/* Weekly hours: parsing and validation. */
#include "test.h"

#include "slotd/engine.h"

TEST(week_parses_wall_times_and_24_00_only_as_an_end)
{
    uint16_t m;
    CHECK_EQ(eng_parse_wall_minutes("09:30", false, &m), 0);
    CHECK_EQ(m, 570);
    CHECK_EQ(eng_parse_wall_minutes("00:00", false, &m), 0);
    CHECK_EQ(m, 0);
    CHECK_EQ(eng_parse_wall_minutes("24:00", true, &m), 0);
    CHECK_EQ(m, 1440);
    CHECK_EQ(eng_parse_wall_minutes("24:00", false, &m), ENG_EINVAL);
    CHECK_EQ(eng_parse_wall_minutes("24:01", true, &m), ENG_EINVAL);
    CHECK_EQ(eng_parse_wall_minutes("9:30", false, &m), ENG_EINVAL);
    CHECK_EQ(eng_parse_wall_minutes("09:60", false, &m), ENG_EINVAL);
    CHECK_EQ(eng_parse_wall_minutes("25:00", true, &m), ENG_EINVAL);
    CHECK_EQ(eng_parse_wall_minutes("0a:00", false, &m), ENG_EINVAL);
}

TEST(week_touching_ranges_merge_and_come_out_sorted)
{
    eng_day_hours_t d = {.count = 3, .ranges = {{840, 1020}, {540, 780}, {780, 840}}};
    int bad = -1;
    CHECK_EQ(eng_day_hours_normalize(&d, &bad), 0);
    CHECK_EQ(d.count, 1);
    CHECK_EQ(d.ranges[0].start, 540);
    CHECK_EQ(d.ranges[0].end, 1020);
}

TEST(week_overlapping_ranges_are_refused_naming_the_range)
{
    eng_day_hours_t d = {.count = 2, .ranges = {{540, 780}, {720, 900}}};
    int bad = -1;
    CHECK_EQ(eng_day_hours_normalize(&d, &bad), ENG_ERANGE_OVERLAP);
    CHECK_EQ(bad, 1);
}

TEST(week_range_ending_before_it_starts_is_refused)
{
    eng_day_hours_t d = {.count = 2, .ranges = {{540, 780}, {900, 900}}};
    int bad = -1;
    CHECK_EQ(eng_day_hours_normalize(&d, &bad), ENG_ERANGE_ORDER);
    CHECK_EQ(bad, 1);
    d = (eng_day_hours_t){.count = 1, .ranges = {{600, 1441}}};
    CHECK_EQ(eng_day_hours_normalize(&d, &bad), ENG_ERANGE_ORDER);
    CHECK_EQ(bad, 0);
}
