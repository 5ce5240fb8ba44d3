/*
 * The voice tools over real HTTP on a real PostgreSQL, through the MCP, Vapi
 * and Retell transports: the same answers on both, names matched without regard to
 * case and accents (ambiguous and unknown names answered so the agent can
 * ask), speech in the organization's language and the call's locale, a full
 * day answered with the nearest days, the booking race through tools on two
 * instances, retried tool calls booking once, tenant isolation, the audit
 * trail's actor, Retell's signatures made by Retell's own SDK (and refused
 * when stale, wrong, or of another organization), and bad input answered in
 * the transport's own error form with nothing changed.
 *
 * The clinic: Anna Kowalska, Anna Nowak and Ben working Monday to Friday
 * 09:00–17:00 (Europe/Warsaw); Cleaning (60 minutes, any of them) and
 * Épilation (30 minutes, Ben). The clock is frozen on Friday 2026-03-27 08:00
 * (+01:00): Sunday 29 March moves the clocks, so Monday 30 March is +02:00.
 */
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "test.h"

#define MONDAY_9 "2026-03-30T09:00:00+02:00"

/* The clinic's server, its agent key, its staff and its services. */
typedef struct {
    api_server_t s;
    char agent[128];
    char kowalska[40], nowak[40], ben[40], cleaning[40], epilation[40];
} clinic_t;

static const char *const frozen[] = {API_FRIDAY_BEFORE_DST, NULL};

static void created(api_server_t *s, const char *path, const char *body, char *id)
{
    json_t *r = api_expect(s, 201, "POST", path, s->admin_key, body);
    snprintf(id, 40, "%s", api_id(r));
    json_decref(r);
}

static void clinic_start(clinic_t *c, const char *const *env)
{
    char body[1024];
    api_start(&c->s, env ? env : frozen);
    api_create_key(&c->s, c->s.organization_id, "agent", c->agent);
    const char *names[3] = {"Anna Kowalska", "Anna Nowak", "Ben"};
    char *ids[3] = {c->kowalska, c->nowak, c->ben};
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof(body), "{\"kind\":\"staff\",\"name\":\"%s\",\"working_hours\":%s}",
                 names[i], API_WEEKDAYS_9_TO_5);
        created(&c->s, "/v1/resources", body, ids[i]);
    }
    snprintf(body, sizeof(body),
             "{\"name\":\"Cleaning\",\"duration_minutes\":60,"
             "\"requirements\":[{\"resource_ids\":[\"%s\",\"%s\",\"%s\"],\"mode\":\"any\"}]}",
             c->kowalska, c->nowak, c->ben);
    created(&c->s, "/v1/services", body, c->cleaning);
    snprintf(body, sizeof(body),
             "{\"name\":\"Épilation\",\"duration_minutes\":30,"
             "\"requirements\":[{\"resource_ids\":[\"%s\"],\"mode\":\"any\"}]}",
             c->ben);
    created(&c->s, "/v1/services", body, c->epilation);
}

/* tools/call over MCP: the structuredContent (caller frees), *is_error; checks the envelope
 * and that the text content is the same JSON. */
static json_t *mcp(api_server_t *s, const char *key, const char *tool, const char *arguments,
                   bool *is_error)
{
    char body[8192];
    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
             "\"arguments\":%s}}",
             tool, arguments);
    const char *headers[] = {"MCP-Protocol-Version: 2025-06-18", NULL};
    json_t *r;
    int status = api_call_headers(s, "POST", "/mcp", key, headers, body, &r);
    CHECK_EQ(status, 200);
    CHECK_EQ(json_integer_value(json_object_get(r, "id")), 7);
    json_t *result = json_object_get(r, "result");
    json_t *structured = json_incref(json_object_get(result, "structuredContent"));
    CHECK(json_is_object(structured));
    const char *text = json_string_value(
        json_object_get(json_array_get(json_object_get(result, "content"), 0), "text"));
    json_t *parsed = json_loads(text ? text : "", 0, NULL);
    CHECK(json_equal(parsed, structured));
    json_decref(parsed);
    *is_error = json_is_true(json_object_get(result, "isError"));
    json_decref(r);
    return structured;
}

/* One Vapi tool call (arguments as given: an object, or a JSON string when `as_string`): the
 * result parsed (caller frees), *is_error when it came as `error`. */
static json_t *vapi(api_server_t *s, const char *key, const char *call_id, const char *tool,
                    const char *arguments, const char *caller, bool *is_error)
{
    char body[8192], customer[128] = "";
    if (caller)
        snprintf(customer, sizeof(customer), "\"customer\":{\"number\":\"%s\"},", caller);
    snprintf(body, sizeof(body),
             "{\"message\":{\"type\":\"tool-calls\",%s\"toolCallList\":[{\"id\":\"%s\","
             "\"type\":\"function\",\"function\":{\"name\":\"%s\",\"arguments\":%s}}]}}",
             customer, call_id, tool, arguments);
    json_t *r = api_expect(s, 200, "POST", "/v1/integrations/vapi", key, body);
    json_t *entry = json_array_get(json_object_get(r, "results"), 0);
    CHECK_EQ(json_array_size(json_object_get(r, "results")), 1);
    CHECK(strcmp(json_string_value(json_object_get(entry, "toolCallId")), call_id) == 0);
    const char *text = json_string_value(json_object_get(entry, "result"));
    *is_error = text == NULL;
    if (text == NULL)
        text = json_string_value(json_object_get(entry, "error"));
    CHECK(text != NULL && strchr(text, '\n') == NULL);
    json_t *parsed = json_loads(text, 0, NULL);
    CHECK(parsed != NULL);
    json_decref(r);
    return parsed;
}

