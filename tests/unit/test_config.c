#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/config_get.h"

static void load(config_doc *doc, const char *text)
{
    char err[CONFIG_ERRLEN] = "";

    assert_int_equal(config_load_string(doc, "plan.yaml", text, strlen(text), err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_non_null(config_root(doc));
}

static void expect_load_error(const char *text, int code, const char *msg)
{
    char err[CONFIG_ERRLEN] = "";
    config_doc doc;

    assert_int_equal(config_load_string(&doc, "plan.yaml", text, strlen(text), err, sizeof(err)),
                     code);
    assert_string_equal(err, msg);
    /* A failed load leaves nothing to free; freeing anyway is harmless. */
    assert_false(doc.loaded);
    assert_null(doc.name);
    config_free(&doc);
}

static void test_load_errors(void **state)
{
    (void)state;
    /* libyaml syntax errors, with the problem's and the context's positions. */
    expect_load_error("a: 1\nb\n", -EINVAL,
                      "plan.yaml:3:1: could not find expected ':' (while scanning a simple key at "
                      "2:1)");
    expect_load_error("a:\n\t- 1\n", -EINVAL,
                      "plan.yaml:2:1: found character that cannot start any token (while "
                      "scanning for the next token at 2:1); YAML indents with spaces, not tabs");
    /* What the loader refuses. */
    expect_load_error("", -EINVAL, "plan.yaml: empty document (no YAML content)");
    expect_load_error("# only a comment\n", -EINVAL, "plan.yaml: empty document (no YAML content)");
    expect_load_error("---\n", -EINVAL, "plan.yaml: empty document (no YAML content)");
    expect_load_error("~\n", -EINVAL, "plan.yaml: empty document (no YAML content)");
    expect_load_error("a: 1\n---\nb: 2\n", -EINVAL,
                      "plan.yaml:2:1: a second YAML document; expected one document per file");
    expect_load_error("rate: 1/s\nburst: 2\nrate: 2/s\n", -EINVAL,
                      "plan.yaml:3:1: duplicate key 'rate' (first at 1:1)");
    expect_load_error("limits:\n  - {rate: 1/s, burst: 2, rate: 3/s, burst: 4}\n", -EINVAL,
                      "plan.yaml:2:27: duplicate key 'rate' (first at 2:6)");
    expect_load_error("? [a, b]\n: 1\n", -EINVAL,
                      "plan.yaml:1:3: mapping keys must be scalars, found a sequence");
    expect_load_error("a: &x 1\nb: *y\n", -EINVAL, "plan.yaml:2:4: undefined alias '*y'");
}

static void test_duplicates_among_many(void **state)
{
    char *text = malloc(200000);
    char err[CONFIG_ERRLEN];
    config_doc doc;
    size_t o = 0;

    (void)state;
    assert_non_null(text);
    /* 10000 distinct keys load; one repeat among them is found. */
    for (int i = 0; i < 10000; i++)
        o += (size_t)sprintf(text + o, "key%d: %d\n", i, i);
    assert_int_equal(config_load_string(&doc, "big.yaml", text, o, err, sizeof(err)), 0);
    assert_int_equal(config_len(config_root(&doc)), 10000);
    config_free(&doc);
    sprintf(text + o, "key4321: again\n");
    assert_int_equal(config_load_string(&doc, "big.yaml", text, strlen(text), err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "big.yaml:10001:1: duplicate key 'key4321' (first at 4322:1)");
    free(text);
}

static void test_size_limit(void **state)
{
    char *text = malloc(CONFIG_MAX_BYTES + 1);
    char err[CONFIG_ERRLEN];
    char path[] = "/tmp/test_config_XXXXXX";
    config_doc doc;
    FILE *f;
    int fd;

    (void)state;
    assert_non_null(text);
    /* A document of exactly the limit loads. */
    memset(text, 'x', CONFIG_MAX_BYTES + 1);
    memcpy(text, "k: ", 3);
    assert_int_equal(config_load_string(&doc, "big.yaml", text, CONFIG_MAX_BYTES, err, sizeof(err)),
                     0);
    assert_int_equal(strlen(config_scalar(config_map_get(&doc, config_root(&doc), "k"))),
                     CONFIG_MAX_BYTES - 3);
    config_free(&doc);
    assert_int_equal(
        config_load_string(&doc, "big.yaml", text, CONFIG_MAX_BYTES + 1, err, sizeof(err)), -EFBIG);
    assert_string_equal(err, "big.yaml: larger than 4194304 bytes, the limit for a YAML file");

    /* The same through a file. */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, CONFIG_MAX_BYTES + 1, f), CONFIG_MAX_BYTES + 1);
    fclose(f);
    assert_int_equal(config_load_file(&doc, path, err, sizeof(err)), -EFBIG);
    assert_non_null(strstr(err, ": larger than 4194304 bytes, the limit for a YAML file"));
    assert_int_equal(truncate(path, CONFIG_MAX_BYTES), 0);
    assert_int_equal(config_load_file(&doc, path, err, sizeof(err)), 0);
    config_free(&doc);
    unlink(path);
    free(text);
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/test_config_XXXXXX";
    char err[CONFIG_ERRLEN];
    char want[128];
    const char *s = "x";
    config_doc doc;
    FILE *f;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("name: tollgate\nport: 8080\nbad: [\n", f);
    fclose(f);
    assert_int_equal(config_load_file(&doc, path, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s:4:1: did not find expected node content", path);
    assert_non_null(strstr(err, want));

    f = fopen(path, "w");
    fputs("name: tollgate\nport: 8080\n", f);
    fclose(f);
    assert_int_equal(config_load_file(&doc, path, err, sizeof(err)), 0);
    assert_string_equal(doc.name, path);
    assert_int_equal(config_get_str(&doc, config_root(&doc), "name", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "tollgate");
    config_free(&doc);
    unlink(path);

    assert_int_equal(config_load_file(&doc, "/nonexistent/plan.yaml", err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "/nonexistent/plan.yaml: cannot read: No such file or directory");
    assert_int_equal(config_load_file(&doc, "/tmp", err, sizeof(err)), -EISDIR);
    assert_string_equal(err, "/tmp: cannot read: Is a directory");
    config_free(&doc);
}

static void test_nodes(void **state)
{
    config_doc doc;
    const config_node *root, *list, *map, *v;

    (void)state;
    load(&doc, "name: gw\n"
               "list:\n"
               "  - one\n"
               "  - {k: v, n: 2}\n"
               "  - [x]\n"
               "empty: {}\n"
               "nothing:\n"
               "quoted: \"\"\n");
    root = config_root(&doc);
    assert_true(config_is_map(root));
    assert_int_equal(config_len(root), 5);
    assert_string_equal(config_scalar(config_map_key(&doc, root, 0)), "name");
    assert_string_equal(config_scalar(config_map_value(&doc, root, 0)), "gw");
    assert_string_equal(config_scalar(config_map_key(&doc, root, 4)), "quoted");
    assert_null(config_map_key(&doc, root, 5));
    assert_null(config_map_value(&doc, root, 5));

    list = config_map_get(&doc, root, "list");
    assert_true(config_is_seq(list));
    assert_int_equal(config_line(list), 3);
    assert_int_equal(config_column(list), 3);
    assert_int_equal(config_len(list), 3);
    v = config_seq_item(&doc, list, 0);
    assert_true(config_is_scalar(v));
    assert_string_equal(config_scalar(v), "one");
    assert_int_equal(config_line(v), 3);
    assert_int_equal(config_column(v), 5);
    map = config_seq_item(&doc, list, 1);
    assert_true(config_is_map(map));
    assert_string_equal(config_scalar(config_map_get(&doc, map, "n")), "2");
    assert_int_equal(config_column(config_map_get(&doc, map, "n")), 15);
    assert_true(config_is_seq(config_seq_item(&doc, list, 2)));
    assert_null(config_seq_item(&doc, list, 3));
    assert_null(config_seq_item(&doc, map, 0));

    /* Kinds, nulls and misuse. */
    assert_string_equal(config_kind(map), "a mapping");
    assert_string_equal(config_kind(list), "a sequence");
    assert_string_equal(config_kind(v), "a scalar");
    assert_null(config_scalar(map));
    assert_int_equal(config_len(v), 0);
    assert_int_equal(config_len(NULL), 0);
    assert_int_equal(config_len(config_map_get(&doc, root, "empty")), 0);
    assert_true(config_is_null(config_map_get(&doc, root, "nothing")));
    assert_false(config_is_null(config_map_get(&doc, root, "quoted")));
    assert_false(config_is_null(v));
    assert_null(config_map_get(&doc, root, "missing"));
    assert_null(config_map_get(&doc, list, "name"));
    assert_null(config_map_get(&doc, NULL, "name"));
    config_free(&doc);
    assert_false(doc.loaded);
    config_free(&doc);
}

static void test_nulls(void **state)
{
    config_doc doc;
    const config_node *root;
    const char *const keys[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    const bool null[] = {true, true, true, true, true, true, false, false, false};

    (void)state;
    load(&doc, "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: !!null x\ng: 'null'\nh: nul\ni: \"\"\n");
    root = config_root(&doc);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_int_equal(config_is_null(config_map_get(&doc, root, keys[i])), null[i]);
    config_free(&doc);
}

static void test_aliases(void **state)
{
    config_doc doc;
    const config_node *root, *a, *b;

    (void)state;
    load(&doc, "defaults: &d {timeout: 5s}\na: *d\nb: *d\n");
    root = config_root(&doc);
    a = config_map_get(&doc, root, "a");
    b = config_map_get(&doc, root, "b");
    /* An alias is the anchored node itself. */
    assert_ptr_equal(a, b);
    assert_ptr_equal(a, config_map_get(&doc, root, "defaults"));
    assert_string_equal(config_scalar(config_map_get(&doc, a, "timeout")), "5s");
    config_free(&doc);
}

static void test_check_keys(void **state)
{
    static const char *const allowed[] = {"rate", "burst", "window", "scope", NULL};
    char err[CONFIG_ERRLEN];
    config_doc doc;
    const config_node *root, *lim;

    (void)state;
    load(&doc, "limits:\n"
               "  - rate: 5/s\n"
               "    burst: 10\n"
               "  - ratee: 5/s\n"
               "  - brust: 3\n"
               "  - colour: red\n"
               "  - rate: 1/s\n"
               "    <<: x\n"
               "  - rtae: 1/s\n"
               "plain: 1\n");
    root = config_root(&doc);
    lim = config_map_get(&doc, root, "limits");
    assert_int_equal(
        config_check_keys(&doc, config_seq_item(&doc, lim, 0), allowed, err, sizeof(err)), 0);
    assert_int_equal(
        config_check_keys(&doc, config_seq_item(&doc, lim, 1), allowed, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:4:5: unknown key 'ratee', expected one of: rate, burst, "
                             "window, scope (did you mean 'rate'?)");
    config_check_keys(&doc, config_seq_item(&doc, lim, 2), allowed, err, sizeof(err));
    assert_string_equal(err, "plan.yaml:5:5: unknown key 'brust', expected one of: rate, burst, "
                             "window, scope (did you mean 'burst'?)");
    config_check_keys(&doc, config_seq_item(&doc, lim, 3), allowed, err, sizeof(err));
    assert_string_equal(err, "plan.yaml:6:5: unknown key 'colour', expected one of: rate, burst, "
                             "window, scope");
    config_check_keys(&doc, config_seq_item(&doc, lim, 4), allowed, err, sizeof(err));
    assert_string_equal(err, "plan.yaml:8:5: unknown key '<<', expected one of: rate, burst, "
                             "window, scope");
    config_check_keys(&doc, config_seq_item(&doc, lim, 5), allowed, err, sizeof(err));
    assert_string_equal(err, "plan.yaml:9:5: unknown key 'rtae', expected one of: rate, burst, "
                             "window, scope (did you mean 'rate'?)");
    /* Not a mapping; NULL passes. */
    assert_int_equal(config_check_keys(&doc, lim, allowed, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:2:3: expected a mapping, found a sequence");
    assert_int_equal(config_check_keys(&doc, NULL, allowed, err, sizeof(err)), 0);
    config_free(&doc);
}

static void test_suggest(void **state)
{
    static const char *const names[] = {"emulate", "proxy", "id", "rate", "burst", NULL};
    char out[16];

    (void)state;
    assert_string_equal(config_suggest(names, "proxi"), "proxy");
    assert_string_equal(config_suggest(names, "prxoy"), "proxy"); /* a swap is one edit */
    assert_string_equal(config_suggest(names, "emulat"), "emulate");
    assert_string_equal(config_suggest(names, "Rate"), "rate");
    assert_string_equal(config_suggest(names, "rat"), "rate");
    assert_string_equal(config_suggest(names, "brsut"), "burst");
    assert_null(config_suggest(names, "window"));
    assert_null(config_suggest(names, "x"));  /* 2 edits from "id", which has 2 letters */
    assert_null(config_suggest(names, "pr")); /* 3 edits from "proxy" */
    assert_null(config_suggest(names, "0123456789012345678901234567890123456789"));
    config_names(names, out, sizeof(out));
    assert_string_equal(out, "emulate, proxy,");
}

static void test_require_and_error(void **state)
{
    char err[CONFIG_ERRLEN];
    config_doc doc;
    const config_node *root, *up;

    (void)state;
    load(&doc, "upstream:\n  host: h\nlist: [1]\n");
    root = config_root(&doc);
    up = config_map_get(&doc, root, "upstream");
    assert_int_equal(config_require(&doc, up, "host", err, sizeof(err)), 0);
    assert_int_equal(config_require(&doc, up, "port", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml:2:3: missing key 'port'");
    assert_int_equal(config_require(&doc, NULL, "port", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "plan.yaml: missing key 'port'");
    assert_int_equal(
        config_require(&doc, config_map_get(&doc, root, "list"), "port", err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "plan.yaml:3:7: expected a mapping with 'port', found a sequence");

    assert_int_equal(config_error(&doc, config_map_get(&doc, up, "host"), err, sizeof(err),
                                  "host: '%s' does not resolve", "h"),
                     -EINVAL);
    assert_string_equal(err, "plan.yaml:2:9: host: 'h' does not resolve");
    assert_int_equal(config_error(&doc, NULL, err, sizeof(err), "no limits"), -EINVAL);
    assert_string_equal(err, "plan.yaml: no limits");
    /* Truncated, terminated. */
    assert_int_equal(config_error(&doc, up, err, 12, "long message"), -EINVAL);
    assert_string_equal(err, "plan.yaml:2");
    config_free(&doc);
}

static const char gateway_yaml[] = "# tollgate serve: a gateway in front of a platform API\n"
                                   "listen: 127.0.0.1:8080\n"
                                   "mode: proxy\n"
                                   "upstream: http://127.0.0.1:9000/api\n"
                                   "workers: 2\n"
                                   "max_body: 512000\n"
                                   "redis:\n"
                                   "  url: redis://127.0.0.1:6379/0\n"
                                   "  timeout: 250ms\n"
                                   "headers: [ietf, draft, inin]\n"
                                   "limits:\n"
                                   "  - name: per-token\n"
                                   "    match:\n"
                                   "      methods: [POST, PUT]\n"
                                   "      path: /api/v2/architect/*\n"
                                   "    scope: token\n"
                                   "    algorithm: gcra\n"
                                   "    rate: 300/min\n"
                                   "    burst: 50\n"
                                   "  - name: per-org\n"
                                   "    scope: [org, client, user]\n"
                                   "    algorithm: sliding_window\n"
                                   "    rate: 3000/min\n"
                                   "    window: 1m\n"
                                   "    enabled: yes\n"
                                   "  - name: analytics-concurrency\n"
                                   "    match:\n"
                                   "      path: /api/v2/analytics/conversations/details/query\n"
                                   "    scope: token\n"
                                   "    algorithm: concurrency\n"
                                   "    max: 50\n"
                                   "    retry_after: 2.5\n";

static const char *const top_keys[] = {"listen", "mode",    "upstream", "workers", "max_body",
                                       "redis",  "headers", "limits",   NULL};
static const char *const limit_keys[] = {"name", "match",       "scope",  "algorithm",
                                         "rate", "burst",       "window", "enabled",
                                         "max",  "retry_after", NULL};
static const char *const algorithms[] = {"gcra", "fixed_window", "sliding_window", "concurrency",
                                         NULL};

struct limit {
    const char *name;
    const char **scope;
    size_t nscope;
    int algorithm;
    units_rate rate;
    int64_t burst;
    uint64_t window_ns;
    bool enabled;
    int64_t max;
    double retry_after;
};

/* Reads the sample the way `tollgate serve` will: check keys, set defaults,
 * get values. */
static int read_gateway(const config_doc *doc, struct limit *out, size_t *n, char *err,
                        size_t errlen)
{
    const config_node *root = config_root(doc), *limits;
    int rc;

    rc = config_check_keys(doc, root, top_keys, err, errlen);
    if (rc < 0)
        return rc;
    limits = config_map_get(doc, root, "limits");
    *n = config_len(limits);
    for (size_t i = 0; i < *n; i++) {
        const config_node *m = config_seq_item(doc, limits, i);
        struct limit *l = &out[i];

        memset(l, 0, sizeof(*l));
        l->enabled = true;
        l->burst = -1;
        if ((rc = config_check_keys(doc, m, limit_keys, err, errlen)) < 0 ||
            (rc = config_require(doc, m, "name", err, errlen)) < 0 ||
            (rc = config_get_str(doc, m, "name", &l->name, err, errlen)) < 0 ||
            (rc = config_get_str_list(doc, m, "scope", &l->scope, &l->nscope, err, errlen)) < 0 ||
            (rc = config_get_enum(doc, m, "algorithm", algorithms, &l->algorithm, err, errlen)) <
                0 ||
            (rc = config_get_rate(doc, m, "rate", &l->rate, err, errlen)) < 0 ||
            (rc = config_get_int(doc, m, "burst", 1, 1000000, &l->burst, err, errlen)) < 0 ||
            (rc = config_get_duration(doc, m, "window", &l->window_ns, err, errlen)) < 0 ||
            (rc = config_get_bool(doc, m, "enabled", &l->enabled, err, errlen)) < 0 ||
            (rc = config_get_int(doc, m, "max", 1, 100000, &l->max, err, errlen)) < 0 ||
            (rc = config_get_double(doc, m, "retry_after", &l->retry_after, err, errlen)) < 0)
            return rc;
    }
    return 0;
}

static void free_limits(struct limit *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i].scope);
}

static void test_gateway_sample(void **state)
{
    static const char *const modes[] = {"emulate", "proxy", NULL};
    char err[CONFIG_ERRLEN] = "";
    config_doc doc;
    const config_node *root, *redis;
    const char *listen = NULL, **headers = NULL;
    size_t nheaders = 0, n = 0;
    int mode = -1;
    int64_t workers = 1;
    uint64_t max_body = 0, timeout = 0;
    struct limit limits[4];

    (void)state;
    load(&doc, gateway_yaml);
    root = config_root(&doc);
    assert_int_equal(config_get_str(&doc, root, "listen", &listen, err, sizeof(err)), 0);
    assert_string_equal(listen, "127.0.0.1:8080");
    assert_int_equal(config_get_enum(&doc, root, "mode", modes, &mode, err, sizeof(err)), 0);
    assert_int_equal(mode, 1);
    assert_int_equal(config_get_int(&doc, root, "workers", 1, 64, &workers, err, sizeof(err)), 0);
    assert_int_equal(workers, 2);
    assert_int_equal(config_get_u64(&doc, root, "max_body", &max_body, err, sizeof(err)), 0);
    assert_int_equal(max_body, 512000);
    redis = config_map_get(&doc, root, "redis");
    assert_int_equal(config_get_duration(&doc, redis, "timeout", &timeout, err, sizeof(err)), 0);
    assert_int_equal(timeout, 250 * CLOCK_NS_PER_MS);
    assert_int_equal(
        config_get_str_list(&doc, root, "headers", &headers, &nheaders, err, sizeof(err)), 0);
    assert_int_equal(nheaders, 3);
    assert_string_equal(headers[2], "inin");
    free(headers);

    assert_int_equal(read_gateway(&doc, limits, &n, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(n, 3);
    assert_string_equal(limits[0].name, "per-token");
    assert_int_equal(limits[0].nscope, 1);
    assert_string_equal(limits[0].scope[0], "token");
    assert_int_equal(limits[0].algorithm, 0);
    assert_int_equal(limits[0].rate.count, 300);
    assert_int_equal(limits[0].rate.period_ns, 60 * CLOCK_NS_PER_S);
    assert_int_equal(limits[0].burst, 50);
    assert_true(limits[0].enabled);
    assert_int_equal(limits[1].nscope, 3);
    assert_string_equal(limits[1].scope[1], "client");
    assert_int_equal(limits[1].algorithm, 2);
    assert_int_equal(limits[1].rate.count, 3000);
    assert_int_equal(limits[1].window_ns, 60 * CLOCK_NS_PER_S);
    assert_int_equal(limits[1].burst, -1); /* default kept */
    assert_int_equal(limits[2].algorithm, 3);
    assert_int_equal(limits[2].max, 50);
    assert_true(limits[2].retry_after == 2.5);
    assert_int_equal(limits[2].rate.count, 0); /* absent: untouched */
    free_limits(limits, n);
    config_free(&doc);
}

/* The sample with one line replaced: the error names that line. */
static void expect_sample_error(const char *from, const char *to, const char *msg)
{
    char text[sizeof(gateway_yaml) + 64];
    char err[CONFIG_ERRLEN] = "";
    const char *at = strstr(gateway_yaml, from);
    struct limit limits[4];
    config_doc doc;
    size_t n = 0;

    memset(limits, 0, sizeof(limits));
    assert_non_null(at);
    snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - gateway_yaml), gateway_yaml, to,
             at + strlen(from));
    load(&doc, text);
    assert_int_equal(read_gateway(&doc, limits, &n, err, sizeof(err)) < 0, 1);
    assert_string_equal(err, msg);
    free_limits(limits, n);
    config_free(&doc);
}

static void test_gateway_sample_errors(void **state)
{
    (void)state;
    expect_sample_error("rate: 3000/min", "rate: 3000 per min",
                        "plan.yaml:23:11: rate: \"3000 per min\": expected N/unit (e.g. 50/s, "
                        "300/min)");
    expect_sample_error("    burst: 50", "    brust: 50",
                        "plan.yaml:19:5: unknown key 'brust', expected one of: name, match, "
                        "scope, algorithm, rate, burst, window, enabled, max, retry_after (did "
                        "you mean 'burst'?)");
    expect_sample_error("burst: 50", "burst: 0",
                        "plan.yaml:19:12: burst: \"0\": out of range, expected an integer from 1 "
                        "to 1000000");
    expect_sample_error("algorithm: concurrency", "algorithm: concurency",
                        "plan.yaml:30:16: algorithm: \"concurency\": expected one of: gcra, "
                        "fixed_window, sliding_window, concurrency (did you mean "
                        "'concurrency'?)");
    expect_sample_error(
        "window: 1m", "window: 1 minute",
        "plan.yaml:24:13: window: \"1 minute\": unknown unit 'minute', expected ms, s, m or h");
    expect_sample_error("enabled: yes", "enabled: sure",
                        "plan.yaml:25:14: enabled: \"sure\": expected true or false (or yes/no, "
                        "on/off)");
    expect_sample_error("scope: [org, client, user]", "scope: [org, {client: 1}, user]",
                        "plan.yaml:21:18: scope[1]: expected a string, found a mapping");
    expect_sample_error("  - name: per-org\n", "  - nam: per-org\n",
                        "plan.yaml:20:5: unknown key 'nam', expected one of: name, match, scope, "
                        "algorithm, rate, burst, window, enabled, max, retry_after (did you mean "
                        "'name'?)");
    expect_sample_error("workers: 2\n", "worker: 2\n",
                        "plan.yaml:5:1: unknown key 'worker', expected one of: listen, mode, "
                        "upstream, workers, max_body, redis, headers, limits (did you mean "
                        "'workers'?)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors),    cmocka_unit_test(test_duplicates_among_many),
        cmocka_unit_test(test_size_limit),     cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_nodes),          cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_aliases),        cmocka_unit_test(test_check_keys),
        cmocka_unit_test(test_suggest),        cmocka_unit_test(test_require_and_error),
        cmocka_unit_test(test_gateway_sample), cmocka_unit_test(test_gateway_sample_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
