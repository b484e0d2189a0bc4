#include "run/engine.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/clock.h"
#include "run/exec.h"
#include "run/reqbuild.h"

/* ---- setup ---- */

static int engine_resolve(const url *u, struct sockaddr_storage *out, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", (unsigned)u->port);
    rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "cannot resolve '%s': %s", u->host,
                 rc != 0 ? gai_strerror(rc) : "no address");
        return -ENOENT;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

static h1_method engine_method(const char *m)
{
    static const struct {
        const char *name;
        h1_method m;
    } map[] = {{"GET", H1_GET},         {"HEAD", H1_HEAD},     {"POST", H1_POST},
               {"PUT", H1_PUT},         {"DELETE", H1_DELETE}, {"PATCH", H1_PATCH},
               {"OPTIONS", H1_OPTIONS}, {"TRACE", H1_TRACE}};
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].name, m) == 0)
            return map[i].m;
    }
    return H1_METHOD_OTHER;
}

/* Adds the variables captured by `steps` to sc's table. */
static int engine_scan_vars(eng_scenario *sc, const plan_step *steps, size_t n, bool setup)
{
    size_t i, j, k;

    for (i = 0; i < n; i++) {
        for (j = 0; j < steps[i].ncaptures; j++) {
            const char *name = steps[i].captures[j].var;
            for (k = 0; k < sc->nvars; k++) {
                if (strcmp(sc->var_names[k], name) == 0)
                    break;
            }
            if (k == sc->nvars) {
                const char **names = realloc(sc->var_names, (k + 1) * sizeof(*names));
                size_t *lens;
                bool *su;
                if (names == NULL)
                    return -ENOMEM;
                sc->var_names = names;
                lens = realloc(sc->var_lens, (k + 1) * sizeof(*lens));
                if (lens == NULL)
                    return -ENOMEM;
                sc->var_lens = lens;
                su = realloc(sc->var_setup, (k + 1) * sizeof(*su));
                if (su == NULL)
                    return -ENOMEM;
                sc->var_setup = su;
                sc->var_names[k] = name;
                sc->var_lens[k] = strlen(name);
                sc->var_setup[k] = setup;
                sc->nvars++;
            } else if (!setup) {
                sc->var_setup[k] = false;
            }
        }
    }
    return 0;
}

static int engine_prep_steps(engine *e, eng_scenario *sc, const plan_step *steps, size_t n)
{
    const plan *p = e->plan;
    size_t i, j, k;

    for (i = 0; i < n; i++) {
        const plan_step *ps = &steps[i];
        eng_step *es = &e->steps[ps->index];
        const url *t = &p->targets[ps->target];
        size_t len;

        es->ps = ps;
        es->sc = sc;
        es->is_static = reqbuild_is_static(ps);
        es->method = engine_method(ps->method);
        len = strlen(t->scheme) + 3 + strlen(t->host_header) + 1;
        es->url_prefix = malloc(len);
        if (es->url_prefix == NULL)
            return -ENOMEM;
        snprintf(es->url_prefix, len, "%s://%s", t->scheme, t->host_header);
        if (ps->ncaptures == 0)
            continue;
        es->capvar = calloc(ps->ncaptures, sizeof(*es->capvar));
        if (es->capvar == NULL)
            return -ENOMEM;
        for (j = 0; j < ps->ncaptures; j++) {
            if (ps->captures[j].cap.kind == CAPTURE_JSON)
                es->json_capture = true;
            for (k = 0; k < sc->nvars; k++) {
                if (strcmp(sc->var_names[k], ps->captures[j].var) == 0)
                    break;
            }
            es->capvar[j] = k;
        }
    }
    return 0;
}

/* The schedule's length and, for open models, the mean rate. */
static void engine_plan_times(eng_scenario *sc)
{
    const plan_scenario *ps = sc->ps;
    sched_arrivals it;
    char err[128];

    switch (ps->executor) {
    case PLAN_EXEC_CONSTANT_VUS:
    case PLAN_EXEC_RAMPING_VUS:
        sc->planned_ns = ps->vus.duration_ns;
        break;
    case PLAN_EXEC_THREAD_GROUP:
        sc->planned_ns = ps->tg.duration_ns;
        break;
    case PLAN_EXEC_CONSTANT_ARRIVAL_RATE:
    case PLAN_EXEC_RAMPING_ARRIVAL_RATE:
        if (plan_scenario_arrivals_init(ps, &it, err, sizeof(err)) == 0) {
            sc->planned_ns = it.duration_ns;
            if (it.duration_ns > 0)
                sc->target_rate =
                    sched_arrivals_expected(&it, it.duration_ns) / ((double)it.duration_ns / 1e9);
            sched_arrivals_free(&it);
        }
        break;
    case PLAN_EXEC_COUNT:
        break;
    }
}

