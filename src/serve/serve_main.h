/*
 * serve_main: the `tollgate serve` subcommand -- flags, configuration,
 * threads, signals. Everything else lives in the modules it wires together.
 */
#ifndef TG_SERVE_SERVE_MAIN_H
#define TG_SERVE_SERVE_MAIN_H

/* The usage text of `tollgate help serve`. */
extern const char serve_usage[];

/* Runs `tollgate serve ARGS` (argv[0] is "serve"). Returns the exit code: 0
 * after a clean shutdown (SIGTERM / SIGINT), 1 when the server cannot start
 * (an address in use, ...), 2 for bad flags or configuration (reported
 * before anything listens). */
int serve_main(int argc, char **argv);

#endif
