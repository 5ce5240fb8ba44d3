/*
 * POST /mcp against the official MCP TypeScript SDK, and its protocol edges
 * spoken raw.
 *
 * The first half drives a real client: tests/mcp/client.js runs the SDK's
 * Client over its StreamableHTTPClientTransport (the version pinned in
 * tests/mcp/package-lock.json) with an agent key as the bearer token. It
 * connects as any MCP client does (initialize at the SDK's own latest protocol
 * version, which slotd answers with 2025-06-18, then notifications/initialized),
 * lists the tools, calls the scenario's tools in order, pings, and prints what
 * it saw; the SDK validates every answer against its own schemas, so a result
 * it could not read is a failed call here. Each session is a fresh connection:
 * the server keeps no session, so a scenario that needs an earlier answer (a
 * slot's start, a booking's id) is a second session.
 *
 * The second half posts raw JSON-RPC through api_call_headers, so that the
 * OpenAPI check sees those answers too: invalid messages, notifications and
 * client responses (202), batches by protocol version, the version header,
 * Origin, GET, the negotiation of initialize, and no key.
 *
 * The clinic: Anna works Monday to Friday 09:00–17:00 (Europe/Warsaw), a
 * one-hour Check-up needs her, and the clock is frozen on Friday 2026-03-27
 * 08:00 (+01:00), so the first free slot is that day at 09:00.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_client.h"
#include "test.h"

static const char *const frozen[] = {"SLOTD_NOW=2026-03-27T08:00:00+01:00", NULL};

#define MONDAY_TO_FRIDAY                                                                           \
    "{\"mon\":[[\"09:00\",\"17:00\"]],\"tue\":[[\"09:00\",\"17:00\"]],\"wed\":[[\"09:00\","        \
    "\"17:00\"]],\"thu\":[[\"09:00\",\"17:00\"]],\"fri\":[[\"09:00\",\"17:00\"]]}"
#define FRIDAY_9 "2026-03-27T09:00:00+01:00"
#define CALLER_PHONE "+48 601 234 567"

typedef struct {
    api_server_t s;
    char agent[128];
    char staff[40], service[40];
} clinic_t;

static void clinic_start(clinic_t *c)
{
    api_start(&c->s, frozen);
    api_create_staff_service(&c->s, MONDAY_TO_FRIDAY, c->staff, c->service);
    api_create_key(&c->s, c->s.organization_id, "agent", c->agent);
}

static const char *text_of(const json_t *object, const char *name)
{
    const char *text = json_string_value(json_object_get(object, name));
    return text ? text : "(not text)";
}

static void print_json(const char *what, const json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    fprintf(stderr, "%s: %s\n", what, text ? text : "(nothing)");
    free(text);
}

/* ---- the SDK client ------------------------------------------------------------------------ */

/* One session of tests/mcp/client.js against `s` with `key`, calling `calls` (a JSON array of
 * {"name","arguments"}, stolen): what the client saw (caller decrefs). Fails the test when the
 * SDK could not connect. */
static json_t *sdk_session(api_server_t *s, const char *key, json_t *calls)
{
    json_t *scenario = json_pack("{s:o}", "calls", calls);
    char *scenario_text = json_dumps(scenario, JSON_COMPACT);
    json_decref(scenario);
    CHECK(scenario_text != NULL);
    const char *args[] = {s->base, key, scenario_text, NULL};
    size_t length;
    char *text = test_node("tests/mcp/client.js", args, &length);
    free(scenario_text);
    json_t *seen = json_loadb(text, length, 0, NULL);
    free(text);
    CHECK(seen != NULL);
    return seen;
}

/* The `index`-th call of a session: it must be `name`'s and have answered a CallToolResult
 * with isError `is_error`, whose one text content is its structuredContent serialized. Returns
 * structuredContent (borrowed from `seen`). */
static const json_t *tool_result(const json_t *seen, size_t index, const char *name, bool is_error)
{
    const json_t *call = json_array_get(json_object_get(seen, "calls"), index);
    const json_t *result = json_object_get(call, "result");
    if (strcmp(text_of(call, "name"), name) != 0 || result == NULL ||
        json_is_true(json_object_get(result, "isError")) != is_error) {
        fprintf(stderr, "call %zu: expected %s with isError %d\n", index, name, is_error);
        print_json("got", call);
        exit(1);
    }
    const json_t *structured = json_object_get(result, "structuredContent");
    const json_t *content = json_object_get(result, "content");
    const json_t *item = json_array_get(content, 0);
    CHECK(json_is_object(structured));
    CHECK(json_array_size(content) == 1);
    CHECK(strcmp(text_of(item, "type"), "text") == 0);
    json_t *parsed = json_loads(text_of(item, "text"), 0, NULL);
    if (!json_equal(parsed, structured)) {
        print_json("the text content", json_object_get(item, "text"));
        print_json("structuredContent", structured);
        exit(1);
    }
    json_decref(parsed);
    return structured;
}

