#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/worker.h"

#define NCONN 64

static struct sockaddr_storage loopback(uint16_t port)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;

    memset(&ss, 0, sizeof(ss));
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ss;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void close_all(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
}

/* Connections accepted by listening (non-blocking) socket fd. */
static int accept_all(int fd)
{
    int n = 0, c;

    while ((c = accept(fd, NULL, NULL)) >= 0) {
        close(c);
        n++;
    }
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    return n;
}

/* Three workers on the port the kernel chose: one port, every socket
 * listening, and connections spread over all three -- the first socket, which
 * listened before it had SO_REUSEPORT, is in the group too. */
static void test_group_shares_one_port(void **state)
{
    struct sockaddr_storage ss = loopback(0), got;
    socklen_t len = sizeof(got);
    int fds[3], clients[NCONN], total = 0;
    char err[200];

    (void)state;
    assert_int_equal(worker_listen_group(&ss, "127.0.0.1:0", 3, fds, err, sizeof(err)), 0);
    assert_true(port_of(&ss) != 0);
    for (int i = 0; i < 3; i++) {
        int on = 0;
        socklen_t olen = sizeof(on);

        assert_int_equal(getsockname(fds[i], (struct sockaddr *)&got, &len), 0);
        assert_int_equal(port_of(&got), port_of(&ss));
        assert_int_equal(getsockopt(fds[i], SOL_SOCKET, SO_ACCEPTCONN, &on, &olen), 0);
        assert_int_equal(on, 1);
    }
    for (int i = 0; i < NCONN; i++) {
        clients[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(clients[i] >= 0);
        assert_int_equal(connect(clients[i], (struct sockaddr *)&ss, sizeof(struct sockaddr_in)),
                         0);
    }
    for (int i = 0; i < 3; i++) {
        int n = accept_all(fds[i]);

        /* all 64 on two of three sockets by chance: p = 3 * (2/3)^64 < 1e-10 */
        assert_true(n > 0);
        total += n;
    }
    assert_int_equal(total, NCONN);
    close_all(clients, NCONN);
    close_all(fds, 3);
}

/* A second group on a port in use fails whole, with the message the user
 * sees, and leaves the first alone; so does one with a single worker. */
static void test_second_group_is_refused(void **state)
{
    struct sockaddr_storage ss = loopback(0), again;
    int fds[2], other[2];
    char err[200];

    (void)state;
    assert_int_equal(worker_listen_group(&ss, "first", 2, fds, err, sizeof(err)), 0);
    for (unsigned n = 1; n <= 2; n++) {
        again = loopback(port_of(&ss));
        other[0] = other[1] = 12345;
        assert_int_equal(worker_listen_group(&again, "127.0.0.1:P", n, other, err, sizeof(err)),
                         -EADDRINUSE);
        assert_string_equal(err, "127.0.0.1:P: address in use: another process listens on this "
                                 "port");
        assert_int_equal(other[0], -1);
        assert_int_equal(other[1], n == 2 ? -1 : 12345);
    }
    close_all(fds, 2);
    /* once closed, the port can be taken again */
    again = loopback(port_of(&ss));
    assert_int_equal(worker_listen_group(&again, "x", 2, fds, err, sizeof(err)), 0);
    close_all(fds, 2);
}

/* Someone else listening with SO_REUSEPORT (which our other sockets have)
 * is found all the same: the first socket has no SO_REUSEPORT when it
 * listens. */
static void test_foreign_reuseport_listener_is_found(void **state)
{
    struct sockaddr_storage ss = loopback(0);
    socklen_t len = sizeof(ss);
    int one = 1, foreign, fds[4];
    char err[200];

    (void)state;
    foreign = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(foreign >= 0);
    assert_int_equal(setsockopt(foreign, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
    assert_int_equal(bind(foreign, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
    assert_int_equal(listen(foreign, 8), 0);
    assert_int_equal(getsockname(foreign, (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(worker_listen_group(&ss, "busy", 4, fds, err, sizeof(err)), -EADDRINUSE);
    close(foreign);
}

/* Two servers that both bound their sockets before either listened: the
 * first to listen wins, the other's group fails -- simulated with the
 * socket calls worker_listen_group makes, in that interleaving. */
static void test_first_listen_wins(void **state)
{
    struct sockaddr_storage ss = loopback(0);
    socklen_t len = sizeof(ss);
    int one = 1, early, fds[2];
    char err[200];

    (void)state;
    /* the other server's first socket: bound with SO_REUSEADDR, not listening */
    early = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(setsockopt(early, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    assert_int_equal(bind(early, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
    assert_int_equal(getsockname(early, (struct sockaddr *)&ss, &len), 0);
    /* ours gets through: nothing listens yet */
    assert_int_equal(worker_listen_group(&ss, "ours", 2, fds, err, sizeof(err)), 0);
    /* the other's first listen is refused */
    assert_int_equal(listen(early, 8), -1);
    assert_int_equal(errno, EADDRINUSE);
    close(early);
    close_all(fds, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_shares_one_port),
        cmocka_unit_test(test_second_group_is_refused),
        cmocka_unit_test(test_foreign_reuseport_listener_is_found),
        cmocka_unit_test(test_first_listen_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
