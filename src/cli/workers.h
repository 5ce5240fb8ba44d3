/*
 * slotd serve --workers N: the supervisor of N worker processes that share
 * one address with SO_REUSEPORT (see workers.c).
 */
#ifndef SLOTD_CLI_WORKERS_H
#define SLOTD_CLI_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/** True when nothing listens on `addr` (bound once without SO_REUSEPORT, then let go);
 *  else false with the reason in `error`. */
bool cli_workers_address_free(const struct sockaddr *addr, char *error, size_t size);

/**
 * Runs `count` workers, each this program's `serve` with `argv` (argv[0] is
 * "serve"), until a signal stops them. Returns the exit status: 0 when every
 * worker drained.
 */
int cli_workers_run(int count, int shutdown_timeout_ms, int argc, char **argv);

/**
 * In a worker (started by cli_workers_run): its number, from 1, and the
 * process is tied to its supervisor (SIGTERM when the supervisor dies). 0 in
 * a process that is not a worker. *restarted: the worker replaces one that
 * exited, so it should accept connections only once its index is loaded
 * (the others serve meanwhile).
 */
int cli_worker_begin(bool *restarted);

#endif
