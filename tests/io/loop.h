/*
 * Driving a real libuv loop from a test: run until something happened (or
 * for a while), and listen on a fresh TCP port of 127.0.0.1.
 */
#ifndef SLOTD_TEST_LOOP_H
#define SLOTD_TEST_LOOP_H

#include <stdint.h>
#include <uv.h>

/**
 * Runs the loop until *counter reaches target, failing the test if it never does. A tick
 * wakes the loop every few milliseconds: one UV_RUN_ONCE that runs a timer's callback then
 * waits for I/O, and a listening handle keeps the loop alive, so a completion that comes from
 * a timer would otherwise wait forever.
 */
void test_loop_run_until(uv_loop_t *loop, const int *counter, int target);

/** Runs the loop for about `ms` milliseconds. */
void test_loop_run_for(uv_loop_t *loop, uint64_t ms);

/** Binds `server` (initialized here) to 127.0.0.1 on a free port and listens; returns the port. */
int test_loop_listen(uv_loop_t *loop, uv_tcp_t *server, uv_connection_cb on_connection);

/** A port of 127.0.0.1 that was free a moment ago (nothing listens on it). */
int test_loop_free_port(uv_loop_t *loop);

#endif
