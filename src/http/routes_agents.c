/*
 * The voice agents' transports over the one tool table (tools.h):
 *
 *   POST /mcp                              Model Context Protocol, Streamable HTTP,
 *                                          stateless, JSON answers (GET: 405)
 *   POST /v1/integrations/vapi             Vapi's server URL: tool-calls messages
 *   POST /v1/integrations/retell/{tool}    a Retell custom function
 *   GET  /v1/integrations/vapi/tools       the definitions to paste into Vapi
 *   GET  /v1/integrations/retell/tools     ... and into Retell
 *
 * Each takes the tool's name and arguments out of its envelope, runs the tool
 * (one call after another when a message carries several), and puts each
 * result back into its own envelope: MCP as content and structuredContent
 * (isError for a tool's failure, a JSON-RPC error for the protocol's), Vapi as
 * one-line JSON strings under results[], Retell as the result object itself.
 * An answer that follows a write waits until this instance's index shows it,
 * as the REST routes' do.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/retell.h"
#include "domain/organization.h"
#include "http/fields.h"
#include "http/routes.h"
#include "http/tools.h"
#include "slotd/alloc.h"
#include "store/keys.h"

#ifndef SLOTD_VERSION
#define SLOTD_VERSION "unknown"
#endif

#define MCP_LATEST "2025-06-18"
#define MCP_LEGACY "2025-03-26"
#define MCP_MAX_BATCH 32
#define VAPI_MAX_CALLS 16
#define RETRY_KEY_MAX 200

/* JSON-RPC error codes */
#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL_ERROR -32603

typedef enum { TRANSPORT_MCP, TRANSPORT_VAPI, TRANSPORT_RETELL } transport_t;

/* What a request keeps while its tools run. */
typedef struct {
    http_ctx_t *ctx;
    transport_t transport;
    http_tool_call_t call;
    json_t *messages; /* MCP: the messages (an array, even for one); Vapi: the tool calls */
    size_t next;
    bool batch;
    http_buffer_t
        answers; /* MCP: the responses, Vapi: the results, as JSON text joined by commas */
    size_t answer_count;
    json_t *current; /* the message or tool call being run (borrowed from messages) */
    json_t *arguments;
    bool running; /* a tool call is on its way */
    char version[16];
    char caller[64];
    char retry_key[RETRY_KEY_MAX + 16];
    eng_id_t *resources; /* what the calls wrote: the answer waits until the index shows it */
    size_t resource_count, resource_capacity;
    store_change_t *changes; /* per resource, the change it waits for (xid 0: a reload) */
    size_t change_capacity;
} agent_state_t;

static void state_free(void *p)
{
    agent_state_t *state = p;
    json_decref(state->messages);
    http_buffer_give(state->ctx, &state->answers);
    free(state->resources);
    free(state->changes);
    free(state->call.resources);
    free(state->call.changes);
    json_decref(state->arguments);
    free(state);
}

static void on_agent_timeout(http_ctx_t *ctx, bool outcome_unknown);

static agent_state_t *state_new(http_ctx_t *ctx, transport_t transport)
{
    agent_state_t *state = slotd_calloc(1, sizeof(*state));
    state->ctx = ctx;
    state->answers = http_buffer_take(ctx);
    state->transport = transport;
    state->call.arg = state;
    state->call.transport = transport == TRANSPORT_MCP    ? "mcp"
                            : transport == TRANSPORT_VAPI ? "vapi"
                                                          : "retell";
    ctx->state = state;
    ctx->free_state = state_free;
    ctx->on_timeout = on_agent_timeout;
    return state;
}

/* Keeps the resources a call wrote, for the answer to wait on. */
static void keep_resources(agent_state_t *state)
{
    size_t count = state->call.resource_count;
    if (count == 0)
        return;
    state->resources = slotd_grow(state->resources, &state->resource_capacity,
                                  state->resource_count + count, sizeof(eng_id_t));
    state->changes = slotd_grow(state->changes, &state->change_capacity,
                                state->resource_count + count, sizeof(store_change_t));
    memcpy(state->resources + state->resource_count, state->call.resources,
           count * sizeof(eng_id_t));
    memcpy(state->changes + state->resource_count, state->call.changes,
           count * sizeof(store_change_t));
    state->resource_count += count;
}

