#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run/probe.h"

/* A listening socket on an ephemeral port (the kernel completes connects
 * without an accept). */
static int listener(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static void fill(plan *p, url *u, struct sockaddr_storage *ss, uint16_t port)
{
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    char s[64], err[128];

    snprintf(s, sizeof(s), "http://127.0.0.1:%u/api", port);
    assert_int_equal(url_parse(u, s, err, sizeof(err)), 0);
    memset(p, 0, sizeof(*p));
    p->targets = u;
    p->ntargets = 1;
    p->connect_timeout_ns = 1000000000ull;
    memset(ss, 0, sizeof(*ss));
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void test_reachable(void **state)
{
    plan p;
    url u;
    struct sockaddr_storage ss;
    uint16_t port;
    char err[256] = "";
    int fd = listener(&port);

    (void)state;
    fill(&p, &u, &ss, port);
    assert_int_equal(probe_targets(&p, &ss, NULL, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    url_free(&u);
    close(fd);
}

static void test_refused_is_one_line(void **state)
{
    plan p;
    url u;
    struct sockaddr_storage ss;
    uint16_t port;
    char err[256] = "", want[256];
    int fd = listener(&port);

    (void)state;
    close(fd); /* nothing listens there now */
    fill(&p, &u, &ss, port);
    assert_int_equal(probe_targets(&p, &ss, NULL, err, sizeof(err)), -ECONNREFUSED);
    snprintf(want, sizeof(want), "cannot connect to http://127.0.0.1:%u: connection refused", port);
    assert_string_equal(err, want);
    url_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reachable),
        cmocka_unit_test(test_refused_is_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
