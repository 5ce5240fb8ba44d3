/*
 * The tool table (tools.h): the seven tools, their argument schemas, the
 * per-loop directory of names, and each tool's run from arguments to result.
 *
 * A run reads its arguments (types, lengths, unknown names refused), finds
 * the names it was given in the directory, and then asks what the REST route
 * would ask: the engine for slots (on the loop, no database), the domain for
 * holds, bookings, cancels, moves and lists. What comes back is rendered in
 * the REST API's form (http_booking_json, http_hold_json, the refusal's
 * alternatives) beside its sentence. A booking under the transport's retry
 * key goes through the same idempotency record as an Idempotency-Key: its
 * retry replays the kept answer, which is rendered again the same way.
 */
#include "http/tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/names.h"
#include "agent/speech.h"
#include "domain/bookings.h"
#include "http/fields.h"
#include "http/internal.h"
#include "http/routes.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"
#include "store/keys.h"

#define TOOLS_DIRECTORIES 64
#define TOOLS_MAX_LIMIT 20
#define TOOLS_DEFAULT_LIMIT 5
#define TOOLS_NAME_MAX 200
#define TOOLS_NEXT_DAYS 14    /* find_slots with no date or window: the next two weeks */
#define TOOLS_NEAREST_DAYS 7  /* a full day: the days this far either side are offered */
#define TOOLS_NEAREST_COUNT 3 /* at most this many nearest days */
#define TOOLS_BOOKINGS_MAX 10 /* find_bookings: upcoming bookings listed */

/* ---- the table ------------------------------------------------------------------------------ */

#define LOCALE_SCHEMA                                                                              \
    "\"locale\":{\"type\":\"string\",\"maxLength\":16,\"description\":\"Language of the speech "   \
    "sentence (en, es, pl, de); default: the organization's.\"}"
#define SERVICE_SCHEMA                                                                             \
    "\"service\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,\"description\":\"The "    \
    "service's id or name (case and accents do not matter).\"}"
#define STAFF_SCHEMA                                                                               \
    "\"staff\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,\"description\":\"A staff "  \
    "member's id or name, when the caller asks for someone.\"}"
#define START_SCHEMA                                                                               \
    "\"start\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"The slot's start as "       \
    "find_slots gave it (RFC 3339, e.g. 2026-03-03T09:30:00+01:00), or a local time "              \
    "YYYY-MM-DDTHH:MM in the organization's zone.\"}"

const http_tool_info_t http_tools[TOOLS_COUNT] = {
    {"list_services", "List services",
     "The services that can be booked, with their lengths in minutes.",
     "{\"type\":\"object\",\"properties\":{" LOCALE_SCHEMA "},\"additionalProperties\":false}",
     true, false, true},
    {"find_slots", "Find free slots",
     "Free start times of a service: on a date, in a window, or (with neither) the next free "
     "ones. When the date asked is full, the nearest days' first free times are offered.",
     "{\"type\":\"object\",\"properties\":{" SERVICE_SCHEMA
     ",\"date\":{\"type\":\"string\",\"maxLength\":32,\"description\":\"A local date "
     "YYYY-MM-DD, or today or tomorrow.\"},\"from\":{\"type\":\"string\",\"maxLength\":64,"
     "\"description\":\"Window start: an RFC 3339 instant or a local date.\"},\"to\":{\"type\":"
     "\"string\",\"maxLength\":64,\"description\":\"Window end: an RFC 3339 instant or a local "
     "date (included).\"}," STAFF_SCHEMA
     ",\"tz\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"IANA zone the times are "
     "given and said in; default: the organization's.\"},\"limit\":{\"type\":\"integer\","
     "\"minimum\":1,\"maximum\":20,\"description\":\"How many slots (default 5).\"}," LOCALE_SCHEMA
     "},\"required\":[\"service\"],\"additionalProperties\":false}",
     true, false, true},
    {"hold_slot", "Hold a slot",
     "Holds a free slot for a few minutes while the caller decides; book_appointment with its "
     "hold_id then books it.",
     "{\"type\":\"object\",\"properties\":{" SERVICE_SCHEMA "," START_SCHEMA "," STAFF_SCHEMA
     "," LOCALE_SCHEMA "},\"required\":[\"service\",\"start\"],\"additionalProperties\":false}",
     false, false, false},
    {"book_appointment", "Book an appointment",
     "Books a slot for the caller. If the slot was taken meanwhile, the answer offers the "
     "nearest free times instead.",
     "{\"type\":\"object\",\"properties\":{" SERVICE_SCHEMA "," START_SCHEMA
     ",\"customer_name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
     "\"customer_phone\":{\"type\":\"string\",\"maxLength\":50,\"description\":\"Default: the "
     "caller's number.\"},\"customer_email\":{\"type\":\"string\",\"maxLength\":320},\"notes\":{"
     "\"type\":\"string\",\"maxLength\":5000},\"hold_id\":{\"type\":\"string\",\"format\":"
     "\"uuid\",\"description\":\"The hold_slot result's hold id.\"}," STAFF_SCHEMA "," LOCALE_SCHEMA
     "},\"required\":[\"service\",\"start\",\"customer_name\"],\"additionalProperties\":false}",
     false, false, false},
    {"find_bookings", "Find the caller's bookings",
     "The caller's upcoming appointments, by phone number (default: the caller's number).",
     "{\"type\":\"object\",\"properties\":{\"customer_phone\":{\"type\":\"string\",\"maxLength\":"
     "50}," LOCALE_SCHEMA "},\"additionalProperties\":false}",
     true, false, true},
    {"cancel_booking", "Cancel a booking", "Cancels a booking (find_bookings gives its id).",
     "{\"type\":\"object\",\"properties\":{\"booking_id\":{\"type\":\"string\",\"format\":"
     "\"uuid\"},\"reason\":{\"type\":\"string\",\"maxLength\":1000}," LOCALE_SCHEMA
     "},\"required\":[\"booking_id\"],\"additionalProperties\":false}",
     false, true, true},
    {"reschedule_booking", "Move a booking",
     "Moves a booking to another free start of its service; if that start is taken, the "
     "answer offers the nearest free times and the booking keeps its time.",
     "{\"type\":\"object\",\"properties\":{\"booking_id\":{\"type\":\"string\",\"format\":"
     "\"uuid\"}," START_SCHEMA "," LOCALE_SCHEMA
     "},\"required\":[\"booking_id\",\"start\"],\"additionalProperties\":false}",
     false, false, false},
};

const http_tool_info_t *http_tool_find(const char *name)
{
    for (size_t i = 0; name && i < TOOLS_COUNT; i++)
        if (strcmp(http_tools[i].name, name) == 0)
            return &http_tools[i];
    return NULL;
}

