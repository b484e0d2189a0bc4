/*
 * run_main: `tollgate run`, wired: the command line (run/cli_run.h), the
 * reachability check, the engine's threads (run/engine.h), a main-thread
 * loop for the progress line, the per-second timeline and Ctrl-C, then the
 * reports (text, --json, --jtl, --latency) and the thresholds' verdict.
 */
#ifndef TG_RUN_RUN_MAIN_H
#define TG_RUN_RUN_MAIN_H

/* Runs `tollgate run` with argv[0] = "run". Returns the exit status: 0 when
 * every threshold passes, 99 when one fails, 2 for a usage or plan error or
 * a target that cannot be reached, 1 for a runtime error, 130 after SIGINT
 * (the reports are written with partial: true). */
int run_main(int argc, char **argv);

#endif
