#include "serve/serve_main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "limit/localstore.h"
#include "serve/admin.h"
#include "serve/gateway.h"
#include "serve/gwconf.h"
#include "serve/metrics.h"
#include "serve/profile_builtin.h"
#include "serve/worker.h"

const char serve_usage[] =
    "usage: tollgate serve [--config FILE | --profile NAME] [--listen HOST:PORT]\n"
    "                      [--threads N] [--admin HOST:PORT|off] [--redis URL]\n"
    "                      [--log-level LEVEL]\n"
    "\n"
    "A rate-limiting HTTP gateway. Without a configuration it serves the built-in\n"
    "'contact-center' profile (an emulated platform API) on 127.0.0.1:8080.\n"
    "\n"
    "  --config FILE        the gateway's YAML configuration (docs/serve.md)\n"
    "  --profile NAME       a built-in profile instead (default: contact-center)\n"
    "  --listen HOST:PORT   address to serve on (overrides `listen`)\n"
    "  --threads N          worker threads, 0 = one per core (overrides `threads`)\n"
    "  --admin HOST:PORT    admin listener for /metrics, /limits, /healthz, or 'off'\n"
    "                       (overrides `admin`; default 127.0.0.1:9090)\n"
    "  --redis URL          keep limits in Redis, shared by every gateway using it:\n"
    "                       redis://HOST[:PORT][/DB] (overrides `store`)\n"
    "  --log-level LEVEL    error, warn, info (default) or debug\n"
    "\n"
    "SIGTERM or SIGINT stops accepting, lets in-flight requests finish (up to\n"
    "`drain_timeout`), and exits 0; a second signal closes everything at once.\n"
    "Exit codes: 0 clean shutdown, 1 cannot start (e.g. address in use),\n"
    "2 bad flags or configuration.\n";

typedef struct serve_args {
    const char *config;
    const char *profile;
    gwconf_overrides ov;
} serve_args;

static int serve_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "tollgate serve: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nRun 'tollgate help serve' for the options.\n");
    return 2;
}

