/*
 * ICS feeds read into busy time (src/sync/ics.c): hand-made feeds covering
 * each property the import honours, and the feeds it must refuse whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/codec.h"
#include "sync/ics.h"
#include "test.h"

#define BEGIN "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//slotd tests//EN\r\n"
#define END "END:VCALENDAR\r\n"

/* Reads and resolves `text` for a resource in `zone`; 0, or -1 with the message in error. */
static int feed_busy(const char *text, const char *zone, ics_busy_t *busy, char *error)
{
    ics_feed_t feed;
    int rc = ics_read(text, strlen(text), &feed, error, 300);
    if (rc == 0)
        rc = ics_resolve(&feed, test_zone(zone), busy, error, 300);
    else
        *busy = (ics_busy_t){0};
    ics_feed_free(&feed);
    return rc;
}

static const sync_event_t *event_named(const ics_busy_t *b, const char *id)
{
    for (size_t i = 0; i < b->count; i++)
        if (strcmp(b->events[i].id, id) == 0)
            return &b->events[i];
    return NULL;
}

TEST(ics_one_off_events_in_utc_a_tzid_floating_and_all_day)
{
    const char *text =
        BEGIN "BEGIN:VEVENT\r\nUID:utc\r\nDTSTART:20261207T100000Z\r\nDTEND:20261207T110000Z\r\n"
              "SUMMARY:Dentist\\, private\r\nEND:VEVENT\r\n"
              "BEGIN:VEVENT\r\nUID:ny\r\nDTSTART;TZID=America/New_York:20261207T090000\r\n"
              "DURATION:PT30M\r\nEND:VEVENT\r\n"
              "BEGIN:VEVENT\r\nUID:floating\r\nDTSTART:20261207T120000\r\n"
              "DTEND:20261207T130000\r\nEND:VEVENT\r\n"
              "BEGIN:VEVENT\r\nUID:day\r\nDTSTART;VALUE=DATE:20261208\r\nEND:VEVENT\r\n"
              "BEGIN:VEVENT\r\nUID:free\r\nDTSTART:20261209T100000Z\r\nDURATION:PT1H\r\n"
              "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
              "BEGIN:VEVENT\r\nUID:gone\r\nDTSTART:20261209T100000Z\r\nDURATION:PT1H\r\n"
              "STATUS:CANCELLED\r\nEND:VEVENT\r\n" END;
    ics_busy_t b;
    char error[300];
    CHECK_EQ(feed_busy(text, "Europe/Warsaw", &b, error), 0);
    CHECK_EQ(b.count, 4u);
    CHECK_EQ(b.series_count, 0u);
    const sync_event_t *e = event_named(&b, "utc");
    CHECK(e && e->start == test_instant("2026-12-07T10:00:00Z") &&
          e->end == test_instant("2026-12-07T11:00:00Z"));
    CHECK(strcmp(e->summary, "Dentist, private") == 0);
    e = event_named(&b, "ny");
    CHECK(e && e->start == test_instant("2026-12-07T09:00:00-05:00") && e->end - e->start == 1800);
    e = event_named(&b, "floating"); /* the resource's zone */
    CHECK(e && e->start == test_instant("2026-12-07T12:00:00+01:00"));
    e = event_named(&b, "day"); /* the whole local day of the resource */
    CHECK(e && e->all_day && e->start == test_instant("2026-12-08T00:00:00+01:00") &&
          e->end == test_instant("2026-12-09T00:00:00+01:00"));
    CHECK(event_named(&b, "free") == NULL && event_named(&b, "gone") == NULL);
    ics_busy_free(&b);
}

