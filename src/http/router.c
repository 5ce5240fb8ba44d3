/*
 * The router: which route a request is for, and whether its query string is
 * one that route takes.
 *
 * Paths: a route's pattern is matched segment by segment, ":name" segments
 * becoming ctx->params (":name.ext" takes a segment ending in ".ext", as in
 * /v1/bookings/{id}.ics; such a route comes before the ":name" one). A path that some route has,
 * asked with a method none of them takes, is 405 with an Allow header listing the methods that
 * would have matched; any other path is 404.
 *
 * Query strings are strict, for every route: a route declares the parameters
 * it takes (server.h, http_param_t), and before its handler runs every
 * parameter of the request is checked — a name it does not declare, one given
 * twice when it is not `repeated`, a malformed percent-escape, a decoded
 * control character (%00 included), a leading or trailing space (`%205`, or a
 * `+` that a form encoder turned into a space), a value longer than declared,
 * an id that is not a UUID, a count with anything but digits — each answers
 * 400 naming the parameter. Handlers then read values with http_query_param
 * and judge only their meaning ("a date", "1 to 1000"). A bad value is never
 * taken as absent.
 */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

#define MAX_QUERY_VALUE 1024

/* Matches a path against a pattern, filling params[] from ":name" segments
 * (pointers into `path`, which is cut into them when `cut`). A ":name.ext"
 * segment takes a segment ending in ".ext", the parameter without it. */
static bool match(const char *pattern, char *path, const char **params, bool cut)
{
    int n = 0;
    char *ends[HTTP_MAX_PATH_PARAMS];
    const char *p = pattern;
    char *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        const char *p_end = strchr(p, '/');
        size_t p_len = p_end ? (size_t)(p_end - p) : strlen(p);
        char *s_end = strchr(s, '/');
        size_t s_len = s_end ? (size_t)(s_end - s) : strlen(s);
        if (*p == ':') {
            const char *dot = memchr(p, '.', p_len);
            size_t suffix = dot ? p_len - (size_t)(dot - p) : 0;
            if (s_len <= suffix || n == HTTP_MAX_PATH_PARAMS ||
                (suffix && memcmp(s + s_len - suffix, dot, suffix) != 0))
                return false;
            params[n] = s;
            ends[n++] = s + s_len - suffix;
        } else if (p_len != s_len || memcmp(p, s, p_len) != 0) {
            return false;
        }
        p += p_len;
        s += s_len;
    }
    if (*p || *s)
        return false;
    for (int i = 0; cut && i < n; i++)
        *ends[i] = 0;
    return true;
}

static bool method_is(h2o_req_t *req, const char *method)
{
    return req->method.len == strlen(method) &&
           memcmp(req->method.base, method, req->method.len) == 0;
}

bool http__route(http_ctx_t *ctx, h2o_req_t *req)
{
    const http_server_options_t *o = &ctx->server->options;
    ctx->path_copy = slotd_malloc(req->path_normalized.len + 1);
    memcpy(ctx->path_copy, req->path_normalized.base, req->path_normalized.len);
    ctx->path_copy[req->path_normalized.len] = 0;
    char allow[128] = "";
    size_t allow_len = 0;
    for (size_t i = 0; i < o->route_count; i++) {
        const http_route_t *r = &o->routes[i];
        const char *params[HTTP_MAX_PATH_PARAMS];
        if (!match(r->pattern, ctx->path_copy, params, false))
            continue;
        if (method_is(req, r->method)) {
            ctx->route = r;
            match(r->pattern, ctx->path_copy, ctx->params, true);
            return true;
        }
        if (strstr(allow, r->method) == NULL && allow_len + strlen(r->method) + 3 < sizeof(allow))
            allow_len += (size_t)snprintf(allow + allow_len, sizeof(allow) - allow_len, "%s%s",
                                          allow_len ? ", " : "", r->method);
    }
    if (allow_len == 0) {
        http_respond_error(ctx, 404, "not_found", "No such route.", NULL);
        return false;
    }
    char *value = h2o_mem_alloc_pool(&req->pool, allow_len);
    memcpy(value, allow, allow_len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, value, allow_len);
    char message[192];
    snprintf(message, sizeof(message), "This path does not take that method; it takes %s.", allow);
    http_respond_error(ctx, 405, "method_not_allowed", message, json_pack("{s:s}", "allow", allow));
    return false;
}

/* ---- the query string ------------------------------------------------------------------------ */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX and '+' (a space) of text[0..length) into out (NUL-terminated);
 * returns the decoded length, or -1 on a malformed escape. `out` has length + 1 bytes. */
static long url_decode(const char *text, size_t length, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '%') {
            int hi = i + 1 < length ? hex_digit(text[i + 1]) : -1;
            int lo = hi >= 0 && i + 2 < length ? hex_digit(text[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = text[i] == '+' ? ' ' : text[i];
        }
    }
    out[n] = 0;
    return (long)n;
}

static const http_param_t *declared(const http_route_t *route, const char *name, size_t length)
{
    for (const http_param_t *p = route->params; p && p->name; p++)
        if (strlen(p->name) == length && memcmp(p->name, name, length) == 0)
            return p;
    return NULL;
}

