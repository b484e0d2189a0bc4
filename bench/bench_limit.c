/*
 * bench_limit: what one limiter decision costs, and what a key costs.
 *
 * Every figure goes through limit_decide (match the policy, build the keys,
 * lock, run the algorithms, charge) against the in-process store, with the
 * clock passed in as for real requests. Each figure is the median of 5 runs;
 * one line per figure. The peer for memory is nginx's limit_req, whose
 * per-key node takes 128 bytes plus the key (its documentation: "one
 * megabyte zone can keep about 16 thousand 64-byte states" on 64-bit).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "limit/limit.h"
#include "limit/localstore.h"

#define RUNS                5
#define NGINX_BYTES_PER_KEY 128
#define KEYS_1M             1000000

static const char *const TOKEN[] = {"token"};
static const char *const ORG[] = {"org"};
static const char *const OCU[] = {"org", "client", "user"};

static void die(const char *what)
{
    fprintf(stderr, "bench_limit: %s\n", what);
    exit(1);
}

/* A limit no benchmark request reaches. `fast`: 4e9 per second, so a key is
 * back to full allowance (idle, droppable) right after each request; else
 * 1000 per hour with a burst of 1000, so every key stays in the table. */
static void add(limit_policy *p, const char *name, const char *const *scope, size_t nscope,
                int fast)
{
    policy_spec s;
    char err[200];

    memset(&s, 0, sizeof(s));
    s.name = name;
    s.methods = (const char *const[]){"GET", "PUT"};
    s.nmethods = 2;
    s.path = "/api/v2/**";
    s.scope = scope;
    s.nscope = nscope;
    s.rate = fast ? (units_rate){4000000000ULL, CLOCK_NS_PER_S}
                  : (units_rate){1000, 3600 * CLOCK_NS_PER_S};
    if (policy_add_limit(p, &s, err, sizeof(err)) != 0)
        die(err);
}

static limit_request bench_request(const char *token)
{
    limit_request r;

    memset(&r, 0, sizeof(r));
    r.method = request_slice("GET");
    r.path = request_slice("/api/v2/architect/flows/3f1c");
    r.ip = request_slice("192.0.2.17");
    r.token = request_slice(token);
    r.client = request_slice("7de3af4b-client");
    r.user = request_slice("b81f-user");
    r.org = request_slice("acme-org");
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(v[0]), cmp_double);
    return v[RUNS / 2];
}

/* Writes token number i ("tok-" and 8 hex digits, distinct for every i below
 * 2^32) into out, as a gateway would find it in its request buffer. */
static limit_slice token_of(uint64_t i, char out[13])
{
    static const char hex[] = "0123456789abcdef";
    uint32_t v = (uint32_t)i * 2654435761u; /* odd multiplier: a bijection */

    memcpy(out, "tok-", 4);
    for (int k = 0; k < 8; k++)
        out[4 + k] = hex[(v >> (28 - 4 * k)) & 15];
    out[12] = '\0';
    return (limit_slice){out, 12};
}

/* ns per decision for n decisions of request r; with nkeys > 0 each takes
 * the token of a random key number below nkeys. */
static double run_decisions(const limit_policy *p, limit_store *s, limit_request r, size_t nkeys,
                            size_t n)
{
    limit_decision d;
    uint64_t x = 0x9e3779b97f4a7c15ULL, t0, now = clock_now_ns();
    size_t admitted = 0;
    char token[13];

    t0 = clock_now_ns();
    for (size_t i = 0; i < n; i++) {
        if (nkeys > 0) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            r.token = token_of(x % nkeys, token);
        }
        now += 100;
        limit_decide(p, s, &r, now, &d, NULL, NULL);
        admitted += d.admitted;
    }
    if (admitted != n)
        die("a benchmark request was refused");
    return (double)(clock_now_ns() - t0) / (double)n;
}

/* Makes every key number below n present in s. */
static void fill(const limit_policy *p, limit_store *s, size_t n)
{
    limit_decision d;
    limit_request r = bench_request("");
    char token[13];

    for (size_t i = 0; i < n; i++) {
        r.token = token_of(i, token);
        limit_decide(p, s, &r, 1000 * CLOCK_NS_PER_S, &d, NULL, NULL);
    }
}

static void figure_hot_key(void)
{
    limit_policy *p;
    limit_store *s;
    double v[RUNS];

    if (policy_new(&p) != 0 || localstore_new(&s, 0) != 0)
        die("out of memory");
    add(p, "per-token", TOKEN, 1, 1);
    for (int i = 0; i < RUNS; i++)
        v[i] = run_decisions(p, s, bench_request("hot-token"), 0, 2000000);
    printf("decision, 1 hot key, 1 limit:        %6.1f ns\n", median(v));
    store_free(s);
    policy_free(p);
}

static void figure_three_limits(void)
{
    limit_policy *p;
    limit_store *s;
    double v[RUNS];

    if (policy_new(&p) != 0 || localstore_new(&s, 0) != 0)
        die("out of memory");
    add(p, "per-token", TOKEN, 1, 1);
    add(p, "per-org-client-user", OCU, 3, 1);
    add(p, "per-org", ORG, 1, 1);
    for (int i = 0; i < RUNS; i++)
        v[i] = run_decisions(p, s, bench_request("hot-token"), 0, 1000000);
    printf("decision, 1 hot key, 3-limit policy: %6.1f ns\n", median(v));
    store_free(s);
    policy_free(p);
}