/* Answers the JSON text in `b` once the index shows what the request's tools wrote. */
static void respond_after_writes(agent_state_t *state, http_buffer_t *b)
{
    HTTP_APPEND_LITERAL(b, "");
    b->data[b->size] = 0; /* the append left room for it */
    if (state->resource_count)
        http_respond_raw_after_changes(state->ctx, 200, b->data, state->resources, state->changes,
                                       state->resource_count);
    else
        http_respond_raw(state->ctx, 200, b->data, b->size);
    /* the answer is copied out: the next request may write in its buffer */
    http_buffer_give(state->ctx, &state->answers);
}

/* Starts one more answer: a comma after the ones before. */
static http_buffer_t *next_answer(agent_state_t *state)
{
    if (state->answer_count++)
        HTTP_APPEND_LITERAL(&state->answers, ",");
    return &state->answers;
}

/* Appends a JSON value (stolen) as one more answer. */
static void append_answer(agent_state_t *state, json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(value);
    if (text == NULL)
        return;
    http_buffer_append(next_answer(state), text, strlen(text));
    free(text);
}

/* A text of an object, or NULL. */
static const char *text_of(const json_t *object, const char *name)
{
    return json_string_value(json_object_get(object, name));
}

/* "sha256:<hex>" of `text`, the form a retry key takes when its source is long or odd. */
static void hashed_key(const char *prefix, const char *text, size_t length, char *out, size_t size)
{
    uint8_t hash[32];
    char hex[65];
    store_key_hash(text, length, hash);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", hash[i]);
    snprintf(out, size, "%s#%s", prefix, hex);
}

/* A name the client sent, as an answer repeats it: whole, or not at all when it is long (a
 * cut could split a character). */
static const char *shown(const char *name)
{
    return name == NULL ? "(no name)" : strlen(name) <= 64 ? name : "(a long name)";
}

/* ---- MCP ------------------------------------------------------------------------------------ */

static json_t *rpc_error(const json_t *id, int code, const char *message)
{
    return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                     "error", "code", code, "message", message);
}

static json_t *rpc_result(const json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

/* An id as JSON-RPC allows it: a string or a whole number. */
static bool valid_id(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
}

static void mcp_next(agent_state_t *state);

/* A tool's result as a tools/call result: its text in a text content item (escaped) and as
 * structuredContent (as it is), written without parsing it again. */
static void mcp_tool_answer(agent_state_t *state, const char *result, size_t length, bool is_error)
{
    char *id = json_dumps(json_object_get(state->current, "id"), JSON_COMPACT | JSON_ENCODE_ANY);
    http_buffer_t *out = next_answer(state);
    /* the result twice (the text escaped: a tenth more, most often) and the envelope */
    http_buffer_reserve(out, 2 * length + length / 4 + 160 + strlen(id));
    HTTP_APPEND_LITERAL(out, "{\"jsonrpc\":\"2.0\",\"id\":");
    http_buffer_append(out, id, strlen(id));
    HTTP_APPEND_LITERAL(out, ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":");
    http_buffer_append_json_string(out, result, length);
    HTTP_APPEND_LITERAL(out, "}],\"structuredContent\":");
    http_buffer_append(out, result, length);
    if (is_error)
        HTTP_APPEND_LITERAL(out, ",\"isError\":true}}");
    else
        HTTP_APPEND_LITERAL(out, ",\"isError\":false}}");
    free(id);
}

static void on_mcp_tool(http_tool_call_t *call, const char *result, size_t length, bool is_error)
{
    agent_state_t *state = call->arg;
    state->running = false;
    keep_resources(state);
    mcp_tool_answer(state, result, length, is_error);
    mcp_next(state);
}

static json_t *initialize_result(const json_t *params)
{
    const char *asked = text_of(params, "protocolVersion");
    const char *version =
        asked && (strcmp(asked, MCP_LATEST) == 0 || strcmp(asked, MCP_LEGACY) == 0) ? asked
                                                                                    : MCP_LATEST;
    return json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s}, s:s}", "protocolVersion", version,
                     "capabilities", "tools", "listChanged", false, "serverInfo", "name", "slotd",
                     "version", SLOTD_VERSION, "instructions",
                     "Scheduling tools of one organization: list_services, find_slots to offer "
                     "free times, hold_slot and book_appointment to book, find_bookings, "
                     "cancel_booking and reschedule_booking for the caller's appointments. "
                     "Each result has a speech sentence to read out as is.");
}

