/*
 * fuzz_plan: loads the input as a plan and renders every template and json
 * body of every step it accepts.
 *
 * Beyond what the sanitizers catch, it checks the loader's promises: a
 * failure is -EINVAL with one line that starts with the file name (or
 * -ENOMEM); a loaded plan has a step name for every global index, indices in
 * order, expect bits only in 100..599; and every json body renders to valid
 * JSON whatever the variables hold (quotes, backslashes, control bytes,
 * integers). Relative files resolve in a directory that does not exist, so
 * no input reads the disk.
 */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every variable has the value in ctx. */
static int lookup(void *ctx, const char *name, size_t len, const char **v, size_t *vlen)
{
    (void)name;
    (void)len;
    *v = ctx;
    *vlen = strlen(ctx);
    return 0;
}

static void render_step(const plan_step *st, const char *value, rng *r)
{
    tmpl_ctx ctx = {.rng = r,
                    .iteration = 3,
                    .vu = 1,
                    .now_ms = 1700000000000ull,
                    .lookup = lookup,
                    .lookup_ctx = (void *)value,
                    .step = st->name};
    char err[256];
    buf b;

    buf_init(&b, 1u << 20);
    if (tmpl_render(&st->path, &ctx, &b, err, sizeof(err)) != 0)
        __builtin_trap();
    for (size_t i = 0; i < st->nheaders; i++)
        tmpl_render(&st->headers[i].value, &ctx, &b, err, sizeof(err));
    tmpl_render(&st->body, &ctx, &b, err, sizeof(err));
    if (st->body_kind == PLAN_BODY_JSON) {
        json_error_t jerr;
        json_t *j;

        buf_reset(&b);
        if (plan_json_render(&st->json, &ctx, &b, err, sizeof(err)) == 0) {
            j = json_loadb(buf_ptr(&b), b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (j == NULL)
                __builtin_trap();
            json_decref(j);
        }
    }
    buf_free(&b);
}

static void check_plan(const plan *p)
{
    rng r;
    size_t idx = 0;

    rng_seed(&r, 1);
    for (size_t k = 0; k < p->nscenarios; k++) {
        const plan_scenario *s = &p->scenarios[k];

        for (size_t i = 0; i < s->nsetup + s->nsteps; i++, idx++) {
            const plan_step *st = i < s->nsetup ? &s->setup[i] : &s->steps[i - s->nsetup];

            if (st->index != idx || p->step_names[idx] == NULL || st->target >= p->ntargets)
                __builtin_trap();
            for (int c = 0; c < 100; c++) {
                if (plan_step_expects(st, c))
                    __builtin_trap();
            }
            render_step(st, "7", &r);
            render_step(st, "a\"b\\c\n\x01\x7f", &r);
        }
    }
    if (idx != p->nsteps)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[CONFIG_ERRLEN];
    plan p;
    int rc;

    if (size > 1u << 16)
        return 0;
    rc = plan_load_string(&p, "fuzz.yaml", "/nonexistent-fuzz-dir", (const char *)data, size, err,
                          sizeof(err));
    if (rc == 0) {
        check_plan(&p);
        plan_free(&p);
        return 0;
    }
    if (rc != -ENOMEM && (rc != -EINVAL || strnlen(err, sizeof(err)) >= sizeof(err) ||
                          strncmp(err, "fuzz.yaml", 9) != 0))
        __builtin_trap();
    return 0;
}
