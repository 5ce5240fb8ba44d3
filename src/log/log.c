/*
 * The service's log (see log.h for the format and the two ways to call it).
 *
 * Why this shape: a request log written with printf and fflush blocks the
 * loop whenever the reader of standard output is slow (a terminal being
 * scrolled, a full pipe to a log shipper), and every tenant waits for it. So
 * on the loop a line is only ever copied: into `fill`, one of two fixed
 * buffers, while the other (`flight`) is being written by libuv. When the
 * write completes the buffers swap and the next write starts at once. A line
 * that does not fit in `fill` is dropped and counted — the log loses lines
 * under pressure, the service does not slow down. The count is reported in
 * /metrics (slotd_log_dropped_lines_total) and in a line of its own once
 * writing catches up.
 *
 * Invariants:
 *   - at most one write is in flight, and it owns `flight`;
 *   - `fill` holds whole lines only, so nothing interleaves within a line;
 *   - outside the loop (before log_start, after log_stop) a line is written
 *     whole with write(2), blocking: the command line has no loop to stall.
 */
#include "log/log.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slotd/alloc.h"

typedef struct {
    uv_loop_t *loop;
    int fd;
    uv_handle_type type;
    union {
        uv_pipe_t pipe;
        uv_tty_t tty;
    } stream;
    uv_write_t write_req;
    uv_fs_t fs_req;
    char *fill, *flight;
    size_t fill_length, flight_length, half;
    int writing;
    int started;
    uint64_t dropped, dropped_reported;
} log_state_t;

static log_state_t log_state = {.fd = 1};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

uint64_t log_dropped(void)
{
    return log_state.dropped;
}

/* Writes all of `text` to fd, waiting while it would block: outside the loop only. */
static void write_blocking(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t n = write(fd, text, length);
        if (n > 0) {
            text += n;
            length -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 1000) <= 0)
                return;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return;
        }
    }
}

static void start_write(void);

static void on_written(void)
{
    log_state.writing = 0;
    log_state.flight_length = 0;
    if (log_state.fill_length > 0)
        start_write();
}

static void on_stream_written(uv_write_t *req, int status)
{
    (void)req;
    (void)status; /* a lost reader loses lines; nothing to retry */
    on_written();
}

static void on_file_written(uv_fs_t *req)
{
    uv_fs_req_cleanup(req);
    on_written();
}

static void start_write(void)
{
    log_state_t *s = &log_state;
    char *swap = s->flight;
    s->flight = s->fill;
    s->flight_length = s->fill_length;
    s->fill = swap;
    s->fill_length = 0;
    s->writing = 1;
    uv_buf_t buf = uv_buf_init(s->flight, (unsigned)s->flight_length);
    int rc;
    if (s->type == UV_FILE)
        rc = uv_fs_write(s->loop, &s->fs_req, s->fd, &buf, 1, -1, on_file_written);
    else
        rc = uv_write(&s->write_req, (uv_stream_t *)&s->stream, &buf, 1, on_stream_written);
    if (rc != 0) {
        s->writing = 0;
        s->flight_length = 0;
    }
}

int log_start(uv_loop_t *loop, int fd, size_t buffer_bytes)
{
    log_state_t *s = &log_state;
    if (s->started)
        return 0;
    s->fd = fd;
    s->type = uv_guess_handle(fd);
    int rc = 0;
    if (s->type == UV_TTY)
        rc = uv_tty_init(loop, &s->stream.tty, fd, 0);
    else if (s->type == UV_NAMED_PIPE || s->type == UV_TCP) {
        s->type = UV_NAMED_PIPE;
        rc = uv_pipe_init(loop, &s->stream.pipe, 0);
        if (rc == 0 && (rc = uv_pipe_open(&s->stream.pipe, fd)) != 0)
            uv_close((uv_handle_t *)&s->stream.pipe, NULL);
    } else if (s->type != UV_FILE)
        rc = UV_EINVAL;
    if (rc != 0)
        return rc;
    s->half = (buffer_bytes ? buffer_bytes : 1024 * 1024) / 2;
    s->fill = slotd_malloc(s->half);
    s->flight = slotd_malloc(s->half);
    s->loop = loop;
    s->started = 1;
    return 0;
}

void log_stop(void)
{
    log_state_t *s = &log_state;
    if (!s->started)
        return;
    /* let the write in flight finish (bounded: a reader may never read) */
    for (int i = 0; i < 200 && s->writing; i++) {
        uv_run(s->loop, UV_RUN_NOWAIT);
        if (s->writing)
            usleep(5000);
    }
    if (!s->writing) {
        write_blocking(s->fd, s->fill, s->fill_length);
        s->fill_length = 0;
        if (s->type != UV_FILE)
            uv_close((uv_handle_t *)&s->stream, NULL);
        free(s->fill);
        free(s->flight);
        s->fill = s->flight = NULL;
    } /* else the buffers stay with the write that never ended */
    s->started = 0;
}

/* ---- building a line ---------------------------------------------------------------------- */

/* Room always kept at the end of a line for what a cut line ends with: ,"cut":true}\n */
#define LINE_RESERVE 16