static void figure_random_keys(void)
{
    limit_policy *p;
    limit_store *s;
    double v[RUNS];

    if (policy_new(&p) != 0 || localstore_new(&s, KEYS_1M) != 0)
        die("out of memory");
    add(p, "per-token", TOKEN, 1, 0);
    fill(p, s, KEYS_1M); /* so the timed runs find a full table */
    for (int i = 0; i < RUNS; i++)
        v[i] = run_decisions(p, s, bench_request(""), KEYS_1M, 2000000);
    printf("decision, 1M random keys, 1 limit:   %6.1f ns  (%llu keys held)\n", median(v),
           (unsigned long long)store_keys(s));
    store_free(s);
    policy_free(p);
}

struct racer {
    const limit_policy *p;
    limit_store *s;
    pthread_barrier_t *start;
    size_t n;
    int cpu;
};

static void *racer_run(void *arg)
{
    struct racer *r = arg;
    cpu_set_t set;

    /* One core each, even when the whole benchmark was pinned to one core
     * (bench/run-all.sh does that): the figure is about two cores fighting
     * over one key's lock and cache line. */
    CPU_ZERO(&set);
    CPU_SET(r->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    pthread_barrier_wait(r->start);
    run_decisions(r->p, r->s, bench_request("shared-token"), 0, r->n);
    return NULL;
}

static void figure_two_threads(void)
{
    const size_t n = 1000000;
    limit_policy *p;
    limit_store *s;
    pthread_barrier_t start;
    pthread_t t[2];
    struct racer r[2];
    double v[RUNS];

    if (policy_new(&p) != 0 || localstore_new(&s, 0) != 0)
        die("out of memory");
    add(p, "per-token", TOKEN, 1, 1);
    for (int i = 0; i < RUNS; i++) {
        uint64_t t0;

        pthread_barrier_init(&start, NULL, 3);
        for (int k = 0; k < 2; k++) {
            r[k] = (struct racer){p, s, &start, n, k % (int)sysconf(_SC_NPROCESSORS_ONLN)};
            if (pthread_create(&t[k], NULL, racer_run, &r[k]) != 0)
                die("pthread_create");
        }
        pthread_barrier_wait(&start);
        t0 = clock_now_ns();
        for (int k = 0; k < 2; k++)
            pthread_join(t[k], NULL);
        v[i] = (double)(clock_now_ns() - t0) / (double)n; /* per decision, per thread */
        pthread_barrier_destroy(&start);
    }
    printf("decision, 2 threads on 1 key:       %6.1f ns  (wall time / decisions of one thread, "
           "threads on cores 0 and 1)\n",
           median(v));
    store_free(s);
    policy_free(p);
}

static uint64_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2)
        die("cannot read /proc/self/statm");
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Resident growth per key for 1M keys, measured in a child process forked
 * before any other figure ran, so that no page the allocator kept from
 * earlier work (resident already, shared with the parent) hides any growth. */
static double bytes_per_key_once(uint64_t *reserved)
{
    int fds[2];
    pid_t pid;
    double r = 0;

    if (pipe(fds) != 0)
        die("pipe");
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        limit_policy *p;
        limit_store *s;
        keystore_stats st;
        uint64_t rss0 = rss_bytes();
        double out[2];

        if (policy_new(&p) != 0 || localstore_new(&s, KEYS_1M) != 0)
            die("out of memory");
        add(p, "per-token", TOKEN, 1, 0);
        fill(p, s, KEYS_1M);
        keystore_stats_get(localstore_keystore(s), &st);
        if (st.keys != KEYS_1M)
            die("keys were dropped");
        out[0] = (double)(rss_bytes() - rss0) / (double)KEYS_1M;
        out[1] = (double)st.bytes;
        if (write(fds[1], out, sizeof(out)) != (ssize_t)sizeof(out))
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    {
        double in[2];

        if (read(fds[0], in, sizeof(in)) != (ssize_t)sizeof(in))
            die("child failed");
        r = in[0];
        *reserved = (uint64_t)in[1];
    }
    close(fds[0]);
    waitpid(pid, NULL, 0);
    return r;
}

static void figure_bytes_per_key(double *v, uint64_t reserved)
{
    printf("bytes per key at 1M keys:            %6.1f B   (resident growth / keys; entry %zu B, "
           "reserved %.1f B; nginx limit_req %d B: %.2fx)\n",
           median(v), keystore_entry_size(), (double)reserved / KEYS_1M, NGINX_BYTES_PER_KEY,
           median(v) / NGINX_BYTES_PER_KEY);
}

int main(void)
{
    double bytes[RUNS];
    uint64_t reserved = 0;

    for (int i = 0; i < RUNS; i++)
        bytes[i] = bytes_per_key_once(&reserved);
    printf("bench_limit: median of %d runs\n", RUNS);
    figure_hot_key();
    figure_random_keys();
    figure_two_threads();
    figure_three_limits();
    figure_bytes_per_key(bytes, reserved);
    return 0;
}
