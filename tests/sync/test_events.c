/*
 * Providers' pages read into events: what is busy, all-day events as whole
 * local days, events slotd pushed itself, removals, paging state, and pages
 * or events that cannot be read (docs/sync.md).
 */
#include <string.h>

#include "sync/events.h"
#include "test.h"

static tz_zone_t *zone(const char *name)
{
    tz_zone_t *z;
    CHECK(tz_zone_find(name, &z) == 0);
    return z;
}

static void parse(sync_provider_t provider, const char *body, sync_page_t *page)
{
    char error[128];
    if (sync_page_parse(provider, body, strlen(body), zone("Europe/Warsaw"), page, error,
                        sizeof(error)) != 0) {
        fprintf(stderr, "parse failed: %s\n", error);
        exit(1);
    }
}

static const sync_event_t *event(const sync_page_t *page, const char *id)
{
    for (size_t i = 0; i < page->count; i++)
        if (strcmp(page->events[i].id, id) == 0)
            return &page->events[i];
    fprintf(stderr, "no event %s\n", id);
    exit(1);
}

TEST(sync_google_events_busy_free_declined_cancelled_and_ours)
{
    sync_page_t page;
    parse(SYNC_GOOGLE,
          "{\"kind\":\"calendar#events\",\"timeZone\":\"Europe/Berlin\",\"nextPageToken\":\"p2\","
          "\"items\":["
          "{\"id\":\"busy1\",\"status\":\"confirmed\",\"summary\":\"Dentist's own\","
          " \"start\":{\"dateTime\":\"2026-03-10T10:00:00+01:00\"},"
          " \"end\":{\"dateTime\":\"2026-03-10T10:30:00+01:00\"}},"
          "{\"id\":\"free1\",\"transparency\":\"transparent\","
          " \"start\":{\"dateTime\":\"2026-03-10T11:00:00Z\"},\"end\":{\"dateTime\":\"2026-03-"
          "10T12:00:00Z\"}},"
          "{\"id\":\"declined1\",\"attendees\":[{\"email\":\"x@example.com\",\"responseStatus\":"
          "\"accepted\"},{\"email\":\"me@example.com\",\"self\":true,\"responseStatus\":"
          "\"declined\"}],"
          " \"start\":{\"dateTime\":\"2026-03-10T13:00:00Z\"},\"end\":{\"dateTime\":\"2026-03-"
          "10T14:00:00Z\"}},"
          "{\"id\":\"tentative1\",\"status\":\"tentative\","
          " \"start\":{\"dateTime\":\"2026-03-10T15:00:00Z\"},\"end\":{\"dateTime\":\"2026-03-"
          "10T16:00:00Z\"}},"
          "{\"kind\":\"calendar#event\",\"etag\":\"\\\"1\\\"\",\"id\":\"gone1\",\"status\":"
          "\"cancelled\"},"
          "{\"id\":\"where1\",\"eventType\":\"workingLocation\","
          " \"start\":{\"date\":\"2026-03-11\"},\"end\":{\"date\":\"2026-03-12\"}},"
          "{\"id\":\"ours1\",\"extendedProperties\":{\"private\":{\"slotdBookingId\":"
          "\"0b9c6d1e-0000-4000-8000-000000000001\"}},"
          " \"start\":{\"dateTime\":\"2026-03-10T09:00:00+01:00\"},"
          " \"end\":{\"dateTime\":\"2026-03-10T09:45:00+01:00\"}},"
          "{\"id\":\"walltime1\",\"start\":{\"dateTime\":\"2026-07-01T10:00:00\",\"timeZone\":"
          "\"America/New_York\"},\"end\":{\"dateTime\":\"2026-07-01T11:00:00\",\"timeZone\":"
          "\"America/New_York\"}}"
          "]}",
          &page);
    CHECK_EQ(page.count, 8);
    CHECK_EQ(page.skipped, 0);
    CHECK(strcmp(page.next_page, "p2") == 0);
    CHECK(page.sync_state == NULL);
    const sync_event_t *e = event(&page, "busy1");
    CHECK(e->busy && !e->removed && !e->ours && !e->all_day);
    CHECK_EQ(e->start, test_instant("2026-03-10T09:00:00Z"));
    CHECK_EQ(e->end, test_instant("2026-03-10T09:30:00Z"));
    CHECK(strcmp(e->summary, "Dentist's own") == 0);
    CHECK(!event(&page, "free1")->busy);
    CHECK(!event(&page, "declined1")->busy);
    CHECK(event(&page, "tentative1")->busy);
    CHECK(event(&page, "gone1")->removed);
    CHECK(!event(&page, "where1")->busy);
    e = event(&page, "ours1");
    CHECK(e->ours && strcmp(e->booking_id, "0b9c6d1e-0000-4000-8000-000000000001") == 0);
    e = event(&page, "walltime1"); /* a wall time in the event's zone (EDT, -04:00) */
    CHECK_EQ(e->start, test_instant("2026-07-01T14:00:00Z"));
    sync_page_free(&page);
}