static bool fits(const log_line_t *line, size_t length)
{
    return line->length + length + LINE_RESERVE <= LOG_LINE_MAX;
}

static bool put(log_line_t *line, const char *text, size_t length)
{
    if (!fits(line, length)) {
        line->cut = 1;
        return false;
    }
    memcpy(line->text + line->length, text, length);
    line->length += length;
    return true;
}

/* A JSON string of `value`. One too long for the line is cut, never in the middle of an
 * escape or of a UTF-8 sequence, and closed: the line stays valid JSON. */
static bool put_escaped(log_line_t *line, const char *value)
{
    static const char hex[] = "0123456789abcdef";
    if (!fits(line, 2)) {
        line->cut = 1;
        return false;
    }
    put(line, "\"", 1);
    for (const char *p = value; *p; p++) {
        unsigned char c = (unsigned char)*p;
        char piece[6] = {(char)c};
        size_t length = 1;
        if (c == '"' || c == '\\') {
            piece[0] = '\\', piece[1] = (char)c, length = 2;
        } else if (c < 0x20) {
            memcpy(piece, (char[6]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}, 6);
            length = 6;
        }
        if (!fits(line, length + 1)) { /* + the closing quote */
            line->cut = 1;
            if ((c & 0xc0) == 0x80) { /* stopped inside a character: drop its first bytes */
                while ((unsigned char)line->text[line->length - 1] >= 0x80 &&
                       ((unsigned char)line->text[line->length - 1] & 0xc0) == 0x80)
                    line->length--;
                if ((unsigned char)line->text[line->length - 1] >= 0xc0)
                    line->length--;
            }
            break;
        }
        memcpy(line->text + line->length, piece, length);
        line->length += length;
    }
    line->text[line->length++] = '"'; /* room kept above */
    return true;
}

/* A field's key; false (and nothing written) when the line has no room for it. */
static bool put_key(log_line_t *line, const char *key)
{
    size_t start = line->length;
    int was_cut = line->cut; /* a key is never cut: it is there whole, or not at all */
    if (put(line, ",", 1) && put_escaped(line, key) && line->cut == was_cut && put(line, ":", 1))
        return true;
    line->length = start;
    line->cut = 1;
    return false;
}

void log_begin(log_line_t *line, log_level_t level, const char *event)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    line->length =
        (size_t)snprintf(line->text, LOG_LINE_MAX,
                         "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\"",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, now.tv_nsec / 1000000, level_names[level]);
    line->cut = 0;
    put_key(line, "event");
    put_escaped(line, event);
}

/* A field whose value is `text` as it is (a number, null); nothing when it does not fit. */
static void put_plain(log_line_t *line, const char *key, const char *text)
{
    size_t start = line->length;
    if (put_key(line, key) && !put(line, text, strlen(text)))
        line->length = start;
}

void log_str(log_line_t *line, const char *key, const char *value)
{
    if (value == NULL) {
        put_plain(line, key, "null");
        return;
    }
    size_t start = line->length;
    if (put_key(line, key) && !put_escaped(line, value))
        line->length = start;
}

void log_int(log_line_t *line, const char *key, long long value)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", value);
    put_plain(line, key, text);
}

void log_ms(log_line_t *line, const char *key, double value)
{
    char text[40];
    snprintf(text, sizeof(text), "%.3f", value);
    put_plain(line, key, text);
}

static void emit(const char *text, size_t length)
{
    log_state_t *s = &log_state;
    if (!s->started) {
        write_blocking(s->fd, text, length);
        return;
    }
    if (s->fill_length + length > s->half) {
        s->dropped++;
        return;
    }
    memcpy(s->fill + s->fill_length, text, length);
    s->fill_length += length;
    if (!s->writing)
        start_write();
}

void log_end(log_line_t *line)
{
    log_state_t *s = &log_state;
    if (line->cut) { /* room kept for it */
        memcpy(line->text + line->length, ",\"cut\":true", 11);
        line->length += 11;
    }
    memcpy(line->text + line->length, "}\n", 2);
    line->length += 2;
    /* once there is room again, say how many lines were lost */
    if (s->started && s->dropped > s->dropped_reported &&
        s->fill_length + line->length + 160 <= s->half) {
        log_line_t note;
        uint64_t lost = s->dropped - s->dropped_reported;
        s->dropped_reported = s->dropped;
        log_begin(&note, LOG_WARN, "log_lines_dropped");
        log_int(&note, "count", (long long)lost);
        memcpy(note.text + note.length, "}\n", 2);
        emit(note.text, note.length + 2);
    }
    emit(line->text, line->length);
}

void log_writev(log_level_t level, const char *event, va_list fields)
{
    log_line_t line;
    log_begin(&line, level, event);
    for (;;) {
        const char *key = va_arg(fields, const char *);
        if (key == NULL)
            break;
        log_str(&line, key, va_arg(fields, const char *));
    }
    log_end(&line);
}

void log_write(log_level_t level, const char *event, ...)
{
    va_list fields;
    va_start(fields, event);
    log_writev(level, event, fields);
    va_end(fields);
}
