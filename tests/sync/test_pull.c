/*
 * One pull of a connection, on a real loop with the real HTTP client, against
 * the fake providers (tests/fakes/providers.js) over HTTP on 127.0.0.1: token
 * refresh, full and incremental listings, paging, a sync state the provider
 * dropped, a revoked grant, throttling, and Cal.com's bookings.
 */
#include <string.h>
#include <time.h>

#include "fake.h"
#include "io/http_client.h"
#include "loop.h"
#include "slotd/codec.h"
#include "sync/pull.h"
#include "test.h"

/* What a pull handed back, copied out of its callback. */
typedef struct {
    int done;
    int error;
    char message[256];
    int64_t retry_after;
    bool full;
    size_t count, skipped;
    struct {
        char id[128];
        bool busy, removed, ours, all_day;
        int64_t start, end;
    } events[64];
    char sync_state[1024], access_token[512], refresh_token[512];
    int64_t access_expires;
    int requests;
} outcome_t;

static void on_pulled(const sync_pull_result_t *r, void *arg)
{
    outcome_t *o = arg;
    o->done++;
    o->error = r->error;
    snprintf(o->message, sizeof(o->message), "%s", r->message);
    o->retry_after = r->retry_after;
    o->full = r->full;
    o->count = r->count;
    o->skipped = r->skipped;
    for (size_t i = 0; i < r->count && i < 64; i++) {
        snprintf(o->events[i].id, sizeof(o->events[i].id), "%s", r->events[i].id);
        o->events[i].busy = r->events[i].busy;
        o->events[i].removed = r->events[i].removed;
        o->events[i].ours = r->events[i].ours;
        o->events[i].all_day = r->events[i].all_day;
        o->events[i].start = r->events[i].start;
        o->events[i].end = r->events[i].end;
    }
    snprintf(o->sync_state, sizeof(o->sync_state), "%s", r->sync_state ? r->sync_state : "");
    snprintf(o->access_token, sizeof(o->access_token), "%s",
             r->access_token ? r->access_token : "");
    snprintf(o->refresh_token, sizeof(o->refresh_token), "%s",
             r->refresh_token ? r->refresh_token : "");
    o->access_expires = r->access_expires;
    o->requests = r->requests;
}

typedef struct {
    uv_loop_t loop;
    io_http_t *http;
    fake_t fake;
    tz_zone_t *zone;
} bench_t;

static void setup(bench_t *b)
{
    CHECK(uv_loop_init(&b->loop) == 0);
    b->http = io_http_new(&b->loop);
    fake_start(&b->fake);
    CHECK(tz_zone_find("Europe/Warsaw", &b->zone) == 0);
}

static void on_http_closed(void *arg)
{
    *(int *)arg = 1;
}

static void teardown(bench_t *b)
{
    int closed = 0;
    io_http_close(b->http, on_http_closed, &closed);
    test_loop_run_until(&b->loop, &closed, 1);
    CHECK(uv_loop_close(&b->loop) == 0);
    fake_stop(&b->fake);
}

static void pull(bench_t *b, const sync_pull_input_t *in, outcome_t *o)
{
    memset(o, 0, sizeof(*o));
    CHECK(sync_pull_start(b->http, in, on_pulled, o) != NULL);
    test_loop_run_until(&b->loop, &o->done, 1);
    if (o->error && getenv("SLOTD_TEST_VERBOSE"))
        fprintf(stderr, "pull: %d %s\n", o->error, o->message);
}

