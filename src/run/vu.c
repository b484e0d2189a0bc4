#include "run/vu.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "run/capture.h"
#include "run/exec.h"
#include "run/reqbuild.h"
#include "run/rlhdr.h"

#define VU_TOKEN_POLL_NS (1000000ull) /* how often a VU waiting for a token asks again */
#define VU_RL_FIELDS     64           /* rate-limit candidate fields read per response */
#define VU_CAP_HEADERS   256          /* response headers offered to header captures */
#define VU_MSG_MAX       256

static void vu_step_begin(vu *v, uint64_t intended);
static void vu_prepare(vu *v);
static void vu_send(vu *v);
static void vu_on_result(pool_req *r, const pool_result *res);
static void vu_logical(vu *v, bool ok, retry_reason reason, uint64_t now);

/* ---- timers ---- */

static void vu_timer_cb(lt_timer *t, uint64_t now)
{
    vu *v = t->data;
    vu_fn fn = v->timer_fn;

    (void)now;
    v->timer_fn = NULL;
    fn(v);
}

static void vu_wait(vu *v, uint64_t when, vu_fn fn)
{
    v->timer_fn = fn;
    looptime_timer_start(&v->w->lt, &v->timer, when);
}

static uint64_t vu_now(vu *v)
{
    return looptime_now(&v->w->lt);
}

/* ---- setup ---- */

/* Whether a step of scenario ps restarts from an earlier one. */
static bool vu_has_restart(const plan_scenario *ps)
{
    size_t i;

    for (i = 0; i < ps->nsetup + ps->nsteps; i++) {
        if ((i < ps->nsetup ? &ps->setup[i] : &ps->steps[i - ps->nsetup])->restart)
            return true;
    }
    return false;
}

int vu_init(vu *v, worker *w, struct xsc *x, uint32_t index, uint64_t number)
{
    eng_scenario *sc = x->sc;
    const plan *p = w->eng->plan;
    size_t i;

    memset(v, 0, sizeof(*v));
    v->w = w;
    v->x = x;
    v->sc = sc;
    v->index = index;
    v->number = number;
    v->missing = SIZE_MAX;
    v->interrupt_at = UINT64_MAX;
    buf_init(&v->out, 0);
    buf_init(&v->scratch, 0);
    buf_init(&v->url, 0);
    buf_init(&v->bearer, 0);
    looptime_timer_init(&v->timer, vu_timer_cb, v);
    v->req.owner = v;
    v->req.done = vu_on_result;
    snprintf(v->thread_name, sizeof(v->thread_name), "%s %zu-%u", sc->ps->name, sc->index + 1,
             index + 1);
    if (p->auth.kind == PLAN_AUTH_OAUTH2_CLIENT_CREDENTIALS && p->auth.nclients > 0)
        v->client = (size_t)((number - 1) % p->auth.nclients);
    if (sc->nvars > 0) {
        v->vals = calloc(sc->nvars, sizeof(*v->vals));
        v->set = calloc(sc->nvars, sizeof(*v->set));
        v->why = calloc(sc->nvars, sizeof(*v->why));
        if (v->vals == NULL || v->set == NULL || v->why == NULL) {
            vu_free(v);
            return -ENOMEM;
        }
        for (i = 0; i < sc->nvars; i++)
            buf_init(&v->vals[i], 0);
    }
    if (vu_has_restart(sc->ps)) {
        v->nsusp = sc->ps->nsetup + sc->ps->nsteps;
        v->susp = calloc(v->nsusp, sizeof(*v->susp));
        if (v->susp == NULL) {
            vu_free(v);
            return -ENOMEM;
        }
    }
    return 0;
}

void vu_free(vu *v)
{
    size_t i;

    if (v->vals != NULL) {
        for (i = 0; i < v->sc->nvars; i++)
            buf_free(&v->vals[i]);
    }
    free(v->vals);
    free(v->set);
    free(v->why);
    free(v->susp);
    v->susp = NULL;
    v->nsusp = 0;
    v->vals = NULL;
    v->set = NULL;
    v->why = NULL;
    buf_free(&v->out);
    buf_free(&v->scratch);
    buf_free(&v->url);
    buf_free(&v->bearer);
}