/* The error code of a tool's error result. */
static const char *tool_error_code(const json_t *structured)
{
    return text_of(json_object_get(structured, "error"), "code");
}

static bool read_only_tool(const char *name)
{
    return strcmp(name, "list_services") == 0 || strcmp(name, "find_slots") == 0 ||
           strcmp(name, "find_bookings") == 0;
}

TEST(mcp_sdk_connects_and_lists_seven_tools)
{
    clinic_t c;
    clinic_start(&c);
    json_t *seen = sdk_session(&c.s, c.agent, json_pack("[{s:s}]", "name", "list_services"));
    /* the SDK asked its own latest version, which slotd does not speak, and went on with
     * slotd's answer */
    CHECK(strcmp(text_of(seen, "protocolVersion"), "2025-06-18") == 0);
    CHECK(json_is_null(json_object_get(seen, "sessionId"))); /* stateless: no session */
    CHECK(strcmp(text_of(json_object_get(seen, "serverVersion"), "name"), "slotd") == 0);
    const json_t *capabilities = json_object_get(seen, "serverCapabilities");
    CHECK(json_is_object(json_object_get(capabilities, "tools")));
    CHECK(json_is_string(json_object_get(seen, "instructions")));

    static const char *const names[] = {"list_services",     "find_slots",    "hold_slot",
                                        "book_appointment",  "find_bookings", "cancel_booking",
                                        "reschedule_booking"};
    const json_t *tools = json_object_get(seen, "tools");
    if (json_array_size(tools) != 7) {
        print_json("tools", json_object_get(seen, "tools"));
        print_json("tools/list error", json_object_get(seen, "toolsError"));
        exit(1);
    }
    for (size_t i = 0; i < 7; i++) {
        const json_t *tool = NULL;
        for (size_t j = 0; j < json_array_size(tools) && tool == NULL; j++)
            if (strcmp(text_of(json_array_get(tools, j), "name"), names[i]) == 0)
                tool = json_array_get(tools, j);
        CHECK(tool != NULL);
        CHECK(strcmp(text_of(json_object_get(tool, "inputSchema"), "type"), "object") == 0);
        CHECK(json_is_string(json_object_get(tool, "description")));
        const json_t *hint = json_object_get(json_object_get(tool, "annotations"), "readOnlyHint");
        CHECK(json_is_boolean(hint));
        if (json_is_true(hint) != read_only_tool(names[i])) {
            print_json(names[i], tool);
            exit(1);
        }
    }

    const json_t *services =
        json_object_get(tool_result(seen, 0, "list_services", false), "services");
    CHECK_EQ(json_array_size(services), 1);
    CHECK(strcmp(text_of(json_array_get(services, 0), "id"), c.service) == 0);
    CHECK(strcmp(text_of(json_array_get(services, 0), "name"), "Check-up") == 0);
    CHECK(json_is_object(json_object_get(seen, "ping")));
    CHECK_EQ(json_object_size(json_object_get(seen, "ping")), 0);
    json_decref(seen);
    api_stop(&c.s);
}

/* find_slots by id and by the name in capitals, book the first slot, find it by the caller's
 * phone, move it, cancel it: each answer as the REST API renders it, the database agreeing. */