static int find(const outcome_t *o, const char *id)
{
    for (size_t i = 0; i < o->count; i++)
        if (strcmp(o->events[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* A Google grant of `user` and the input of a pull of its primary calendar. */
static sync_pull_input_t google_input(bench_t *b, const char *user, char *refresh, size_t size)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"user\":\"%s\",\"client_id\":\"cid\",\"client_secret\":\"cs\"}",
             user);
    json_t *grant = fake_call(&b->fake, "POST", "/_fake/google/grants", body);
    snprintf(refresh, size, "%s", json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    return (sync_pull_input_t){.provider = SYNC_GOOGLE,
                               .api_url = b->fake.google_api_url,
                               .token_url = b->fake.google_token_url,
                               .client_id = "cid",
                               .client_secret = "cs",
                               .refresh_token = refresh,
                               .window_start = test_instant("2026-12-01T00:00:00Z"),
                               .window_end = test_instant("2027-12-01T00:00:00Z"),
                               .zone = b->zone,
                               .now = (int64_t)time(NULL)};
}

static void google_events(bench_t *b, const char *user, const char *events)
{
    char body[4096];
    snprintf(body, sizeof(body), "{\"calendar\":\"%s\",\"events\":%s}", user, events);
    json_decref(fake_call(&b->fake, "POST", "/_fake/google/events", body));
}

TEST(pull_google_full_then_incremental_with_the_token_it_kept)
{
    bench_t b;
    setup(&b);
    char refresh[256];
    sync_pull_input_t in = google_input(&b, "ann@gmail.test", refresh, sizeof(refresh));
    google_events(
        &b, "ann@gmail.test",
        "[{\"id\":\"dentist1\",\"summary\":\"Own\",\"start\":{\"dateTime\":"
        "\"2027-01-11T10:00:00+01:00\"},\"end\":{\"dateTime\":\"2027-01-11T11:00:00+01:00\"}},"
        "{\"id\":\"free1\",\"transparency\":\"transparent\",\"start\":{\"dateTime\":"
        "\"2027-01-11T12:00:00Z\"},\"end\":{\"dateTime\":\"2027-01-11T13:00:00Z\"}},"
        "{\"id\":\"allda01\",\"start\":{\"date\":\"2027-01-12\"},\"end\":{\"date\":"
        "\"2027-01-13\"}}]");
    outcome_t full;
    pull(&b, &in, &full);
    CHECK_EQ(full.error, 0);
    CHECK(full.full);
    CHECK_EQ(full.count, 3);
    CHECK(full.sync_state[0] != 0);
    CHECK(full.access_token[0] != 0 && full.access_expires > in.now);
    int i = find(&full, "dentist1");
    CHECK(i >= 0 && full.events[i].busy);
    CHECK_EQ(full.events[i].start, test_instant("2027-01-11T09:00:00Z"));
    CHECK(!full.events[find(&full, "free1")].busy);
    CHECK(full.events[find(&full, "allda01")].all_day);
    CHECK_EQ(full.requests, 2); /* the token, one page */

    /* the owner deletes one and adds another: the next pull brings only that */
    google_events(&b, "ann@gmail.test",
                  "[{\"op\":\"delete\",\"id\":\"dentist1\"},{\"id\":\"dentist2\",\"start\":"
                  "{\"dateTime\":\"2027-01-14T08:00:00Z\"},\"end\":{\"dateTime\":"
                  "\"2027-01-14T09:00:00Z\"}}]");
    sync_pull_input_t next = in;
    next.sync_state = full.sync_state;
    next.access_token = full.access_token;
    next.access_expires = full.access_expires;
    outcome_t changes;
    pull(&b, &next, &changes);
    CHECK_EQ(changes.error, 0);
    CHECK(!changes.full);
    CHECK_EQ(changes.count, 2);
    CHECK(changes.events[find(&changes, "dentist1")].removed);
    CHECK(changes.events[find(&changes, "dentist2")].busy);
    CHECK_EQ(changes.requests, 1); /* the kept token was still good */
    teardown(&b);
}

TEST(pull_google_pages_and_restarts_full_when_the_sync_token_is_gone)
{
    bench_t b;
    setup(&b);
    json_decref(fake_call(&b.fake, "POST", "/_fake/config", "{\"google_page_size\":2}"));
    char refresh[256], events[4096] = "[";
    sync_pull_input_t in = google_input(&b, "bob@gmail.test", refresh, sizeof(refresh));
    for (int k = 0; k < 5; k++)
        snprintf(events + strlen(events), sizeof(events) - strlen(events),
                 "%s{\"id\":\"event%d\",\"start\":{\"dateTime\":\"2027-02-0%dT10:00:00Z\"},"
                 "\"end\":{\"dateTime\":\"2027-02-0%dT11:00:00Z\"}}",
                 k ? "," : "", k, k + 1, k + 1);
    strcat(events, "]");
    google_events(&b, "bob@gmail.test", events);
    outcome_t first;
    pull(&b, &in, &first);
    CHECK_EQ(first.error, 0);
    CHECK_EQ(first.count, 5);
    CHECK_EQ(first.requests, 4); /* the token and three pages */
    json_decref(
        fake_call(&b.fake, "POST", "/_fake/expire-sync-tokens", "{\"provider\":\"google\"}"));
    sync_pull_input_t next = in;
    next.sync_state = first.sync_state;
    next.access_token = first.access_token;
    next.access_expires = first.access_expires;
    outcome_t again;
    pull(&b, &next, &again);
    CHECK_EQ(again.error, 0);
    CHECK(again.full); /* everything again, to replace what was kept */
    CHECK_EQ(again.count, 5);
    CHECK(again.sync_state[0] && strcmp(again.sync_state, first.sync_state) != 0);
    teardown(&b);
}

TEST(pull_google_refreshes_an_expired_token_once_and_stops_on_a_revoked_grant)
{
    bench_t b;
    setup(&b);
    char refresh[256];
    sync_pull_input_t in = google_input(&b, "cy@gmail.test", refresh, sizeof(refresh));
    outcome_t first;
    pull(&b, &in, &first);
    CHECK_EQ(first.error, 0);
    /* the provider forgets the access token before its time: a 401, a refresh, a retry */
    json_decref(fake_call(&b.fake, "POST", "/_fake/oauth/expire-access-tokens", "{}"));
    sync_pull_input_t next = in;
    next.access_token = first.access_token;
    next.access_expires = first.access_expires;
    outcome_t refreshed;
    pull(&b, &next, &refreshed);
    CHECK_EQ(refreshed.error, 0);
    CHECK_EQ(refreshed.requests, 3);
    CHECK(strcmp(refreshed.access_token, first.access_token) != 0);
    /* the owner revokes slotd's access: the connection needs new credentials */
    char body[300];
    snprintf(body, sizeof(body), "{\"provider\":\"google\",\"refresh_token\":\"%s\"}", refresh);
    json_decref(fake_call(&b.fake, "POST", "/_fake/oauth/revoke", body));
    outcome_t revoked;
    pull(&b, &in, &revoked);
    CHECK_EQ(revoked.error, SYNC_E_AUTH);
    CHECK(strstr(revoked.message, "invalid_grant") != NULL);
    CHECK(strstr(revoked.message, refresh) == NULL); /* never the secret itself */
    teardown(&b);
}

TEST(pull_throttled_answers_carry_retry_after)
{
    bench_t b;
    setup(&b);
    char refresh[256];
    sync_pull_input_t in = google_input(&b, "di@gmail.test", refresh, sizeof(refresh));
    json_decref(
        fake_call(&b.fake, "POST", "/_fake/fail",
                  "{\"provider\":\"google\",\"path\":\"/google/calendar/v3\",\"status\":403,"
                  "\"reason\":\"userRateLimitExceeded\",\"retry_after\":7}"));
    outcome_t o;
    pull(&b, &in, &o);
    CHECK_EQ(o.error, SYNC_E_RATE);
    CHECK_EQ(o.retry_after, 7);
    json_decref(
        fake_call(&b.fake, "POST", "/_fake/fail",
                  "{\"provider\":\"google\",\"path\":\"/google/calendar/v3\",\"status\":500}"));
    pull(&b, &in, &o);
    CHECK_EQ(o.error, SYNC_E_RATE);
    json_decref(
        fake_call(&b.fake, "POST", "/_fake/fail",
                  "{\"provider\":\"google\",\"path\":\"/google/calendar/v3\",\"status\":200,"
                  "\"raw_body\":\"<html>not json</html>\"}"));
    pull(&b, &in, &o);
    CHECK_EQ(o.error, SYNC_E_PROVIDER);
    json_decref(fake_call(&b.fake, "POST", "/_fake/fail",
                          "{\"provider\":\"google\",\"path\":\"/google/calendar/v3\","
                          "\"drop\":\"reset\",\"count\":null}"));
    pull(&b, &in, &o); /* libcurl tries a reset connection once more, afresh: it fails too */
    CHECK_EQ(o.error, SYNC_E_NETWORK);
    json_decref(fake_call(&b.fake, "DELETE", "/_fake/fail", NULL));
    pull(&b, &in, &o); /* and once the provider is well again */
    CHECK_EQ(o.error, 0);
    teardown(&b);
}

TEST(pull_microsoft_delta_rounds_rotate_the_refresh_token_and_restart_when_expired)
{
    bench_t b;
    setup(&b);
    json_t *grant = fake_call(&b.fake, "POST", "/_fake/microsoft/grants",
                              "{\"user\":\"bea@outlook.test\",\"client_id\":\"app\"}");
    char refresh[256];
    snprintf(refresh, sizeof(refresh), "%s",
             json_string_value(json_object_get(grant, "refresh_token")));
    json_decref(grant);
    json_decref(fake_call(
        &b.fake, "POST", "/_fake/microsoft/events",
        "{\"user\":\"bea@outlook.test\",\"events\":["
        "{\"id\":\"m1\",\"subject\":\"Clinic board\",\"showAs\":\"busy\",\"start\":{\"dateTime\":"
        "\"2027-01-11T10:00:00\",\"timeZone\":\"Europe/Berlin\"},\"end\":{\"dateTime\":"
        "\"2027-01-11T11:00:00\",\"timeZone\":\"Europe/Berlin\"}},"
        "{\"id\":\"m2\",\"showAs\":\"free\",\"start\":{\"dateTime\":\"2027-01-11T12:00:00\","
        "\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":\"2027-01-11T13:00:00\",\"timeZone\":\"UTC\"}}"
        "]}"));
    sync_pull_input_t in = {.provider = SYNC_MICROSOFT,
                            .api_url = b.fake.microsoft_graph_url,
                            .token_url = b.fake.microsoft_login_url,
                            .client_id = "app",
                            .refresh_token = refresh,
                            .window_start = test_instant("2026-12-01T00:00:00Z"),
                            .window_end = test_instant("2027-06-01T00:00:00Z"),
                            .zone = b.zone,
                            .now = (int64_t)time(NULL)};
    outcome_t full;
    pull(&b, &in, &full);
    CHECK_EQ(full.error, 0);
    CHECK(full.full && full.count == 2);
    CHECK(full.refresh_token[0] && strcmp(full.refresh_token, refresh) != 0); /* rotated */
    int i = find(&full, "m1");
    CHECK(i >= 0 && full.events[i].busy);
    CHECK_EQ(full.events[i].start, test_instant("2027-01-11T09:00:00Z"));
    CHECK(!full.events[find(&full, "m2")].busy);
    CHECK(strstr(full.sync_state, "deltatoken") != NULL);

    json_decref(fake_call(&b.fake, "POST", "/_fake/microsoft/events",
                          "{\"user\":\"bea@outlook.test\",\"events\":[{\"op\":\"delete\",\"id\":"
                          "\"m1\"}]}"));
    sync_pull_input_t next = in;
    next.refresh_token = full.refresh_token;
    next.access_token = full.access_token;
    next.access_expires = full.access_expires;
    next.sync_state = full.sync_state;
    outcome_t changes;
    pull(&b, &next, &changes);
    CHECK_EQ(changes.error, 0);
    CHECK(!changes.full && changes.count == 1 && changes.events[0].removed);

    json_decref(fake_call(&b.fake, "POST", "/_fake/expire-sync-tokens",
                          "{\"provider\":\"microsoft\",\"mode\":\"syncStateNotFound\"}"));
    next.sync_state = changes.sync_state;
    outcome_t restarted;
    pull(&b, &next, &restarted);
    CHECK_EQ(restarted.error, 0);
    CHECK(restarted.full && restarted.count == 1); /* m2 is all that is left */
    teardown(&b);
}

TEST(pull_calcom_lists_the_users_bookings_in_the_window)
{
    bench_t b;
    setup(&b);
    json_t *user = fake_call(&b.fake, "POST", "/_fake/calcom/users",
                             "{\"username\":\"dana\",\"email\":\"dana@cal.test\",\"timeZone\":"
                             "\"Europe/Berlin\"}");
    char key[128];
    snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(user, "api_key")));
    json_decref(user);
    json_t *type = fake_call(&b.fake, "POST", "/_fake/calcom/event-types",
                             "{\"user\":\"dana\",\"slug\":\"checkup\",\"length\":30}");
    json_int_t type_id = json_integer_value(json_object_get(type, "id"));
    json_decref(type);
    json_decref(fake_call(&b.fake, "POST", "/_fake/config", "{\"calcom_page_size\":2}"));
    int64_t day = ((int64_t)time(NULL) / 86400 + 3) * 86400;
    char body[2048] = "{\"bookings\":[", start[CODEC_INSTANT_MAX];
    tz_zone_t *utc;
    tz_zone_find("UTC", &utc);
    for (int k = 0; k < 3; k++) {
        codec_write_instant(utc, day + 9 * 3600 + k * 3600, start);
        snprintf(
            body + strlen(body), sizeof(body) - strlen(body),
            "%s{\"op\":\"create\",\"eventTypeId\":%lld,\"start\":\"%s\",\"attendee\":{\"name\":"
            "\"Jo\",\"email\":\"jo@example.com\",\"timeZone\":\"UTC\"}%s}",
            k ? "," : "", (long long)type_id, start,
            k == 2 ? ",\"metadata\":{\"slotd_booking_id\":\"b-1\"}" : "");
    }
    strcat(body, "]}");
    json_decref(fake_call(&b.fake, "POST", "/_fake/calcom/bookings", body));
    sync_pull_input_t in = {.provider = SYNC_CALCOM,
                            .api_url = b.fake.calcom_api_url,
                            .api_key = key,
                            .window_start = day - 86400,
                            .window_end = day + 7 * 86400,
                            .zone = b.zone,
                            .now = (int64_t)time(NULL)};
    outcome_t o;
    pull(&b, &in, &o);
    CHECK_EQ(o.error, 0);
    CHECK(o.full && o.count == 3);
    CHECK_EQ(o.requests, 2); /* two pages of two */
    size_t ours = 0;
    for (size_t k = 0; k < o.count; k++)
        ours += o.events[k].ours;
    CHECK_EQ(ours, 1);
    /* a wrong key */
    in.api_key = "cal_live_nope";
    pull(&b, &in, &o);
    CHECK_EQ(o.error, SYNC_E_AUTH);
    teardown(&b);
}