/* ---- the end of an iteration ---- */

static void vu_record(vu *v, const plan_step *ps, bool ok, retry_reason reason, uint64_t intended,
                      uint32_t attempts, uint64_t now)
{
    stats_logical l;

    l.step = ps->index;
    l.ok = ok;
    l.giveup = reason;
    l.intended_start_ns = intended;
    l.done_ns = now;
    l.attempts = attempts;
    stats_add_logical(&v->w->st, &l);
}

/* Records the logical requests still waiting for a restart to come back to
 * them as failed: the iteration ended first. */
static void vu_drop_suspended(vu *v, uint64_t now)
{
    const plan_scenario *ps = v->sc->ps;
    size_t k;

    for (k = 0; k < v->nsusp; k++) {
        vu_suspended *su = &v->susp[k];
        if (!su->on)
            continue;
        su->on = false;
        vu_record(v, k < ps->nsetup ? &ps->setup[k] : &ps->steps[k - ps->nsetup], false,
                  RETRY_REASON_NONE, su->intended, su->attempts, now);
    }
}

static void vu_end(vu *v, const char *failure)
{
    vu_drop_suspended(v, vu_now(v));
    if (failure != NULL)
        stats_add_iteration_failed(&v->w->st, failure);
    v->running = false;
    exec_iteration_done(v->x, v, vu_now(v));
}

/* ---- variables ---- */

static int vu_lookup(void *ctx, const char *name, size_t len, const char **value, size_t *value_len)
{
    vu *v = ctx;
    const eng_scenario *sc = v->sc;
    size_t i, unset = SIZE_MAX;

    for (i = 0; i < sc->nvars; i++) {
        if (sc->var_lens[i] == len && memcmp(sc->var_names[i], name, len) == 0) {
            if (v->set[i]) {
                *value = buf_ptr(&v->vals[i]);
                *value_len = v->vals[i].len;
                return 0;
            }
            unset = i;
            break;
        }
    }
    if (v->has_row) {
        feeder_row fr = {&v->w->eng->plan->data, v->row};
        if (feeder_lookup(&fr, name, len, value, value_len) == 0)
            return 0;
    }
    v->missing = unset;
    return -ENOENT;
}

/* Takes the step's captures from response m. */
static void vu_capture(vu *v, const h1_msg *m)
{
    const plan_step *ps = v->ps;
    capture_header hs[VU_CAP_HEADERS];
    size_t nh = 0, j, var;
    json_t *root = NULL;
    json_error_t jerr;
    bool headers_ready = false;
    int rc;

    if (v->es->json_capture)
        root = json_loadb(buf_ptr(&m->body), m->body.len, 0, &jerr);
    for (j = 0; j < ps->ncaptures; j++) {
        const capture *c = &ps->captures[j].cap;
        var = v->es->capvar[j];
        buf_reset(&v->vals[var]);
        v->set[var] = false;
        if (c->kind == CAPTURE_JSON) {
            if (root == NULL) {
                snprintf(v->why[var], sizeof(v->why[var]),
                         "%s: the response body is not JSON (%.60s)", c->text, jerr.text);
                continue;
            }
            rc = capture_json(c, root, &v->vals[var], v->why[var], sizeof(v->why[var]));
        } else {
            if (!headers_ready) {
                for (nh = 0; nh < m->n_headers && nh < VU_CAP_HEADERS; nh++) {
                    hs[nh].name = m->headers[nh].name;
                    hs[nh].name_len = m->headers[nh].name_len;
                    hs[nh].value = m->headers[nh].value;
                    hs[nh].value_len = m->headers[nh].value_len;
                }
                headers_ready = true;
            }
            rc = capture_header_value(c, hs, nh, &v->vals[var], v->why[var], sizeof(v->why[var]));
        }
        if (rc == 0) {
            v->set[var] = true;
            v->why[var][0] = '\0';
        }
    }
    json_decref(root);
}