TEST(mcp_sdk_books_finds_moves_and_cancels)
{
    clinic_t c;
    clinic_start(&c);
    json_t *seen =
        sdk_session(&c.s, c.agent,
                    json_pack("[{s:s, s:{s:s, s:i}}, {s:s, s:{s:s, s:i}}]", "name", "find_slots",
                              "arguments", "service", c.service, "limit", 3, "name", "find_slots",
                              "arguments", "service", "CHECK-UP", "limit", 3));
    const json_t *by_id = tool_result(seen, 0, "find_slots", false);
    const json_t *by_name = tool_result(seen, 1, "find_slots", false);
    CHECK(json_equal(by_id, by_name));
    CHECK(strcmp(text_of(by_id, "service_id"), c.service) == 0);
    const json_t *slots = json_object_get(by_id, "slots");
    CHECK_EQ(json_array_size(slots), 3);
    CHECK_EQ(test_instant(text_of(json_array_get(slots, 0), "start")), test_instant(FRIDAY_9));
    CHECK(json_is_string(json_object_get(by_id, "speech")));
    char first[64], third[64];
    snprintf(first, sizeof(first), "%s", text_of(json_array_get(slots, 0), "start"));
    snprintf(third, sizeof(third), "%s", text_of(json_array_get(slots, 2), "start"));
    json_decref(seen);

    seen =
        sdk_session(&c.s, c.agent,
                    json_pack("[{s:s, s:{s:s, s:s, s:s, s:s}}, {s:s, s:{s:s}}]", "name",
                              "book_appointment", "arguments", "service", c.service, "start", first,
                              "customer_name", "Jan Nowak", "customer_phone", CALLER_PHONE, "name",
                              "find_bookings", "arguments", "customer_phone", "+48601234567"));
    const json_t *booked = tool_result(seen, 0, "book_appointment", false);
    CHECK(json_is_true(json_object_get(booked, "booked")));
    const json_t *booking = json_object_get(booked, "booking");
    char id[40];
    snprintf(id, sizeof(id), "%s", api_id(booking));
    CHECK(strcmp(text_of(booking, "status"), "confirmed") == 0);
    CHECK_EQ(test_instant(text_of(booking, "start")), test_instant(FRIDAY_9));
    CHECK(strcmp(text_of(json_object_get(booking, "customer"), "name"), "Jan Nowak") == 0);
    const json_t *found = json_object_get(tool_result(seen, 1, "find_bookings", false), "bookings");
    CHECK_EQ(json_array_size(found), 1);
    CHECK(strcmp(api_id(json_array_get(found, 0)), id) == 0);
    json_decref(seen);

    seen = sdk_session(&c.s, c.agent,
                       json_pack("[{s:s, s:{s:s, s:s}}, {s:s, s:{s:s}}]", "name",
                                 "reschedule_booking", "arguments", "booking_id", id, "start",
                                 third, "name", "cancel_booking", "arguments", "booking_id", id));
    const json_t *moved = tool_result(seen, 0, "reschedule_booking", false);
    CHECK(json_is_true(json_object_get(moved, "rescheduled")));
    CHECK(strcmp(api_id(json_object_get(moved, "booking")), id) == 0);
    CHECK_EQ(test_instant(text_of(json_object_get(moved, "booking"), "start")),
             test_instant(third));
    const json_t *cancelled = tool_result(seen, 1, "cancel_booking", false);
    CHECK(json_is_true(json_object_get(cancelled, "cancelled")));
    CHECK(strcmp(text_of(json_object_get(cancelled, "booking"), "status"), "cancelled") == 0);
    json_decref(seen);

    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s", id);
    json_t *r = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
    CHECK(strcmp(text_of(r, "status"), "cancelled") == 0);
    CHECK_EQ(test_instant(text_of(r, "start")), test_instant(third));
    json_decref(r);
    api_stop(&c.s);
}

/* A tool that ran and failed is a result with isError; a tool that does not exist is the
 * protocol's error, -32602, which the SDK raises as an McpError. */
TEST(mcp_sdk_tool_failures)
{
    clinic_t c;
    clinic_start(&c);
    json_t *seen = sdk_session(&c.s, c.agent,
                               json_pack("[{s:s, s:{s:s, s:s}}, {s:s, s:{}}]", "name", "find_slots",
                                         "arguments", "service", c.service, "date", "next blursday",
                                         "name", "book_a_table", "arguments"));
    const json_t *bad = tool_result(seen, 0, "find_slots", true);
    CHECK(strcmp(tool_error_code(bad), "invalid_argument") == 0);
    CHECK(strcmp(text_of(json_object_get(bad, "error"), "field"), "date") == 0);
    const json_t *unknown = json_array_get(json_object_get(seen, "calls"), 1);
    const json_t *error = json_object_get(unknown, "error");
    if (strcmp(text_of(error, "kind"), "McpError") != 0 ||
        json_integer_value(json_object_get(error, "code")) != -32602) {
        print_json("the unknown tool's call", unknown);
        exit(1);
    }
    CHECK(json_object_get(seen, "ping") != NULL); /* the session went on after both */
    json_decref(seen);
    api_stop(&c.s);
}

