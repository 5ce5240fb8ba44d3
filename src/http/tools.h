/*
 * The voice agents' tools: one table of seven tools (list_services,
 * find_slots, hold_slot, book_appointment, find_bookings, cancel_booking,
 * reschedule_booking), each with the JSON Schema of its arguments, run on the
 * same engine, index and booking transaction as the REST routes. The three
 * transports (routes_agents.c: MCP, Vapi, Retell) are thin adapters: they
 * take a tool's name and arguments out of their envelope, call
 * http_tool_call, and put the result back into theirs.
 *
 * A result is a JSON object: the REST API's objects (a booking, a hold,
 * slots) and `speech`, one sentence in the organization's language (or the
 * call's `locale`) that a voice agent reads out as is. A tool that could not
 * do what it was asked (an argument missing or wrong, a name that matches
 * nothing or several, a booking not found) answers an error result:
 * {"error":{"code","message","field"?,"candidates"?},"speech"?}. A slot taken
 * meanwhile is not an error: the result says booked:false with alternatives.
 *
 * Names: `service` and `staff` take an id or a name (agent/names.h). The
 * names, the language and the zone come from a small per-loop directory of
 * each organization, read from the database on first use; once it is
 * TOOLS_DIRECTORY_SECONDS old, a call still uses it and starts one read of a
 * newer one beside it, so no call but an organization's first waits for the
 * database before its own work.
 */
#ifndef SLOTD_HTTP_TOOLS_H
#define SLOTD_HTTP_TOOLS_H

#include <jansson.h>
#include <stdbool.h>

#include "domain/bookings.h"
#include "http/server.h"

#define TOOLS_DIRECTORY_SECONDS 10
#define TOOLS_COUNT 7

/** A tool as the transports describe it. */
typedef struct {
    const char *name;
    const char *title;
    const char *description;
    const char *input_schema; /**< JSON Schema text of the arguments */
    bool read_only, destructive, idempotent;
} http_tool_info_t;

/** The table, in a fixed order. */
extern const http_tool_info_t http_tools[TOOLS_COUNT];

/** The tool of that name, or NULL. */
const http_tool_info_t *http_tool_find(const char *name);

typedef struct http_tool_call http_tool_call_t;

/** A tool's end: the result as JSON text (`length` bytes, valid until the callback returns),
 *  and whether it is an error result. */
typedef void (*http_tool_done_cb)(http_tool_call_t *call, const char *result, size_t length,
                                  bool is_error);

/** A call of a tool by a transport. The transport owns it and keeps it alive until `done`. */
struct http_tool_call {
    const http_tool_info_t *tool;
    json_t *arguments;        /**< an object (borrowed) */
    const char *caller_phone; /**< the caller's number from the call data, or NULL */
    const char *transport;    /**< "mcp", "vapi", "retell": the audit rows' actor says it */
    /** How the caller proved who it is, for the audit rows' actor: NULL, an API key
     *  ("api_key"); "retell_signature" for a call Retell signed. */
    const char *actor_kind;
    /** A transport's key for a retried call (Vapi's tool call id, Retell's call id and
     *  arguments), or NULL: a booking made under it is made once. At most 200 bytes. */
    const char *retry_key;
    http_tool_done_cb done;
    void *arg;
    /** Resources whose index must show the call's write before the transport answers
     *  (http_respond_raw_after_changes); set by the tool (the transport frees the arrays). */
    eng_id_t *resources;
    size_t resource_count, resource_capacity;
    /** Per resource, the change of its occupancy the answer waits for (xid 0: a reload). */
    store_change_t *changes;
    size_t change_capacity;
};

/**
 * Runs call->tool with call->arguments for the request's organization; `done` runs once,
 * maybe at once. The request waits (http_wait) while the tool works; should it settle first,
 * nothing more happens and `done` never runs.
 */
void http_tool_call(http_ctx_t *ctx, http_tool_call_t *call);

/** The tools' definitions: [{name, title, description, inputSchema, annotations}] as MCP
 *  lists them. */
json_t *http_tools_json(void);

#endif
