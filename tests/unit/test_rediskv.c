#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/clock.h"
#include "serve/rediskv.h"
#include "redis_fixture.h"

static redis_fixture fx;

static int group_setup(void **state)
{
    (void)state;
    return redis_fixture_start(&fx);
}

static int group_teardown(void **state)
{
    (void)state;
    redis_fixture_stop(&fx);
    return 0;
}

/* What a call's callback saw. */
typedef struct seen {
    int calls;
    int status;
    int type;
    long long first;
    char str[64];
    uint64_t at_ms;
    uv_loop_t *loop;
} seen;

static void on_reply(void *arg, const redisReply *r, int status)
{
    seen *s = arg;

    s->calls++;
    s->status = status;
    s->at_ms = uv_now(s->loop);
    s->type = r != NULL ? r->type : -1;
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_INTEGER)
        s->first = r->element[0]->integer;
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 1 &&
        r->element[1]->type == REDIS_REPLY_STRING)
        snprintf(s->str, sizeof(s->str), "%s", r->element[1]->str);
    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        snprintf(s->str, sizeof(s->str), "%s", r->str);
}

/* Runs the loop until s saw a call or ms passed. */
static void run_until(uv_loop_t *loop, const seen *s, uint64_t ms)
{
    uint64_t end = clock_now_ns() + ms * CLOCK_NS_PER_MS;

    while (s->calls == 0 && clock_now_ns() < end)
        uv_run(loop, UV_RUN_NOWAIT);
}

static void opts(redisstore_opts *o, int port, uint64_t timeout_ms)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->host, sizeof(o->host), "127.0.0.1");
    o->port = port;
    o->timeout_ns = timeout_ms * CLOCK_NS_PER_MS;
}

static int eval(rediskv *kv, const char *script, const char *a1, seen *s)
{
    const char *argv[2] = {"tg:test:k", a1};
    size_t lens[2] = {strlen(argv[0]), strlen(a1)};

    return rediskv_eval(kv, script, 1, 2, argv, lens, on_reply, s);
}

static void finish(uv_loop_t *loop, rediskv *kv)
{
    rediskv_free(kv);
    for (int i = 0; i < 10; i++)
        uv_run(loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* A script call answers with the script's reply; KEYS and ARGV arrive in
 * order; an error reply is -EPROTO with its text. */
static void test_eval_reply_and_error(void **state)
{
    uv_loop_t loop;
    redisstore_opts o;
    rediskv *kv;
    seen s = {.loop = &loop}, e = {.loop = &loop};

    (void)state;
    uv_loop_init(&loop);
    opts(&o, fx.port, 1000);
    assert_int_equal(rediskv_new(&kv, &loop, &o), 0);
    assert_int_equal(eval(kv,
                          "redis.call('SET', KEYS[1], ARGV[1]) "
                          "return {7, redis.call('GET', KEYS[1]) .. '!'}",
                          "hello", &s),
                     0);
    run_until(&loop, &s, 2000);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status, 0);
    assert_int_equal(s.first, 7);
    assert_string_equal(s.str, "hello!");
    assert_int_equal(eval(kv, "return redis.error_reply('nope ' .. ARGV[1])", "x", &e), 0);
    run_until(&loop, &e, 2000);
    assert_int_equal(e.calls, 1);
    assert_int_equal(e.status, -EPROTO);
    assert_string_equal(e.str, "nope x");
    finish(&loop, kv);
    assert_int_equal(s.calls, 1);
}

/* `db` is selected before the first call. */
static void test_db_selected(void **state)
{
    uv_loop_t loop;
    redisstore_opts o;
    rediskv *kv;
    seen s = {.loop = &loop};
    redisContext *c;
    redisReply *r;

    (void)state;
    uv_loop_init(&loop);
    opts(&o, fx.port, 1000);
    o.db = 3;
    assert_int_equal(rediskv_new(&kv, &loop, &o), 0);
    assert_int_equal(eval(kv, "return {redis.call('SET', KEYS[1], ARGV[1]) and 1}", "in3", &s), 0);
    run_until(&loop, &s, 2000);
    assert_int_equal(s.status, 0);
    finish(&loop, kv);
    c = redisConnect("127.0.0.1", fx.port);
    assert_non_null(c);
    r = redisCommand(c, "SELECT 3");
    freeReplyObject(r);
    r = redisCommand(c, "GET tg:test:k");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, "in3");
    freeReplyObject(r);
    redisFree(c);
}

/* A hung Redis: the call completes with -ETIMEDOUT after its timeout, once;
 * the late reply is dropped; freeing the context then is safe. */
static void test_timeout(void **state)
{
    uv_loop_t loop;
    redisstore_opts o;
    rediskv *kv;
    seen warm = {.loop = &loop}, s = {.loop = &loop};
    uint64_t sent;

    (void)state;
    uv_loop_init(&loop);
    opts(&o, fx.port, 50);
    assert_int_equal(rediskv_new(&kv, &loop, &o), 0);
    assert_int_equal(eval(kv, "return {1}", "x", &warm), 0);
    run_until(&loop, &warm, 2000);
    assert_int_equal(warm.status, 0);
    kill(fx.pid, SIGSTOP);
    uv_update_time(&loop);
    sent = uv_now(&loop);
    assert_int_equal(eval(kv, "return {2}", "x", &s), 0);
    run_until(&loop, &s, 2000);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status, -ETIMEDOUT);
    assert_true(s.at_ms - sent >= 50);
    assert_true(s.at_ms - sent < 500);
    kill(fx.pid, SIGCONT);
    /* the late reply arrives and is dropped */
    for (int i = 0; i < 200; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_int_equal(s.calls, 1);
    finish(&loop, kv);
}

/* Freeing the context answers a pending call -ECONNRESET, at once. */
static void test_free_pending(void **state)
{
    uv_loop_t loop;
    redisstore_opts o;
    rediskv *kv;
    seen s = {.loop = &loop};

    (void)state;
    uv_loop_init(&loop);
    opts(&o, fx.port, 1000);
    assert_int_equal(rediskv_new(&kv, &loop, &o), 0);
    assert_int_equal(eval(kv, "return {1}", "x", &s), 0);
    rediskv_free(kv);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status, -ECONNRESET);
    for (int i = 0; i < 10; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Nothing listening: the call fails (refused at once, or answered with an
 * error within the timeout), exactly once. */
static void test_nothing_listening(void **state)
{
    uv_loop_t loop;
    redisstore_opts o;
    rediskv *kv;
    seen s = {.loop = &loop};
    int rc;

    (void)state;
    uv_loop_init(&loop);
    opts(&o, redis_fixture_free_port(), 50);
    assert_int_equal(rediskv_new(&kv, &loop, &o), 0);
    rc = eval(kv, "return {1}", "x", &s);
    if (rc == 0) {
        run_until(&loop, &s, 1000);
        assert_int_equal(s.calls, 1);
        assert_true(s.status == -ECONNRESET || s.status == -ETIMEDOUT);
    } else {
        assert_int_equal(rc, -ECONNREFUSED);
        assert_int_equal(s.calls, 0);
    }
    finish(&loop, kv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_reply_and_error),
        cmocka_unit_test(test_db_selected),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_free_pending),
        cmocka_unit_test(test_nothing_listening),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