/* Handles one message; false when it started a tool (mcp_next goes on from its end). */
static bool mcp_message(agent_state_t *state, json_t *message)
{
    const json_t *id = json_object_get(message, "id");
    const char *method = text_of(message, "method");
    bool request = id != NULL;
    if (!json_is_object(message) || !json_is_string(json_object_get(message, "jsonrpc")) ||
        strcmp(text_of(message, "jsonrpc"), "2.0") != 0) {
        append_answer(state, rpc_error(NULL, RPC_INVALID_REQUEST,
                                       "A JSON-RPC 2.0 message has \"jsonrpc\": \"2.0\"."));
        return true;
    }
    if (method == NULL) {
        if (json_object_get(message, "result") || json_object_get(message, "error"))
            return true; /* a response from the client: nothing asked it */
        append_answer(state, rpc_error(valid_id(id) ? id : NULL, RPC_INVALID_REQUEST,
                                       "A request has a method (a string)."));
        return true;
    }
    if (request && !valid_id(id)) {
        append_answer(state, rpc_error(NULL, RPC_INVALID_REQUEST,
                                       "A request's id is a string or a whole number."));
        return true;
    }
    json_t *params = json_object_get(message, "params");
    if (params && !json_is_object(params)) {
        if (request)
            append_answer(state, rpc_error(id, RPC_INVALID_PARAMS, "params must be an object."));
        return true;
    }
    if (!request)
        return true; /* notifications (notifications/initialized, cancelled, ...): noted */
    if (strcmp(method, "initialize") == 0) {
        append_answer(state, rpc_result(id, initialize_result(params)));
    } else if (strcmp(method, "ping") == 0) {
        append_answer(state, rpc_result(id, json_object()));
    } else if (strcmp(method, "tools/list") == 0) {
        append_answer(state, rpc_result(id, json_pack("{s:o}", "tools", http_tools_json())));
    } else if (strcmp(method, "tools/call") == 0) {
        const char *name = text_of(params, "name");
        const http_tool_info_t *tool = http_tool_find(name);
        json_t *arguments = json_object_get(params, "arguments");
        char message_text[160];
        if (tool == NULL) {
            snprintf(message_text, sizeof(message_text), "Unknown tool: %s", shown(name));
            append_answer(state, rpc_error(id, RPC_INVALID_PARAMS, message_text));
        } else if (arguments && !json_is_null(arguments) && !json_is_object(arguments)) {
            append_answer(state, rpc_error(id, RPC_INVALID_PARAMS, "arguments must be an object."));
        } else {
            json_decref(state->arguments);
            state->arguments =
                arguments && json_is_object(arguments) ? json_incref(arguments) : json_object();
            state->current = message;
            state->call.tool = tool;
            state->call.arguments = state->arguments;
            state->call.caller_phone = NULL;
            state->call.retry_key = NULL;
            state->call.done = on_mcp_tool;
            state->running = true;
            http_tool_call(state->ctx, &state->call);
            return false;
        }
    } else {
        char message_text[160];
        snprintf(message_text, sizeof(message_text), "Method not found: %s", shown(method));
        append_answer(state, rpc_error(id, RPC_METHOD_NOT_FOUND, message_text));
    }
    return true;
}

static void mcp_next(agent_state_t *state)
{
    while (state->next < json_array_size(state->messages)) {
        json_t *message = json_array_get(state->messages, state->next++);
        if (!mcp_message(state, message))
            return;
    }
    if (state->answer_count == 0) {
        http_respond_status(state->ctx, 202);
        return;
    }
    if (!state->batch) {
        respond_after_writes(state, &state->answers);
        return;
    }
    http_buffer_t batch = {0};
    HTTP_APPEND_LITERAL(&batch, "[");
    http_buffer_append(&batch, state->answers.data, state->answers.size);
    HTTP_APPEND_LITERAL(&batch, "]");
    respond_after_writes(state, &batch);
    free(batch.data);
}