static const char *speech_of(const json_t *result)
{
    const char *speech = json_string_value(json_object_get(result, "speech"));
    return speech ? speech : "";
}

static const char *error_code_of(const json_t *result)
{
    const char *code = json_string_value(json_object_get(json_object_get(result, "error"), "code"));
    return code ? code : "";
}

#define CHECK_STR(actual, expected)                                                                \
    do {                                                                                           \
        const char *a_ = (actual), *e_ = (expected);                                               \
        if (strcmp(a_, e_) != 0) {                                                                 \
            fprintf(stderr, "%s:%d: got \"%s\", expected \"%s\"\n", __FILE__, __LINE__, a_, e_);   \
            CHECK(0);                                                                              \
        }                                                                                          \
    } while (0)

TEST(agents_tools_answer_alike_over_mcp_and_vapi)
{
    clinic_t c;
    clinic_start(&c, NULL);
    const char *calls[][2] = {
        {"list_services", "{}"},
        {"find_slots", "{\"service\":\"cleaning\",\"date\":\"2026-03-30\",\"limit\":3}"},
        {"find_slots", "{\"service\":\"CLEANING\",\"staff\":\"nowak\",\"date\":\"today\"}"},
        {"find_slots", "{\"service\":\"epilation\",\"from\":\"2026-03-30\",\"to\":\"2026-03-31\"}"},
        {"find_slots", "{\"service\":\"cleaning\",\"date\":\"next blursday\"}"},
        {"find_bookings", "{\"customer_phone\":\"+48 600 000 000\"}"},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        bool mcp_error, vapi_error;
        json_t *a = mcp(&c.s, c.agent, calls[i][0], calls[i][1], &mcp_error);
        json_t *b = vapi(&c.s, c.agent, "call_same", calls[i][0], calls[i][1], NULL, &vapi_error);
        if (!json_equal(a, b)) {
            char *x = json_dumps(a, 0), *y = json_dumps(b, 0);
            fprintf(stderr, "%s: mcp %s\nvapi %s\n", calls[i][0], x, y);
            free(x);
            free(y);
        }
        CHECK(json_equal(a, b));
        CHECK(mcp_error == vapi_error);
        json_decref(a);
        json_decref(b);
    }
    bool is_error;
    json_t *r = mcp(&c.s, c.agent, "list_services", "{}", &is_error);
    CHECK(!is_error);
    CHECK_STR(speech_of(r), "We offer Cleaning and Épilation.");
    CHECK_EQ(json_array_size(json_object_get(r, "services")), 2);
    json_decref(r);
    /* Monday after the clocks moved: +02:00, said in the organization's zone */
    r = mcp(&c.s, c.agent, "find_slots",
            "{\"service\":\"cleaning\",\"date\":\"2026-03-30\",\"limit\":3}", &is_error);
    CHECK(!is_error);
    CHECK_STR(
        json_string_value(json_object_get(json_array_get(json_object_get(r, "slots"), 0), "start")),
        MONDAY_9);
    CHECK_STR(speech_of(r), "I have Monday 30 March at 9:00, 10:00 or 11:00.");
    json_decref(r);
    /* today, the staff member by part of her name, accents and case aside */
    r = mcp(&c.s, c.agent, "find_slots",
            "{\"service\":\"ÉPILATION\",\"staff\":\"ben\",\"date\":\"today\",\"limit\":2}",
            &is_error);
    CHECK(!is_error);
    CHECK_STR(speech_of(r), "I have today at 9:00 or 9:30.");
    json_decref(r);
    /* nothing given: the next free ones */
    r = mcp(&c.s, c.agent, "find_slots", "{\"service\":\"Cleaning\"}", &is_error);
    CHECK_EQ(json_array_size(json_object_get(r, "slots")), 5);
    CHECK_STR(speech_of(r), "I have today at 9:00, 10:00 or 11:00.");
    json_decref(r);
    /* a date beside a window, a limit of the wrong type, an unknown argument */
    const char *bad[][2] = {
        {"{\"service\":\"cleaning\",\"date\":\"2026-03-30\",\"from\":\"2026-03-30\"}", "date"},
        {"{\"service\":\"cleaning\",\"limit\":\"3\"}", "limit"},
        {"{\"service\":\"cleaning\",\"limit\":21}", "limit"},
        {"{\"service\":\"cleaning\",\"when\":\"soon\"}", "when"},
        {"{\"service\":\"cleaning\",\"tz\":\"Mars/Olympus\"}", "tz"},
        {"{\"service\":42}", "service"},
        {"{}", "service"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = mcp(&c.s, c.agent, "find_slots", bad[i][0], &is_error);
        CHECK(is_error);
        CHECK_STR(error_code_of(r), "invalid_argument");
        CHECK_STR(json_string_value(json_object_get(json_object_get(r, "error"), "field")),
                  bad[i][1]);
        json_decref(r);
    }
    api_stop(&c.s);
}

TEST(agents_names_ambiguous_and_unknown_are_answered_so_the_agent_can_ask)
{
    clinic_t c;
    clinic_start(&c, NULL);
    bool is_error;
    json_t *r =
        mcp(&c.s, c.agent, "find_slots",
            "{\"service\":\"cleaning\",\"staff\":\"anna\",\"date\":\"2026-03-30\"}", &is_error);
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "ambiguous_name");
    json_t *candidates = json_object_get(json_object_get(r, "error"), "candidates");
    CHECK_EQ(json_array_size(candidates), 2);
    CHECK_STR(speech_of(r), "Did you mean Anna Kowalska or Anna Nowak?");
    json_decref(r);
    /* the whole name, another case and an accent the caller added: exact */
    r = mcp(&c.s, c.agent, "find_slots",
            "{\"service\":\"cleaning\",\"staff\":\"ANNA KOWALSKÁ\",\"date\":\"2026-03-30\","
            "\"limit\":1}",
            &is_error);
    CHECK(!is_error);
    CHECK_STR(
        json_string_value(json_array_get(
            json_object_get(json_array_get(json_object_get(r, "slots"), 0), "resource_ids"), 0)),
        c.kowalska);
    json_decref(r);
    r = mcp(&c.s, c.agent, "find_slots", "{\"service\":\"massage\"}", &is_error);
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "not_found");
    CHECK_STR(speech_of(r), "I couldn't find anything called massage.");
    json_decref(r);
    /* an id of nothing the organization has */
    r = mcp(&c.s, c.agent, "find_slots", "{\"service\":\"00000000-0000-0000-0000-000000000001\"}",
            &is_error);
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "not_found");
    json_decref(r);
    api_stop(&c.s);
}