TEST(sync_all_day_events_block_whole_local_days_in_their_zone)
{
    sync_page_t page;
    /* the calendar's zone (Berlin) for the first; the event's own (Tokyo) for the second; the
     * last page carries the sync token */
    parse(SYNC_GOOGLE,
          "{\"timeZone\":\"Europe/Berlin\",\"nextSyncToken\":\"s1\",\"items\":["
          "{\"id\":\"day\",\"start\":{\"date\":\"2026-03-29\"},\"end\":{\"date\":\"2026-03-31\"}},"
          "{\"id\":\"tokyo\",\"start\":{\"date\":\"2026-03-10\",\"timeZone\":\"Asia/Tokyo\"},"
          " \"end\":{\"date\":\"2026-03-11\",\"timeZone\":\"Asia/Tokyo\"}}]}",
          &page);
    CHECK(strcmp(page.sync_state, "s1") == 0 && page.next_page == NULL);
    const sync_event_t *e = event(&page, "day");
    /* two local days across the spring DST change: 47 hours */
    CHECK(e->all_day && e->busy);
    CHECK_EQ(e->start, test_instant("2026-03-28T23:00:00Z"));
    CHECK_EQ(e->end, test_instant("2026-03-30T22:00:00Z"));
    e = event(&page, "tokyo");
    CHECK_EQ(e->start, test_instant("2026-03-09T15:00:00Z"));
    CHECK_EQ(e->end, test_instant("2026-03-10T15:00:00Z"));
    sync_page_free(&page);

    /* Graph: an all-day event in its original zone, else the resource's (Warsaw) */
    parse(SYNC_MICROSOFT,
          "{\"@odata.deltaLink\":\"https://graph.example/delta?$deltatoken=d1\",\"value\":["
          "{\"id\":\"ny\",\"isAllDay\":true,\"originalStartTimeZone\":\"America/New_York\","
          " \"start\":{\"dateTime\":\"2026-03-10T00:00:00.0000000\",\"timeZone\":\"UTC\"},"
          " \"end\":{\"dateTime\":\"2026-03-11T00:00:00.0000000\",\"timeZone\":\"UTC\"}},"
          "{\"id\":\"custom\",\"isAllDay\":true,\"originalStartTimeZone\":\"tzone://Microsoft/"
          "Custom\","
          " \"start\":{\"dateTime\":\"2026-03-10T00:00:00.0000000\",\"timeZone\":\"UTC\"},"
          " \"end\":{\"dateTime\":\"2026-03-11T00:00:00.0000000\",\"timeZone\":\"UTC\"}}]}",
          &page);
    CHECK(strcmp(page.sync_state, "https://graph.example/delta?$deltatoken=d1") == 0);
    CHECK_EQ(event(&page, "ny")->start, test_instant("2026-03-10T04:00:00Z"));
    CHECK_EQ(event(&page, "custom")->start, test_instant("2026-03-09T23:00:00Z"));
    sync_page_free(&page);
}

