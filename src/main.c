/*
 * tollgate: subcommand dispatch only. Each subcommand lives in its own module
 * and is one row of the table below.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "run/cli_run.h"
#include "run/run_main.h"
#include "serve/serve_main.h"

struct command {
    const char *name;
    const char *summary;
    const char *usage; /* full help text, printed by `tollgate help NAME` */
    int (*main)(int argc, char **argv);
};

static int help_main(int argc, char **argv);

static const struct command commands[] = {
    {"help", "show help for tollgate or one subcommand", "usage: tollgate help [SUBCOMMAND]\n",
     help_main},
    {"run", "generate load that understands rate limits (closed and open models, retries)",
     run_cli_usage, run_main},
    {"serve", "run the rate-limiting HTTP gateway (emulated platform API or proxy)", serve_usage,
     serve_main},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
            "tollgate %s: load generation and rate-limiting for HTTP APIs\n\n"
            "usage: tollgate [--version] SUBCOMMAND [ARGS]\n\nsubcommands:\n",
            TG_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'tollgate help SUBCOMMAND' for its options.\n");
}

static void command_names(FILE *out)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "%s%s", i == 0 ? "" : ", ", commands[i].name);
}

static int help_main(int argc, char **argv)
{
    const struct command *cmd;

    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    if (argc > 2) {
        fprintf(stderr, "tollgate help: expected at most one subcommand name\n");
        return 2;
    }
    cmd = command_find(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "tollgate help: unknown subcommand '%s', expected one of: ", argv[1]);
        command_names(stderr);
        fprintf(stderr, "\n");
        return 2;
    }
    fputs(cmd->usage, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const struct command *cmd;

    /* A peer that closes while we write must be an error return, not a
     * signal that kills the process (libuv writes with write(2)). */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("tollgate %s\n", TG_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (argv[1][0] == '-') {
        fprintf(stderr,
                "tollgate: unknown option '%s', expected --version, --help or a subcommand\n",
                argv[1]);
        return 2;
    }
    cmd = command_find(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "tollgate: unknown subcommand '%s', expected one of: ", argv[1]);
        command_names(stderr);
        fprintf(stderr, "\n");
        return 2;
    }
    return cmd->main(argc - 1, argv + 1);
}