TEST(ics_a_series_keeps_its_zone_exdates_and_overrides_moved_across_dst)
{
    /* weekly Mondays 09:00 in Warsaw from 2026-03-16; 03-23 left out; 03-30 (after the change)
     * moved to Tuesday 31st at 15:00 */
    const char *text = BEGIN
        "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTART;TZID=Europe/Warsaw:20260316T090000\r\n"
        "DTEND;TZID=Europe/Warsaw:20260316T100000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\n"
        "EXDATE;TZID=Europe/Warsaw:20260323T090000\r\nRDATE:20260401T120000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:weekly\r\nRECURRENCE-ID;TZID=Europe/Warsaw:20260330T090000\r\n"
        "DTSTART;TZID=Europe/Warsaw:20260331T150000\r\nDTEND;TZID=Europe/Warsaw:20260331T160000\r\n"
        "END:VEVENT\r\n" END;
    ics_busy_t b;
    char error[300];
    CHECK_EQ(feed_busy(text, "UTC", &b, error), 0);
    CHECK_EQ(b.series_count, 1u);
    const ics_series_t *s = &b.series[0];
    CHECK(strcmp(s->zone, "Europe/Warsaw") == 0 && s->vtimezone == NULL);
    CHECK(s->nominal && s->duration_seconds == 3600);
    CHECK_EQ(s->exdate_count, 2u);
    CHECK(s->first_start == test_instant("2026-03-16T09:00:00+01:00"));
    const sync_event_t *moved = NULL, *rdate = NULL;
    for (size_t i = 0; i < b.count; i++) {
        if (strncmp(b.events[i].id, "weekly/rdate/", 13) == 0)
            rdate = &b.events[i];
        else if (strncmp(b.events[i].id, "weekly/", 7) == 0)
            moved = &b.events[i];
    }
    CHECK(moved && moved->start == test_instant("2026-03-31T15:00:00+02:00"));
    CHECK(rdate && rdate->start == test_instant("2026-04-01T12:00:00Z") &&
          rdate->end - rdate->start == 3600);
    /* expanded by the engine as slotd does: 09:00 local before and after the change */
    eng_org_t *org = eng_org_new(test_zone("UTC"));
    eng_id_t id = {{1}};
    eng_resource_t *r = eng_resource_new(org, &id, test_zone("UTC"));
    eng_recurrence_t spec = {.rrule = s->rrule,
                             .start_wall = s->start_wall,
                             .zone = ics_series_zone(s->zone, s->vtimezone, NULL),
                             .duration_seconds = s->duration_seconds,
                             .nominal = s->nominal,
                             .exdates_wall = s->exdates,
                             .exdate_count = s->exdate_count,
                             .kind = ENG_BUSY_EXTERNAL};
    CHECK_EQ(eng_resource_add_recurrence(r, 1, &spec), 0);
    eng_busy_t *out = NULL;
    size_t count = 0, capacity = 0;
    eng_resource_recurring_occurrences(r, test_instant("2026-03-15T00:00:00Z"),
                                       test_instant("2026-04-10T00:00:00Z"), &out, &count,
                                       &capacity);
    CHECK_EQ(count, 2u); /* 16th and 6th; 23rd left out, 30th moved */
    CHECK(out[0].start == test_instant("2026-03-16T09:00:00+01:00"));
    CHECK(out[1].start == test_instant("2026-04-06T09:00:00+02:00"));
    free(out);
    eng_org_free(org);
    ics_busy_free(&b);
}

TEST(ics_a_zone_the_system_does_not_know_is_taken_from_its_vtimezone)
{
    const char *text = BEGIN "BEGIN:VTIMEZONE\r\nTZID:Clinic Standard Time\r\n"
                             "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
                             "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\n"
                             "TZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
                             "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
                             "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n"
                             "END:VTIMEZONE\r\n"
                             "BEGIN:VEVENT\r\nUID:custom\r\n"
                             "DTSTART;TZID=Clinic Standard Time:20260701T100000\r\n"
                             "DURATION:PT1H\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:custom-series\r\n"
                             "DTSTART;TZID=Clinic Standard Time:20260101T100000\r\n"
                             "DURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n" END;
    ics_busy_t b;
    char error[300];
    CHECK_EQ(feed_busy(text, "UTC", &b, error), 0);
    const sync_event_t *e = event_named(&b, "custom");
    CHECK(e && e->start == test_instant("2026-07-01T10:00:00+02:00"));
    CHECK_EQ(b.series_count, 1u);
    CHECK(b.series[0].vtimezone != NULL);
    tz_zone_t *zone = ics_series_zone(b.series[0].zone, b.series[0].vtimezone, NULL);
    CHECK(zone != NULL);
    CHECK(tz_from_wall(zone, test_wall("2026-01-10T10:00")) ==
          test_instant("2026-01-10T10:00:00+01:00"));
    ics_busy_free(&b);
}

TEST(ics_feeds_that_cannot_be_read_exactly_are_refused_whole)
{
    /* 10,000 levels of nesting */
    size_t deep_size = strlen(BEGIN) + 10000 * (9 + 7) + strlen(END) + 1;
    char *deep = malloc(deep_size), *at = deep;
    at += sprintf(at, "%s", BEGIN);
    for (int i = 0; i < 10000; i++)
        at += sprintf(at, "BEGIN:X\r\n");
    for (int i = 0; i < 10000; i++)
        at += sprintf(at, "END:X\r\n");
    sprintf(at, "%s", END);
    const char *bad[] = {
        "<html>not a calendar</html>",
        "",
        BEGIN "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261207T100000Z\r\n", /* truncated */
        deep,
        BEGIN "BEGIN:VEVENT\r\nUID:y0\r\nDTSTART:00000101T000000Z\r\nDURATION:PT1H\r\n"
              "END:VEVENT\r\n" END,
        BEGIN "BEGIN:VEVENT\r\nUID:tz\r\nDTSTART;TZID=Mars/Olympus:20261207T100000\r\n"
              "DURATION:PT1H\r\nEND:VEVENT\r\n" END,
        BEGIN "BEGIN:VEVENT\r\nUID:never\r\nDTSTART:20261207T100000Z\r\nDURATION:PT1H\r\n"
              "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n" END,
        BEGIN "BEGIN:VEVENT\r\nUID:hourly\r\nDTSTART:20261207T100000Z\r\nDURATION:PT1H\r\n"
              "RRULE:FREQ=HOURLY\r\nEND:VEVENT\r\n" END,
        BEGIN "BEGIN:VEVENT\r\nDTSTART:20261207T100000Z\r\nEND:VEVENT\r\n" END, /* no UID */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ics_busy_t b;
        char error[300] = "";
        if (feed_busy(bad[i], "UTC", &b, error) == 0 || error[0] == 0) {
            fprintf(stderr, "feed %zu was not refused\n", i);
            exit(1);
        }
        ics_busy_free(&b);
    }
    free(deep);
}