/* A host (and port) that names this machine's loopback: what a DNS-rebinding page cannot be. */
static bool loopback_host(const char *host, size_t length)
{
    static const char *const names[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);
        if (length >= n && strncmp(host, names[i], n) == 0 && (length == n || host[n] == ':'))
            return true;
    }
    return false;
}

/* The Origin header, when present, must be the public_url setting's origin, or a loopback
 * origin of this very address (DNS rebinding: a page served under another name that resolves
 * here names itself, not loopback). */
static bool origin_allowed(http_ctx_t *ctx)
{
    size_t length, host_length = 0;
    const char *origin = http_request_header(ctx, "origin", &length);
    if (origin == NULL)
        return true;
    char public_url[512];
    http_public_url(ctx, public_url, sizeof(public_url));
    if (public_url[0] && strlen(public_url) == length && strncmp(public_url, origin, length) == 0)
        return true;
    const char *host = http_request_host(ctx, &host_length);
    const char *p = memchr(origin, ':', length);
    if (host == NULL || p == NULL || (size_t)(origin + length - p) < 3 || p[1] != '/' ||
        p[2] != '/')
        return false;
    p += 3;
    size_t rest = (size_t)(origin + length - p);
    return rest == host_length && strncmp(p, host, host_length) == 0 &&
           loopback_host(host, host_length);
}

void http_mcp_post(http_ctx_t *ctx)
{
    size_t length;
    const char *raw = http_request_body(ctx, &length);
    if (!origin_allowed(ctx)) {
        http_respond(ctx, 403, rpc_error(NULL, RPC_INVALID_REQUEST, "This Origin may not call."));
        return;
    }
    agent_state_t *state = state_new(ctx, TRANSPORT_MCP);
    size_t version_length;
    const char *version = http_request_header(ctx, "mcp-protocol-version", &version_length);
    snprintf(state->version, sizeof(state->version), "%s", MCP_LEGACY);
    if (version) {
        if (!(version_length == strlen(MCP_LATEST) &&
              strncmp(version, MCP_LATEST, version_length) == 0) &&
            !(version_length == strlen(MCP_LEGACY) &&
              strncmp(version, MCP_LEGACY, version_length) == 0)) {
            http_respond(ctx, 400,
                         rpc_error(NULL, RPC_INVALID_REQUEST,
                                   "Unsupported MCP-Protocol-Version: 2025-06-18 and 2025-03-26 "
                                   "are supported."));
            return;
        }
        snprintf(state->version, sizeof(state->version), "%.*s", (int)version_length, version);
    }
    json_error_t error;
    json_t *body = raw && length ? codec_json_load(raw, length, JSON_DECODE_ANY, &error) : NULL;
    if (body == NULL) {
        http_respond(ctx, 400, rpc_error(NULL, RPC_PARSE_ERROR, "The body is not JSON."));
        return;
    }
    if (!json_is_object(body) && !json_is_array(body)) { /* JSON, but no message */
        json_decref(body);
        http_respond(ctx, 400,
                     rpc_error(NULL, RPC_INVALID_REQUEST,
                               "A JSON-RPC message is an object (a batch, an array of them)."));
        return;
    }
    if (json_is_array(body)) {
        if (strcmp(state->version, MCP_LATEST) == 0 || json_array_size(body) == 0 ||
            json_array_size(body) > MCP_MAX_BATCH) {
            json_decref(body);
            http_respond(ctx, 400,
                         rpc_error(NULL, RPC_INVALID_REQUEST,
                                   strcmp(state->version, MCP_LATEST) == 0
                                       ? "Batches are not part of protocol version 2025-06-18."
                                       : "A batch holds 1 to 32 messages."));
            return;
        }
        state->messages = body;
        state->batch = true;
    } else {
        state->messages = json_pack("[o]", body);
    }
    mcp_next(state);
}

/* ---- Vapi ----------------------------------------------------------------------------------- */

static void vapi_next(agent_state_t *state);

/* One result: the tool's JSON text as a one-line string, under "result", or "error" for a
 * failed tool. */