TEST(sync_graph_events_show_as_cancelled_removed_declined_and_ours)
{
    sync_page_t page;
    parse(
        SYNC_MICROSOFT,
        "{\"@odata.nextLink\":\"https://graph.example/delta?$skiptoken=k2\",\"value\":["
        "{\"id\":\"AAMk1\",\"subject\":\"Rest!\",\"showAs\":\"busy\","
        " \"start\":{\"dateTime\":\"2016-12-12T02:00:00.0000000\",\"timeZone\":\"UTC\"},"
        " \"end\":{\"dateTime\":\"2016-12-12T07:30:00.0000000\",\"timeZone\":\"UTC\"}},"
        "{\"id\":\"AAMk2\",\"showAs\":\"free\","
        " \"start\":{\"dateTime\":\"2016-12-12T08:00:00\",\"timeZone\":\"UTC\"},"
        " \"end\":{\"dateTime\":\"2016-12-12T09:00:00\",\"timeZone\":\"UTC\"}},"
        "{\"id\":\"AAMk3\",\"showAs\":\"oof\",\"isCancelled\":true,"
        " \"start\":{\"dateTime\":\"2016-12-12T08:00:00\",\"timeZone\":\"UTC\"},"
        " \"end\":{\"dateTime\":\"2016-12-12T09:00:00\",\"timeZone\":\"UTC\"}},"
        "{\"id\":\"AAMk4\",\"showAs\":\"tentative\",\"responseStatus\":{\"response\":\"declined\"},"
        " \"start\":{\"dateTime\":\"2016-12-12T10:00:00\",\"timeZone\":\"UTC\"},"
        " \"end\":{\"dateTime\":\"2016-12-12T11:00:00\",\"timeZone\":\"UTC\"}},"
        "{\"@odata.type\":\"#microsoft.graph.event\",\"id\":\"AAMk5\","
        " \"@removed\":{\"reason\":\"deleted\"}},"
        "{\"id\":\"AAMk6\",\"showAs\":\"workingElsewhere\",\"transactionId\":"
        "\"slotd-0b9c6d1e-0000-4000-8000-000000000002\","
        " \"start\":{\"dateTime\":\"2016-12-12T12:00:00\",\"timeZone\":\"Europe/Berlin\"},"
        " \"end\":{\"dateTime\":\"2016-12-12T13:00:00\",\"timeZone\":\"Europe/Berlin\"}}]}",
        &page);
    CHECK_EQ(page.count, 6);
    CHECK(strcmp(page.next_page, "https://graph.example/delta?$skiptoken=k2") == 0);
    const sync_event_t *e = event(&page, "AAMk1");
    CHECK(e->busy && strcmp(e->summary, "Rest!") == 0);
    CHECK_EQ(e->start, test_instant("2016-12-12T02:00:00Z"));
    CHECK_EQ(e->end, test_instant("2016-12-12T07:30:00Z"));
    CHECK(!event(&page, "AAMk2")->busy);
    CHECK(!event(&page, "AAMk3")->busy);
    CHECK(!event(&page, "AAMk4")->busy);
    CHECK(event(&page, "AAMk5")->removed);
    e = event(&page, "AAMk6");
    CHECK(e->busy && e->ours && strcmp(e->booking_id, "0b9c6d1e-0000-4000-8000-000000000002") == 0);
    CHECK_EQ(e->start, test_instant("2016-12-12T11:00:00Z"));
    sync_page_free(&page);
}

TEST(sync_calcom_bookings_by_status_with_paging)
{
    sync_page_t page;
    parse(SYNC_CALCOM,
          "{\"status\":\"success\",\"data\":["
          "{\"id\":1,\"uid\":\"u1\",\"title\":\"Intro\",\"status\":\"accepted\","
          " \"start\":\"2024-08-13T15:30:00Z\",\"end\":\"2024-08-13T16:30:00Z\"},"
          "{\"id\":2,\"uid\":\"u2\",\"status\":\"pending\","
          " \"start\":\"2024-08-13T17:00:00Z\",\"end\":\"2024-08-13T17:30:00Z\"},"
          "{\"id\":3,\"uid\":\"u3\",\"status\":\"cancelled\","
          " \"start\":\"2024-08-13T18:00:00Z\",\"end\":\"2024-08-13T18:30:00Z\"},"
          "{\"id\":4,\"uid\":\"u4\",\"status\":\"rejected\","
          " \"start\":\"2024-08-13T18:00:00Z\",\"end\":\"2024-08-13T18:30:00Z\"},"
          "{\"id\":5,\"uid\":\"u5\",\"status\":\"accepted\",\"metadata\":{\"slotd_booking_id\":"
          "\"b-5\"},\"start\":\"2024-08-14T09:00:00Z\",\"end\":\"2024-08-14T09:30:00Z\"}],"
          "\"pagination\":{\"returnedItems\":5,\"itemsPerPage\":5,\"currentPage\":2,"
          "\"hasNextPage\":true}}",
          &page);
    CHECK_EQ(page.count, 5);
    CHECK(strcmp(page.next_page, "10") == 0);
    CHECK(event(&page, "u1")->busy && event(&page, "u2")->busy);
    CHECK(!event(&page, "u3")->busy && !event(&page, "u4")->busy);
    CHECK(event(&page, "u5")->ours);
    CHECK_EQ(event(&page, "u1")->end, test_instant("2024-08-13T16:30:00Z"));
    sync_page_free(&page);
}

