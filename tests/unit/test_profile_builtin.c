#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/profile_builtin.h"

/* Every built-in profile is byte-for-byte the file in profiles/ (ctest runs
 * from the source root). */
static void test_builtins_match_files(void **state)
{
    int n = 0;

    (void)state;
    for (const struct profile_builtin *p = profile_builtins; p->name != NULL; p++) {
        char path[256];
        char *text;
        long len;
        FILE *f;

        snprintf(path, sizeof(path), "profiles/%s.yaml", p->name);
        f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        text = malloc((size_t)len + 1);
        assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        assert_int_equal(p->len, (size_t)len);
        assert_memory_equal(p->text, text, (size_t)len);
        assert_int_equal(p->text[p->len], '\0');
        assert_ptr_equal(profile_builtin_find(p->name), p);
        free(text);
        n++;
    }
    assert_true(n >= 1);
    assert_null(profile_builtin_find("no-such-profile"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_match_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
