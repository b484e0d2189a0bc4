/*
 * redis_fixture: a private redis-server for a unit test, on a free
 * 127.0.0.1 port, with no persistence; stopped (SIGKILL) by redis_fixture_stop.
 * Header-only, included by one test file.
 */
#ifndef TG_TESTS_REDIS_FIXTURE_H
#define TG_TESTS_REDIS_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct redis_fixture {
    pid_t pid;
    int port;
} redis_fixture;

/* A port that was free a moment ago. */
static int redis_fixture_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int redis_fixture_connectable(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* Starts redis-server on f->port (a free one if 0). Returns 0 once it
 * accepts connections, -1 if it did not within 5 s. */
static int redis_fixture_start(redis_fixture *f)
{
    char port[16];
    struct timespec ms10 = {0, 10 * 1000000L};

    if (f->port == 0)
        f->port = redis_fixture_free_port();
    snprintf(port, sizeof(port), "%d", f->port);
    f->pid = fork();
    if (f->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a crashed test */
        freopen("/dev/null", "w", stdout);
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (redis_fixture_connectable(f->port))
            return 0;
        nanosleep(&ms10, NULL);
    }
    return -1;
}

static void redis_fixture_stop(redis_fixture *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    f->pid = 0;
}

#endif