/* The value of a flag given as `--flag VALUE` or `--flag=VALUE`. */
static const char *serve_value(int argc, char **argv, int *i, const char *flag)
{
    size_t n = strlen(flag);

    if (strncmp(argv[*i], flag, n) == 0 && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (strcmp(argv[*i], flag) != 0)
        return NULL;
    if (*i + 1 >= argc)
        return "";
    (*i)++;
    return argv[*i];
}

static bool serve_flag_is(const char *arg, const char *flag)
{
    size_t n = strlen(flag);

    return strncmp(arg, flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int serve_parse(int argc, char **argv, serve_args *a)
{
    static const char *const flags[] = {"--config", "--profile",   "--listen", "--threads",
                                        "--admin",  "--log-level", "--redis",  NULL};
    enum log_level level;

    memset(a, 0, sizeof(*a));
    a->ov.threads = -1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        int k;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(serve_usage, stdout);
            return 1;
        }
        for (k = 0; flags[k] != NULL; k++)
            if (serve_flag_is(arg, flags[k]))
                break;
        if (flags[k] == NULL) {
            const char *hint = arg[0] == '-' ? config_suggest(flags, arg) : NULL;

            if (hint != NULL) {
                fprintf(stderr,
                        "tollgate serve: unknown option '%s' (did you mean '%s'?)\n"
                        "Run 'tollgate help serve' for the options.\n",
                        arg, hint);
                return 2;
            }
            return serve_usage_error(
                arg[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", arg);
        }
        v = serve_value(argc, argv, &i, flags[k]);
        if (v == NULL || *v == '\0')
            return serve_usage_error("%s needs a value", flags[k]);
        switch (k) {
        case 0:
            a->config = v;
            break;
        case 1:
            a->profile = v;
            break;
        case 2:
            a->ov.listen = v;
            break;
        case 3: {
            char *end;

            errno = 0;
            a->ov.threads = strtol(v, &end, 10);
            if (*end != '\0' || errno != 0 || a->ov.threads < 0 || v[0] < '0' || v[0] > '9')
                return serve_usage_error("--threads: '%s' is not a number of threads (0 = one "
                                         "per core)",
                                         v);
            break;
        }
        case 4:
            a->ov.admin = v;
            break;
        case 5:
            if (log_parse_level(v, &level) < 0)
                return serve_usage_error(
                    "--log-level: unknown '%s', expected error, warn, info or debug", v);
            log_set_level(level);
            break;
        case 6:
            a->ov.redis = v;
            break;
        }
    }
    if (a->config != NULL && a->profile != NULL)
        return serve_usage_error("%s", "--config and --profile cannot be used together");
    return 0;
}

static unsigned serve_cores(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    return 1;
}

static int serve_load(const serve_args *a, config_doc *doc, gw_config *cfg, char *err,
                      size_t errlen)
{
    const struct profile_builtin *pb;
    const char *name = a->profile != NULL ? a->profile : "contact-center";
    int rc;

    if (a->config != NULL) {
        rc = config_load_file(doc, a->config, err, errlen);
    } else {
        pb = profile_builtin_find(name);
        if (pb == NULL) {
            snprintf(err, errlen, "--profile: no built-in profile '%s'", name);
            return -ENOENT;
        }
        char label[128];

        snprintf(label, sizeof(label), "profile %s", name);
        rc = config_load_string(doc, label, pb->text, pb->len, err, errlen);
    }
    if (rc < 0)
        return rc;
    rc = gwconf_load(cfg, doc, &a->ov, err, errlen);
    config_free(doc);
    return rc;
}

/* The gateway, built and running. */
typedef struct serve {
    gw g;
    gw_config cfg;
    limit_store *store;
    metrics *m;
    worker *workers;
    unsigned nworkers; /* initialized */
    admin adm;
    bool admin_on;
} serve;

static void serve_free(serve *s)
{
    gateway_shared_free(&s->g);
    for (unsigned i = 0; i < s->nworkers; i++)
        worker_free(&s->workers[i]);
    free(s->workers);
    metrics_free(s->m);
    store_free(s->store);
    gwconf_free(&s->cfg);
}

/* HOST:PORT of a bound address (the port the kernel chose for port 0). */
static void serve_addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(out, len, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(out, len, "%s:%u", host, ntohs(a->sin_port));
    }
}

static int serve_build(serve *s, char *err, size_t errlen)
{
    const char **routes = NULL, **limits = NULL;
    struct sockaddr_storage ss = s->cfg.listen.ss;
    int *fds, rc;

    rc = localstore_new(&s->store, s->cfg.max_keys);
    if (rc < 0) {
        snprintf(err, errlen, "limit store: %s", strerror(-rc));
        return rc;
    }
    routes = calloc(s->cfg.nroutes + 1, sizeof(*routes));
    limits = calloc(s->cfg.policy->n + 1, sizeof(*limits));
    if (routes == NULL || limits == NULL) {
        free(routes);
        free(limits);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->cfg.nroutes; i++)
        routes[i] = s->cfg.routes[i].path;
    for (size_t i = 0; i < s->cfg.policy->n; i++)
        limits[i] = s->cfg.policy->limits[i]->name;
    rc = metrics_new(&s->m, s->cfg.threads, routes, s->cfg.nroutes, limits, s->cfg.policy->n);
    free(routes);
    free(limits);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    s->g.cfg = &s->cfg;
    s->g.store = s->store;
    s->g.metrics = s->m;
    atomic_init(&s->g.draining, false);
    s->workers = calloc(s->cfg.threads, sizeof(*s->workers));
    if (s->workers == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    fds = calloc(s->cfg.threads, sizeof(*fds));
    if (fds == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = worker_listen_group(&ss, s->cfg.listen.text, s->cfg.threads, fds, err, errlen);
    if (rc < 0) {
        free(fds);
        return rc;
    }
    serve_addr_text(&ss, s->cfg.listen.text, sizeof(s->cfg.listen.text));
    for (unsigned i = 0; i < s->cfg.threads; i++) {
        if (rc < 0) {
            close(fds[i]); /* after a failed worker_init: not handed over */
            continue;
        }
        rc = worker_init(&s->workers[i], &s->g, i, fds[i]);
        s->nworkers = i + 1;
        if (rc < 0)
            snprintf(err, errlen, "worker: %s", uv_strerror(rc));
    }
    free(fds);
    if (rc < 0)
        return rc;
    return gateway_shared_init(&s->g, s->workers, s->nworkers, err, errlen);
}

/* Waits for SIGTERM / SIGINT (blocked in every thread), drains, and returns
 * once every worker ended. */
static void serve_wait(serve *s, const sigset_t *sigs)
{
    struct timespec tick = {0, 50 * 1000000L};
    bool aborted = false;
    int sig;

    do {
        sig = sigwaitinfo(sigs, NULL);
    } while (sig < 0 && errno == EINTR);
    log_info("serve", "%s: draining (up to %llu ms), no new connections",
             sig == SIGINT ? "SIGINT" : "SIGTERM",
             (unsigned long long)(s->cfg.drain_timeout_ns / 1000000ULL));
    atomic_store(&s->g.draining, true);
    for (unsigned i = 0; i < s->nworkers; i++)
        worker_stop(&s->workers[i]);
    for (unsigned i = 0; i < s->nworkers; i++) {
        while (!atomic_load(&s->workers[i].exited)) {
            sig = sigtimedwait(sigs, NULL, &tick);
            if (sig > 0 && !aborted) {
                log_warn("serve", "second signal: closing every connection now");
                aborted = true;
                for (unsigned k = 0; k < s->nworkers; k++)
                    worker_abort(&s->workers[k]);
            }
        }
        worker_join(&s->workers[i]);
    }
}

int serve_main(int argc, char **argv)
{
    char err[CONFIG_ERRLEN + 64];
    serve_args a;
    config_doc doc;
    serve s;
    sigset_t sigs;
    int rc;

    rc = serve_parse(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    a.ov.ncores = serve_cores();
    memset(&s, 0, sizeof(s));
    memset(&doc, 0, sizeof(doc));
    if (serve_load(&a, &doc, &s.cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "tollgate serve: %s\n", err);
        return 2;
    }
    rc = serve_build(&s, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "tollgate serve: %s\n", err);
        serve_free(&s);
        return 1;
    }
    /* Signals are taken by sigwait in this thread only. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (s.cfg.admin_on) {
        rc = admin_start(&s.adm, &s.g, &s.cfg.admin, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "tollgate serve: admin: %s\n", err);
            serve_free(&s);
            return 1;
        }
        s.admin_on = true;
    }
    for (unsigned i = 0; i < s.nworkers; i++) {
        rc = worker_start(&s.workers[i]);
        if (rc < 0) {
            fprintf(stderr, "tollgate serve: cannot start a thread: %s\n", strerror(-rc));
            for (unsigned k = 0; k < i; k++)
                worker_abort(&s.workers[k]);
            for (unsigned k = 0; k < i; k++)
                worker_join(&s.workers[k]);
            if (s.admin_on)
                admin_stop(&s.adm);
            serve_free(&s);
            return 1;
        }
    }
    log_info("serve", "listening on http://%s with %u thread%s, %zu route%s, %zu limit%s%s%s",
             s.cfg.listen.text, s.nworkers, s.nworkers == 1 ? "" : "s", s.cfg.nroutes,
             s.cfg.nroutes == 1 ? "" : "s", s.cfg.policy->n, s.cfg.policy->n == 1 ? "" : "s",
             s.admin_on ? "; admin on http://" : "; admin off", s.admin_on ? s.cfg.admin.text : "");
    serve_wait(&s, &sigs);
    if (s.admin_on)
        admin_stop(&s.adm);
    serve_free(&s);
    log_info("serve", "stopped");
    return 0;
}