int engine_init(engine *e, const plan *p, const engine_opts *o, char *err, size_t errlen)
{
    uint32_t vu_base = 0;
    size_t i;
    long cores;
    bool need_tls = false;
    int rc;

    memset(e, 0, sizeof(*e));
    e->plan = p;
    e->opts = *o;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cond, NULL);
    pthread_mutex_init(&e->wake_lock, NULL);
    e->sync_ok = true;
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    e->nthreads = o->threads != 0   ? o->threads
                  : p->threads != 0 ? p->threads
                                    : (uint32_t)(cores > 0 ? cores : 1);
    e->addrs = calloc(p->ntargets > 0 ? p->ntargets : 1, sizeof(*e->addrs));
    e->gates = calloc(p->ntargets > 0 ? p->ntargets : 1, sizeof(*e->gates));
    e->scs = calloc(p->nscenarios > 0 ? p->nscenarios : 1, sizeof(*e->scs));
    e->steps = calloc(p->nsteps > 0 ? p->nsteps : 1, sizeof(*e->steps));
    e->workers = calloc(e->nthreads, sizeof(*e->workers));
    if (!e->addrs || !e->gates || !e->scs || !e->steps || !e->workers) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (i = 0; i < p->ntargets; i++) {
        rc = engine_resolve(&p->targets[i], &e->addrs[i], err, errlen);
        if (rc < 0)
            return rc;
        sgate_init(&e->gates[i]);
        e->ngates = i + 1;
        need_tls |= p->targets[i].tls;
    }
    if (need_tls) {
        rc = tls_ctx_new_client(&e->tls, p->tls_insecure, p->tls_ca, err, errlen);
        if (rc < 0)
            return rc;
    }
    for (i = 0; i < p->nscenarios; i++) {
        eng_scenario *sc = &e->scs[i];
        const plan_scenario *ps = &p->scenarios[i];
        bool open = ps->executor == PLAN_EXEC_CONSTANT_ARRIVAL_RATE ||
                    ps->executor == PLAN_EXEC_RAMPING_ARRIVAL_RATE;

        sc->ps = ps;
        sc->index = i;
        sc->max_vus = plan_scenario_max_vus(ps);
        sc->vu_base = vu_base;
        vu_base += sc->max_vus;
        sc->nshards = open ? (sc->max_vus < e->nthreads ? sc->max_vus : e->nthreads) : e->nthreads;
        atomic_init(&sc->active, 0);
        if (engine_scan_vars(sc, ps->setup, ps->nsetup, true) < 0 ||
            engine_scan_vars(sc, ps->steps, ps->nsteps, false) < 0 ||
            engine_prep_steps(e, sc, ps->setup, ps->nsetup) < 0 ||
            engine_prep_steps(e, sc, ps->steps, ps->nsteps) < 0) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        engine_plan_times(sc);
        if (sc->planned_ns > e->planned_ns)
            e->planned_ns = sc->planned_ns;
        e->target_rate += sc->target_rate;
    }
    if (p->auth.kind == PLAN_AUTH_OAUTH2_CLIENT_CREDENTIALS && p->auth.nclients > 0) {
        if (oauth_init(&e->oauth, &p->auth) < 0) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        e->has_auth = true;
    }
    atomic_init(&e->all_active, 0);
    atomic_init(&e->left, 0);
    atomic_init(&e->stop, 0);
    return 0;
}