static void vapi_result(agent_state_t *state, const char *id, const char *name, const char *text,
                        size_t length, bool is_error)
{
    http_buffer_t *out = next_answer(state);
    HTTP_APPEND_LITERAL(out, "{\"toolCallId\":");
    http_buffer_append_json_string(out, id ? id : "", id ? strlen(id) : 0);
    if (name) {
        HTTP_APPEND_LITERAL(out, ",\"name\":");
        http_buffer_append_json_string(out, name, strlen(name));
    }
    if (is_error)
        HTTP_APPEND_LITERAL(out, ",\"error\":");
    else
        HTTP_APPEND_LITERAL(out, ",\"result\":");
    http_buffer_append_json_string(out, text, length);
    HTTP_APPEND_LITERAL(out, "}");
}

/* A failure of the call itself (not of a tool), as an error result. */
static void vapi_failure(agent_state_t *state, const char *id, const char *name, const char *code,
                         const char *message)
{
    json_t *error = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    char *text = json_dumps(error, JSON_COMPACT);
    json_decref(error);
    vapi_result(state, id, name, text, strlen(text), true);
    free(text);
}

static void on_vapi_tool(http_tool_call_t *call, const char *result, size_t length, bool is_error)
{
    agent_state_t *state = call->arg;
    state->running = false;
    keep_resources(state);
    vapi_result(state, text_of(state->current, "id"), call->tool->name, result, length, is_error);
    vapi_next(state);
}

/* A tool call of the list, in any of the three shapes Vapi sends: {id, function: {name,
 * arguments}} (arguments an object or a JSON string), or flat {id, name, parameters}. */
static void vapi_call(agent_state_t *state, json_t *item)
{
    if (!json_is_object(item)) {
        vapi_failure(state, NULL, NULL, "invalid_argument", "A tool call is an object.");
        vapi_next(state);
        return;
    }
    const char *id = text_of(item, "id");
    json_t *function = json_object_get(item, "function");
    const char *name = function ? text_of(function, "name") : text_of(item, "name");
    json_t *arguments =
        function ? json_object_get(function, "arguments") : json_object_get(item, "parameters");
    if (arguments == NULL && function == NULL)
        arguments = json_object_get(item, "arguments");
    const http_tool_info_t *tool = http_tool_find(name);
    char message[160];
    if (tool == NULL) {
        snprintf(message, sizeof(message), "Unknown tool: %s", shown(name));
        vapi_failure(state, id, name, "unknown_tool", message);
        vapi_next(state);
        return;
    }
    json_decref(state->arguments);
    state->arguments = NULL;
    if (json_is_string(arguments))
        state->arguments =
            codec_json_load(json_string_value(arguments), json_string_length(arguments), 0, NULL);
    else if (arguments == NULL || json_is_null(arguments))
        state->arguments = json_object();
    else
        state->arguments = json_incref(arguments);
    if (!json_is_object(state->arguments)) {
        vapi_failure(state, id, name, "invalid_argument",
                     "The tool call's arguments are not a JSON object.");
        vapi_next(state);
        return;
    }
    state->call.retry_key = NULL;
    if (id && *id) {
        bool plain = strlen(id) <= RETRY_KEY_MAX;
        for (const char *p = id; *p && plain; p++)
            plain = *p > 0x20 && *p < 0x7f;
        if (plain)
            snprintf(state->retry_key, sizeof(state->retry_key), "vapi:%s", id);
        else
            hashed_key("vapi", id, strlen(id), state->retry_key, sizeof(state->retry_key));
        state->call.retry_key = state->retry_key;
    }
    state->call.tool = tool;
    state->call.arguments = state->arguments;
    state->call.caller_phone = state->caller[0] ? state->caller : NULL;
    state->call.done = on_vapi_tool;
    state->running = true;
    http_tool_call(state->ctx, &state->call);
}

static void vapi_next(agent_state_t *state)
{
    if (state->next < json_array_size(state->messages)) {
        state->current = json_array_get(state->messages, state->next++);
        vapi_call(state, state->current);
        return;
    }
    http_buffer_t body = {0};
    HTTP_APPEND_LITERAL(&body, "{\"results\":[");
    http_buffer_append(&body, state->answers.data, state->answers.size);
    HTTP_APPEND_LITERAL(&body, "]}");
    respond_after_writes(state, &body);
    free(body.data);
}