json_t *http_tools_json(void)
{
    json_t *list = json_array();
    for (size_t i = 0; i < TOOLS_COUNT; i++) {
        const http_tool_info_t *t = &http_tools[i];
        json_t *schema = json_loads(t->input_schema, 0, NULL);
        if (schema == NULL)
            abort(); /* the table is wrong: a test catches it */
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:b, s:b, s:b, s:b}}",
                                              "name", t->name, "title", t->title, "description",
                                              t->description, "inputSchema", schema, "annotations",
                                              "title", t->title, "readOnlyHint", t->read_only,
                                              "destructiveHint", t->destructive, "idempotentHint",
                                              t->idempotent, "openWorldHint", false));
    }
    return list;
}

/* ---- the directory of names ----------------------------------------------------------------- */

typedef struct {
    char kind[12]; /* "service", "staff", "room", "equipment" */
    eng_id_t id;
    char *name, *folded;
    int minutes;
} directory_item_t;

typedef struct tools_directory {
    eng_id_t organization;
    uint64_t loaded_ms;
    bool refreshing; /* a read of a newer one is on its way */
    char language[8];
    char zone[72];
    directory_item_t *items;
    size_t count;
} tools_directory_t;

struct http_tools_cache {
    tools_directory_t *entries[TOOLS_DIRECTORIES];
    json_t *properties[TOOLS_COUNT]; /* each tool's schema's properties, parsed once */
};

static struct http_tools_cache *cache_of(http_server_t *s)
{
    if (s->tools == NULL)
        s->tools = slotd_calloc(1, sizeof(*s->tools));
    return s->tools;
}

static void directory_free(tools_directory_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].name);
        free(d->items[i].folded);
    }
    free(d->items);
    free(d);
}

static tools_directory_t **directory_slot(http_server_t *s, const eng_id_t *org)
{
    struct http_tools_cache *cache = cache_of(s);
    tools_directory_t **oldest = &cache->entries[0];
    for (size_t i = 0; i < TOOLS_DIRECTORIES; i++) {
        tools_directory_t **e = &cache->entries[i];
        if (*e && memcmp(&(*e)->organization, org, sizeof(*org)) == 0)
            return e;
        if (*e == NULL || (*oldest && (*e)->loaded_ms < (*oldest)->loaded_ms))
            oldest = e;
    }
    return oldest;
}

/* The directory read from the statement's rows; NULL when the organization's row is missing. */
static tools_directory_t *directory_from(const PGresult *result, const eng_id_t *org)
{
    int rows = PQntuples(result);
    tools_directory_t *d = slotd_calloc(1, sizeof(*d));
    d->organization = *org;
    d->items = slotd_calloc((size_t)rows + 1, sizeof(*d->items));
    bool found = false;
    for (int r = 0; r < rows; r++) {
        const char *kind = PQgetvalue(result, r, 0);
        if (strcmp(kind, "organization") == 0) {
            snprintf(d->language, sizeof(d->language), "%s", PQgetvalue(result, r, 2));
            snprintf(d->zone, sizeof(d->zone), "%s", PQgetvalue(result, r, 3));
            found = true;
            continue;
        }
        directory_item_t *item = &d->items[d->count];
        if (codec_parse_uuid(PQgetvalue(result, r, 1), &item->id) != 0)
            continue;
        snprintf(item->kind, sizeof(item->kind), "%s", kind);
        item->name = slotd_strdup(PQgetvalue(result, r, 2));
        item->folded = slotd_calloc(1, NAMES_FOLDED_MAX);
        names_fold(item->name, item->folded);
        item->minutes = atoi(PQgetvalue(result, r, 4));
        d->count++;
    }
    if (!found) {
        directory_free(d);
        return NULL;
    }
    return d;
}

/* ---- a run ---------------------------------------------------------------------------------- */

typedef struct tool_run tool_run_t;
typedef void (*tool_fn)(tool_run_t *run);

struct tool_run {
    http_ctx_t *ctx;
    http_tool_call_t *call;
    const tools_directory_t *directory; /* valid only until the run next waits */
    /* what the run waits for (one at a time) */
    store_query_t *query;
    domain_booking_op_t *booking_op;
    store_booking_op_t *store_op;
    store_operation_t *operation;
    /* what it decided */
    speech_context_t speech;
    char zone[72];
    char actor[160];
    char key[256];
    domain_booking_input_t *input; /* the tools that write: made by run_input */
    eng_id_t booking_id;
    char *refusal_text;
};

static void run_free(tool_run_t *run)
{
    free(run->input);
    free(run->refusal_text);
    free(run);
}

static void run_cancel(void *arg)
{
    tool_run_t *run = arg;
    if (run->query)
        store_query_cancel(run->query);
    if (run->booking_op)
        domain_booking_op_cancel(run->booking_op);
    if (run->store_op)
        store_booking_op_cancel(run->store_op);
    if (run->operation)
        store_operation_cancel(run->operation);
    run_free(run);
}

static bool run_sent(const void *arg)
{
    const tool_run_t *run = arg;
    /* the directory's read is no write: it never holds a request past its deadline */
    return (run->booking_op && domain_booking_op_sent(run->booking_op)) ||
           (run->store_op && store_booking_op_sent(run->store_op));
}

/* The booking or hold request of a tool that writes (a kilobyte the reads do without). */
static domain_booking_input_t *run_input(tool_run_t *run)
{
    if (run->input == NULL)
        run->input = slotd_calloc(1, sizeof(*run->input));
    return run->input;
}

/* The run waits for what it has just started. */
static void run_wait(tool_run_t *run)
{
    http_wait(run->ctx, run, run_cancel, run_sent);
}

/* The callback of what it waited for has come: nothing is left to cancel. */
static void run_woken(tool_run_t *run)
{
    run->query = NULL;
    run->booking_op = NULL;
    run->store_op = NULL;
    run->operation = NULL;
    http_wait_end(run->ctx);
}

/* Ends the run with a result's text. */
static void finish_text(tool_run_t *run, const char *text, size_t length, bool is_error)
{
    http_tool_call_t *call = run->call;
    run_free(run);
    call->done(call, text, length, is_error);
}

/* Ends the run with a result (stolen). */
static void finish(tool_run_t *run, json_t *result, bool is_error)
{
    static const char unwritable[] =
        "{\"error\":{\"code\":\"internal\",\"message\":\"The answer could not be written.\"}}";
    char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
    json_decref(result);
    if (text)
        finish_text(run, text, strlen(text), is_error);
    else /* a stored text that is not UTF-8, or no memory */
        finish_text(run, unwritable, sizeof(unwritable) - 1, true);
    free(text);
}

/* Ends a woken run: the result, then the request's reference goes. */
static void finish_woken(tool_run_t *run, json_t *result, bool is_error)
{
    http_ctx_t *ctx = run->ctx;
    finish(run, result, is_error);
    http_wait_release(ctx);
}

static json_t *error_json(const char *code, const char *field, const char *message)
{
    json_t *error = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (field)
        json_object_set_new(error, "field", json_string(field));
    return json_pack("{s:o}", "error", error);
}

/* An error result: what was wrong, and the field at fault (or NULL). */
static void fail(tool_run_t *run, const char *code, const char *field, const char *message)
{
    finish(run, error_json(code, field, message), true);
}