void engine_free(engine *e)
{
    size_t i;

    if (e->steps != NULL) {
        for (i = 0; i < e->plan->nsteps; i++) {
            free(e->steps[i].capvar);
            free(e->steps[i].url_prefix);
        }
    }
    if (e->scs != NULL) {
        for (i = 0; i < e->plan->nscenarios; i++) {
            free(e->scs[i].var_names);
            free(e->scs[i].var_lens);
            free(e->scs[i].var_setup);
        }
    }
    if (e->workers != NULL) {
        for (i = 0; i < e->nthreads; i++) {
            if (e->workers[i].has_stats) {
                stats_free(&e->workers[i].st);
                hist_free(&e->workers[i].lateness);
            }
        }
    }
    if (e->has_auth)
        oauth_free(&e->oauth);
    for (i = 0; i < e->ngates; i++)
        sgate_free(&e->gates[i]);
    if (e->sync_ok) {
        pthread_mutex_destroy(&e->lock);
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->wake_lock);
    }
    tls_ctx_free(e->tls);
    free(e->steps);
    free(e->scs);
    free(e->gates);
    free(e->addrs);
    free(e->workers);
    memset(e, 0, sizeof(*e));
}

/* ---- workers ---- */

static void worker_close(worker *w);

static void worker_close_timer(lt_timer *t, uint64_t now)
{
    (void)now;
    worker_close(t->data);
}

void worker_scenario_done(worker *w, uint64_t now)
{
    if (now > w->end_ns)
        w->end_ns = now;
    if (w->live > 0)
        w->live--;
    if (w->live == 0 && !w->closing) {
        /* Close from a clean stack: this may run inside a connection's
         * callback. */
        looptime_timer_start(&w->lt, &w->close_timer, now);
    }
}

static void worker_grace_over(lt_timer *t, uint64_t now)
{
    worker *w = t->data;
    size_t i;

    (void)now;
    for (i = 0; i < w->nxs; i++)
        exec_interrupt(&w->xs[i]);
}

static void worker_on_wake(uv_async_t *h)
{
    worker *w = h->data;
    uint64_t now = looptime_now(&w->lt);
    size_t i;

    if (w->stopping || w->closing || !atomic_load(&w->eng->stop))
        return;
    w->stopping = true;
    looptime_timer_start(&w->lt, &w->stop_timer, now + ENGINE_STOP_GRACE_NS);
    for (i = 0; i < w->eng->oauth.n; i++)
        oauth_fetcher_stop(&w->fetchers[i]);
    for (i = 0; i < w->nxs; i++)
        exec_stop(&w->xs[i]);
}

static void worker_closed_one(worker *w)
{
    if (--w->open_closers == 0)
        uv_stop(&w->loop);
}

static void worker_pool_closed(pool *p)
{
    worker_closed_one(p->data);
}

static void worker_lt_closed(looptime *lt)
{
    worker_closed_one(lt->data);
}

static void worker_wake_closed(uv_handle_t *h)
{
    worker_closed_one(h->data);
}

static void worker_close(worker *w)
{
    size_t i;

    if (w->closing)
        return;
    w->closing = true;
    if (w->fetchers != NULL) {
        for (i = 0; i < w->eng->oauth.n; i++)
            oauth_fetcher_stop(&w->fetchers[i]);
    }
    /* One for this function, so that nothing stops the loop before every
     * close is under way. */
    w->open_closers = 1;
    if (w->pools != NULL) {
        for (i = 0; i < w->eng->plan->ntargets; i++) {
            w->open_closers++;
            pool_close(&w->pools[i], worker_pool_closed);
        }
    }
    if (w->has_wake) {
        w->open_closers++;
        pthread_mutex_lock(&w->eng->wake_lock);
        uv_close((uv_handle_t *)&w->wake, worker_wake_closed);
        pthread_mutex_unlock(&w->eng->wake_lock);
    }
    if (w->has_lt) {
        w->open_closers++;
        looptime_close(&w->lt, worker_lt_closed);
    }
    worker_closed_one(w);
}

/* Renders the request of every static step once for this loop. */
static int worker_static_requests(worker *w)
{
    const plan *p = w->eng->plan;
    buf scratch;
    tmpl_ctx ctx;
    char err[256];
    size_t i;
    int rc = 0;

    buf_init(&scratch, 0);
    memset(&ctx, 0, sizeof(ctx));
    ctx.rng = &w->rng;
    for (i = 0; i < p->nsteps && rc == 0; i++) {
        const eng_step *es = &w->eng->steps[i];
        buf_init(&w->static_req[i], 0);
        if (es->ps == NULL || !es->is_static)
            continue;
        rc = reqbuild_render(&w->static_req[i], &scratch, es->ps,
                             p->targets[es->ps->target].host_header, &ctx, NULL, 0, err,
                             sizeof(err));
        if (rc < 0)
            snprintf(w->errmsg, sizeof(w->errmsg), "%s", err);
    }
    buf_free(&scratch);
    return rc;
}