void http_vapi_post(http_ctx_t *ctx)
{
    json_t *message = json_object_get(ctx->body, "message");
    if (!json_is_object(message) || !json_is_string(json_object_get(message, "type"))) {
        http_respond_invalid(ctx, "message",
                             "A Vapi server message is {\"message\": {\"type\": ...}}.");
        return;
    }
    if (strcmp(text_of(message, "type"), "tool-calls") != 0) {
        http_respond(ctx, 200, json_object()); /* status updates, reports: nothing to do */
        return;
    }
    agent_state_t *state = state_new(ctx, TRANSPORT_VAPI);
    json_t *list = json_object_get(message, "toolCallList");
    json_t *calls = json_array();
    size_t i;
    json_t *item;
    if (json_is_array(list)) {
        json_array_foreach(list, i, item) json_array_append(calls, item);
    } else {
        json_array_foreach(json_object_get(message, "toolWithToolCallList"), i, item)
        {
            json_t *call = json_object_get(item, "toolCall");
            if (json_is_object(call))
                json_array_append(calls, call);
        }
    }
    if (json_array_size(calls) > VAPI_MAX_CALLS) {
        /* Vapi reads only 200 answers: each call is told why, none runs */
        json_array_foreach(calls, i, item)
        {
            const json_t *function = json_object_get(item, "function");
            vapi_failure(state, text_of(item, "id"),
                         function ? text_of(function, "name") : text_of(item, "name"),
                         "invalid_argument",
                         "A tool-calls message carries at most 16 tool calls; none was run.");
        }
        json_array_clear(calls);
    }
    const char *caller = text_of(json_object_get(message, "customer"), "number");
    if (caller == NULL)
        caller = text_of(json_object_get(json_object_get(message, "call"), "customer"), "number");
    if (caller && strlen(caller) < sizeof(state->caller))
        snprintf(state->caller, sizeof(state->caller), "%s", caller);
    state->messages = calls;
    vapi_next(state);
}

/* ---- Retell --------------------------------------------------------------------------------- */

static void on_retell_tool(http_tool_call_t *call, const char *result, size_t length, bool is_error)
{
    agent_state_t *state = call->arg;
    (void)is_error; /* a failed tool's result goes to the model as it is, with 200 */
    keep_resources(state);
    http_buffer_append(&state->answers, result, length);
    respond_after_writes(state, &state->answers);
}

/* Runs the path's tool with the body's arguments: Retell's {name, call, args}, or the
 * arguments alone (a function with "args at root"). */
static void retell_run(http_ctx_t *ctx)
{
    agent_state_t *state = ctx->state;
    json_t *body = state->messages;
    json_t *args = json_object_get(body, "args"), *call = json_object_get(body, "call");
    /* Retell's envelope: its call object and the function's name, the arguments under args
     * (none for a function without parameters); else the body is the arguments */
    bool envelope = (json_is_object(call) && json_is_string(json_object_get(body, "name"))) ||
                    (json_is_object(args) &&
                     (json_is_object(call) || json_is_string(json_object_get(body, "name"))));
    if (envelope && !json_is_object(args) && args != NULL && !json_is_null(args)) {
        http_respond_invalid(ctx, "args", "args must be an object.");
        return;
    }
    const char *name = text_of(body, "name");
    if (envelope && name && strcmp(name, state->call.tool->name) != 0) {
        /* the signature covers the body, not the path: a body of one function is not another's */
        http_respond_invalid(ctx, "name", "name must be the function of the URL's path.");
        return;
    }
    state->arguments =
        envelope ? (json_is_object(args) ? json_incref(args) : json_object()) : json_incref(body);
    if (!envelope)
        call = NULL;
    /* the caller: who called in, or whom an outbound call reached */
    const char *direction = text_of(call, "direction");
    const char *caller = text_of(
        call, direction && strcmp(direction, "outbound") == 0 ? "to_number" : "from_number");
    if (caller && strlen(caller) < sizeof(state->caller))
        snprintf(state->caller, sizeof(state->caller), "%s", caller);
    const char *call_id = text_of(call, "call_id");
    if (call_id && *call_id) {
        /* one booking per (call, function, arguments): Retell retries a failed call */
        char *arguments = json_dumps(state->arguments, JSON_COMPACT | JSON_SORT_KEYS);
        size_t size = strlen(call_id) + strlen(state->call.tool->name) + strlen(arguments) + 3;
        char *text = slotd_calloc(1, size);
        snprintf(text, size, "%s\n%s\n%s", call_id, state->call.tool->name, arguments);
        hashed_key("retell", text, strlen(text), state->retry_key, sizeof(state->retry_key));
        free(text);
        free(arguments);
        state->call.retry_key = state->retry_key;
    }
    state->call.arguments = state->arguments;
    state->call.caller_phone = state->caller[0] ? state->caller : NULL;
    state->call.done = on_retell_tool;
    state->running = true;
    http_tool_call(ctx, &state->call);
}