static void fail_woken(tool_run_t *run, const char *code, const char *field, const char *message)
{
    finish_woken(run, error_json(code, field, message), true);
}

static void fail_store(tool_run_t *run, int error, const char *what)
{
    char message[96];
    if (error == STORE_ENOTFOUND) {
        snprintf(message, sizeof(message), "No such %s.", what);
        fail_woken(run, "not_found", NULL, message);
    } else if (error == STORE_EOUTCOME) {
        fail_woken(run, "unavailable", NULL,
                   "The database did not answer in time; the change may or may not have been "
                   "made. Check before retrying.");
    } else {
        fail_woken(run, "unavailable", NULL,
                   "The booking database is not reachable right now; please try again.");
    }
}

static void fail_domain(tool_run_t *run, const domain_error_t *error)
{
    if (error->code == DOMAIN_EINVALID) {
        /* the booking's fields by the tool's names: customer.phone is customer_phone */
        char field[CODEC_FIELD_MAX];
        snprintf(field, sizeof(field), "%s", error->field);
        if (strncmp(field, "customer.", 9) == 0)
            field[8] = '_';
        fail(run, "invalid_argument", field, error->message);
    } else
        fail(run, "unavailable", NULL, "The service is busy right now; please try again.");
}

/* Adds the sentence (stolen) to a result. */
static json_t *with_speech(json_t *result, char *speech)
{
    json_object_set_new(result, "speech", json_string(speech));
    free(speech);
    return result;
}

/* ---- arguments ------------------------------------------------------------------------------ */

static const json_t *arg(const tool_run_t *run, const char *name)
{
    const json_t *v = json_object_get(run->call->arguments, name);
    return v && !json_is_null(v) ? v : NULL;
}