static int worker_setup(worker *w)
{
    engine *e = w->eng;
    const plan *p = e->plan;
    size_t i, nvus = 0;
    int rc;

    rc = uv_loop_init(&w->loop);
    if (rc < 0)
        return rc;
    w->has_loop = true;
    rc = looptime_init(&w->lt, &w->loop);
    if (rc < 0)
        return rc;
    w->has_lt = true;
    w->lt.data = w;
    looptime_timer_init(&w->stop_timer, worker_grace_over, w);
    looptime_timer_init(&w->close_timer, worker_close_timer, w);
    rc = uv_async_init(&w->loop, &w->wake, worker_on_wake);
    if (rc < 0)
        return rc;
    w->has_wake = true;
    w->wake.data = w;
    w->pools = calloc(p->ntargets > 0 ? p->ntargets : 1, sizeof(*w->pools));
    w->static_req = calloc(p->nsteps > 0 ? p->nsteps : 1, sizeof(*w->static_req));
    w->fetchers = calloc(e->oauth.n > 0 ? e->oauth.n : 1, sizeof(*w->fetchers));
    w->xs = calloc(p->nscenarios > 0 ? p->nscenarios : 1, sizeof(*w->xs));
    if (!w->pools || !w->static_req || !w->fetchers || !w->xs)
        return -ENOMEM;
    for (i = 0; i < p->ntargets; i++) {
        pool_config pc;
        memset(&pc, 0, sizeof(pc));
        pc.addr = e->addrs[i];
        pc.tls = p->targets[i].tls ? e->tls : NULL;
        pc.host = p->targets[i].host;
        pc.connect_timeout_ns = p->connect_timeout_ns;
        pc.response_timeout_ns = p->response_timeout_ns;
        pool_init(&w->pools[i], &w->loop, &w->lt, &pc);
        w->pools[i].data = w;
    }
    retry_budget_init(&w->budget);
    rng_seed(&w->rng, p->seed * 0x9E3779B97F4A7C15ull + w->index + 1);
    rc = stats_init(&w->st, p->nsteps, 0);
    if (rc == 0)
        rc = hist_init(&w->lateness);
    w->has_stats = true;
    if (rc < 0)
        return rc;
    rc = worker_static_requests(w);
    if (rc < 0)
        return rc;
    for (i = 0; i < e->oauth.n; i++)
        oauth_fetcher_init(&w->fetchers[i], &e->oauth, i, &w->pools[p->auth.token_target],
                           &e->gates[p->auth.token_target], &w->lt, &w->rng, &w->st);
    for (i = 0; i < p->nscenarios; i++) {
        rc = exec_init(&w->xs[i], w, &e->scs[i], w->errmsg, sizeof(w->errmsg));
        w->nxs = i + 1;
        if (rc < 0)
            return rc;
        nvus += w->xs[i].nvus;
    }
    w->live = w->nxs;
    return looptime_reserve(&w->lt, nvus + w->nxs + e->oauth.n + 8);
}