TEST(ics_a_feed_over_the_size_limit_is_refused_before_it_is_parsed)
{
    size_t n = ICS_MAX_BYTES + 1;
    char *big = malloc(n);
    memset(big, 'x', n);
    memcpy(big, BEGIN, strlen(BEGIN));
    ics_feed_t feed;
    char error[300] = "";
    CHECK_EQ(ics_read(big, n, &feed, error, sizeof(error)), -1);
    CHECK(strstr(error, "larger") != NULL);
    ics_feed_free(&feed);
    free(big);
}

TEST(ics_all_day_events_are_whole_local_days_of_their_own_zone)
{
    /* the calendar's zone is Auckland (X-WR-TIMEZONE): its all-day event and its floating time
     * are Auckland's; a DATE with its own TZID is that zone's day */
    const char *text = BEGIN "X-WR-TIMEZONE:Pacific/Auckland\r\n"
                             "BEGIN:VEVENT\r\nUID:holiday\r\nDTSTART;VALUE=DATE:20261225\r\n"
                             "DTEND;VALUE=DATE:20261227\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:ny-day\r\n"
                             "DTSTART;VALUE=DATE;TZID=America/New_York:20261228\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:floating\r\nDTSTART:20261229T090000\r\n"
                             "DURATION:PT1H\r\nEND:VEVENT\r\n" END;
    ics_busy_t b;
    char error[300];
    CHECK_EQ(feed_busy(text, "Europe/Warsaw", &b, error), 0);
    const sync_event_t *e = event_named(&b, "holiday");
    CHECK(e && e->all_day && e->start == test_instant("2026-12-25T00:00:00+13:00") &&
          e->end == test_instant("2026-12-27T00:00:00+13:00"));
    e = event_named(&b, "ny-day");
    CHECK(e && e->start == test_instant("2026-12-28T00:00:00-05:00") &&
          e->end == test_instant("2026-12-29T00:00:00-05:00"));
    e = event_named(&b, "floating");
    CHECK(e && e->start == test_instant("2026-12-29T09:00:00+13:00"));
    ics_busy_free(&b);
}

TEST(ics_review_cases_count_rdates_duplicates_and_series_that_block_nothing)
{
    const char *text = BEGIN
        /* COUNT becomes an UNTIL at the last occurrence (10:00 local on the 5th day) */
        "BEGIN:VEVENT\r\nUID:five\r\nDTSTART;TZID=Europe/Warsaw:20260301T100000\r\n"
        "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\n"
        /* an hourly reminder that blocks nothing does not refuse the feed */
        "BEGIN:VEVENT\r\nUID:hourly\r\nDTSTART:20260301T100000Z\r\nDURATION:PT5M\r\n"
        "RRULE:FREQ=HOURLY\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
        /* an RDATE left out by an EXDATE, and one replaced by an override */
        "BEGIN:VEVENT\r\nUID:extra\r\nDTSTART:20260302T080000Z\r\nDURATION:PT1H\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=2\r\nRDATE:20260303T080000Z,20260304T080000Z\r\n"
        "EXDATE:20260303T080000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:extra\r\nRECURRENCE-ID:20260304T080000Z\r\n"
        "DTSTART:20260304T150000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"
        /* two events with one UID both block */
        "BEGIN:VEVENT\r\nUID:twice\r\nDTSTART:20260305T080000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:twice\r\nDTSTART:20260306T080000Z\r\nDURATION:PT1H\r\nEND:"
        "VEVENT\r\n" END;
    ics_busy_t b;
    char error[300] = "";
    if (feed_busy(text, "UTC", &b, error) != 0) {
        fprintf(stderr, "refused: %s\n", error);
        exit(1);
    }
    const ics_series_t *five = NULL;
    for (size_t i = 0; i < b.series_count; i++)
        if (strcmp(b.series[i].id, "five") == 0)
            five = &b.series[i];
    CHECK(five != NULL);
    CHECK(strstr(five->rrule, "COUNT") == NULL);
    CHECK(strstr(five->rrule, "UNTIL=20260305T100000") != NULL);
    CHECK_EQ(b.series_count, 2u); /* five and extra; the hourly one blocks nothing */
    size_t rdates = 0;
    for (size_t i = 0; i < b.count; i++)
        rdates += strncmp(b.events[i].id, "extra/rdate/", 12) == 0;
    CHECK_EQ(rdates, 0u);
    CHECK(event_named(&b, "twice") != NULL && event_named(&b, "twice#2") != NULL);
    ics_busy_free(&b);
}
