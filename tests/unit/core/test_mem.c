/* test_mem.c — gc_zalloc64: every block starts on a 64-byte line, reads as zeros over
 * its whole length and takes writes over all of it (the sanitizer and valgrind builds
 * see any overrun or a free of the wrong pointer), small and mmap-sized; a size whose
 * bytes overflow is refused; gc_free64(NULL) does nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/mem.h"

static void aligned_zeroed_writable(void **s)
{
    (void)s;
    static const size_t counts[] = {0, 1, 3, 15, 16, 17, 1000, 4096, 262144, 786433};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        /* several at once, so that heap blocks at different offsets are covered */
        float *b[5];
        for (int k = 0; k < 5; k++) {
            b[k] = gc_zalloc64(counts[i] + (size_t)k, sizeof(float));
            assert_non_null(b[k]);
            assert_int_equal((uintptr_t)b[k] % 64, 0);
            for (size_t j = 0; j < counts[i] + (size_t)k; j++)
                assert_true(b[k][j] == 0.0f);
            memset(b[k], 0xab, (counts[i] + (size_t)k) * sizeof(float));
        }
        for (int k = 0; k < 5; k++)
            gc_free64(b[k]);
    }
    /* byte-sized elements: any length, still on a line */
    for (size_t n = 1; n < 200; n += 7) {
        unsigned char *p = gc_zalloc64(n, 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        assert_int_equal(p[n - 1], 0);
        p[n - 1] = 1;
        gc_free64(p);
    }
}

static void overflow_and_null(void **s)
{
    (void)s;
    assert_null(gc_zalloc64(SIZE_MAX / 2, 4));
    assert_null(gc_zalloc64(SIZE_MAX, 1));
    assert_null(gc_zalloc64(SIZE_MAX / 8, 8));
    gc_free64(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aligned_zeroed_writable),
        cmocka_unit_test(overflow_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
