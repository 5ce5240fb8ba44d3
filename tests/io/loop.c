/* Driving a real libuv loop from a test (see loop.h). */
#include "loop.h"

#include "test.h"

static void on_tick(uv_timer_t *timer)
{
    (void)timer;
}

static void run_while(uv_loop_t *loop, const int *counter, int target, uint64_t end_ns)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 5, 5);
    for (int spins = 0; spins < 1000000; spins++) {
        if (counter ? *counter >= target : uv_hrtime() >= end_ns)
            break;
        uv_run(loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

void test_loop_run_until(uv_loop_t *loop, const int *counter, int target)
{
    run_while(loop, counter, target, 0);
    CHECK(*counter >= target);
}

void test_loop_run_for(uv_loop_t *loop, uint64_t ms)
{
    run_while(loop, NULL, 0, uv_hrtime() + ms * 1000000);
}

static int bind_fresh(uv_loop_t *loop, uv_tcp_t *tcp)
{
    uv_tcp_init(loop, tcp);
    struct sockaddr_in addr, bound;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    CHECK_EQ(uv_tcp_bind(tcp, (const struct sockaddr *)&addr, 0), 0);
    int len = sizeof(bound);
    CHECK_EQ(uv_tcp_getsockname(tcp, (struct sockaddr *)&bound, &len), 0);
    return ntohs(bound.sin_port);
}

int test_loop_listen(uv_loop_t *loop, uv_tcp_t *server, uv_connection_cb on_connection)
{
    int port = bind_fresh(loop, server);
    CHECK_EQ(uv_listen((uv_stream_t *)server, 512, on_connection), 0);
    return port;
}

int test_loop_free_port(uv_loop_t *loop)
{
    uv_tcp_t probe;
    int port = bind_fresh(loop, &probe);
    uv_close((uv_handle_t *)&probe, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return port;
}