/* A second organization's agent key sees its own services only (its accented name found in
 * capitals without accents), and cannot find or cancel the first one's booking. */
TEST(mcp_sdk_tenants_apart)
{
    clinic_t c;
    clinic_start(&c);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"service_id\":\"%s\",\"start\":\"" FRIDAY_9 "\",\"customer\":{\"name\":\"Jan "
             "Nowak\",\"phone\":\"" CALLER_PHONE "\"}}",
             c.service);
    json_t *r = api_expect(&c.s, 201, "POST", "/v1/bookings", c.s.admin_key, body);
    char booking[40];
    snprintf(booking, sizeof(booking), "%s", api_id(r));
    json_decref(r);

    char other_admin[128], other_org[40], other_agent[128], other_staff[40], other_service[40];
    api_create_org(&c.s, "Other Clinic", other_admin, other_org);
    api_create_key(&c.s, other_org, "agent", other_agent);
    r = api_expect(&c.s, 201, "POST", "/v1/resources", other_admin,
                   "{\"kind\":\"staff\",\"name\":\"Ewa\",\"working_hours\":" MONDAY_TO_FRIDAY "}");
    snprintf(other_staff, sizeof(other_staff), "%s", api_id(r));
    json_decref(r);
    snprintf(body, sizeof(body),
             "{\"name\":\"Ortodoncja Żółć\",\"duration_minutes\":30,\"requirements\":[{"
             "\"resource_ids\":[\"%s\"],\"mode\":\"any\"}]}",
             other_staff);
    r = api_expect(&c.s, 201, "POST", "/v1/services", other_admin, body);
    snprintf(other_service, sizeof(other_service), "%s", api_id(r));
    json_decref(r);

    json_t *seen = sdk_session(
        &c.s, other_agent,
        json_pack("[{s:s}, {s:s, s:{s:s, s:i}}, {s:s, s:{s:s}}, {s:s, s:{s:s}}, {s:s, s:{s:s}},"
                  " {s:s, s:{s:s}}]",
                  "name", "list_services", "name", "find_slots", "arguments", "service",
                  "ORTODONCJA ZOLC", "limit", 1, "name", "find_slots", "arguments", "service",
                  c.service, "name", "find_slots", "arguments", "service", "Check-up", "name",
                  "find_bookings", "arguments", "customer_phone", CALLER_PHONE, "name",
                  "cancel_booking", "arguments", "booking_id", booking));
    const json_t *services =
        json_object_get(tool_result(seen, 0, "list_services", false), "services");
    CHECK_EQ(json_array_size(services), 1);
    CHECK(strcmp(text_of(json_array_get(services, 0), "id"), other_service) == 0);
    const json_t *slots = tool_result(seen, 1, "find_slots", false);
    CHECK(strcmp(text_of(slots, "service_id"), other_service) == 0);
    CHECK_EQ(json_array_size(json_object_get(slots, "slots")), 1);
    CHECK(strcmp(tool_error_code(tool_result(seen, 2, "find_slots", true)), "not_found") == 0);
    CHECK(strcmp(tool_error_code(tool_result(seen, 3, "find_slots", true)), "not_found") == 0);
    CHECK_EQ(
        json_array_size(json_object_get(tool_result(seen, 4, "find_bookings", false), "bookings")),
        0);
    CHECK(strcmp(tool_error_code(tool_result(seen, 5, "cancel_booking", true)), "not_found") == 0);
    json_decref(seen);

    char path[128];
    snprintf(path, sizeof(path), "/v1/bookings/%s", booking);
    r = api_expect(&c.s, 200, "GET", path, c.s.admin_key, NULL);
    CHECK(strcmp(text_of(r, "status"), "confirmed") == 0);
    json_decref(r);
    api_stop(&c.s);
}

/* ---- the protocol, raw ----------------------------------------------------------------------- */

static const char *const version_2025_03_26[] = {"MCP-Protocol-Version: 2025-03-26", NULL};
static const char *const version_2025_06_18[] = {"MCP-Protocol-Version: 2025-06-18", NULL};

/* POST /mcp of `body` with `key` and `headers`: must answer `status` with a JSON-RPC error of
 * `code` (and, when `id` is not NULL, that id as JSON text; else a null id). */