TEST(agents_a_full_day_offers_the_nearest_days)
{
    clinic_t c;
    clinic_start(&c, NULL);
    bool is_error;
    /* Saturday (tomorrow): nobody works; Friday (today), Monday and Tuesday are the nearest */
    json_t *r = mcp(&c.s, c.agent, "find_slots",
                    "{\"service\":\"cleaning\",\"date\":\"2026-03-28\"}", &is_error);
    CHECK(!is_error);
    CHECK_EQ(json_array_size(json_object_get(r, "slots")), 0);
    json_t *nearest = json_object_get(r, "nearest");
    CHECK_EQ(json_array_size(nearest), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(nearest, 1), "start")), MONDAY_9);
    CHECK_STR(speech_of(r), "Nothing is free tomorrow, but I have today at 9:00, "
                            "Monday 30 March at 9:00, and Tuesday 31 March at 9:00.");
    json_decref(r);
    /* in Spanish and German: the call's locale, then the organization's language */
    r = mcp(&c.s, c.agent, "find_slots",
            "{\"service\":\"cleaning\",\"date\":\"2026-03-30\",\"locale\":\"es\"}", &is_error);
    CHECK_STR(speech_of(r), "Tengo disponible el lunes 30 de marzo a las 9:00, 10:00 u 11:00.");
    json_decref(r);
    json_decref(
        api_expect(&c.s, 200, "PATCH", "/v1/organization", c.s.admin_key, "{\"language\":\"de\"}"));
    /* the directory of names is kept for a few seconds: wait for it to be read again */
    for (int i = 0; i < 150; i++) {
        r = mcp(&c.s, c.agent, "find_slots", "{\"service\":\"cleaning\",\"date\":\"2026-03-30\"}",
                &is_error);
        if (strncmp(speech_of(r), "Ich", 3) == 0)
            break;
        json_decref(r);
        r = NULL;
        usleep(100 * 1000);
    }
    CHECK(r != NULL);
    CHECK_STR(speech_of(r), "Ich habe am Montag, 30. März um 9:00, 10:00 oder 11:00 Uhr frei.");
    json_decref(r);
    api_stop(&c.s);
}

