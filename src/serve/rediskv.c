#include "serve/rediskv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>

#include "core/log.h"

#define KV_ARGS_MAX 32

/* One call in flight: freed once its reply (or the connection's end) came
 * and its timer is closed. */
typedef struct kv_call {
    rediskv *kv;
    rediskv_cb cb;
    void *arg;
    uv_timer_t timer;
    bool answered; /* cb was called */
} kv_call;

struct rediskv {
    uv_loop_t *loop;
    redisstore_opts o;
    redisAsyncContext *ac;
    bool connected;
    bool closing;
    bool warned;
    uint64_t connect_ms; /* uv_now() of the current connect */
    size_t ncalls;       /* kv_call not freed yet */
};

static void kv_maybe_free(rediskv *kv)
{
    if (kv->closing && kv->ncalls == 0)
        free(kv);
}

static void kv_call_closed(uv_handle_t *h)
{
    kv_call *c = h->data;
    rediskv *kv = c->kv;

    free(c);
    kv->ncalls--;
    kv_maybe_free(kv);
}

static void kv_answer(kv_call *c, const redisReply *r, int status)
{
    if (c->answered)
        return;
    c->answered = true;
    uv_timer_stop(&c->timer);
    c->cb(c->arg, r, status);
}

static void kv_on_timeout(uv_timer_t *t)
{
    kv_answer(t->data, NULL, -ETIMEDOUT);
}

static void kv_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    kv_call *c = priv;
    const redisReply *r = reply;

    (void)ac;
    if (r == NULL)
        kv_answer(c, NULL, -ECONNRESET);
    else if (r->type == REDIS_REPLY_ERROR)
        kv_answer(c, r, -EPROTO);
    else
        kv_answer(c, r, 0);
    uv_close((uv_handle_t *)&c->timer, kv_call_closed);
}

static void kv_on_connect(const redisAsyncContext *ac, int status)
{
    rediskv *kv = ac->data;

    if (kv == NULL || kv->ac != ac)
        return;
    if (status != REDIS_OK) {
        kv->ac = NULL; /* hiredis frees it */
        kv->connected = false;
        return;
    }
    kv->connected = true;
    kv->warned = false;
}

static void kv_on_disconnect(const redisAsyncContext *ac, int status)
{
    rediskv *kv = ac->data;

    (void)status;
    if (kv == NULL || kv->ac != ac)
        return;
    kv->ac = NULL;
    kv->connected = false;
}

static void kv_ignore(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)reply;
    (void)priv;
}

/* Drops the current connection: its calls complete with -ECONNRESET. */
static void kv_drop(rediskv *kv)
{
    redisAsyncContext *ac = kv->ac;

    if (ac == NULL)
        return;
    kv->ac = NULL;
    kv->connected = false;
    ac->data = NULL;
    redisAsyncFree(ac);
}

static int kv_connect(rediskv *kv)
{
    uint64_t now = uv_now(kv->loop);
    redisAsyncContext *ac;

    if (kv->ac != NULL && !kv->connected && now - kv->connect_ms >= REDISKV_CONNECT_MS)
        kv_drop(kv);
    if (kv->ac != NULL)
        return 0;
    ac = redisAsyncConnect(kv->o.host, kv->o.port);
    if (ac == NULL)
        return -ENOMEM;
    if (ac->err != 0) {
        if (!kv->warned)
            log_warn("rediskv", "%s:%d: %s", kv->o.host, kv->o.port, ac->errstr);
        kv->warned = true;
        redisAsyncFree(ac);
        return -ECONNREFUSED;
    }
    if (redisLibuvAttach(ac, kv->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        return -ENOMEM;
    }
    ac->data = kv;
    redisAsyncSetConnectCallback(ac, kv_on_connect);
    redisAsyncSetDisconnectCallback(ac, kv_on_disconnect);
    kv->ac = ac;
    kv->connected = false;
    kv->connect_ms = now;
    if (kv->o.db != 0)
        redisAsyncCommand(ac, kv_ignore, NULL, "SELECT %d", kv->o.db);
    return 0;
}

int rediskv_new(rediskv **out, uv_loop_t *loop, const redisstore_opts *o)
{
    rediskv *kv = calloc(1, sizeof(*kv));

    if (kv == NULL)
        return -ENOMEM;
    kv->loop = loop;
    kv->o = *o;
    if (kv->o.timeout_ns == 0)
        kv->o.timeout_ns = 20000000ULL;
    *out = kv;
    return 0;
}

int rediskv_eval(rediskv *kv, const char *script, size_t nkeys, size_t argc, const char **argv,
                 const size_t *lens, rediskv_cb cb, void *arg)
{
    const char *av[KV_ARGS_MAX + 3];
    size_t al[KV_ARGS_MAX + 3];
    char nk[24];
    uint64_t ms = (kv->o.timeout_ns + 999999ULL) / 1000000ULL;
    kv_call *c;
    int rc;

    if (argc > KV_ARGS_MAX || nkeys > argc || kv->closing)
        return -EINVAL;
    rc = kv_connect(kv);
    if (rc < 0)
        return rc;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->kv = kv;
    c->cb = cb;
    c->arg = arg;
    av[0] = "EVAL";
    al[0] = 4;
    av[1] = script;
    al[1] = strlen(script);
    al[2] = (size_t)snprintf(nk, sizeof(nk), "%zu", nkeys);
    av[2] = nk;
    for (size_t i = 0; i < argc; i++) {
        av[3 + i] = argv[i];
        al[3 + i] = lens[i];
    }
    if (redisAsyncCommandArgv(kv->ac, kv_on_reply, c, (int)argc + 3, av, al) != REDIS_OK) {
        free(c);
        kv_drop(kv);
        return -ECONNREFUSED;
    }
    uv_timer_init(kv->loop, &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, kv_on_timeout, ms, 0);
    kv->ncalls++;
    return 0;
}

void rediskv_free(rediskv *kv)
{
    if (kv == NULL)
        return;
    kv->closing = true;
    kv_drop(kv);
    kv_maybe_free(kv);
}
