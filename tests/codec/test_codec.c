/* JSON forms of the API: WEEK objects and instants, with the field at fault. */
#include <string.h>

#include "slotd/codec.h"
#include "test.h"

static int week_error(const char *text, char *field)
{
    json_error_t error;
    json_t *value = json_loads(text, 0, &error);
    CHECK(value != NULL);
    eng_week_t week;
    field[0] = 0;
    int rc = codec_week_from_json(value, "working_hours", &week, field, CODEC_FIELD_MAX);
    json_decref(value);
    return rc;
}

TEST(json_week_names_the_overlapping_range)
{
    char field[CODEC_FIELD_MAX];
    CHECK_EQ(week_error("{\"mon\":[[\"09:00\",\"13:00\"],[\"12:00\",\"17:00\"]]}", field),
             ENG_ERANGE_OVERLAP);
    CHECK(strcmp(field, "working_hours.mon[1]") == 0);
}

TEST(json_week_names_malformed_times_and_unknown_days)
{
    char field[CODEC_FIELD_MAX];
    CHECK_EQ(week_error("{\"tue\":[[\"09:00\",\"17:00\"],[\"9am\",\"10:00\"]]}", field),
             ENG_EINVAL);
    CHECK(strcmp(field, "working_hours.tue[1]") == 0);
    CHECK_EQ(week_error("{\"tue\":[[\"24:00\",\"24:00\"]]}", field), ENG_EINVAL);
    CHECK_EQ(week_error("{\"funday\":[]}", field), ENG_EINVAL);
    CHECK(strcmp(field, "working_hours.funday") == 0);
    CHECK_EQ(week_error("{\"wed\":[[\"17:00\",\"09:00\"]]}", field), ENG_ERANGE_ORDER);
    CHECK(strcmp(field, "working_hours.wed[0]") == 0);
    CHECK_EQ(week_error("[]", field), ENG_EINVAL);
    CHECK(strcmp(field, "working_hours") == 0);
    CHECK_EQ(week_error("{\"wed\":[[\"09:00\"]]}", field), ENG_EINVAL);
    CHECK_EQ(week_error("{\"wed\":[[9,17]]}", field), ENG_EINVAL);
}

TEST(json_week_round_trips_with_touching_ranges_merged)
{
    char field[CODEC_FIELD_MAX];
    json_t *value =
        json_loads("{\"mon\":[[\"13:00\",\"24:00\"],[\"09:00\",\"13:00\"]],\"sun\":null}", 0, NULL);
    eng_week_t week;
    CHECK_EQ(codec_week_from_json(value, "business_hours", &week, field, sizeof(field)), 0);
    json_decref(value);
    json_t *out = codec_week_to_json(&week);
    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(strcmp(text, "{\"fri\":[],\"mon\":[[\"09:00\",\"24:00\"]],\"sat\":[],\"sun\":[],"
                       "\"thu\":[],\"tue\":[],\"wed\":[]}") == 0);
    free(text);
    json_decref(out);
}

TEST(json_instants_accept_any_offset_and_drop_fractions)
{
    int64_t t;
    CHECK_EQ(codec_parse_instant("2026-03-30T09:00:00+02:00", &t), 0);
    CHECK_EQ(t, test_instant("2026-03-30T07:00Z"));
    CHECK_EQ(codec_parse_instant("2026-03-30T07:00Z", &t), 0);
    CHECK_EQ(t, test_instant("2026-03-30T07:00Z"));
    CHECK_EQ(codec_parse_instant("2026-03-30T07:00:59.999Z", &t), 0);
    CHECK_EQ(t, test_instant("2026-03-30T07:00Z") + 59);
    CHECK_EQ(codec_parse_instant("2026-03-30T01:30-05:30", &t), 0);
    CHECK_EQ(t, test_instant("2026-03-30T07:00Z"));
    const char *bad[] = {"2026-03-30",        "2026-03-30T07:00",      "2026-02-30T07:00Z",
                         "2026-03-30T24:00Z", "2026-03-30T07:00+0200", "2026-03-30T07:00:00.Z",
                         "yesterday",         "2026-03-30T07:00Zjunk", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (codec_parse_instant(bad[i], &t) != ENG_EINVAL) {
            fprintf(stderr, "accepted %s\n", bad[i]);
            exit(1);
        }
}

TEST(json_instants_format_in_the_zone)
{
    char buf[40];
    codec_format_instant(test_zone("Europe/Warsaw"), test_instant("2026-03-29T01:30Z"), buf,
                         sizeof(buf));
    CHECK(strcmp(buf, "2026-03-29T03:30:00+02:00") == 0);
    codec_format_instant(test_zone("America/St_Johns"), test_instant("2026-01-10T12:00Z"), buf,
                         sizeof(buf));
    CHECK(strcmp(buf, "2026-01-10T08:30:00-03:30") == 0);
    codec_format_instant(test_zone("UTC"), test_instant("2026-01-10T12:00Z"), buf, sizeof(buf));
    CHECK(strcmp(buf, "2026-01-10T12:00:00Z") == 0);
}

TEST(codec_http_url_is_absolute_http_or_https_with_a_host)
{
    const char *kept[] = {"https://calendar.example.com/feed.ics?token=abc",
                          "http://127.0.0.1:8089", "HTTPS://example.com", "https://[::1]:443/x",
                          "https://user:pw@example.com/x"};
    const char *refused[] = {"",
                             "https://",
                             "https:///path",
                             "https://:443/",
                             "ftp://example.com/feed.ics",
                             "webcal://example.com/feed.ics",
                             "example.com/feed.ics",
                             "https://example.com/a feed.ics",
                             "https://example.com/\x01",
                             "https://exa\xc3\xa9mple.com/",
                             "https://?q=1"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        CHECK(codec_is_http_url(kept[i]));
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        CHECK(!codec_is_http_url(refused[i]));
    CHECK(!codec_is_http_url(NULL));
}