TEST(sync_unreadable_pages_fail_and_unreadable_events_are_skipped)
{
    sync_page_t page;
    char error[128];
    tz_zone_t *warsaw = zone("Europe/Warsaw");
    const char *bad[] = {"",
                         "not json",
                         "[1,2]",
                         "{\"items\":{}}",
                         "{\"nextPageToken\":\"x\"}",
                         "{\"items\":[],\"items\":[]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(sync_page_parse(SYNC_GOOGLE, bad[i], strlen(bad[i]), warsaw, &page, error,
                                 sizeof(error)),
                 -1);
        CHECK(error[0] != 0);
    }
    parse(
        SYNC_GOOGLE,
        "{\"items\":["
        "{\"id\":\"noend\",\"start\":{\"dateTime\":\"2026-03-10T10:00:00Z\"}},"
        "{\"id\":\"backwards\",\"start\":{\"dateTime\":\"2026-03-10T10:00:00Z\"},"
        " \"end\":{\"dateTime\":\"2026-03-10T09:00:00Z\"}},"
        "{\"id\":\"year0\",\"start\":{\"date\":\"0000-01-01\"},\"end\":{\"date\":\"0000-01-02\"}},"
        "{\"id\":\"far\",\"start\":{\"dateTime\":\"9999-03-10T10:00:00Z\"},"
        " \"end\":{\"dateTime\":\"9999-03-10T11:00:00Z\"}},"
        "{\"id\":\"garbage\",\"start\":{\"dateTime\":\"soon\"},\"end\":{\"dateTime\":\"later\"}},"
        "{\"start\":{\"dateTime\":\"2026-03-10T10:00:00Z\"},\"end\":{\"dateTime\":\"2026-03-10T11:"
        "00:00Z\"}},"
        "{\"id\":\"fine\",\"start\":{\"dateTime\":\"2026-03-10T10:00:00Z\"},"
        " \"end\":{\"dateTime\":\"2026-03-10T11:00:00Z\"}}]}",
        &page);
    CHECK_EQ(page.count, 1);
    CHECK_EQ(page.skipped, 6);
    CHECK(strcmp(page.events[0].id, "fine") == 0);
    sync_page_free(&page);
}

TEST(sync_long_summaries_are_cut_at_a_character)
{
    char body[4096], summary[1200];
    size_t n = 0;
    while (n + 2 < 1100) { /* "ż" is two bytes */
        summary[n++] = '\xc5';
        summary[n++] = '\xbc';
    }
    summary[n] = 0;
    snprintf(body, sizeof(body),
             "{\"items\":[{\"id\":\"long\",\"summary\":\"%s\","
             "\"start\":{\"dateTime\":\"2026-03-10T10:00:00Z\"},"
             "\"end\":{\"dateTime\":\"2026-03-10T11:00:00Z\"}}]}",
             summary);
    sync_page_t page;
    parse(SYNC_GOOGLE, body, &page);
    size_t len = strlen(page.events[0].summary);
    CHECK(len <= SYNC_SUMMARY_MAX && len >= SYNC_SUMMARY_MAX - 1 && len % 2 == 0);
    sync_page_free(&page);
}
