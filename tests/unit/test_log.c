#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static size_t drain(int fd, char *buf, size_t len)
{
    ssize_t n = read(fd, buf, len - 1);

    buf[n < 0 ? 0 : n] = '\0';
    return n < 0 ? 0 : (size_t)n;
}

static void test_levels_and_format(void **state)
{
    int p[2];
    char buf[8192];

    (void)state;
    assert_int_equal(pipe(p), 0);
    log_set_fd(p[1]);
    log_set_level(LOG_LEVEL_WARN);
    log_info("test", "hidden %d", 1);
    log_warn("test", "shown %d", 2);
    drain(p[0], buf, sizeof(buf));
    /* "2026-11-23T17:30:00.123Z warn test: shown 2\n" */
    assert_int_equal(strlen(buf), 24 + strlen(" warn test: shown 2\n"));
    assert_string_equal(buf + 24, " warn test: shown 2\n");
    assert_int_equal(buf[10], 'T');
    assert_int_equal(buf[23], 'Z');

    /* An over-long message is cut but still ends the line. */
    {
        char big[4000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        log_error("test", "%s", big);
        size_t n = drain(p[0], buf, sizeof(buf));
        assert_true(n < 2048);
        assert_int_equal(buf[n - 1], '\n');
    }
    log_set_fd(2);
    close(p[0]);
    close(p[1]);
}

static void test_parse_level(void **state)
{
    enum log_level l;

    (void)state;
    assert_int_equal(log_parse_level("debug", &l), 0);
    assert_int_equal(l, LOG_LEVEL_DEBUG);
    assert_int_equal(log_parse_level("loud", &l), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_format),
        cmocka_unit_test(test_parse_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
