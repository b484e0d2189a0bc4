#include "run/oauth.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/h1_write.h"
#include "run/retry_after.h"

#define OAUTH_FETCH_ATTEMPTS 5

/* ---- the shared cache ---- */

int oauth_init(oauth *o, const plan_auth *a)
{
    size_t i;

    o->auth = a;
    o->n = a->nclients;
    o->slots = calloc(o->n > 0 ? o->n : 1, sizeof(*o->slots));
    if (o->slots == NULL)
        return -ENOMEM;
    for (i = 0; i < o->n; i++) {
        pthread_mutex_init(&o->slots[i].lock, NULL);
        buf_init(&o->slots[i].token, 0);
    }
    return 0;
}

void oauth_free(oauth *o)
{
    size_t i;

    for (i = 0; i < o->n; i++) {
        pthread_mutex_destroy(&o->slots[i].lock);
        buf_free(&o->slots[i].token);
    }
    free(o->slots);
    o->slots = NULL;
    o->n = 0;
}

enum oauth_status oauth_get(oauth *o, size_t c, uint64_t now, buf *out, uint64_t *gen, bool *fetch,
                            char *err, size_t errlen)
{
    oauth_slot *s = &o->slots[c % o->n];
    enum oauth_status st;

    *fetch = false;
    pthread_mutex_lock(&s->lock);
    if (s->valid && now < s->expires_ns) {
        buf_reset(out);
        if (buf_append(out, buf_ptr(&s->token), s->token.len) < 0) {
            pthread_mutex_unlock(&s->lock);
            snprintf(err, errlen, "oauth: out of memory");
            return OAUTH_FAILED;
        }
        *gen = s->gen;
        if (now >= s->refresh_ns && !s->fetching &&
            (s->failed_ns == 0 || now - s->failed_ns >= OAUTH_FAIL_HOLD_NS)) {
            s->fetching = true;
            *fetch = true;
        }
        st = OAUTH_READY;
    } else if (s->fetching) {
        st = OAUTH_WAIT;
    } else if (s->failed_ns != 0 && now - s->failed_ns < OAUTH_FAIL_HOLD_NS) {
        snprintf(err, errlen, "%s", s->error);
        st = OAUTH_FAILED;
    } else {
        s->fetching = true;
        *fetch = true;
        st = OAUTH_WAIT;
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

void oauth_invalidate(oauth *o, size_t c, uint64_t gen)
{
    oauth_slot *s = &o->slots[c % o->n];

    pthread_mutex_lock(&s->lock);
    if (s->valid && s->gen == gen)
        s->valid = false;
    pthread_mutex_unlock(&s->lock);
}

void oauth_store(oauth *o, size_t c, const char *token, size_t len, uint64_t expires_in_ns,
                 uint64_t now)
{
    oauth_slot *s = &o->slots[c % o->n];
    uint64_t before = o->auth->refresh_before_ns;

    pthread_mutex_lock(&s->lock);
    buf_reset(&s->token);
    s->fetching = false;
    if (buf_append(&s->token, token, len) < 0) {
        s->valid = false;
        s->failed_ns = now != 0 ? now : 1;
        snprintf(s->error, sizeof(s->error), "oauth: out of memory");
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->valid = true;
    s->gen++;
    s->fetches++;
    s->failed_ns = 0;
    if (expires_in_ns == UINT64_MAX || UINT64_MAX - now <= expires_in_ns) {
        s->expires_ns = UINT64_MAX;
        s->refresh_ns = UINT64_MAX;
    } else {
        s->expires_ns = now + expires_in_ns;
        /* A token that lives shorter than refresh_before is refreshed at
         * half its life rather than at once. */
        s->refresh_ns = expires_in_ns > before ? s->expires_ns - before : now + expires_in_ns / 2;
    }
    pthread_mutex_unlock(&s->lock);
}

void oauth_fail(oauth *o, size_t c, const char *why, uint64_t now)
{
    oauth_slot *s = &o->slots[c % o->n];

    pthread_mutex_lock(&s->lock);
    s->fetching = false;
    s->failed_ns = now != 0 ? now : 1;
    snprintf(s->error, sizeof(s->error), "%s", why);
    pthread_mutex_unlock(&s->lock);
}

/* ---- request and response ---- */

/* Appends s as application/x-www-form-urlencoded. */
static int oauth_form_value(buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char esc[3];
    int rc = 0;

    for (; *s != '\0' && rc == 0; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '*') {
            rc = buf_append(out, s, 1);
        } else if (ch == ' ') {
            rc = buf_append(out, "+", 1);
        } else {
            esc[0] = '%';
            esc[1] = hex[ch >> 4];
            esc[2] = hex[ch & 15];
            rc = buf_append(out, esc, 3);
        }
    }
    return rc;
}

int oauth_request(buf *out, const plan_auth *a, size_t c)
{
    const plan_oauth_client *cl = &a->clients[c % a->nclients];
    static const h1_header hdr[] = {
        {"Content-Type", 12, "application/x-www-form-urlencoded", 33},
        {"Accept", 6, "application/json", 16},
    };
    buf body;
    int rc;

    buf_init(&body, 0);
    rc = buf_append_str(&body, "grant_type=client_credentials&client_id=");
    if (rc == 0)
        rc = oauth_form_value(&body, cl->id);
    if (rc == 0)
        rc = buf_append_str(&body, "&client_secret=");
    if (rc == 0)
        rc = oauth_form_value(&body, cl->secret);
    if (rc == 0 && a->scope != NULL) {
        rc = buf_append_str(&body, "&scope=");
        if (rc == 0)
            rc = oauth_form_value(&body, a->scope);
    }
    if (rc == 0)
        rc = h1_write_request(out, "POST", a->token_url.target, strlen(a->token_url.target),
                              a->token_url.host_header, hdr, 2, buf_ptr(&body), body.len, 0);
    buf_free(&body);
    return rc;
}

int oauth_parse_token(const char *body, size_t body_len, json_t **root, const char **tok,
                      size_t *len, uint64_t *expires_in_ns, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *t, *e;

    *root = json_loadb(body, body_len, 0, &jerr);
    if (*root == NULL) {
        snprintf(err, errlen, "the token response is not JSON: %s", jerr.text);
        return -EINVAL;
    }
    t = json_object_get(*root, "access_token");
    if (!json_is_string(t) || json_string_length(t) == 0) {
        snprintf(err, errlen, "the token response has no access_token string");
        json_decref(*root);
        *root = NULL;
        return -EINVAL;
    }
    *tok = json_string_value(t);
    *len = json_string_length(t);
    *expires_in_ns = UINT64_MAX;
    e = json_object_get(*root, "expires_in");
    if (json_is_integer(e) && json_integer_value(e) >= 0) {
        json_int_t v = json_integer_value(e);
        if ((uint64_t)v < UINT64_MAX / CLOCK_NS_PER_S)
            *expires_in_ns = (uint64_t)v * CLOCK_NS_PER_S;
    } else if (json_is_real(e) && json_real_value(e) >= 0 && json_real_value(e) < 1e9) {
        *expires_in_ns = (uint64_t)(json_real_value(e) * 1e9);
    } else if (json_is_string(e)) {
        char *end;
        unsigned long long v = strtoull(json_string_value(e), &end, 10);
        if (*end == '\0' && end != json_string_value(e) && v < UINT64_MAX / CLOCK_NS_PER_S)
            *expires_in_ns = v * CLOCK_NS_PER_S;
    }
    return 0;
}

/* ---- the fetcher ---- */

static void oauth_fetch_attempt(oauth_fetcher *f);

static void oauth_fetch_timer(lt_timer *t, uint64_t now)
{
    (void)now;
    oauth_fetch_attempt(t->data);
}

static void oauth_fetch_fail(oauth_fetcher *f, const char *why)
{
    char msg[OAUTH_ERR_MAX];

    snprintf(msg, sizeof(msg), "oauth token for client '%s': %s",
             f->o->auth->clients[f->client % f->o->auth->nclients].id, why);
    f->busy = false;
    oauth_fail(f->o, f->client, msg, looptime_now(f->lt));
}

static void oauth_fetch_count(oauth_fetcher *f, bool ok)
{
    if (f->st != NULL)
        stats_add_token(f->st, ok);
}

static void oauth_fetch_done(pool_req *r, const pool_result *res)
{
    oauth_fetcher *f = r->owner;
    uint64_t now = looptime_now(f->lt);
    retry_outcome out = {0};
    retry_decision d;
    const h1_header *ra;
    char why[OAUTH_ERR_MAX];

    if (res->msg != NULL && res->msg->status / 100 == 2) {
        json_t *root = NULL;
        const char *tok;
        size_t len;
        uint64_t exp;
        if (oauth_parse_token(buf_ptr(&res->msg->body), res->msg->body.len, &root, &tok, &len, &exp,
                              why, sizeof(why)) < 0) {
            oauth_fetch_count(f, false);
            oauth_fetch_fail(f, why);
            return;
        }
        oauth_fetch_count(f, true);
        f->busy = false;
        oauth_store(f->o, f->client, tok, len, exp, now);
        json_decref(root);
        return;
    }
    oauth_fetch_count(f, false);
    out.idempotent = false;
    if (res->msg != NULL) {
        out.kind = RETRY_OUTCOME_STATUS;
        out.status = res->msg->status;
        ra = h1_msg_header(res->msg, "Retry-After");
        if (ra != NULL && retry_after_parse(ra->value, ra->value_len, looptime_wall(f->lt, now),
                                            &out.retry_after_ns) == 0) {
            out.has_retry_after = true;
            sgate_note(f->gate, now, out.retry_after_ns);
        }
        snprintf(why, sizeof(why), "the token endpoint answered %d", out.status);
    } else {
        if (!res->sent)
            out.kind =
                res->err == POOL_ERR_TLS ? RETRY_OUTCOME_OTHER_ERROR : RETRY_OUTCOME_CONNECT_ERROR;
        else
            out.kind =
                res->err == POOL_ERR_TIMEOUT ? RETRY_OUTCOME_TIMEOUT : RETRY_OUTCOME_OTHER_ERROR;
        snprintf(why, sizeof(why), "%s", res->detail != NULL ? res->detail : "network error");
    }
    d = retry_decide(&f->policy, NULL, &f->rr, &out, now, f->rng);
    if (!d.retry) {
        oauth_fetch_fail(f, why);
        return;
    }
    looptime_timer_start(f->lt, &f->timer, now + d.delay_ns);
}

static void oauth_fetch_attempt(oauth_fetcher *f)
{
    uint64_t now = looptime_now(f->lt);
    uint64_t wait = sgate_wait(f->gate, now);
    char why[OAUTH_ERR_MAX];
    int rc;

    if (wait > 0) {
        /* Held by the gate: released within the window after it opens, like
         * the VUs' sends (run/sgate.h). */
        looptime_timer_start(f->lt, &f->timer, sgate_release(f->gate, now, f->rng));
        return;
    }
    f->req.data = buf_ptr(&f->bytes);
    f->req.len = f->bytes.len;
    f->req.method = H1_POST;
    f->req.keep_body = true;
    f->req.done = oauth_fetch_done;
    f->req.owner = f;
    rc = pool_send(f->pool, &f->req);
    if (rc < 0) {
        snprintf(why, sizeof(why), "cannot send: %s", strerror(-rc));
        oauth_fetch_fail(f, why);
    }
}

void oauth_fetcher_init(oauth_fetcher *f, oauth *o, size_t client, pool *pl, sgate *gate,
                        looptime *lt, rng *r, stats *st)
{
    memset(f, 0, sizeof(*f));
    f->o = o;
    f->client = client;
    f->pool = pl;
    f->gate = gate;
    f->lt = lt;
    f->rng = r;
    f->st = st;
    retry_policy_default(&f->policy, OAUTH_FETCH_ATTEMPTS);
    f->policy.on_errors |= RETRY_ON_TIMEOUT;
    f->policy.retry_non_idempotent = true; /* a token request creates nothing that matters */
    buf_init(&f->bytes, 0);
    looptime_timer_init(&f->timer, oauth_fetch_timer, f);
}

void oauth_fetcher_start(oauth_fetcher *f)
{
    if (f->busy)
        return;
    if (f->bytes.len == 0 && oauth_request(&f->bytes, f->o->auth, f->client) < 0) {
        oauth_fetch_fail(f, "out of memory");
        return;
    }
    f->busy = true;
    retry_begin(&f->rr, NULL, looptime_now(f->lt));
    oauth_fetch_attempt(f);
}

void oauth_fetcher_stop(oauth_fetcher *f)
{
    if (!f->busy)
        return;
    looptime_timer_stop(f->lt, &f->timer);
    pool_cancel(f->pool, &f->req);
    oauth_fetch_fail(f, "the run is stopping");
}

void oauth_fetcher_free(oauth_fetcher *f)
{
    buf_free(&f->bytes);
}