TEST(agents_book_reschedule_cancel_through_vapi_with_the_callers_number)
{
    clinic_t c;
    clinic_start(&c, NULL);
    bool is_error;
    char arguments[512];
    snprintf(arguments, sizeof(arguments),
             "{\"service\":\"cleaning\",\"start\":\"%s\",\"customer_name\":\"Zoë Brown\","
             "\"staff\":\"ben\"}",
             MONDAY_9);
    json_t *r = vapi(&c.s, c.agent, "call_book_1", "book_appointment", arguments, "+48 601 234 567",
                     &is_error);
    CHECK(!is_error);
    CHECK(json_is_true(json_object_get(r, "booked")));
    json_t *booking = json_object_get(r, "booking");
    char id[40];
    snprintf(id, sizeof(id), "%s", api_id(booking));
    CHECK_STR(json_string_value(json_object_get(booking, "source")), "ai_agent");
    CHECK_STR(json_string_value(json_object_get(json_object_get(booking, "customer"), "phone")),
              "+48 601 234 567");
    CHECK_STR(json_string_value(json_array_get(json_object_get(booking, "resource_ids"), 0)),
              c.ben);
    CHECK_STR(speech_of(r), "You're booked for Monday 30 March at 9:00.");
    json_decref(r);
    /* Vapi retries the same tool call: the same booking, once */
    r = vapi(&c.s, c.agent, "call_book_1", "book_appointment", arguments, "+48 601 234 567",
             &is_error);
    CHECK(!is_error && json_is_true(json_object_get(r, "booked")));
    CHECK_STR(api_id(json_object_get(r, "booking")), id);
    json_decref(r);
    /* the same id with other arguments is refused */
    snprintf(arguments, sizeof(arguments),
             "{\"service\":\"cleaning\",\"start\":\"2026-03-30T10:00:00+02:00\","
             "\"customer_name\":\"Zoë Brown\"}");
    r = vapi(&c.s, c.agent, "call_book_1", "book_appointment", arguments, "+48 601 234 567",
             &is_error);
    if (strcmp(error_code_of(r), "retry_mismatch") != 0) {
        char *text = json_dumps(r, 0);
        fprintf(stderr, "%s\n", text);
        free(text);
    }
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "retry_mismatch");
    json_decref(r);
    /* arguments as a JSON string, as Vapi's schema types them */
    r = vapi(&c.s, c.agent, "call_find_1", "find_bookings", "\"{}\"", "0048601234567", &is_error);
    CHECK(!is_error);
    CHECK_EQ(json_array_size(json_object_get(r, "bookings")), 1);
    CHECK_STR(speech_of(r), "I found your appointment for Monday 30 March at 9:00.");
    json_decref(r);
    /* Ben is taken at 9:00 now: the same slot pinned to him again gets alternatives */
    snprintf(arguments, sizeof(arguments),
             "{\"service\":\"cleaning\",\"start\":\"%s\",\"customer_name\":\"Other\","
             "\"staff\":\"%s\"}",
             MONDAY_9, c.ben);
    r = vapi(&c.s, c.agent, "call_book_2", "book_appointment", arguments, "+48 602 000 111",
             &is_error);
    CHECK(!is_error);
    CHECK(json_is_false(json_object_get(r, "booked")));
    CHECK_EQ(json_array_size(json_object_get(r, "alternatives")), 3);
    CHECK_STR(speech_of(r), "I'm sorry, that time was just taken, but I have Monday 30 March at "
                            "10:00, 11:00 or 12:00.");
    json_decref(r);
    /* its retry replays the same answer */
    r = vapi(&c.s, c.agent, "call_book_2", "book_appointment", arguments, "+48 602 000 111",
             &is_error);
    CHECK(json_is_false(json_object_get(r, "booked")));
    CHECK_EQ(json_array_size(json_object_get(r, "alternatives")), 3);
    json_decref(r);
    snprintf(arguments, sizeof(arguments),
             "{\"booking_id\":\"%s\",\"start\":\"2026-03-30T14:00:00+02:00\"}", id);
    r = vapi(&c.s, c.agent, "call_move", "reschedule_booking", arguments, NULL, &is_error);
    CHECK(!is_error && json_is_true(json_object_get(r, "rescheduled")));
    CHECK_STR(speech_of(r), "Your appointment has been moved to Monday 30 March at 14:00.");
    json_decref(r);
    snprintf(arguments, sizeof(arguments), "{\"booking_id\":\"%s\",\"reason\":\"ill\"}", id);
    r = vapi(&c.s, c.agent, "call_cancel", "cancel_booking", arguments, NULL, &is_error);
    CHECK(!is_error && json_is_true(json_object_get(r, "cancelled")));
    CHECK_STR(speech_of(r), "Your appointment for Monday 30 March at 14:00 is cancelled.");
    json_decref(r);
    snprintf(arguments, sizeof(arguments),
             "{\"booking_id\":\"%s\",\"start\":\"2026-03-30T15:00:00+02:00\"}", id);
    r = vapi(&c.s, c.agent, "call_move_2", "reschedule_booking", arguments, NULL, &is_error);
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "conflict");
    json_decref(r);
    /* the audit trail names the tools */
    char path[160];
    snprintf(path, sizeof(path), "/v1/bookings/%s/history", id);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    json_t *items = json_object_get(r, "items");
    CHECK_EQ(json_array_size(items), 3);
    const char *tools[] = {"book_appointment", "reschedule_booking", "cancel_booking"};
    for (size_t i = 0; i < 3; i++) {
        json_t *actor = json_object_get(json_array_get(items, i), "actor");
        CHECK_STR(json_string_value(json_object_get(actor, "tool")), tools[i]);
        CHECK_STR(json_string_value(json_object_get(actor, "transport")), "vapi");
        CHECK_STR(json_string_value(json_object_get(actor, "role")), "agent");
    }
    json_decref(r);
    api_stop(&c.s);
}

TEST(agents_hold_then_book_and_starts_in_the_past)
{
    clinic_t c;
    clinic_start(&c, NULL);
    bool is_error;
    char arguments[512];
    json_t *r = mcp(&c.s, c.agent, "hold_slot",
                    "{\"service\":\"cleaning\",\"start\":\"2026-03-30T09:00\",\"staff\":\"Anna "
                    "Nowak\"}",
                    &is_error);
    CHECK(!is_error && json_is_true(json_object_get(r, "held")));
    json_t *hold = json_object_get(r, "hold");
    CHECK_STR(json_string_value(json_object_get(hold, "start")), MONDAY_9);
    CHECK_STR(speech_of(r), "I'm holding Monday 30 March at 9:00 for you.");
    snprintf(arguments, sizeof(arguments),
             "{\"service\":\"cleaning\",\"start\":\"%s\",\"customer_name\":\"Jan\","
             "\"customer_phone\":\"+48 602 000 111\",\"hold_id\":\"%s\"}",
             MONDAY_9, api_id(hold));
    json_decref(r);
    r = mcp(&c.s, c.agent, "book_appointment", arguments, &is_error);
    CHECK(!is_error && json_is_true(json_object_get(r, "booked")));
    CHECK_STR(json_string_value(json_array_get(
                  json_object_get(json_object_get(r, "booking"), "resource_ids"), 0)),
              c.nowak);
    json_decref(r);
    /* a start before now, a start that is not a time, a phone that is not one */
    const char *bad[][2] = {
        {"{\"service\":\"cleaning\",\"start\":\"2026-03-26T09:00:00+01:00\",\"customer_name\":"
         "\"X\"}",
         "start"},
        {"{\"service\":\"cleaning\",\"start\":\"next blursday\",\"customer_name\":\"X\"}", "start"},
        {"{\"service\":\"cleaning\",\"start\":\"2026-03-30T11:00:00+02:00\",\"customer_name\":"
         "\"X\",\"customer_phone\":\"call me\"}",
         "customer_phone"},
        {"{\"service\":\"cleaning\",\"start\":\"2026-03-30T11:00:00+02:00\"}", "customer_name"},
        {"{\"service\":\"cleaning\",\"start\":\"2026-03-30T11:00:00+02:00\",\"customer_name\":"
         "\"X\",\"hold_id\":\"h1\"}",
         "hold_id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = mcp(&c.s, c.agent, "book_appointment", bad[i][0], &is_error);
        CHECK(is_error);
        CHECK_STR(error_code_of(r), "invalid_argument");
        CHECK_STR(json_string_value(json_object_get(json_object_get(r, "error"), "field")),
                  bad[i][1]);
        json_decref(r);
    }
    json_t *page = api_expect(&c.s, 200, "GET", "/v1/bookings", c.s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(page, "items")), 1);
    json_decref(page);
    api_stop(&c.s);
}

