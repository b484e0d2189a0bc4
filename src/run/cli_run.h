/*
 * cli_run: the command line of `tollgate run`, turned into a plan (loaded
 * from a file, or built in memory from the quick-form flags) and the output
 * options.
 *
 *   tollgate run PLAN.yaml [--json FILE] [--jtl FILE] [--latency] [--quiet]
 *                [--threads N] [--insecure] [--threshold EXPR]...
 *   tollgate run --url URL [-X METHOD] [-H 'K: V']... [--body @FILE|TEXT]
 *                (--rate 50/s [--max-in-flight N] | --vus 20 [--ramp-up 60s])
 *                --duration 30s [--retry N] [--threshold EXPR]... [output flags]
 *
 * The quick form builds the same plan a file would: one scenario "default"
 * with one step; --rate is constant-arrival-rate, --vus constant-vus, --vus
 * with --ramp-up a thread-group (thread i starts at i x ramp-up / vus);
 * --retry N is retry_policy_default(N). Hand-written rather than getopt_long,
 * whose messages are its own and which cannot say "did you mean".
 */
#ifndef TG_RUN_CLI_RUN_H
#define TG_RUN_CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run/plan.h"

/* What the command line asks for besides the plan. Strings point into argv. */
typedef struct run_options {
    const char *plan_path; /* PLAN.yaml, or NULL for the quick form */
    const char *json_path; /* --json FILE, or NULL */
    const char *jtl_path;  /* --jtl FILE, or NULL */
    bool latency;          /* --latency: print the HdrHistogram percentile distribution */
    bool quiet;            /* --quiet: no progress line */
    bool help;             /* --help: print run_cli_usage, exit 0; *p is then empty */
} run_options;

/* The --help text. */
extern const char run_cli_usage[];

/* Parses `tollgate run`'s arguments: argv[0] is the subcommand's name and is
 * skipped. On success returns 0, fills *opts and *p (release with plan_free;
 * --threads and --insecure are already applied to it). On failure returns
 * -EINVAL (usage or plan error: the caller exits 2) or -ENOMEM, with one
 * line in err such as `--rate: "50 per s": expected N/unit (e.g. 50/s,
 * 300/min)` or `unknown option '--rat' (did you mean '--rate'?)`, or the
 * plan loader's `plan.yaml:12:5: ...`; *p then holds nothing. */
int run_cli_parse(int argc, char **argv, run_options *opts, plan *p, char *err, size_t errlen);

#endif