/* Why a decoded value does not fit its declaration, or NULL. */
static const char *value_fault(const http_param_t *p, const char *value, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
            return "must not contain control characters (such as %00)";
    if (length > 0 && (value[0] == ' ' || value[length - 1] == ' '))
        return "must not begin or end with a space (a + in a query means a space: write %2B)";
    if (length > p->max_length)
        return NULL; /* said with the length below */
    if (p->kind == HTTP_PARAM_ID) {
        eng_id_t id;
        if (codec_parse_uuid(value, &id) != 0)
            return "must be an id (a UUID)";
    } else if (p->kind == HTTP_PARAM_COUNT) {
        if (length == 0)
            return "must be a whole number";
        for (size_t i = 0; i < length; i++)
            if (value[i] < '0' || value[i] > '9')
                return "must be a whole number written with digits only";
    }
    return NULL;
}

static bool refuse(http_ctx_t *ctx, const char *name, size_t name_len, const char *fault)
{
    /* the name as the client wrote it, but any byte outside printable ASCII as %XX: the
     * answer must be valid UTF-8 whatever the client sent */
    char field[64], message[256];
    size_t n = 0;
    for (size_t i = 0; i < name_len && n + 4 <= sizeof(field); i++) {
        unsigned char b = (unsigned char)name[i];
        if (b > 0x20 && b < 0x7f)
            field[n++] = (char)b;
        else
            n += (size_t)snprintf(field + n, sizeof(field) - n, "%%%02X", b);
    }
    field[n] = 0;
    snprintf(message, sizeof(message), "The query parameter %s %s.", field, fault);
    http_respond_invalid(ctx, field, message);
    return false;
}

bool http__check_query(http_ctx_t *ctx, h2o_req_t *req)
{
    if (req->query_at == SIZE_MAX)
        return true;
    const char *q = req->path.base + req->query_at + 1;
    const char *end = req->path.base + req->path.len;
    char value[MAX_QUERY_VALUE + 1], name[MAX_QUERY_VALUE + 1];
    unsigned seen = 0; /* bit i: the route's i-th parameter was given */
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        const char *name_end = eq ? eq : stop;
        if (name_end == q) {
            if (stop == q) { /* "a=1&&b=2", or a trailing "&": nothing given */
                q = stop + 1;
                continue;
            }
            return refuse(ctx, "query", 5, "has a value without a name");
        }
        if ((size_t)(name_end - q) > MAX_QUERY_VALUE)
            return refuse(ctx, "query", 5, "has a parameter name that is too long");
        long name_len = url_decode(q, (size_t)(name_end - q), name);
        if (name_len < 0)
            return refuse(ctx, "query", 5, "has a malformed percent-escape in a name");
        const http_param_t *p = declared(ctx->route, name, (size_t)name_len);
        if (p == NULL)
            return refuse(ctx, name, (size_t)name_len, "is not one this route takes");
        unsigned bit = 1u << (p - ctx->route->params);
        if ((seen & bit) && !p->repeated)
            return refuse(ctx, name, (size_t)name_len, "is given more than once");
        seen |= bit;
        const char *raw = eq ? eq + 1 : stop;
        size_t raw_len = (size_t)(stop - raw);
        if (raw_len > MAX_QUERY_VALUE || raw_len > 3u * p->max_length) {
            char fault[64];
            snprintf(fault, sizeof(fault), "is too long (at most %u characters)", p->max_length);
            return refuse(ctx, name, (size_t)name_len, fault);
        }
        long len = url_decode(raw, raw_len, value);
        if (len < 0)
            return refuse(ctx, name, (size_t)name_len,
                          "has a malformed percent-escape (write %XX with two hex digits)");
        const char *fault = value_fault(p, value, (size_t)len);
        if (fault)
            return refuse(ctx, name, (size_t)name_len, fault);
        if ((size_t)len > p->max_length) {
            char too_long[64];
            snprintf(too_long, sizeof(too_long), "is too long (at most %u characters)",
                     p->max_length);
            return refuse(ctx, name, (size_t)name_len, too_long);
        }
        q = stop + 1;
    }
    return true;
}

int http_query_param_all(http_ctx_t *ctx, const char *name, char *values, size_t size, int max)
{
    h2o_req_t *req = ctx->req;
    if (req == NULL || req->query_at == SIZE_MAX)
        return 0;
    const char *q = req->path.base + req->query_at + 1;
    const char *end = req->path.base + req->path.len;
    size_t name_len = strlen(name);
    char decoded[MAX_QUERY_VALUE + 1];
    int n = 0;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        const char *name_end = eq ? eq : stop;
        long got = (size_t)(name_end - q) <= MAX_QUERY_VALUE
                       ? url_decode(q, (size_t)(name_end - q), decoded)
                       : -1;
        if (got == (long)name_len && memcmp(decoded, name, name_len) == 0) {
            const char *raw = eq ? eq + 1 : stop;
            if (n < max) {
                char *out = values + (size_t)n * size;
                if ((size_t)(stop - raw) > MAX_QUERY_VALUE)
                    return -1;
                long len = url_decode(raw, (size_t)(stop - raw), decoded);
                if (len < 0 || (size_t)len >= size)
                    return -1;
                memcpy(out, decoded, (size_t)len + 1);
            }
            n++;
        }
        q = stop + 1;
    }
    return n;
}

const char *http_query_param(http_ctx_t *ctx, const char *name, char *buffer, size_t size)
{
    return http_query_param_all(ctx, name, buffer, size, 1) >= 1 ? buffer : NULL;
}