/* A child of the race: books MONDAY_9 with Ben through MCP on `s`; exits 0 when booked, 1 when
 * offered alternatives, 2 for anything else. */
static void race_child(api_server_t *s, const char *key, int i)
{
    char arguments[512];
    snprintf(arguments, sizeof(arguments),
             "{\"service\":\"epilation\",\"start\":\"%s\",\"customer_name\":\"Caller %d\","
             "\"customer_phone\":\"+48 600 000 %03d\"}",
             MONDAY_9, i, i);
    bool is_error;
    json_t *r = mcp(s, key, "book_appointment", arguments, &is_error);
    int code = 2;
    if (!is_error && json_is_true(json_object_get(r, "booked")))
        code = 0;
    else if (!is_error && json_is_false(json_object_get(r, "booked")) &&
             json_array_size(json_object_get(r, "alternatives")) > 0)
        code = 1;
    _exit(code);
}

TEST(agents_64_simultaneous_bookings_of_one_slot_through_tools_on_two_instances)
{
    clinic_t c;
    clinic_start(&c, NULL);
    api_server_t peer;
    api_start_peer(&peer, &c.s, frozen);
    api_wait_ready(&peer);
    for (int round = 0; round < 3; round++) {
        int pipes[2];
        CHECK(pipe(pipes) == 0);
        for (int i = 0; i < 64; i++) {
            if (fork() == 0) {
                close(pipes[1]);
                char go;
                CHECK(read(pipes[0], &go, 1) == 0);
                race_child(i % 2 ? &peer : &c.s, c.agent, round * 64 + i);
            }
        }
        close(pipes[0]);
        close(pipes[1]);
        int booked = 0, offered = 0;
        for (int i = 0; i < 64; i++) {
            int status;
            CHECK(wait(&status) > 0);
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) < 2);
            booked += WEXITSTATUS(status) == 0;
            offered += WEXITSTATUS(status) == 1;
        }
        CHECK_EQ(booked, round == 0 ? 1 : 0);
        CHECK_EQ(offered, round == 0 ? 63 : 64);
    }
    json_t *page = api_expect(&c.s, 200, "GET", "/v1/bookings", c.s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(page, "items")), 1);
    json_decref(page);
    api_stop(&peer);
    api_stop(&c.s);
}

TEST(agents_see_and_change_only_their_organization)
{
    clinic_t c;
    clinic_start(&c, NULL);
    char other_key[128], other_org[40], other_agent[128];
    api_create_org(&c.s, "Other clinic", other_key, other_org);
    api_create_key(&c.s, other_org, "agent", other_agent);
    bool is_error;
    char arguments[512];
    snprintf(arguments, sizeof(arguments),
             "{\"service\":\"%s\",\"start\":\"%s\",\"customer_name\":\"Zoë\","
             "\"customer_phone\":\"+48 601 234 567\"}",
             c.cleaning, MONDAY_9);
    json_t *r = mcp(&c.s, c.agent, "book_appointment", arguments, &is_error);
    char id[40];
    snprintf(id, sizeof(id), "%s", api_id(json_object_get(r, "booking")));
    json_decref(r);
    /* the other organization's agent: no services, not this one's by id or name */
    r = mcp(&c.s, other_agent, "list_services", "{}", &is_error);
    CHECK_EQ(json_array_size(json_object_get(r, "services")), 0);
    CHECK_STR(speech_of(r), "There are no services to book.");
    json_decref(r);
    snprintf(arguments, sizeof(arguments), "{\"service\":\"%s\"}", c.cleaning);
    r = mcp(&c.s, other_agent, "find_slots", arguments, &is_error);
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "not_found");
    json_decref(r);
    r = mcp(&c.s, other_agent, "find_slots", "{\"service\":\"cleaning\"}", &is_error);
    CHECK(is_error);
    json_decref(r);
    r = mcp(&c.s, other_agent, "find_bookings", "{\"customer_phone\":\"+48 601 234 567\"}",
            &is_error);
    CHECK_EQ(json_array_size(json_object_get(r, "bookings")), 0);
    json_decref(r);
    snprintf(arguments, sizeof(arguments), "{\"booking_id\":\"%s\"}", id);
    r = mcp(&c.s, other_agent, "cancel_booking", arguments, &is_error);
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "not_found");
    json_decref(r);
    snprintf(arguments, sizeof(arguments),
             "{\"booking_id\":\"%s\",\"start\":\"2026-03-30T12:00:00+02:00\"}", id);
    r = mcp(&c.s, other_agent, "reschedule_booking", arguments, &is_error);
    CHECK(is_error);
    json_decref(r);
    char path[160];
    snprintf(path, sizeof(path), "/v1/bookings/%s", id);
    r = api_expect(&c.s, 200, "GET", path, c.agent, NULL);
    CHECK_STR(json_string_value(json_object_get(r, "status")), "confirmed");
    CHECK_STR(json_string_value(json_object_get(r, "start")), MONDAY_9);
    json_decref(r);
    /* a sync key may not call the tools */
    char sync_key[128];
    api_create_key(&c.s, c.s.organization_id, "sync", sync_key);
    json_decref(api_expect(&c.s, 403, "POST", "/v1/integrations/vapi", sync_key,
                           "{\"message\":{\"type\":\"status-update\"}}"));
    api_stop(&c.s);
}