static void cancel_operation(void *operation)
{
    store_operation_cancel(operation);
}

/* The organization's Retell API key has been read: the signature decides. */
static void on_retell_key(int error, const char *api_key, void *arg)
{
    http_ctx_t *ctx = arg;
    http_wait_end(ctx);
    size_t length = 0, header_length = 0;
    const char *body = http_request_body(ctx, &length);
    const char *header = http_request_header(ctx, "x-retell-signature", &header_length);
    uv_timeval64_t now;
    uv_gettimeofday(&now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_usec / 1000;
    if (error && error != STORE_ENOTFOUND) {
        http_respond_store_error(ctx, error, "organization");
    } else if (api_key == NULL || header == NULL ||
               !retell_signature_valid(api_key, body, length, header, header_length, now_ms)) {
        http_respond_error(ctx, 401, "unauthorized",
                           "X-Retell-Signature does not prove this request for this "
                           "organization's Retell API key.",
                           NULL);
    } else {
        ctx->role = HTTP_ROLE_AGENT;
        ((agent_state_t *)ctx->state)->call.actor_kind = "retell_signature";
        retell_run(ctx);
    }
    http_wait_release(ctx);
}

void http_retell_post(http_ctx_t *ctx)
{
    agent_state_t *state = state_new(ctx, TRANSPORT_RETELL);
    state->call.tool = http_tool_find(ctx->params[0]);
    if (state->call.tool == NULL) {
        http_respond_not_found(ctx, "tool");
        return;
    }
    size_t length;
    const char *raw = http_request_body(ctx, &length);
    state->messages =
        raw && length ? codec_json_load(raw, length, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(state->messages)) {
        http_respond_invalid(ctx, "body", "The request body is not a JSON object.");
        return;
    }
    if (ctx->role != HTTP_ROLE_NONE) {
        retell_run(ctx); /* a bearer key said who calls */
        return;
    }
    char text[40];
    const char *organization = http_query_param(ctx, "organization_id", text, sizeof(text));
    size_t header_length = 0;
    const char *header = http_request_header(ctx, "x-retell-signature", &header_length);
    /* nothing shaped like Retell's header costs no read of the key */
    if (organization == NULL || header == NULL || header_length < 4 ||
        (header[0] != 'v' && header[0] != 'V') || header[1] != '=' ||
        memchr(header, ',', header_length) == NULL) {
        http_respond_error(ctx, 401, "unauthorized",
                           "Send an API key (Authorization: Bearer <key>), or ?organization_id= "
                           "with Retell's X-Retell-Signature.",
                           NULL);
        return;
    }
    codec_parse_uuid(organization, &ctx->organization);
    codec_format_uuid(&ctx->organization, ctx->organization_text);
    domain_error_t error;
    store_operation_t *op = domain_organization_retell_key(
        http_pool(ctx), http_secret_key(ctx), &ctx->organization, on_retell_key, ctx, &error);
    if (op == NULL) {
        if (error.code == DOMAIN_EUNAVAILABLE)
            http_respond_error(ctx, 401, "unauthorized",
                               "Signatures cannot be checked: no Retell API key can be stored "
                               "without the secret_key setting.",
                               NULL);
        else
            http_respond_domain_error(ctx, &error);
        return;
    }
    http_wait(ctx, op, cancel_operation, NULL);
}

/* ---- running out of time ------------------------------------------------------------------- */

/* The request's deadline came while a tool ran: the answer is still the transport's own, with
 * the results so far (a booking made is told of), the running call's as an `unavailable`
 * error result, and the calls not started as errors too. */
static void on_agent_timeout(http_ctx_t *ctx, bool outcome_unknown)
{
    agent_state_t *state = ctx->state;
    json_t *error = json_pack(
        "{s:{s:s, s:s}}", "error", "code", "unavailable", "message",
        outcome_unknown ? "The database's answer was lost: the change may or may not have been "
                          "made. Check (find_bookings) before trying again."
                        : "This did not finish in time; please try again.");
    char *text = json_dumps(error, JSON_COMPACT);
    json_decref(error);
    size_t length = strlen(text);
    http_buffer_t body = {0};
    if (state->transport == TRANSPORT_RETELL) {
        http_respond_raw(ctx, 200, text, length);
        free(text);
        return;
    }
    if (state->transport == TRANSPORT_MCP) {
        if (state->running)
            mcp_tool_answer(state, text, length, true);
        while (state->next < json_array_size(state->messages)) {
            const json_t *id =
                json_object_get(json_array_get(state->messages, state->next++), "id");
            if (id && valid_id(id))
                append_answer(state, rpc_error(id, RPC_INTERNAL_ERROR,
                                               "Not run: the request ran out of time."));
        }
        if (state->batch)
            HTTP_APPEND_LITERAL(&body, "[");
        if (state->answers.size)
            http_buffer_append(&body, state->answers.data, state->answers.size);
        if (state->batch)
            HTTP_APPEND_LITERAL(&body, "]");
    } else {
        if (state->running)
            vapi_result(state, text_of(state->current, "id"), state->call.tool->name, text, length,
                        true);
        while (state->next < json_array_size(state->messages)) {
            const json_t *item = json_array_get(state->messages, state->next++);
            const json_t *function = json_object_get(item, "function");
            vapi_result(state, text_of(item, "id"),
                        function ? text_of(function, "name") : text_of(item, "name"), text, length,
                        true);
        }
        HTTP_APPEND_LITERAL(&body, "{\"results\":[");
        if (state->answers.size)
            http_buffer_append(&body, state->answers.data, state->answers.size);
        HTTP_APPEND_LITERAL(&body, "]}");
    }
    free(text);
    if (body.size == 0)
        http_respond_status(ctx, 202);
    else
        http_respond_raw(ctx, 200, body.data, body.size);
    free(body.data);
}

/* ---- setup helpers -------------------------------------------------------------------------- */

/* Where clients reach this server: the public_url setting, else the request's Host. */
static void base_url(http_ctx_t *ctx, char *out, size_t size)
{
    http_public_url(ctx, out, size);
    if (out[0])
        return;
    size_t length = 0;
    const char *host = http_request_host(ctx, &length);
    snprintf(out, size, "http://%.*s", host ? (int)length : 9, host ? host : "localhost");
}

void http_vapi_tools(http_ctx_t *ctx)
{
    char base[512], url[600];
    base_url(ctx, base, sizeof(base));
    snprintf(url, sizeof(url), "%s/v1/integrations/vapi", base);
    json_t *tools = http_tools_json(), *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t)
    {
        json_array_append_new(
            out, json_pack("{s:s, s:b, s:{s:O, s:O, s:O}, s:{s:s}}", "type", "function", "async",
                           false, "function", "name", json_object_get(t, "name"), "description",
                           json_object_get(t, "description"), "parameters",
                           json_object_get(t, "inputSchema"), "server", "url", url));
    }
    json_decref(tools);
    http_respond(ctx, 200, json_pack("{s:s, s:o}", "server_url", url, "tools", out));
}

void http_retell_tools(http_ctx_t *ctx)
{
    char base[512], url[700];
    base_url(ctx, base, sizeof(base));
    json_t *tools = http_tools_json(), *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t)
    {
        snprintf(url, sizeof(url), "%s/v1/integrations/retell/%s?organization_id=%s", base,
                 text_of(t, "name"), ctx->organization_text);
        json_array_append_new(
            out, json_pack("{s:s, s:O, s:O, s:s, s:s, s:O, s:b, s:b, s:b}", "type", "custom",
                           "name", json_object_get(t, "name"), "description",
                           json_object_get(t, "description"), "url", url, "method", "POST",
                           "parameters", json_object_get(t, "inputSchema"), "args_at_root", false,
                           "speak_during_execution", false, "speak_after_execution", true));
    }
    json_decref(tools);
    http_respond(ctx, 200, json_pack("{s:o}", "tools", out));
}