/* Reads the rate-limit fields of m into *out; false when there are none. */
static bool vu_read_rl(vu *v, const h1_msg *m, uint64_t now, rlhdr_info *out)
{
    rlhdr_field f[VU_RL_FIELDS];
    size_t i, n = 0;

    for (i = 0; i < m->n_headers && n < VU_RL_FIELDS; i++) {
        const h1_header *h = &m->headers[i];
        char c = h->name_len > 0 ? (char)(h->name[0] | 0x20) : 0;
        /* Every dialect's names start with r (RateLimit, Retry-After), x
         * (X-RateLimit) or i (inin-ratelimit). */
        if (c != 'r' && c != 'x' && c != 'i')
            continue;
        f[n].name = h->name;
        f[n].name_len = h->name_len;
        f[n].value = h->value;
        f[n].value_len = h->value_len;
        n++;
    }
    if (n == 0)
        return false;
    rlhdr_read(f, n, looptime_wall(&v->w->lt, now), out);
    return out->dialects != 0;
}

/* ---- iterations and steps ---- */

void vu_start(vu *v, uint64_t intended)
{
    const plan *p = v->w->eng->plan;
    const plan_scenario *ps = v->sc->ps;
    size_t i;

    v->running = true;
    v->in_start = true;
    exec_iteration_started(v->x, v);
    v->iter_intended = intended;
    v->first_send = true;
    v->iterations++;
    stats_add_iteration(&v->w->st, intended);
    for (i = 0; i < v->sc->nvars; i++) {
        if (!v->sc->var_setup[i]) {
            v->set[i] = false;
            v->why[i][0] = '\0';
        }
    }
    if (p->has_data && p->data.nrows > 0) {
        v->has_row = true;
        v->row = p->data_mode == PLAN_DATA_PER_VU ? feeder_row_for_vu(&p->data, v->index)
                                                  : feeder_next_row((feeder *)&p->data);
    }
    v->in_setup = !v->setup_done && ps->nsetup > 0;
    v->step = 0;
    vu_step_begin(v, intended);
    v->in_start = false;
}

static void vu_start_timer(vu *v)
{
    vu_start(v, v->next_intended);
}

void vu_start_at(vu *v, uint64_t when)
{
    v->next_intended = when;
    vu_wait(v, when, vu_start_timer);
}

void vu_cancel_start(vu *v)
{
    if (!v->running)
        looptime_timer_stop(&v->w->lt, &v->timer);
}

/* The suspended-request slot of the current step, or NULL when the scenario
 * has no restart. */
static vu_suspended *vu_suspended_of(vu *v)
{
    size_t k = v->in_setup ? v->step : v->sc->ps->nsetup + v->step;

    return k < v->nsusp ? &v->susp[k] : NULL;
}

static void vu_step_begin(vu *v, uint64_t intended)
{
    const plan_scenario *ps = v->sc->ps;
    worker *w = v->w;
    const plan_step *steps;
    vu_suspended *su;
    size_t n;

    for (;;) {
        n = v->in_setup ? ps->nsetup : ps->nsteps;
        if (v->step < n)
            break;
        if (!v->in_setup) {
            vu_end(v, NULL);
            return;
        }
        v->in_setup = false;
        v->setup_done = true;
        v->step = 0;
    }
    if (w->stopping) {
        vu_end(v, NULL);
        return;
    }
    steps = v->in_setup ? ps->setup : ps->steps;
    v->ps = &steps[v->step];
    v->es = &w->eng->steps[v->ps->index];
    su = vu_suspended_of(v);
    if (su != NULL && su->on) {
        /* Back from a restart: the same logical request goes on. */
        su->on = false;
        v->req_intended = su->intended;
        v->rr = su->rr;
        v->attempts = su->attempts;
    } else {
        v->req_intended = intended;
        retry_begin(&v->rr, v->ps->retry.budget ? &w->budget : NULL, vu_now(v));
        v->attempts = 0;
    }
    v->auth_retried = false;
    vu_prepare(v);
}

