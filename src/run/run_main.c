#include "run/run_main.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/clock.h"
#include "core/hist.h"
#include "run/cli_run.h"
#include "run/engine.h"
#include "run/probe.h"
#include "run/progress.h"
#include "run/report.h"
#include "run/report_json.h"
#include "run/report_jtl.h"
#include "run/report_text.h"
#include "run/stats.h"
#include "run/timeline.h"

#define RUN_TICK_MS        250 /* main loop: progress line and timeline checks */
#define RUN_EXIT_OK        0
#define RUN_EXIT_RUNTIME   1
#define RUN_EXIT_USAGE     2
#define RUN_EXIT_THRESHOLD 99
#define RUN_EXIT_INTERRUPT 130

/* The main thread's state while the workers run. */
typedef struct run_state {
    engine *e;
    uv_loop_t loop;
    uv_timer_t tick; /* progress line */
    uv_timer_t row;  /* timeline rows, on the second */
    uv_signal_t sigint;
    uv_async_t notify;
    progress pr;
    timeline tl;
    stats_interval acc;
    uint64_t next_row_ns; /* when the next timeline row is taken (monotonic) */
    bool interrupted;
    bool finished;
    bool started; /* the workers ran: there is something to report */
} run_state;

/* Adds every worker's interval into the accumulator and appends a row. */
static void run_take_row(run_state *rs, uint64_t now)
{
    engine *e = rs->e;
    uint32_t i;

    for (i = 0; i < e->nthreads; i++)
        stats_take_interval(&e->workers[i].st, &rs->acc);
    timeline_add(&rs->tl, &rs->acc, now);
    stats_interval_reset(&rs->acc);
}

static void run_on_row(uv_timer_t *t);

static void run_draw(run_state *rs, uint64_t now, bool force)
{
    engine *e = rs->e;
    stats_counts c;
    progress_snapshot snap;
    uint32_t i;

    if (!rs->pr.enabled)
        return;
    stats_counts_init(&c);
    for (i = 0; i < e->nthreads; i++)
        stats_peek(&e->workers[i].st, &c);
    progress_snapshot_fill(&snap, &c, &rs->tl, now - e->run_start_ns, e->planned_ns);
    if (force)
        progress_draw(&rs->pr, &snap, now);
    else
        progress_update(&rs->pr, &snap, now);
}

static void run_close_handles(run_state *rs)
{
    uv_close((uv_handle_t *)&rs->tick, NULL);
    uv_close((uv_handle_t *)&rs->row, NULL);
    uv_close((uv_handle_t *)&rs->sigint, NULL);
    uv_close((uv_handle_t *)&rs->notify, NULL);
}

static void run_on_tick(uv_timer_t *t)
{
    run_state *rs = t->data;

    run_draw(rs, clock_now_ns(), false);
}

/* Arms the row timer for the next whole second of the run (libuv counts
 * milliseconds; rounding up never takes a row early). */