static void expect_rpc_error(clinic_t *c, const char *key, const char *const *headers,
                             const char *body, int status, int code, const char *id)
{
    json_t *r = NULL;
    int got = api_call_headers(&c->s, "POST", "/mcp", key, headers, body, &r);
    const json_t *error = json_object_get(r, "error");
    json_t *want_id = json_loads(id ? id : "null", JSON_DECODE_ANY, NULL);
    if (got != status || strcmp(text_of(r, "jsonrpc"), "2.0") != 0 ||
        json_integer_value(json_object_get(error, "code")) != code ||
        !json_is_string(json_object_get(error, "message")) ||
        !json_equal(json_object_get(r, "id"), want_id)) {
        fprintf(stderr, "POST /mcp %s: expected %d with error %d (id %s), got %d\n", body, status,
                code, id ? id : "null", got);
        print_json("answer", r);
        exit(1);
    }
    json_decref(want_id);
    json_decref(r);
}

/* POST /mcp of `body` (agent key, `headers`): must be 202 with no body. */
static void expect_accepted(clinic_t *c, const char *const *headers, const char *body)
{
    json_t *r = NULL;
    int got = api_call_headers(&c->s, "POST", "/mcp", c->agent, headers, body, &r);
    if (got != 202 || r != NULL) {
        fprintf(stderr, "POST /mcp %s: expected 202 with no body, got %d\n", body, got);
        print_json("answer", r);
        exit(1);
    }
}

/* POST /mcp of `body` (agent key, `headers`): must be 200; the answer (caller decrefs). */
static json_t *expect_answer(clinic_t *c, const char *const *headers, const char *body)
{
    json_t *r = NULL;
    int got = api_call_headers(&c->s, "POST", "/mcp", c->agent, headers, body, &r);
    if (got != 200 || r == NULL) {
        fprintf(stderr, "POST /mcp %s: expected 200, got %d\n", body, got);
        print_json("answer", r);
        exit(1);
    }
    return r;
}

TEST(mcp_rejects_invalid_messages)
{
    clinic_t c;
    clinic_start(&c);
    /* no "jsonrpc": not a JSON-RPC 2.0 message, so its id cannot be trusted either */
    expect_rpc_error(&c, c.agent, NULL, "{\"id\":1,\"method\":\"ping\"}", 200, -32600, NULL);
    expect_rpc_error(&c, c.agent, NULL, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", 200,
                     -32600, NULL);
    /* a request's id is a string or a whole number */
    expect_rpc_error(&c, c.agent, NULL,
                     "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}", 200, -32600,
                     NULL);
    expect_rpc_error(&c, c.agent, NULL, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
                     200, -32600, NULL);
    expect_rpc_error(&c, c.agent, NULL, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
                     200, -32600, NULL);
    /* a method is a string */
    expect_rpc_error(&c, c.agent, NULL, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":5}", 200, -32600,
                     "3");
    expect_rpc_error(&c, c.agent, NULL, "{\"jsonrpc\":", 400, -32700, NULL);
    expect_rpc_error(&c, c.agent, NULL,
                     "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/list\"}", 200, -32601,
                     "7");
    expect_rpc_error(&c, c.agent, NULL,
                     "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"ping\",\"params\":[]}", 200,
                     -32602, "\"s\"");
    api_stop(&c.s);
}

/* Valid JSON that is no message at all (a number, a string) is an invalid request, -32600:
 * JSON-RPC 2.0 keeps the parse error, -32700, for text that is not JSON. */
TEST(mcp_json_scalar_is_invalid_request)
{
    clinic_t c;
    clinic_start(&c);
    expect_rpc_error(&c, c.agent, NULL, "5", 400, -32600, NULL);
    expect_rpc_error(&c, c.agent, NULL, "\"ping\"", 400, -32600, NULL);
    api_stop(&c.s);
}