/* The characters (code points) of UTF-8 text, as the schemas' maxLength counts them. */
static size_t characters(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

/* A text argument of at most `max` characters (NULL when absent); false after failing the
 * run. */
static bool arg_text(tool_run_t *run, const char *name, size_t max, bool required, const char **out)
{
    const json_t *v = arg(run, name);
    char message[160];
    *out = NULL;
    if (v == NULL && !required)
        return true;
    if (v == NULL) {
        snprintf(message, sizeof(message), "%s is required.", name);
        fail(run, "invalid_argument", name, message);
        return false;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(message, sizeof(message), "%s must be a string.", name);
        fail(run, "invalid_argument", name, message);
        return false;
    }
    if (characters(json_string_value(v)) > max || (required && json_string_length(v) == 0)) {
        snprintf(message, sizeof(message), "%s must be 1 to %zu characters.", name, max);
        fail(run, "invalid_argument", name, message);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* Refuses arguments the tool does not take (its schema's properties). */
static bool arguments_known(tool_run_t *run)
{
    struct http_tools_cache *cache = cache_of(run->ctx->server);
    size_t t = (size_t)(run->call->tool - http_tools);
    if (cache->properties[t] == NULL) {
        json_t *schema = json_loads(run->call->tool->input_schema, 0, NULL);
        cache->properties[t] = json_incref(json_object_get(schema, "properties"));
        json_decref(schema);
    }
    const char *name;
    json_t *value;
    json_object_foreach(run->call->arguments, name, value)
    {
        if (json_object_get(cache->properties[t], name) == NULL) {
            char message[CODEC_FIELD_MAX + 64];
            if (strlen(name) <= 64)
                snprintf(message, sizeof(message), "%s takes no argument \"%s\".",
                         run->call->tool->name, name);
            else
                snprintf(message, sizeof(message), "%s takes no argument of that name.",
                         run->call->tool->name);
            fail(run, "invalid_argument", strlen(name) <= 64 ? name : "arguments", message);
            return false;
        }
    }
    return true;
}

static tz_zone_t *run_zone(const tool_run_t *run)
{
    tz_zone_t *zone;
    if (tz_zone_find(run->zone, &zone) != 0)
        tz_zone_find("UTC", &zone);
    return zone;
}

/* A local date: YYYY-MM-DD, or today or tomorrow (in the tool's languages). */
static bool parse_day(const tool_run_t *run, const char *text, int32_t *day)
{
    static const char *const today[] = {"today", "hoy", "dzisiaj", "dziś", "heute", NULL};
    static const char *const tomorrow[] = {"tomorrow", "mañana", "jutro", "morgen", NULL};
    char folded[NAMES_FOLDED_MAX];
    int32_t now_day = tz_local_day(run->speech.zone, run->speech.now);
    if (strlen(text) == 10 && tz_parse_date(text, day) == 0)
        return true;
    names_fold(text, folded);
    for (int i = 0; today[i]; i++) {
        char word[32];
        names_fold(today[i], word);
        if (strcmp(folded, word) == 0) {
            *day = now_day;
            return true;
        }
    }
    for (int i = 0; tomorrow[i]; i++) {
        char word[32];
        names_fold(tomorrow[i], word);
        if (strcmp(folded, word) == 0) {
            *day = now_day + 1;
            return true;
        }
    }
    return false;
}

/* A start: an RFC 3339 instant, or a local wall time YYYY-MM-DDTHH:MM[:SS] in the zone. */
static bool parse_start(tool_run_t *run, const char *text, int64_t *out)
{
    if (codec_parse_instant(text, out) == 0)
        return true;
    size_t length = strlen(text);
    char date[11];
    int32_t day, hour, minute, second = 0;
    if ((length != 16 && length != 19) || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
        (length == 19 && text[16] != ':'))
        return false;
    memcpy(date, text, 10);
    date[10] = 0;
    if (tz_parse_date(date, &day) != 0 || !tz_parse_digits(text + 11, 2, &hour) ||
        !tz_parse_digits(text + 14, 2, &minute) ||
        (length == 19 && !tz_parse_digits(text + 17, 2, &second)) || hour > 23 || minute > 59 ||
        second > 59)
        return false;
    *out = tz_from_wall(run_zone(run), (int64_t)day * 86400 + hour * 3600 + minute * 60 + second);
    return tz_instant_supported(*out);
}

static bool arg_start(tool_run_t *run, int64_t *start)
{
    const char *text;
    if (!arg_text(run, "start", 64, true, &text))
        return false;
    if (!parse_start(run, text, start)) {
        fail(run, "invalid_argument", "start",
             "start must be a time as find_slots gives it, e.g. 2026-03-03T09:30:00+01:00.");
        return false;
    }
    if (*start <= run->speech.now) {
        fail(run, "invalid_argument", "start",
             "start is in the past; ask find_slots for free times.");
        return false;
    }
    return true;
}

static bool arg_id(tool_run_t *run, const char *name, bool required, eng_id_t *id, bool *given)
{
    const char *text;
    *given = false;
    if (!arg_text(run, name, 36, required, &text))
        return false;
    if (text == NULL)
        return true;
    if (codec_parse_uuid(text, id) != 0) {
        char message[96];
        snprintf(message, sizeof(message), "%s must be an id (a UUID).", name);
        fail(run, "invalid_argument", name, message);
        return false;
    }
    *given = true;
    return true;
}

/* ---- names ---------------------------------------------------------------------------------- */

/* The service or staff member `name` (an id or a name) of the directory; false after failing
 * the run (not found: with a sentence; several: the candidates, and a sentence asking). */
static bool resolve(tool_run_t *run, const char *field, bool service, eng_id_t *out)
{
    const char *text;
    if (!arg_text(run, field, TOOLS_NAME_MAX, service, &text))
        return false;
    if (text == NULL)
        return true;
    const tools_directory_t *d = run->directory;
    if (codec_parse_uuid(text, out) == 0)
        return true; /* an id: the rules check it is one of the organization's */
    const char **folded = slotd_calloc(d->count + 1, sizeof(*folded));
    size_t *which = slotd_calloc(d->count + 1, sizeof(*which));
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++)
        if (service ? strcmp(d->items[i].kind, "service") == 0
                    : strcmp(d->items[i].kind, "service") != 0) {
            folded[n] = d->items[i].folded;
            which[n++] = i;
        }
    names_match_t match;
    names_match(text, folded, n, &match);
    bool ok = match.count == 1;
    if (ok) {
        *out = d->items[which[match.matches[0]]].id;
    } else if (match.count == 0) {
        char message[4 * TOOLS_NAME_MAX + 64]; /* a character takes up to 4 bytes */
        snprintf(message, sizeof(message), "No %s is called \"%s\".",
                 service ? "service" : "staff member", text);
        json_t *result = error_json("not_found", field, message);
        finish(run, with_speech(result, speech_not_found(&run->speech, text)), true);
    } else {
        const char *names[NAMES_MAX_CANDIDATES];
        json_t *candidates = json_array();
        for (size_t i = 0; i < match.kept; i++) {
            const directory_item_t *item = &d->items[which[match.matches[i]]];
            char id[37];
            codec_format_uuid(&item->id, id);
            names[i] = item->name;
            json_array_append_new(candidates,
                                  json_pack("{s:s, s:s}", "id", id, "name", item->name));
        }
        char message[4 * TOOLS_NAME_MAX + 96];
        snprintf(message, sizeof(message),
                 "\"%s\" matches %zu %s; ask which one and call again with its name or id.", text,
                 match.count, service ? "services" : "staff members");
        json_t *result = error_json("ambiguous_name", field, message);
        json_object_set_new(json_object_get(result, "error"), "candidates", candidates);
        finish(run, with_speech(result, speech_ambiguous(&run->speech, names, match.kept)), true);
    }
    free(folded);
    free(which);
    return ok;
}

/* The actor of the audit rows: the key's role, the tool and its transport. */
static void set_actor(tool_run_t *run)
{
    snprintf(run->actor, sizeof(run->actor),
             "{\"kind\":\"%s\",\"role\":\"%s\",\"tool\":\"%s\",\"transport\":\"%s\"}",
             run->call->actor_kind ? run->call->actor_kind : "api_key",
             run->ctx->role == HTTP_ROLE_ADMIN ? "admin" : "agent", run->call->tool->name,
             run->call->transport);
}

static domain_context_t context_of(const tool_run_t *run)
{
    return (domain_context_t){.pool = http_pool(run->ctx),
                              .index = http_index(run->ctx),
                              .workspace = http_workspace(run->ctx),
                              .organization = run->ctx->organization};
}

/* Remembers the resources whose index must show the write before the answer. */
static void touched(tool_run_t *run, const eng_id_t *ids, size_t count, uint64_t xid,
                    store_change_kind_t kind)
{
    http_tool_call_t *call = run->call;
    if (count == 0)
        return;
    call->resources = slotd_grow(call->resources, &call->resource_capacity,
                                 call->resource_count + count, sizeof(eng_id_t));
    call->changes = slotd_grow(call->changes, &call->change_capacity, call->resource_count + count,
                               sizeof(store_change_t));
    memcpy(call->resources + call->resource_count, ids, count * sizeof(eng_id_t));
    for (size_t i = 0; i < count; i++)
        call->changes[call->resource_count + i] = (store_change_t){.xid = xid, .kind = kind};
    call->resource_count += count;
}

/* The starts of a list of slot objects ({"start": ...}). */
static size_t starts_of(const json_t *slots, int64_t *starts, size_t max)
{
    size_t n = 0, i;
    const json_t *slot;
    json_array_foreach(slots, i, slot)
    {
        if (n < max &&
            codec_parse_instant(json_string_value(json_object_get(slot, "start")), &starts[n]) == 0)
            n++;
    }
    return n;
}

static int64_t start_of(const json_t *object)
{
    int64_t start = 0;
    codec_parse_instant(json_string_value(json_object_get(object, "start")), &start);
    return start;
}

/* A refusal for want of free time (the REST error envelope, stolen) as a tool's result:
 * `flag` false, the alternatives, and the sentence offering them. */
static json_t *taken_result(const tool_run_t *run, const char *flag, json_t *envelope)
{
    json_t *alternatives = json_object_get(
        json_object_get(json_object_get(envelope, "error"), "details"), "alternatives");
    int64_t starts[DOMAIN_MAX_ALTERNATIVES];
    size_t n = starts_of(alternatives, starts, DOMAIN_MAX_ALTERNATIVES);
    json_t *result = json_pack("{s:b, s:o}", flag, false, "alternatives",
                               alternatives ? json_incref(alternatives) : json_array());
    json_decref(envelope);
    return with_speech(result, speech_taken(&run->speech, starts, n));
}

/* A refusal of the rules, as a result: taken (with alternatives), or an error. */
static void finish_refusal(tool_run_t *run, const domain_refusal_t *refusal, const char *flag,
                           bool woken)
{
    int status;
    json_t *envelope = http_refusal_json(refusal, run->zone, &status);
    json_t *result;
    bool is_error = refusal->kind != DOMAIN_REFUSAL_UNAVAILABLE;
    if (!is_error) {
        result = taken_result(run, flag, envelope);
    } else {
        json_t *error = json_object_get(envelope, "error");
        const char *code = json_string_value(json_object_get(error, "code"));
        result = error_json(strcmp(code, "invalid_request") == 0 ? "invalid_argument" : code,
                            refusal->kind == DOMAIN_REFUSAL_INVALID ? refusal->field : NULL,
                            json_string_value(json_object_get(error, "message")));
        json_decref(envelope);
    }
    if (woken)
        finish_woken(run, result, is_error);
    else
        finish(run, result, is_error);
}

/* ---- list_services -------------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    const directory_item_t *x = *(const directory_item_t *const *)a;
    const directory_item_t *y = *(const directory_item_t *const *)b;
    return strcmp(x->folded, y->folded);
}

static void list_services(tool_run_t *run)
{
    const tools_directory_t *d = run->directory;
    const directory_item_t **services = slotd_calloc(d->count + 1, sizeof(*services));
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->items[i].kind, "service") == 0)
            services[n++] = &d->items[i];
    qsort(services, n, sizeof(*services), by_name);
    json_t *list = json_array();
    const char **names = slotd_calloc(n + 1, sizeof(*names));
    for (size_t i = 0; i < n; i++) {
        char id[37];
        codec_format_uuid(&services[i]->id, id);
        names[i] = services[i]->name;
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:i}", "id", id, "name", services[i]->name,
                                        "duration_minutes", services[i]->minutes));
    }
    char *speech = speech_services(&run->speech, names, n);
    free(names);
    free(services);
    finish(run, with_speech(json_pack("{s:o}", "services", list), speech), false);
}

/* ---- find_slots ----------------------------------------------------------------------------- */

/* Appends one slot as GET /v1/slots writes it (after a comma when `comma`). */
static void append_slot(http_buffer_t *out, tz_zone_t *zone, const eng_slots_t *slots, size_t i,
                        bool comma)
{
    const eng_slot_t *slot = &slots->slots[i];
    char instant[CODEC_INSTANT_MAX], id[37];
    if (comma)
        HTTP_APPEND_LITERAL(out, ",");
    HTTP_APPEND_LITERAL(out, "{\"start\":\"");
    http_buffer_append(out, instant, codec_write_instant(zone, slot->start, instant));
    HTTP_APPEND_LITERAL(out, "\",\"end\":\"");
    http_buffer_append(out, instant, codec_write_instant(zone, slot->end, instant));
    HTTP_APPEND_LITERAL(out, "\",\"resource_ids\":[");
    for (uint32_t k = 0; k < slot->resource_count; k++) {
        codec_format_uuid(eng_resource_id(slots->resources[slot->first_resource + k]), id);
        if (k)
            HTTP_APPEND_LITERAL(out, ",");
        HTTP_APPEND_LITERAL(out, "\"");
        http_buffer_append(out, id, 36);
        HTTP_APPEND_LITERAL(out, "\"");
    }
    HTTP_APPEND_LITERAL(out, "]}");
}

/* A full day: the first free time of each of the days nearest to it (TOOLS_NEAREST_DAYS either
 * side, never before now), at most TOOLS_NEAREST_COUNT, their indexes in *slots into `which`
 * in order; returns how many. */
static size_t nearest_days(const tool_run_t *run, eng_query_t *q, int32_t day, eng_slots_t *slots,
                           size_t *which)
{
    q->from = tz_from_wall(run_zone(run), (int64_t)(day - TOOLS_NEAREST_DAYS) * 86400);
    if (q->from < run->speech.now)
        q->from = run->speech.now;
    q->to = tz_from_wall(run_zone(run), (int64_t)(day + 1 + TOOLS_NEAREST_DAYS) * 86400);
    q->limit = 0;
    q->per_day = 1;
    if (q->from >= q->to || eng_slots(http_workspace(run->ctx), q, slots) != 0)
        return 0;
    /* per_day 1: one slot a day, in order; keep the nearest days, in order */
    size_t n = 0;
    bool used[2 * TOOLS_NEAREST_DAYS + 2] = {false};
    size_t total =
        slots->count < 2 * TOOLS_NEAREST_DAYS + 2 ? slots->count : 2 * TOOLS_NEAREST_DAYS + 2;
    for (; n < TOOLS_NEAREST_COUNT; n++) {
        size_t best = total;
        int32_t best_distance = INT32_MAX;
        for (size_t i = 0; i < total; i++) {
            int32_t d = tz_local_day(run->speech.zone, slots->slots[i].start) - day;
            d = d < 0 ? -d : d;
            if (!used[i] && d != 0 && d < best_distance) {
                best = i;
                best_distance = d;
            }
        }
        if (best == total)
            break;
        used[best] = true;
    }
    size_t kept = 0;
    for (size_t i = 0; i < total; i++)
        if (used[i])
            which[kept++] = i;
    return kept;
}

/* A window bound: an instant, or a local date (its midnight; with `end`, the next one). */
static bool arg_bound(tool_run_t *run, const char *name, bool end, bool *given, int64_t *out)
{
    const char *text;
    int32_t day;
    *given = false;
    if (!arg_text(run, name, 64, false, &text))
        return false;
    if (text == NULL)
        return true;
    *given = true;
    if (codec_parse_instant(text, out) == 0)
        return true;
    if (parse_day(run, text, &day)) {
        *out = tz_from_wall(run_zone(run), (int64_t)(day + (end ? 1 : 0)) * 86400);
        return true;
    }
    char message[128];
    snprintf(message, sizeof(message),
             "%s must be an RFC 3339 instant or a date (YYYY-MM-DD, today or tomorrow).", name);
    fail(run, "invalid_argument", name, message);
    return false;
}

static void find_slots(tool_run_t *run)
{
    eng_id_t service_id, staff_id = {{0}};
    const char *tz, *date;
    bool has_staff = arg(run, "staff") != NULL, has_from, has_to;
    if (!resolve(run, "service", true, &service_id) ||
        (has_staff && !resolve(run, "staff", false, &staff_id)) ||
        !arg_text(run, "tz", 64, false, &tz) || !arg_text(run, "date", 32, false, &date))
        return;
    if (tz) {
        tz_zone_t *zone;
        if (tz_zone_find(tz, &zone) != 0) {
            fail(run, "invalid_argument", "tz",
                 "tz must be an IANA time zone, e.g. Europe/Warsaw.");
            return;
        }
        snprintf(run->zone, sizeof(run->zone), "%s", tz);
        run->speech.zone = zone;
    }
    const json_t *limit_value = arg(run, "limit");
    json_int_t limit = TOOLS_DEFAULT_LIMIT;
    if (limit_value) {
        limit = json_is_integer(limit_value) ? json_integer_value(limit_value) : 0;
        if (limit < 1 || limit > TOOLS_MAX_LIMIT) {
            fail(run, "invalid_argument", "limit", "limit must be a whole number from 1 to 20.");
            return;
        }
    }
    int64_t now = run->speech.now, from = now, to = now + (int64_t)TOOLS_NEXT_DAYS * 86400;
    int32_t day = 0;
    if (date && (arg(run, "from") || arg(run, "to"))) {
        fail(run, "invalid_argument", "date", "Give either date or from and to, not both.");
        return;
    }
    if (date) {
        if (!parse_day(run, date, &day)) {
            fail(run, "invalid_argument", "date",
                 "date must be a date (YYYY-MM-DD), today or tomorrow.");
            return;
        }
        from = tz_from_wall(run_zone(run), (int64_t)day * 86400);
        to = tz_from_wall(run_zone(run), (int64_t)(day + 1) * 86400);
    } else if (!arg_bound(run, "from", false, &has_from, &from) ||
               !arg_bound(run, "to", true, &has_to, &to)) {
        return;
    } else {
        if (!has_from)
            from = now;
        if (!has_to)
            to = from + (int64_t)TOOLS_NEXT_DAYS * 86400;
    }
    if (to <= from || to - from > ENG_MAX_WINDOW_SECONDS) {
        fail(run, "invalid_argument", "to", "The window must end after it starts, within 62 days.");
        return;
    }
    index_org_t *org = http_index_org(run->ctx);
    if (org == NULL) {
        fail(run, "unavailable", NULL, "Availability is still loading; please try again.");
        return;
    }
    bool bookable = false;
    eng_service_t *service = index_org_service(org, &service_id, &bookable);
    eng_resource_t *filter[1] = {NULL};
    if (service == NULL) {
        fail(run, "not_found", "service", "No such service.");
        return;
    }
    if (has_staff && (filter[0] = index_org_resource(org, &staff_id)) == NULL) {
        fail(run, "not_found", "staff", "No such staff member.");
        return;
    }
    eng_query_t q = {.service = service,
                     .from = from,
                     .to = to,
                     .now = now,
                     .zone = run->speech.zone,
                     .resources = filter,
                     .resource_count = has_staff ? 1 : 0,
                     .limit = (uint32_t)limit};
    eng_slots_t slots = {0};
    if (bookable && eng_slots(http_workspace(run->ctx), &q, &slots) != 0) {
        fail(run, "invalid_argument", "to", "That window cannot be searched.");
        return;
    }
    /* the hot path: written as text into the loop's buffer, as GET /v1/slots writes its
     * answer (nothing else writes there before the transport has taken the text) */
    http_buffer_t *out = http_buffer(run->ctx);
    char id[37];
    size_t count = bookable ? slots.count : 0, ids = 0;
    for (size_t i = 0; i < count; i++)
        ids += slots.slots[i].resource_count;
    /* each slot: its two instants and its resources' ids, quoted, with the keys around them */
    http_buffer_reserve(out, 512 + count * 96 + ids * 39);
    codec_format_uuid(&service_id, id);
    HTTP_APPEND_LITERAL(out, "{\"service_id\":\"");
    http_buffer_append(out, id, 36);
    HTTP_APPEND_LITERAL(out, "\",\"timezone\":");
    http_buffer_append_json_string(out, run->zone, strlen(run->zone));
    HTTP_APPEND_LITERAL(out, ",\"slots\":[");
    for (size_t i = 0; i < count; i++)
        append_slot(out, run->speech.zone, &slots, i, i > 0);
    HTTP_APPEND_LITERAL(out, "]");
    char *speech;
    if (count > 0) {
        int64_t starts[3];
        size_t n = 0;
        for (; n < count && n < 3; n++)
            starts[n] = slots.slots[n].start;
        speech = speech_slots(&run->speech, starts, n);
    } else if (!date || !bookable) {
        speech = speech_nothing_free(&run->speech);
    } else {
        int64_t starts[TOOLS_NEAREST_COUNT];
        size_t which[TOOLS_NEAREST_COUNT];
        size_t n = nearest_days(run, &q, day, &slots, which);
        HTTP_APPEND_LITERAL(out, ",\"nearest\":[");
        for (size_t i = 0; i < n; i++) {
            append_slot(out, run->speech.zone, &slots, which[i], i > 0);
            starts[i] = slots.slots[which[i]].start;
        }
        HTTP_APPEND_LITERAL(out, "]");
        speech = speech_no_slots_on_day(&run->speech, day, starts, n);
    }
    HTTP_APPEND_LITERAL(out, ",\"speech\":");
    http_buffer_append_json_string(out, speech, strlen(speech));
    HTTP_APPEND_LITERAL(out, "}");
    free(speech);
    finish_text(run, out->data, out->size, false);
}

/* ---- hold_slot, book_appointment ------------------------------------------------------------ */

/* What a hold and a booking share: service, staff, start. */
static bool decode_slot(tool_run_t *run)
{
    domain_booking_input_t *in = run_input(run);
    eng_id_t staff;
    bool has_staff = arg(run, "staff") != NULL;
    if (!resolve(run, "service", true, &in->service_id) ||
        (has_staff && !resolve(run, "staff", false, &staff)) || !arg_start(run, &in->start))
        return false;
    if (has_staff)
        in->pinned[in->pinned_count++] = staff;
    in->now = run->speech.now;
    in->admin = false;
    set_actor(run);
    in->actor = run->actor;
    in->source = "ai_agent";
    return true;
}

static void on_held(void *arg, int error, const eng_id_t *id, const store_hold_write_t *hold,
                    uint64_t xid, const domain_refusal_t *refusal)
{
    tool_run_t *run = arg;
    run_woken(run);
    if (error == STORE_BOOKING_EOVERLAP) {
        finish_refusal(run, refusal, "held", true);
    } else if (error) {
        fail_store(run, error, "service");
    } else {
        touched(run, hold->resources, hold->resource_count, xid, STORE_CHANGE_HELD);
        json_t *result =
            json_pack("{s:b, s:o}", "held", true, "hold", http_hold_json(id, hold, run->zone));
        finish_woken(run, with_speech(result, speech_held(&run->speech, hold->start)), false);
    }
}

static void hold_slot(tool_run_t *run)
{
    if (!decode_slot(run))
        return;
    domain_context_t context = context_of(run);
    domain_refusal_t refusal = {0};
    domain_error_t error = {0};
    run->booking_op = domain_holds_create(&context, run_input(run), on_held, run, &refusal, &error);
    if (run->booking_op)
        run_wait(run);
    else if (refusal.kind != DOMAIN_REFUSAL_NONE)
        finish_refusal(run, &refusal, "held", false);
    else
        fail_domain(run, &error);
    domain_refusal_clear(&refusal);
}

/* A booking's answer (the REST form's text, as kept) as the tool's result. */
static json_t *booked_result(const tool_run_t *run, const char *text)
{
    json_t *booking = json_loads(text, 0, NULL);
    if (booking == NULL)
        return NULL;
    int64_t start = start_of(booking);
    return with_speech(json_pack("{s:b, s:o}", "booked", true, "booking", booking),
                       speech_booked(&run->speech, start));
}

static void on_remembered(void *arg, int error)
{
    tool_run_t *run = arg;
    (void)error; /* not kept: the retry is judged afresh, as with an Idempotency-Key */
    run_woken(run);
    json_t *envelope = json_loads(run->refusal_text, 0, NULL);
    finish_woken(run, taken_result(run, "booked", envelope), false);
}

static void on_booked(void *arg, const store_booking_outcome_t *outcome,
                      const domain_refusal_t *refusal)
{
    tool_run_t *run = arg;
    run_woken(run);
    json_t *result;
    switch (outcome->error) {
    case 0:
        touched(run, outcome->resources, outcome->resource_count, outcome->xid,
                STORE_CHANGE_BOOKED);
        http_count_booking(run->ctx, HTTP_BOOKING_CREATED);
        result = booked_result(run, outcome->response);
        if (result)
            finish_woken(run, result, false);
        else
            fail_woken(run, "internal", NULL, "The booking was made but could not be read back.");
        return;
    case STORE_BOOKING_EREPLAY:
        http_count_booking(run->ctx, HTTP_BOOKING_REPLAY);
        if (outcome->status == 201) {
            result = booked_result(run, outcome->response);
        } else {
            json_t *envelope = json_loads(outcome->response, 0, NULL);
            result = envelope ? taken_result(run, "booked", envelope) : NULL;
        }
        if (result)
            finish_woken(run, result, false);
        else
            fail_woken(run, "internal", NULL, "The earlier answer of this call is unreadable.");
        return;
    case STORE_BOOKING_EMISMATCH:
        fail_woken(run, "retry_mismatch", NULL,
                   "This tool call id was already used for a different booking.");
        return;
    case STORE_BOOKING_EIN_PROGRESS:
        fail_woken(run, "in_progress", NULL,
                   "The same booking is still being made; retry in a moment.");
        return;
    default:
        if (store_booking_refused(outcome->error))
            break;
        http_count_booking(run->ctx, HTTP_BOOKING_ERROR);
        fail_store(run, outcome->error, "booking");
        return;
    }
    if (outcome->error == STORE_BOOKING_EHOLD_GONE)
        http_count_booking(run->ctx, HTTP_BOOKING_HOLD_EXPIRED);
    else if (refusal->kind == DOMAIN_REFUSAL_UNAVAILABLE)
        http_count_booking(run->ctx, HTTP_BOOKING_CONFLICT);
    int status;
    json_t *envelope = http_refusal_json(refusal, run->zone, &status);
    if (run_input(run)->idempotency_key && status == 409 &&
        refusal->kind == DOMAIN_REFUSAL_UNAVAILABLE) {
        /* kept under the key first, so that the retry replays this very answer */
        run->refusal_text = json_dumps(envelope, JSON_COMPACT);
        domain_context_t context = context_of(run);
        domain_error_t error;
        run->store_op = run->refusal_text ? domain_bookings_remember(&context, run_input(run),
                                                                     status, run->refusal_text,
                                                                     on_remembered, run, &error)
                                          : NULL;
        if (run->store_op) {
            json_decref(envelope);
            run_wait(run);
            http_wait_release(run->ctx); /* the wait just taken holds the request instead */
            return;
        }
    }
    json_decref(envelope);
    finish_refusal(run, refusal, "booked", true);
}

/* The retry key and the request's hash, as an Idempotency-Key and its body's hash. */
static void set_retry_key(tool_run_t *run)
{
    if (run->call->retry_key == NULL)
        return;
    snprintf(run->key, sizeof(run->key), "%s", run->call->retry_key);
    run_input(run)->idempotency_key = run->key;
    char *arguments = json_dumps(run->call->arguments, JSON_COMPACT | JSON_SORT_KEYS);
    size_t size = strlen(arguments) + 64;
    char *request = slotd_calloc(1, size);
    snprintf(request, size, "tool %s\n%s", run->call->tool->name, arguments);
    store_key_hash(request, strlen(request), run_input(run)->request_hash);
    free(request);
    free(arguments);
}

static void book_appointment(tool_run_t *run)
{
    domain_booking_input_t *in = run_input(run);
    const char *phone;
    if (!decode_slot(run) || !arg_text(run, "customer_name", 200, true, &in->customer_name) ||
        !arg_text(run, "customer_phone", 50, false, &phone) ||
        !arg_text(run, "customer_email", 320, false, &in->customer_email) ||
        !arg_text(run, "notes", 5000, false, &in->notes) ||
        !arg_id(run, "hold_id", false, &in->hold_id, &in->has_hold))
        return;
    in->customer_phone = phone ? phone : run->call->caller_phone;
    if (in->customer_phone == NULL && in->customer_email == NULL) {
        fail(run, "invalid_argument", "customer_phone",
             "customer_phone is required: the call data has no caller number (or give "
             "customer_email).");
        return;
    }
    set_retry_key(run);
    domain_context_t context = context_of(run);
    domain_refusal_t refusal = {0};
    domain_error_t error = {0};
    run->booking_op = domain_bookings_create(&context, in, on_booked, run, &refusal, &error);
    if (run->booking_op) {
        run_wait(run);
    } else if (refusal.kind != DOMAIN_REFUSAL_NONE) {
        if (refusal.kind == DOMAIN_REFUSAL_UNAVAILABLE)
            http_count_booking(run->ctx, HTTP_BOOKING_CONFLICT);
        finish_refusal(run, &refusal, "booked", false);
    } else {
        fail_domain(run, &error);
    }
    domain_refusal_clear(&refusal);
}

/* ---- find_bookings -------------------------------------------------------------------------- */

static void on_bookings(void *arg, int error, const store_booking_t *const *items, size_t count,
                        bool more)
{
    tool_run_t *run = arg;
    (void)more;
    run_woken(run);
    if (error) {
        fail_store(run, error, "booking");
        return;
    }
    json_t *list = json_array();
    int64_t starts[TOOLS_BOOKINGS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < count && n < TOOLS_BOOKINGS_MAX; i++) {
        const store_booking_t *b = items[i];
        if (strcmp(b->status, "confirmed") != 0 && strcmp(b->status, "pending") != 0)
            continue;
        json_t *booking = http_booking_json(b, run->zone);
        if (booking == NULL)
            continue;
        json_array_append_new(list, booking);
        starts[n++] = b->start;
    }
    char *speech = n ? speech_bookings(&run->speech, starts, n) : speech_no_bookings(&run->speech);
    finish_woken(run, with_speech(json_pack("{s:o}", "bookings", list), speech), false);
}

static void find_bookings(tool_run_t *run)
{
    const char *phone;
    if (!arg_text(run, "customer_phone", 50, false, &phone))
        return;
    if (phone == NULL)
        phone = run->call->caller_phone;
    if (phone == NULL) {
        fail(run, "invalid_argument", "customer_phone",
             "customer_phone is required: the call data has no caller number.");
        return;
    }
    store_booking_filter_t filter = {.has_from = true, .from = run->speech.now};
    domain_context_t context = context_of(run);
    domain_error_t error = {0};
    run->operation = domain_bookings_list(&context, &filter, phone, 50, on_bookings, run, &error);
    if (run->operation)
        run_wait(run);
    else
        fail_domain(run, &error);
}

/* ---- cancel_booking, reschedule_booking ----------------------------------------------------- */

static void on_cancelled(void *arg, int error, const store_booking_t *b)
{
    tool_run_t *run = arg;
    run_woken(run);
    if (error) {
        fail_store(run, error, "booking");
        return;
    }
    touched(run, b->resources, b->resource_count, b->xid, STORE_CHANGE_UNBOOKED);
    json_t *booking = http_booking_json(b, run->zone);
    if (booking == NULL) {
        fail_woken(run, "internal", NULL, "The booking was cancelled but could not be read back.");
        return;
    }
    json_t *result = json_pack("{s:b, s:o}", "cancelled", true, "booking", booking);
    finish_woken(run, with_speech(result, speech_cancelled(&run->speech, b->start)), false);
}

static void cancel_booking(tool_run_t *run)
{
    const char *reason;
    bool given;
    if (!arg_id(run, "booking_id", true, &run->booking_id, &given) ||
        !arg_text(run, "reason", 1000, false, &reason))
        return;
    set_actor(run);
    domain_context_t context = context_of(run);
    domain_error_t error = {0};
    run->store_op = domain_bookings_cancel(&context, &run->booking_id, reason, run->actor,
                                           on_cancelled, run, &error);
    if (run->store_op)
        run_wait(run);
    else
        fail_domain(run, &error);
}

static void on_moved(void *arg, const store_booking_outcome_t *outcome,
                     const domain_refusal_t *refusal)
{
    tool_run_t *run = arg;
    run_woken(run);
    if (outcome->error == STORE_ECONFLICT) {
        fail_woken(run, "conflict", NULL, "A cancelled booking cannot be rescheduled.");
        return;
    }
    if (outcome->error == STORE_BOOKING_EREFUSED || outcome->error == STORE_BOOKING_EOVERLAP) {
        finish_refusal(run, refusal, "rescheduled", true);
        return;
    }
    if (outcome->error) {
        fail_store(run, outcome->error, "booking");
        return;
    }
    const store_booking_t *b = outcome->booking;
    touched(run, b->resources, b->resource_count, outcome->xid, STORE_CHANGE_BOOKED);
    touched(run, outcome->released, outcome->released_count, outcome->xid, STORE_CHANGE_UNBOOKED);
    json_t *booking = http_booking_json(b, run->zone);
    if (booking == NULL) {
        fail_woken(run, "internal", NULL, "The booking was moved but could not be read back.");
        return;
    }
    json_t *result = json_pack("{s:b, s:o}", "rescheduled", true, "booking", booking);
    finish_woken(run, with_speech(result, speech_rescheduled(&run->speech, b->start)), false);
}

static void reschedule_booking(tool_run_t *run)
{
    bool given;
    domain_booking_input_t *in = run_input(run);
    if (!arg_id(run, "booking_id", true, &run->booking_id, &given) || !arg_start(run, &in->start))
        return;
    in->now = run->speech.now;
    set_actor(run);
    in->actor = run->actor;
    domain_context_t context = context_of(run);
    domain_error_t error = {0};
    run->booking_op =
        domain_bookings_reschedule(&context, &run->booking_id, in, on_moved, run, &error);
    if (run->booking_op)
        run_wait(run);
    else
        fail_domain(run, &error);
}

/* ---- running -------------------------------------------------------------------------------- */

static const tool_fn tool_functions[TOOLS_COUNT] = {
    list_services, find_slots,     hold_slot,         book_appointment,
    find_bookings, cancel_booking, reschedule_booking};

/* With the directory at hand: the speech context, then the tool. */
static void run_tool(tool_run_t *run, const tools_directory_t *directory)
{
    const char *locale;
    run->directory = directory;
    snprintf(run->zone, sizeof(run->zone), "%s", directory->zone);
    if (tz_zone_find(run->zone, &run->speech.zone) != 0) {
        snprintf(run->zone, sizeof(run->zone), "UTC");
        tz_zone_find("UTC", &run->speech.zone);
    }
    run->speech.now = http_now(run->ctx->server);
    run->speech.language = speech_language(directory->language);
    if (!arguments_known(run) || !arg_text(run, "locale", 16, false, &locale))
        return;
    if (locale)
        run->speech.language = speech_language(locale);
    tool_functions[run->call->tool - http_tools](run);
}

static bool directory_of(const tools_directory_t *d, const eng_id_t *org)
{
    return d && memcmp(&d->organization, org, sizeof(*org)) == 0;
}

static void on_directory(const PGresult *result, const char *sqlstate, void *arg)
{
    tool_run_t *run = arg;
    http_server_t *s = run->ctx->server;
    run_woken(run);
    tools_directory_t **slot = directory_slot(s, &run->ctx->organization);
    bool mine = directory_of(*slot, &run->ctx->organization);
    tools_directory_t *d =
        result && sqlstate == NULL ? directory_from(result, &run->ctx->organization) : NULL;
    if (d) {
        d->loaded_ms = uv_now(s->loop);
        if (*slot)
            directory_free(*slot);
        *slot = d;
    } else if (!mine) {
        http_ctx_t *ctx = run->ctx;
        if (result && sqlstate == NULL)
            finish(run, error_json("not_found", NULL, "No such organization."), true);
        else
            finish(run,
                   error_json("unavailable", NULL,
                              "The database is not reachable right now; please try again."),
                   true);
        http_wait_release(ctx);
        return;
    } /* else: the database failed, and a directory read earlier serves meanwhile */
    http_ctx_t *ctx = run->ctx;
    run_tool(run, *slot);
    http_wait_release(ctx);
}

/* A directory read again in the background, while the one it replaces keeps serving. */
typedef struct {
    http_server_t *server;
    eng_id_t organization;
} refresh_t;

static void on_refreshed(const PGresult *result, const char *sqlstate, void *arg)
{
    refresh_t *r = arg;
    tools_directory_t **slot = directory_slot(r->server, &r->organization);
    if (directory_of(*slot, &r->organization)) {
        (*slot)->refreshing = false;
        if (result && sqlstate == NULL) {
            /* no row: the organization is gone, and so is its directory */
            tools_directory_t *d = directory_from(result, &r->organization);
            if (d)
                d->loaded_ms = uv_now(r->server->loop);
            directory_free(*slot);
            *slot = d;
        } /* else: the database failed; the one read before serves on, and is read again on
             the next call */
    }
    free(r);
}

void http_tool_call(http_ctx_t *ctx, http_tool_call_t *call)
{
    tool_run_t *run = slotd_calloc(1, sizeof(*run));
    run->ctx = ctx;
    run->call = call;
    call->resource_count = 0;
    http_server_t *s = ctx->server;
    tools_directory_t **slot = directory_slot(s, &ctx->organization);
    const char *values[1] = {ctx->organization_text};
    if (directory_of(*slot, &ctx->organization)) {
        /* kept: it serves at once; once old, one read of a newer one starts beside it, so no
         * call waits for the database and a burst of calls reads it once */
        tools_directory_t *d = *slot;
        if (uv_now(s->loop) - d->loaded_ms >= TOOLS_DIRECTORY_SECONDS * 1000 && !d->refreshing) {
            refresh_t *r = slotd_calloc(1, sizeof(*r));
            r->server = s;
            r->organization = ctx->organization;
            if (store_query(http_pool(ctx), "agent_directory", 1, values, on_refreshed, r))
                d->refreshing = true;
            else
                free(r);
        }
        run_tool(run, d);
        return;
    }
    run->query = store_query(http_pool(ctx), "agent_directory", 1, values, on_directory, run);
    if (run->query == NULL) {
        fail(run, "unavailable", NULL,
             "The database is not reachable right now; please try again.");
        return;
    }
    run_wait(run);
}