/* Releases what worker_setup made; the loop's handles are closed. */
static void worker_teardown(worker *w)
{
    engine *e = w->eng;
    size_t i;

    for (i = 0; i < w->nxs; i++)
        exec_free(&w->xs[i]);
    if (w->fetchers != NULL) {
        for (i = 0; i < e->oauth.n; i++)
            oauth_fetcher_free(&w->fetchers[i]);
    }
    if (w->pools != NULL) {
        for (i = 0; i < e->plan->ntargets; i++)
            pool_free(&w->pools[i]);
    }
    if (w->static_req != NULL) {
        for (i = 0; i < e->plan->nsteps; i++)
            buf_free(&w->static_req[i]);
    }
    looptime_free(&w->lt);
    free(w->xs);
    free(w->fetchers);
    free(w->static_req);
    free(w->pools);
    w->xs = NULL;
    w->fetchers = NULL;
    w->static_req = NULL;
    w->pools = NULL;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    engine *e = w->eng;
    bool abort_run;
    size_t i;
    int rc;

    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* precise timerfd wake-ups */
    rc = worker_setup(w);
    if (rc < 0) {
        w->err = rc;
        if (w->errmsg[0] == '\0')
            snprintf(w->errmsg, sizeof(w->errmsg), "cannot set up a worker: %s", strerror(-rc));
    }
    pthread_mutex_lock(&e->lock);
    e->nready++;
    pthread_cond_broadcast(&e->cond);
    while (!e->go)
        pthread_cond_wait(&e->cond, &e->lock);
    abort_run = e->abort_start;
    pthread_mutex_unlock(&e->lock);

    if (w->err == 0 && !abort_run) {
        w->st.run_start_ns = e->run_start_ns;
        w->end_ns = e->run_start_ns;
        for (i = 0; i < w->nxs; i++)
            exec_start(&w->xs[i], e->run_start_ns);
        if (w->nxs == 0)
            worker_close(w);
        uv_run(&w->loop, UV_RUN_DEFAULT);
    } else if (w->has_loop) {
        worker_close(w);
    }
    if (w->has_loop) {
        /* Let every close callback run, then release the loop. */
        uv_run(&w->loop, UV_RUN_DEFAULT);
        worker_teardown(w);
        uv_loop_close(&w->loop);
    }
    atomic_fetch_sub(&e->left, 1);
    if (e->opts.notify != NULL)
        uv_async_send(e->opts.notify);
    return NULL;
}

int engine_start(engine *e, char *err, size_t errlen)
{
    uint32_t i, created = 0;
    int rc = 0;

    e->nready = 0;
    e->go = false;
    e->abort_start = false;
    atomic_store(&e->left, e->nthreads);
    for (i = 0; i < e->nthreads; i++) {
        worker *w = &e->workers[i];
        w->eng = e;
        w->index = i;
        rc = pthread_create(&w->tid, NULL, worker_main, w);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
            rc = -rc;
            break;
        }
        w->started = true;
        created++;
    }
    pthread_mutex_lock(&e->lock);
    while (e->nready < created)
        pthread_cond_wait(&e->cond, &e->lock);
    for (i = 0; i < created && rc == 0; i++) {
        if (e->workers[i].err != 0) {
            snprintf(err, errlen, "%s", e->workers[i].errmsg);
            rc = e->workers[i].err;
        }
    }
    e->run_start_ns = clock_now_ns();
    e->start_wall_ns = clock_wall_ns();
    e->abort_start = rc != 0;
    e->go = true;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    if (rc != 0) {
        atomic_fetch_sub(&e->left, e->nthreads - created);
        for (i = 0; i < created; i++)
            pthread_join(e->workers[i].tid, NULL);
        for (i = 0; i < e->nthreads; i++)
            e->workers[i].started = false;
    }
    return rc;
}

void engine_stop(engine *e)
{
    uint32_t i;

    atomic_store(&e->stop, 1);
    pthread_mutex_lock(&e->wake_lock);
    for (i = 0; i < e->nthreads; i++) {
        worker *w = &e->workers[i];
        if (w->started && !uv_is_closing((uv_handle_t *)&w->wake))
            uv_async_send(&w->wake);
    }
    pthread_mutex_unlock(&e->wake_lock);
}

bool engine_done(engine *e)
{
    return atomic_load(&e->left) == 0;
}

int engine_join(engine *e, char *err, size_t errlen)
{
    uint32_t i;
    int rc = 0;

    for (i = 0; i < e->nthreads; i++) {
        worker *w = &e->workers[i];
        if (!w->started)
            continue;
        pthread_join(w->tid, NULL);
        w->started = false;
        if (rc == 0 && w->err != 0) {
            rc = w->err;
            snprintf(err, errlen, "%s", w->errmsg);
        }
    }
    return rc;
}

uint64_t engine_end_ns(const engine *e)
{
    uint64_t end = e->run_start_ns;
    uint32_t i;

    for (i = 0; i < e->nthreads; i++) {
        if (e->workers[i].end_ns > end)
            end = e->workers[i].end_ns;
    }
    return end;
}