TEST(agents_vapi_messages_and_bad_envelopes)
{
    clinic_t c;
    clinic_start(&c, NULL);
    json_t *r = api_expect(&c.s, 200, "POST", "/v1/integrations/vapi", c.agent,
                           "{\"message\":{\"type\":\"end-of-call-report\",\"summary\":\"x\"}}");
    CHECK_EQ(json_object_size(r), 0);
    json_decref(r);
    /* several calls in one message, in the three shapes, one unknown, one with bad JSON */
    r = api_expect(&c.s, 200, "POST", "/v1/integrations/vapi", c.agent,
                   "{\"message\":{\"type\":\"tool-calls\",\"toolCallList\":["
                   "{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"list_services\","
                   "\"arguments\":{}}},"
                   "{\"id\":\"b\",\"name\":\"find_slots\",\"parameters\":{\"service\":\"cleaning\","
                   "\"date\":\"2026-03-30\",\"limit\":1}},"
                   "{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"drop_tables\","
                   "\"arguments\":{}}},"
                   "{\"id\":\"d\",\"type\":\"function\",\"function\":{\"name\":\"find_slots\","
                   "\"arguments\":\"{not json\"}}]}}");
    json_t *results = json_object_get(r, "results");
    CHECK_EQ(json_array_size(results), 4);
    CHECK(json_is_string(json_object_get(json_array_get(results, 0), "result")));
    CHECK(json_is_string(json_object_get(json_array_get(results, 1), "result")));
    CHECK(strstr(json_string_value(json_object_get(json_array_get(results, 1), "result")),
                 MONDAY_9) != NULL);
    CHECK(strstr(json_string_value(json_object_get(json_array_get(results, 2), "error")),
                 "unknown_tool") != NULL);
    CHECK(strstr(json_string_value(json_object_get(json_array_get(results, 3), "error")),
                 "invalid_argument") != NULL);
    json_decref(r);
    /* toolWithToolCallList alone */
    r = api_expect(&c.s, 200, "POST", "/v1/integrations/vapi", c.agent,
                   "{\"message\":{\"type\":\"tool-calls\",\"toolWithToolCallList\":[{\"type\":"
                   "\"function\",\"name\":\"list_services\",\"toolCall\":{\"id\":\"w\","
                   "\"type\":\"function\",\"function\":{\"name\":\"list_services\","
                   "\"arguments\":{}}}}]}}");
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(r, "results"), 0), "toolCallId")),
              "w");
    json_decref(r);
    json_decref(api_expect(&c.s, 400, "POST", "/v1/integrations/vapi", c.agent, "{}"));
    /* Vapi reads only 200s: no calls, too many calls, a call that is no object */
    r = api_expect(&c.s, 200, "POST", "/v1/integrations/vapi", c.agent,
                   "{\"message\":{\"type\":\"tool-calls\",\"toolCallList\":[]}}");
    CHECK_EQ(json_array_size(json_object_get(r, "results")), 0);
    json_decref(r);
    char many[4096];
    int used =
        snprintf(many, sizeof(many), "{\"message\":{\"type\":\"tool-calls\",\"toolCallList\":[");
    for (int i = 0; i < 17; i++)
        used += snprintf(many + used, sizeof(many) - (size_t)used,
                         "%s{\"id\":\"m%d\",\"type\":\"function\",\"function\":{\"name\":"
                         "\"list_services\",\"arguments\":{}}}",
                         i ? "," : "", i);
    snprintf(many + used, sizeof(many) - (size_t)used, "]}}");
    r = api_expect(&c.s, 200, "POST", "/v1/integrations/vapi", c.agent, many);
    CHECK_EQ(json_array_size(json_object_get(r, "results")), 17);
    CHECK(strstr(json_string_value(
                     json_object_get(json_array_get(json_object_get(r, "results"), 16), "error")),
                 "at most 16") != NULL);
    json_decref(r);
    r = api_expect(&c.s, 200, "POST", "/v1/integrations/vapi", c.agent,
                   "{\"message\":{\"type\":\"tool-calls\",\"toolCallList\":[7]}}");
    CHECK(
        json_is_string(json_object_get(json_array_get(json_object_get(r, "results"), 0), "error")));
    json_decref(r);
    /* names of 200 characters in two bytes each are within the bound */
    char polish[1024] = "{\"service\":\"";
    for (int i = 0; i < 50; i++)
        strcat(polish, "Żółć");
    strcat(polish, "\"}");
    bool failed;
    r = mcp(&c.s, c.agent, "find_slots", polish, &failed);
    CHECK(failed);
    CHECK_STR(error_code_of(r), "not_found");
    json_decref(r);
    json_decref(api_expect(&c.s, 401, "POST", "/v1/integrations/vapi", NULL,
                           "{\"message\":{\"type\":\"tool-calls\"}}"));
    /* an argument over 1 MiB: the body limit answers before any tool runs */
    size_t size = 1024 * 1024 + 16 * 1024;
    char *huge = malloc(size);
    int n = snprintf(huge, size,
                     "{\"message\":{\"type\":\"tool-calls\",\"toolCallList\":[{\"id\":\"h\","
                     "\"function\":{\"name\":\"find_slots\",\"arguments\":{\"service\":\"");
    memset(huge + n, 'a', 1024 * 1024 + 8 * 1024);
    snprintf(huge + n + 1024 * 1024 + 8 * 1024, 64, "\"}}}]}}");
    json_decref(api_expect(&c.s, 413, "POST", "/v1/integrations/vapi", c.agent, huge));
    free(huge);
    /* a long name that fits: refused by its bound */
    char *long_name = malloc(20000);
    n = snprintf(long_name, 20000, "{\"service\":\"");
    memset(long_name + n, 'b', 5000);
    snprintf(long_name + n + 5000, 32, "\"}");
    bool is_error;
    r = mcp(&c.s, c.agent, "find_slots", long_name, &is_error);
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "invalid_argument");
    json_decref(r);
    free(long_name);
    /* the setup helpers */
    r = api_expect(&c.s, 200, "GET", "/v1/integrations/vapi/tools", c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "tools")), 7);
    CHECK(strstr(json_string_value(json_object_get(r, "server_url")), "/v1/integrations/vapi"));
    json_decref(r);
    r = api_expect(&c.s, 200, "GET", "/v1/integrations/retell/tools", c.agent, NULL);
    CHECK_EQ(json_array_size(json_object_get(r, "tools")), 7);
    CHECK(strstr(json_string_value(
                     json_object_get(json_array_get(json_object_get(r, "tools"), 1), "url")),
                 "/v1/integrations/retell/find_slots?organization_id=") != NULL);
    json_decref(r);
    api_stop(&c.s);
}