static void run_arm_row(run_state *rs, uint64_t now)
{
    uint64_t wait = rs->next_row_ns > now ? rs->next_row_ns - now : 0;

    uv_timer_start(&rs->row, run_on_row, (wait + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS, 0);
}

static void run_on_row(uv_timer_t *t)
{
    run_state *rs = t->data;
    uint64_t now = clock_now_ns();

    if (now >= rs->next_row_ns) {
        run_take_row(rs, now);
        while (rs->next_row_ns <= now)
            rs->next_row_ns += CLOCK_NS_PER_S;
    }
    run_arm_row(rs, now);
}

static void run_on_notify(uv_async_t *h)
{
    run_state *rs = h->data;

    if (!rs->finished && engine_done(rs->e)) {
        rs->finished = true;
        run_close_handles(rs);
    }
}

static void run_on_sigint(uv_signal_t *h, int signum)
{
    run_state *rs = h->data;

    (void)signum;
    if (!rs->interrupted) {
        rs->interrupted = true;
        engine_stop(rs->e);
    }
}

/* "--url http://host/path" for the quick form, else the plan file. */
static const char *run_plan_label(const plan *p, char *out, size_t len)
{
    if (p->path != NULL)
        return p->path;
    if (p->nscenarios > 0 && p->scenarios[0].nsteps > 0) {
        const plan_step *st = &p->scenarios[0].steps[0];
        const url *t = &p->targets[st->target];
        snprintf(out, len, "--url %s://%s%.*s", t->scheme, t->host_header, (int)st->path.len,
                 st->path.src);
        return out;
    }
    return p->name;
}

/* Merges every worker's send lateness (open models) into *h; false when no
 * scenario is an open model or h cannot be allocated (then nothing to free). */
static bool run_lateness(engine *e, hist *h)
{
    uint32_t i;

    if (e->target_rate <= 0 || hist_init(h) < 0)
        return false;
    for (i = 0; i < e->nthreads; i++)
        hist_merge(h, &e->workers[i].lateness);
    return true;
}

/* Prints the send lateness of the open-model scenarios (actual first send
 * of an iteration minus its intended start). */
static void run_print_lateness(const hist *h)
{
    if (h != NULL && hist_count(h) > 0)
        printf("send lateness  p50 %.3f ms   p90 %.3f ms   p99 %.3f ms   p99.9 %.3f ms   max %.3f "
               "ms   (%llu sends)\n",
               (double)hist_percentile(h, 50) / 1e6, (double)hist_percentile(h, 90) / 1e6,
               (double)hist_percentile(h, 99) / 1e6, (double)hist_percentile(h, 99.9) / 1e6,
               (double)hist_max(h) / 1e6, (unsigned long long)hist_count(h));
}

/* Runs the engine under the main loop; returns 0 or a negative error with a
 * message. */
static int run_load(run_state *rs, const run_options *opts, char *err, size_t errlen)
{
    engine *e = rs->e;
    int rc;

    uv_loop_init(&rs->loop);
    uv_timer_init(&rs->loop, &rs->tick);
    uv_timer_init(&rs->loop, &rs->row);
    uv_signal_init(&rs->loop, &rs->sigint);
    uv_async_init(&rs->loop, &rs->notify, run_on_notify);
    rs->tick.data = rs->row.data = rs->sigint.data = rs->notify.data = rs;
    uv_signal_start(&rs->sigint, run_on_sigint, SIGINT);
    /* Drawn on stderr, only when both outputs are terminals (docs/report.md). */
    progress_init(&rs->pr, STDERR_FILENO,
                  progress_enabled(STDERR_FILENO, opts->quiet) && isatty(STDOUT_FILENO));
    e->opts.notify = &rs->notify;
    rc = engine_start(e, err, errlen);
    if (rc < 0) {
        run_close_handles(rs);
        uv_run(&rs->loop, UV_RUN_DEFAULT);
        uv_loop_close(&rs->loop);
        return rc;
    }
    rs->started = true;
    timeline_init(&rs->tl, e->run_start_ns);
    rs->next_row_ns = e->run_start_ns + CLOCK_NS_PER_S;
    uv_timer_start(&rs->tick, run_on_tick, RUN_TICK_MS, RUN_TICK_MS);
    run_arm_row(rs, clock_now_ns());
    run_on_notify(&rs->notify); /* a run with nothing to do ends at once */
    uv_run(&rs->loop, UV_RUN_DEFAULT);
    uv_loop_close(&rs->loop);
    rc = engine_join(e, err, errlen);
    /* The last, partial second. */
    run_take_row(rs, engine_end_ns(e) > e->run_start_ns ? engine_end_ns(e) : clock_now_ns());
    if (rs->pr.enabled)
        progress_end(&rs->pr);
    return rc;
}

static int run_reports(run_state *rs, const run_options *opts, bool *failed_thresholds)
{
    engine *e = rs->e;
    const plan *p = e->plan;
    report_meta m;
    stats merged;
    hist lateness;
    bool has_lateness;
    threshold_result *results = NULL;
    const char **scen = NULL;
    char label[512], err[512];
    size_t i;
    int rc = 0;

    *failed_thresholds = false;
    if (stats_init(&merged, p->nsteps, e->run_start_ns) < 0)
        return -ENOMEM;
    has_lateness = run_lateness(e, &lateness);
    for (i = 0; i < e->nthreads; i++)
        stats_merge(&merged, &e->workers[i].st);
    scen = calloc(p->nscenarios > 0 ? p->nscenarios : 1, sizeof(*scen));
    results = calloc(p->nthresholds > 0 ? p->nthresholds : 1, sizeof(*results));
    if (scen == NULL || results == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (i = 0; i < p->nscenarios; i++)
        scen[i] = p->scenarios[i].name;
    memset(&m, 0, sizeof(m));
    m.plan_name = run_plan_label(p, label, sizeof(label));
    m.scenario_names = scen;
    m.n_scenarios = p->nscenarios;
    m.step_names = (const char *const *)p->step_names;
    m.n_steps = p->nsteps;
    m.target_rate = e->target_rate;
    m.planned_ns = e->planned_ns;
    m.duration_ns = engine_end_ns(e) - e->run_start_ns;
    m.start_wall_ns = e->start_wall_ns;
    m.thresholds = p->thresholds;
    m.n_thresholds = p->nthresholds;
    m.partial = rs->interrupted;
    m.lateness = has_lateness ? &lateness : NULL;
    *failed_thresholds = report_eval_thresholds(&m, &merged, results) > 0;
    if (report_text_write(stdout, &m, &merged, results, opts->latency) < 0)
        rc = -EIO;
    run_print_lateness(m.lateness);
    fflush(stdout);
    if (opts->json_path != NULL &&
        report_json_write(opts->json_path, &m, &merged, &rs->tl, results, err, sizeof(err)) < 0) {
        fprintf(stderr, "tollgate run: %s\n", err);
        rc = -EIO;
    }
out:
    free(scen);
    free(results);
    if (has_lateness)
        hist_free(&lateness);
    stats_free(&merged);
    return rc;
}

int run_main(int argc, char **argv)
{
    run_options opts;
    plan p;
    engine e;
    engine_opts eo;
    report_jtl *jtl = NULL;
    run_state rs;
    bool thresholds_failed = false;
    char err[1024];
    int rc, status = RUN_EXIT_OK;

    memset(&opts, 0, sizeof(opts));
    plan_init(&p);
    rc = run_cli_parse(argc, argv, &opts, &p, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "tollgate run: %s\n", err);
        return rc == -EINVAL ? RUN_EXIT_USAGE : RUN_EXIT_RUNTIME;
    }
    if (opts.help) {
        fputs(run_cli_usage, stdout);
        plan_free(&p);
        return RUN_EXIT_OK;
    }
    memset(&eo, 0, sizeof(eo));
    rc = engine_init(&e, &p, &eo, err, sizeof(err));
    if (rc == 0)
        rc = probe_targets(&p, e.addrs, e.tls, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "tollgate run: %s\n", err);
        status = rc == -ENOMEM ? RUN_EXIT_RUNTIME : RUN_EXIT_USAGE;
        goto out_engine;
    }
    if (opts.jtl_path != NULL) {
        rc = report_jtl_open(&jtl, opts.jtl_path, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "tollgate run: %s\n", err);
            status = RUN_EXIT_RUNTIME;
            goto out_engine;
        }
        e.opts.jtl = jtl;
    }
    memset(&rs, 0, sizeof(rs));
    rs.e = &e;
    if (stats_interval_init(&rs.acc) < 0) {
        fprintf(stderr, "tollgate run: out of memory\n");
        status = RUN_EXIT_RUNTIME;
        goto out_jtl;
    }
    rc = run_load(&rs, &opts, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "tollgate run: %s\n", err);
        status = RUN_EXIT_RUNTIME;
        if (!rs.started)
            goto out_rs;
    }
    if (jtl != NULL) {
        rc = report_jtl_close(jtl, err, sizeof(err));
        jtl = NULL;
        if (rc < 0) {
            fprintf(stderr, "tollgate run: %s\n", err);
            status = RUN_EXIT_RUNTIME;
        }
    }
    if (run_reports(&rs, &opts, &thresholds_failed) < 0)
        status = RUN_EXIT_RUNTIME;
    if (rs.interrupted)
        status = RUN_EXIT_INTERRUPT;
    else if (status == RUN_EXIT_OK && thresholds_failed)
        status = RUN_EXIT_THRESHOLD;
out_rs:
    timeline_free(&rs.tl);
    stats_interval_free(&rs.acc);
out_jtl:
    if (jtl != NULL)
        report_jtl_close(jtl, err, sizeof(err));
out_engine:
    engine_free(&e);
    plan_free(&p);
    return status;
}