TEST(mcp_notifications_and_responses_are_accepted)
{
    clinic_t c;
    clinic_start(&c);
    expect_accepted(&c, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    expect_accepted(&c, version_2025_06_18,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
                    "\"requestId\":1}}");
    /* a client's response (to a request the server never sent: nothing to do) */
    expect_accepted(&c, version_2025_06_18, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}");
    expect_accepted(
        &c, NULL, "{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":-32601,\"message\":\"no\"}}");
    api_stop(&c.s);
}

/* Batches were part of 2025-03-26 (also assumed when the header is missing) and left
 * 2025-06-18. */
TEST(mcp_batches_by_protocol_version)
{
    clinic_t c;
    clinic_start(&c);
    static const char batch[] =
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"method\":\"tools/list\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"list_services\",\"arguments\":{}}}]";
    json_t *r = expect_answer(&c, version_2025_03_26, batch);
    CHECK(json_is_array(r));
    CHECK_EQ(json_array_size(r), 3); /* the notification has none */
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(r, 0), "id")), 1);
    CHECK(json_is_object(json_object_get(json_array_get(r, 0), "result")));
    CHECK(strcmp(text_of(json_array_get(r, 1), "id"), "two") == 0);
    CHECK_EQ(
        json_array_size(json_object_get(json_object_get(json_array_get(r, 1), "result"), "tools")),
        7);
    const json_t *called = json_object_get(json_array_get(r, 2), "result");
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(r, 2), "id")), 3);
    CHECK(json_is_false(json_object_get(called, "isError")));
    CHECK_EQ(
        json_array_size(json_object_get(json_object_get(called, "structuredContent"), "services")),
        1);
    json_decref(r);

    r = expect_answer(&c, NULL, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    CHECK(json_is_array(r) && json_array_size(r) == 1);
    json_decref(r);

    expect_rpc_error(&c, c.agent, version_2025_06_18, batch, 400, -32600, NULL);
    expect_rpc_error(&c, c.agent, version_2025_03_26, "[]", 400, -32600, NULL);
    api_stop(&c.s);
}

TEST(mcp_transport_refusals)
{
    clinic_t c;
    clinic_start(&c);
    static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    static const char *const unsupported[] = {"MCP-Protocol-Version: 1999-01-01", NULL};
    expect_rpc_error(&c, c.agent, unsupported, ping, 400, -32600, NULL);
    static const char *const evil[] = {"Origin: http://evil.example", NULL};
    expect_rpc_error(&c, c.agent, evil, ping, 403, -32600, NULL);

    json_t *r = NULL;
    CHECK_EQ(api_call(&c.s, "GET", "/mcp", c.agent, NULL, &r), 405); /* no SSE stream */
    CHECK(strcmp(api_error_code(r), "method_not_allowed") == 0);
    json_decref(r);
    CHECK_EQ(api_call(&c.s, "POST", "/mcp", NULL, ping, &r), 401);
    CHECK(strcmp(api_error_code(r), "unauthorized") == 0);
    json_decref(r);

    r = expect_answer(&c, version_2025_06_18, ping); /* the same ping, allowed */
    CHECK(json_is_object(json_object_get(r, "result")));
    json_decref(r);
    api_stop(&c.s);
}

/* The Origin a browser sends for a page of this very server (scheme and the Host it called)
 * is not a rebinding: it is allowed, as the transport's comment promises. */
TEST(mcp_same_origin_is_allowed)
{
    clinic_t c;
    clinic_start(&c);
    char origin[128];
    snprintf(origin, sizeof(origin), "Origin: %s", c.s.base);
    const char *const headers[] = {origin, NULL};
    json_t *r = expect_answer(&c, headers, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    CHECK(json_is_object(json_object_get(r, "result")));
    json_decref(r);
    api_stop(&c.s);
}

/* initialize answers the version asked when slotd speaks it, else its latest. */
TEST(mcp_initialize_negotiates_the_version)
{
    clinic_t c;
    clinic_start(&c);
    static const char *const asked[][2] = {{"2099-01-01", "2025-06-18"},
                                           {"2024-11-05", "2025-06-18"},
                                           {"2025-06-18", "2025-06-18"},
                                           {"2025-03-26", "2025-03-26"}};
    for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"initialize\",\"params\":{"
                 "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":"
                 "\"raw\",\"version\":\"1\"}}}",
                 i, asked[i][0]);
        json_t *r = expect_answer(&c, NULL, body);
        const json_t *result = json_object_get(r, "result");
        CHECK_EQ(json_integer_value(json_object_get(r, "id")), (int64_t)i);
        if (strcmp(text_of(result, "protocolVersion"), asked[i][1]) != 0) {
            fprintf(stderr, "initialize asking %s: expected %s\n", asked[i][0], asked[i][1]);
            print_json("answer", r);
            exit(1);
        }
        CHECK(json_is_object(json_object_get(json_object_get(result, "capabilities"), "tools")));
        CHECK(strcmp(text_of(json_object_get(result, "serverInfo"), "name"), "slotd") == 0);
        json_decref(r);
    }
    api_stop(&c.s);
}