/* The X-Retell-Signature that Retell's own SDK makes for `body` under `key` (tests/agents,
 * npm retell-sdk): now, or at `stamp` milliseconds. */
static void retell_sign(const char *key, const char *body, long long stamp, char *out, size_t size)
{
    char stamp_text[32];
    snprintf(stamp_text, sizeof(stamp_text), "%lld", stamp);
    const char *args[] = {key, body, stamp ? stamp_text : NULL, NULL};
    char *text = test_node("tests/agents/retell_sign.js", args, NULL);
    size_t n = strcspn(text, "\r\n");
    CHECK(n < size);
    snprintf(out, size, "%.*s", (int)n, text);
    free(text);
}

/* POST /v1/integrations/retell/{tool}, signed with `signature` (NULL: none) or a bearer key. */
static int retell(api_server_t *s, const char *tool, const char *organization, const char *key,
                  const char *signature, const char *body, json_t **r)
{
    char path[256], header[512];
    snprintf(path, sizeof(path), "/v1/integrations/retell/%s%s%s", tool,
             organization ? "?organization_id=" : "", organization ? organization : "");
    snprintf(header, sizeof(header), "X-Retell-Signature: %s", signature ? signature : "");
    const char *headers[] = {signature ? header : NULL, NULL};
    return api_call_headers(s, "POST", path, key, headers, body, r);
}

TEST(agents_retell_signed_by_the_organizations_key_or_a_bearer_key)
{
    clinic_t c;
    const char *env[] = {API_FRIDAY_BEFORE_DST,
                         "SLOTD_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", NULL};
    clinic_start(&c, env);
    json_decref(api_expect(&c.s, 200, "PATCH", "/v1/organization", c.s.admin_key,
                           "{\"integrations\":{\"retell_api_key\":\"key_retell_a\"}}"));
    char other_key[128], other_org[40];
    api_create_org(&c.s, "Other clinic", other_key, other_org);
    json_decref(api_expect(&c.s, 200, "PATCH", "/v1/organization", other_key,
                           "{\"integrations\":{\"retell_api_key\":\"key_retell_b\"}}"));
    const char *body = "{\"name\":\"find_slots\",\"call\":{\"call_id\":\"call_1\",\"from_number\":"
                       "\"+48 601 234 567\",\"direction\":\"inbound\"},\"args\":{\"service\":"
                       "\"cleaning\",\"date\":\"2026-03-30\",\"limit\":3}}";
    char signature[256];
    retell_sign("key_retell_a", body, 0, signature, sizeof(signature));
    json_t *r;
    CHECK_EQ(retell(&c.s, "find_slots", c.s.organization_id, NULL, signature, body, &r), 200);
    bool is_error;
    json_t *same = mcp(&c.s, c.agent, "find_slots",
                       "{\"service\":\"cleaning\",\"date\":\"2026-03-30\",\"limit\":3}", &is_error);
    CHECK(json_equal(r, same));
    CHECK_STR(speech_of(r), "I have Monday 30 March at 9:00, 10:00 or 11:00.");
    json_decref(same);
    json_decref(r);
    /* the other organization's key does not prove a call to this one, nor this one's to it */
    char wrong[256];
    retell_sign("key_retell_b", body, 0, wrong, sizeof(wrong));
    CHECK_EQ(retell(&c.s, "find_slots", c.s.organization_id, NULL, wrong, body, &r), 401);
    json_decref(r);
    CHECK_EQ(retell(&c.s, "find_slots", other_org, NULL, signature, body, &r), 401);
    json_decref(r);
    /* stale, tampered, missing */
    char stale[256];
    retell_sign("key_retell_a", body, (long long)time(NULL) * 1000 - 10 * 60 * 1000, stale,
                sizeof(stale));
    CHECK_EQ(retell(&c.s, "find_slots", c.s.organization_id, NULL, stale, body, &r), 401);
    json_decref(r);
    char tampered[1024];
    snprintf(tampered, sizeof(tampered), "%s", body);
    tampered[strlen(tampered) - 3] = '4';
    CHECK_EQ(retell(&c.s, "find_slots", c.s.organization_id, NULL, signature, tampered, &r), 401);
    json_decref(r);
    CHECK_EQ(retell(&c.s, "find_slots", c.s.organization_id, NULL, NULL, body, &r), 401);
    json_decref(r);
    CHECK_EQ(retell(&c.s, "find_slots", NULL, NULL, signature, body, &r), 401);
    json_decref(r);
    /* a booking: the caller's number from the call, once per call id and arguments */
    const char *book = "{\"name\":\"book_appointment\",\"call\":{\"call_id\":\"call_2\","
                       "\"from_number\":\"+48 601 234 567\",\"direction\":\"inbound\"},\"args\":{"
                       "\"service\":\"cleaning\",\"start\":\"2026-03-30T10:00:00+02:00\","
                       "\"customer_name\":\"Zoë\"}}";
    retell_sign("key_retell_a", book, 0, signature, sizeof(signature));
    CHECK_EQ(retell(&c.s, "book_appointment", c.s.organization_id, NULL, signature, book, &r), 200);
    CHECK(json_is_true(json_object_get(r, "booked")));
    char id[40];
    snprintf(id, sizeof(id), "%s", api_id(json_object_get(r, "booking")));
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(r, "booking"), "customer"), "phone")),
              "+48 601 234 567");
    json_decref(r);
    CHECK_EQ(retell(&c.s, "book_appointment", c.s.organization_id, NULL, signature, book, &r), 200);
    CHECK_STR(api_id(json_object_get(r, "booking")), id);
    json_decref(r);
    json_t *page = api_expect(&c.s, 200, "GET", "/v1/bookings", c.s.admin_key, NULL);
    CHECK_EQ(json_array_size(json_object_get(page, "items")), 1);
    json_decref(page);
    /* a bearer key instead, the arguments at the root; a failed tool answers 200 with its
     * error; an unknown tool is 404 */
    CHECK_EQ(retell(&c.s, "list_services", NULL, c.agent, NULL, "{}", &r), 200);
    CHECK_STR(speech_of(r), "We offer Cleaning and Épilation.");
    json_decref(r);
    CHECK_EQ(retell(&c.s, "find_slots", NULL, c.agent, NULL, "{\"service\":\"massage\"}", &r), 200);
    CHECK_STR(error_code_of(r), "not_found");
    json_decref(r);
    /* Retell's envelope without args (a function without parameters); a body of one function
     * is not another's */
    CHECK_EQ(retell(&c.s, "list_services", NULL, c.agent, NULL,
                    "{\"name\":\"list_services\",\"call\":{\"call_id\":\"c9\"}}", &r),
             200);
    CHECK_EQ(json_array_size(json_object_get(r, "services")), 2);
    json_decref(r);
    retell_sign("key_retell_a", body, 0, signature, sizeof(signature));
    CHECK_EQ(retell(&c.s, "hold_slot", c.s.organization_id, NULL, signature, body, &r), 400);
    json_decref(r);
    /* the audit trail says who proved the call */
    char history[160];
    snprintf(history, sizeof(history), "/v1/bookings/%s/history", id);
    r = api_expect(&c.s, 200, "GET", history, c.agent, NULL);
    CHECK_STR(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(r, "items"), 0), "actor"), "kind")),
        "retell_signature");
    json_decref(r);
    CHECK_EQ(retell(&c.s, "drop_tables", NULL, c.agent, NULL, "{}", &r), 404);
    json_decref(r);
    CHECK_EQ(retell(&c.s, "find_slots", NULL, c.agent, NULL, "[1]", &r), 400);
    json_decref(r);
    api_stop(&c.s);
}