/* After a restart's delay: back to the step it names. */
static void vu_restart(vu *v)
{
    v->step = v->ps->restart_from;
    vu_step_begin(v, vu_now(v));
}

static void vu_step_resume(vu *v)
{
    vu_step_begin(v, v->next_intended);
}

static void vu_step_next(vu *v, uint64_t now)
{
    uint64_t think = v->ps->think_time_ns;

    v->step++;
    if (think == 0) {
        vu_step_begin(v, now);
        return;
    }
    if (v->w->stopping) {
        vu_end(v, NULL);
        return;
    }
    v->next_intended = now + think;
    vu_wait(v, now + think, vu_step_resume);
}

/* Ends the iteration for `why` (a request that cannot be built or a token
 * that cannot be had). When that happens to a retry (after a restart whose
 * capture found nothing, say), the logical request it belongs to was sent
 * before: it is recorded as failed. */
static void vu_fail(vu *v, const char *why, uint64_t now)
{
    if (v->attempts > 0)
        vu_logical(v, false, RETRY_REASON_NONE, now);
    vu_end(v, why);
}

/* Builds the request of the current step (with the token, if any). */
static void vu_prepare(vu *v)
{
    worker *w = v->w;
    engine *e = w->eng;
    const plan *p = e->plan;
    const char *bearer = NULL;
    size_t blen = 0, idx = v->ps->index;
    uint64_t now = vu_now(v);
    char err[VU_MSG_MAX];
    int rc;

    if (e->has_auth) {
        bool fetch;
        enum oauth_status st = oauth_get(&e->oauth, v->client, now, &v->bearer, &v->token_gen,
                                         &fetch, err, sizeof(err));
        if (fetch)
            oauth_fetcher_start(&w->fetchers[v->client % e->oauth.n]);
        if (st == OAUTH_FAILED) {
            vu_fail(v, err, now);
            return;
        }
        if (st == OAUTH_WAIT) {
            if (w->stopping) {
                vu_end(v, NULL);
                return;
            }
            vu_wait(v, now + VU_TOKEN_POLL_NS, vu_prepare);
            return;
        }
        bearer = buf_ptr(&v->bearer);
        blen = v->bearer.len;
    }
    if (v->es->is_static && bearer == NULL) {
        v->req.data = buf_ptr(&w->static_req[idx]);
        v->req.len = w->static_req[idx].len;
    } else {
        tmpl_ctx ctx;
        memset(&ctx, 0, sizeof(ctx));
        ctx.rng = &w->rng;
        ctx.iteration = v->iterations - 1;
        ctx.vu = v->number;
        ctx.now_ms = looptime_wall(&w->lt, now) / CLOCK_NS_PER_MS;
        ctx.lookup = vu_lookup;
        ctx.lookup_ctx = v;
        ctx.step = v->ps->name;
        v->missing = SIZE_MAX;
        rc = reqbuild_render(&v->out, &v->scratch, v->ps, p->targets[v->ps->target].host_header,
                             &ctx, bearer, blen, err, sizeof(err));
        if (rc < 0) {
            if (rc == -ENOENT && v->missing != SIZE_MAX && v->why[v->missing][0] != '\0') {
                size_t l = strlen(err);
                snprintf(err + l, sizeof(err) - l, " (%s)", v->why[v->missing]);
            } else if (rc == -ENOMEM || rc == -ENOBUFS) {
                snprintf(err, sizeof(err), "step '%s': out of memory building the request",
                         v->ps->name);
            }
            vu_fail(v, err, now);
            return;
        }
        v->req.data = buf_ptr(&v->out);
        v->req.len = v->out.len;
    }
    v->req.method = v->es->method;
    v->req.keep_body = v->es->json_capture;
    vu_send(v);
}

static void vu_send_failed(vu *v)
{
    pool_result res;
    uint64_t now = vu_now(v);

    memset(&res, 0, sizeof(res));
    res.err = v->send_err == -ENOMEM ? POOL_ERR_OTHER : POOL_ERR_REFUSED;
    res.code = v->send_err;
    res.detail = strerror(-v->send_err);
    res.start_ns = res.end_ns = now;
    vu_on_result(&v->req, &res);
}

