/*
 * The service's log: one JSON object per line on standard output, for every
 * line slotd writes — {"ts","level","event", then the line's own fields}.
 *
 * Two ways to write a line:
 *
 *     log_info("index_reload_failed", "organization_id", id_text, NULL);
 *
 * takes pairs of string keys and string values, ended by NULL; a line with
 * numbers is built field by field:
 *
 *     log_line_t line;
 *     log_begin(&line, LOG_INFO, "request");
 *     log_str(&line, "route", name);
 *     log_int(&line, "status", 200);
 *     log_end(&line);
 *
 * Before log_start (and after log_stop) lines are written at once with
 * write(2): the command line and start-up may block. Once started on a loop,
 * a line is copied into a fixed buffer and written by libuv (uv_write on a pipe
 * or terminal, uv_fs_write on a file) while the loop goes on; a line that does
 * not fit in the buffer is dropped and counted (log_dropped), never waited for.
 * The loop is single-threaded and so is the log: call it from the loop's
 * thread only.
 */
#ifndef SLOTD_LOG_H
#define SLOTD_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

#define LOG_LINE_MAX 2048

/** A line being built (on the caller's stack); fields past LOG_LINE_MAX are cut. */
typedef struct {
    char text[LOG_LINE_MAX];
    size_t length;
    int cut;
} log_line_t;

/**
 * Writes further lines through `loop`, asynchronously, into `fd` (normally 1).
 * `buffer_bytes` bounds what may wait to be written (0: 1 MiB). Returns 0, or
 * a negative libuv code (the log then stays synchronous).
 */
int log_start(uv_loop_t *loop, int fd, size_t buffer_bytes);

/**
 * Stops writing through the loop; what is buffered is written first (its
 * handles close with the loop's next turns; run the loop until it is empty).
 */
void log_stop(void);

/** Lines dropped because the buffer was full, since the process began. */
uint64_t log_dropped(void);

/** Starts a line: the time, the level and the event name. */
void log_begin(log_line_t *line, log_level_t level, const char *event);

/** A string field (escaped as JSON; NULL is written as null). */
void log_str(log_line_t *line, const char *key, const char *value);

/** An integer field. */
void log_int(log_line_t *line, const char *key, long long value);

/** A number field with three decimals (durations in milliseconds). */
void log_ms(log_line_t *line, const char *key, double value);

/** Ends the line and writes it (or drops it, see above). */
void log_end(log_line_t *line);

/** A whole line made elsewhere (ending with a newline, at most LOG_LINE_MAX * 4 bytes),
 *  written as it is, like the log's own: how a supervisor passes on its workers' lines. */
void log_raw_line(const char *text, size_t length);

/** A line of string fields: key, value, ..., NULL. */
void log_write(log_level_t level, const char *event, ...);
void log_writev(log_level_t level, const char *event, va_list fields);

#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