TEST(agents_running_out_of_time_answers_in_the_transports_own_form)
{
    clinic_t c;
    const char *env[] = {API_FRIDAY_BEFORE_DST, "SLOTD_REQUEST_TIMEOUT_MS=1000",
                         "SLOTD_POOL_SIZE=1", NULL};
    clinic_start(&c, env);
    bool is_error;
    json_decref(mcp(&c.s, c.agent, "list_services", "{}", &is_error)); /* the directory read */
    /* the test's own connection takes a lock that holds a booking, and with it the server's
     * only database connection */
    PQclear(PQexec(c.s.db, "BEGIN"));
    PQclear(PQexec(c.s.db, "LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE"));
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"service\":\"cleaning\",\"start\":\"%s\",\"customer_name\":\"Zoë\","
             "\"customer_phone\":\"+48 601 234 567\"}",
             MONDAY_9);
    pid_t booker = fork();
    if (booker == 0) {
        json_t *r = mcp(&c.s, c.agent, "book_appointment", body, &is_error);
        json_decref(r);
        _exit(0);
    }
    usleep(200 * 1000);
    /* a Vapi message: the first call answers, the second waits for the database past the
     * deadline, the third never runs: all are told, in Vapi's form */
    json_t *r =
        api_expect(&c.s, 200, "POST", "/v1/integrations/vapi", c.agent,
                   "{\"message\":{\"type\":\"tool-calls\",\"customer\":{\"number\":\"+48 601 234 "
                   "567\"},\"toolCallList\":["
                   "{\"id\":\"t1\",\"function\":{\"name\":\"list_services\",\"arguments\":{}}},"
                   "{\"id\":\"t2\",\"function\":{\"name\":\"find_bookings\",\"arguments\":{}}},"
                   "{\"id\":\"t3\",\"function\":{\"name\":\"list_services\",\"arguments\":{}}}]}}");
    json_t *results = json_object_get(r, "results");
    CHECK_EQ(json_array_size(results), 3);
    CHECK(json_is_string(json_object_get(json_array_get(results, 0), "result")));
    CHECK(strstr(json_string_value(json_object_get(json_array_get(results, 1), "error")),
                 "unavailable") != NULL);
    CHECK_STR(json_string_value(json_object_get(json_array_get(results, 2), "toolCallId")), "t3");
    CHECK(json_is_string(json_object_get(json_array_get(results, 2), "error")));
    json_decref(r);
    /* MCP: an isError result with the request's id */
    r = mcp(&c.s, c.agent, "find_bookings", "{\"customer_phone\":\"+48 601 234 567\"}", &is_error);
    CHECK(is_error);
    CHECK_STR(error_code_of(r), "unavailable");
    json_decref(r);
    PQclear(PQexec(c.s.db, "ROLLBACK"));
    int status;
    CHECK(waitpid(booker, &status, 0) == booker);
    api_stop(&c.s);
}