static void vu_send(vu *v)
{
    worker *w = v->w;
    size_t target = v->ps->target;
    uint64_t now, wait;
    int rc;

    if (w->stopping) {
        vu_end(v, NULL);
        return;
    }
    now = vu_now(v);
    wait = sgate_wait(&w->eng->gates[target], now);
    if (wait > 0) {
        /* Held: not all at the instant the gate opens, but at a time drawn
         * within the window after it; asked again then. */
        vu_wait(v, sgate_release(&w->eng->gates[target], now, &w->rng), vu_send);
        return;
    }
    v->attempts++;
    stats_add_sent(&w->st, v->ps->index, now);
    rc = pool_send(&w->pools[target], &v->req);
    if (rc < 0) {
        v->send_err = rc;
        vu_wait(v, now, vu_send_failed);
    }
}

/* ---- results ---- */

static stats_neterr vu_neterr(enum pool_err e)
{
    switch (e) {
    case POOL_ERR_NONE:
        return STATS_NETERR_NONE;
    case POOL_ERR_REFUSED:
        return STATS_NETERR_REFUSED;
    case POOL_ERR_RESET:
        return STATS_NETERR_RESET;
    case POOL_ERR_TIMEOUT:
        return STATS_NETERR_TIMEOUT;
    case POOL_ERR_TLS:
        return STATS_NETERR_TLS;
    case POOL_ERR_OTHER:
        break;
    }
    return STATS_NETERR_OTHER;
}

/* The JTL's URL of the request in flight: the target's origin and the
 * request-target of the request line. */
static const char *vu_url(vu *v)
{
    const char *p = v->req.data, *end = v->req.data + v->req.len, *sp, *sp2;

    buf_reset(&v->url);
    sp = memchr(p, ' ', (size_t)(end - p));
    if (sp == NULL)
        return v->es->url_prefix;
    sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
    if (sp2 == NULL)
        return v->es->url_prefix;
    if (buf_append_str(&v->url, v->es->url_prefix) < 0 ||
        buf_append(&v->url, sp + 1, (size_t)(sp2 - sp - 1)) < 0 || buf_append(&v->url, "", 1) < 0)
        return v->es->url_prefix;
    return buf_ptr(&v->url);
}

static void vu_logical(vu *v, bool ok, retry_reason reason, uint64_t now)
{
    vu_record(v, v->ps, ok, reason, v->req_intended, v->attempts, now);
}

static retry_outcome vu_outcome(const vu *v, const pool_result *res, const rlhdr_info *rl)
{
    retry_outcome o;

    memset(&o, 0, sizeof(o));
    o.idempotent = v->ps->idempotent;
    if (res->msg != NULL) {
        o.kind = RETRY_OUTCOME_STATUS;
        o.status = res->msg->status;
        if (rl != NULL && rl->has_retry_after) {
            o.has_retry_after = true;
            o.retry_after_ns = rl->retry_after_ns;
        }
    } else if (!res->sent) {
        /* Nothing left: safe to send again, except that no retry fixes a
         * certificate. */
        o.kind = res->err == POOL_ERR_TLS ? RETRY_OUTCOME_OTHER_ERROR : RETRY_OUTCOME_CONNECT_ERROR;
    } else {
        o.kind = res->err == POOL_ERR_TIMEOUT ? RETRY_OUTCOME_TIMEOUT : RETRY_OUTCOME_OTHER_ERROR;
    }
    return o;
}

static void vu_on_result(pool_req *r, const pool_result *res)
{
    vu *v = r->owner;
    worker *w = v->w;
    engine *e = w->eng;
    const h1_msg *m = res->msg;
    uint64_t now = vu_now(v);
    rlhdr_info rl;
    bool has_rl = false, ok;
    char failure[VU_MSG_MAX];
    stats_attempt a;
    retry_outcome o;
    retry_decision d;

    if (m != NULL)
        has_rl = vu_read_rl(v, m, now, &rl);
    ok = m != NULL && plan_step_expects(v->ps, m->status);
    memset(&a, 0, sizeof(a));
    a.step = v->ps->index;
    a.status = m != NULL ? m->status : 0;
    a.neterr = m != NULL ? STATS_NETERR_NONE : vu_neterr(res->err);
    a.is_retry = v->attempts > 1;
    a.start_ns = res->start_ns;
    a.end_ns = res->end_ns;
    a.start_wall_ns = looptime_wall(&w->lt, res->start_ns);
    a.ttfb_ns = res->ttfb_ns;
    a.connect_ns = res->connect_ns;
    a.bytes_in = res->bytes_in;
    a.bytes_out = res->bytes_out;
    a.label = v->ps->name;
    a.thread_name = v->thread_name;
    a.grp_threads = atomic_load_explicit(&v->sc->active, memory_order_relaxed);
    a.all_threads = atomic_load_explicit(&e->all_active, memory_order_relaxed);
    a.expect_ok = ok;
    a.rl = has_rl ? &rl : NULL;
    if (!ok) {
        if (m != NULL)
            snprintf(failure, sizeof(failure), "unexpected status %d", m->status);
        else
            snprintf(failure, sizeof(failure), "%s", res->detail != NULL ? res->detail : "failed");
        a.failure = failure;
    }
    stats_add_attempt(&w->st, &a);
    if (e->opts.jtl != NULL) {
        a.url = vu_url(v);
        report_jtl_write(e->opts.jtl, &a);
    }
    if (v->first_send) {
        v->first_send = false;
        if (v->x->open && res->send_ns != 0)
            hist_record(&w->lateness,
                        res->send_ns > v->iter_intended ? res->send_ns - v->iter_intended : 0);
    }

    if (ok) {
        if (v->ps->ncaptures > 0)
            vu_capture(v, m);
        vu_logical(v, true, RETRY_REASON_NONE, now);
        vu_step_next(v, now);
        return;
    }
    if (m != NULL && m->status == 401 && e->has_auth && !v->auth_retried && !w->stopping) {
        /* One refresh and one more attempt with the new token. */
        v->auth_retried = true;
        oauth_invalidate(&e->oauth, v->client, v->token_gen);
        vu_prepare(v);
        return;
    }
    o = vu_outcome(v, res, has_rl ? &rl : NULL);
    if (o.has_retry_after && v->ps->retry.honor_retry_after)
        sgate_note(&e->gates[v->ps->target], now, o.retry_after_ns);
    if (w->stopping) {
        vu_logical(v, false, RETRY_REASON_NONE, now);
        vu_end(v, NULL);
        return;
    }
    d = retry_decide(&v->ps->retry, v->ps->retry.budget ? &w->budget : NULL, &v->rr, &o, now,
                     &w->rng);
    if (d.retry && v->ps->restart) {
        vu_suspended *su = vu_suspended_of(v);
        su->on = true;
        su->rr = v->rr;
        su->attempts = v->attempts;
        su->intended = v->req_intended;
        vu_wait(v, now + d.delay_ns, vu_restart);
        return;
    }
    if (d.retry) {
        /* Rendered again: variables captured meanwhile, a fresh token. */
        vu_wait(v, now + d.delay_ns, vu_prepare);
        return;
    }
    vu_logical(v, false, d.reason, now);
    vu_step_next(v, now);
}

/* ---- stopping ---- */

void vu_stop(vu *v)
{
    if (!v->running || !looptime_timer_active(&v->timer))
        return;
    looptime_timer_stop(&v->w->lt, &v->timer);
    v->timer_fn = NULL;
    vu_end(v, NULL);
}

void vu_interrupt(vu *v)
{
    if (!v->running)
        return;
    looptime_timer_stop(&v->w->lt, &v->timer);
    v->timer_fn = NULL;
    if (pool_req_busy(&v->req))
        pool_cancel(&v->w->pools[v->ps->target], &v->req);
    vu_end(v, NULL);
}
