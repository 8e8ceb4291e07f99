/* test_utf8.c — ga_utf8_scrub (api/utf8.c): what it leaves jansson takes, and it leaves
 * valid text as it was. The judge is jansson itself: json_string() refuses a string that
 * is not valid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/utf8.h"

static void expect(const char *in, const char *out)
{
    char s[64];
    strcpy(s, in);
    ga_utf8_scrub(s);
    if (strcmp(s, out) != 0) {
        print_error("scrub of '%s': got '%s', expected '%s'\n", in, s, out);
        fail();
    }
}

static void named_cases(void **state)
{
    (void)state;
    expect("plain ascii", "plain ascii");
    expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    expect("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf"); /* U+FFFF, U+10FFFF */
    expect("cut \xcf", "cut ?");        /* the JSON parser's error ends mid-character */
    expect("cut \xe2\x82", "cut ??");   /* each byte of a cut-off tail */
    expect("\xff\xfe", "??");           /* never UTF-8 */
    expect("\x80x", "?x");              /* a lone continuation byte */
    expect("\xc0\x80", "??");           /* an overlong NUL */
    expect("\xe0\x80\xaf", "???");      /* an overlong '/' */
    expect("\xed\xa0\x80", "???");      /* a surrogate, U+D800 */
    expect("\xf4\x90\x80\x80", "????"); /* past U+10FFFF */
    expect("\xf5\x80\x80\x80", "????"); /* a lead byte no character has */
    expect("\xcf\xd3"
           "b",
           "??b"); /* two leads, each without its follower */
}

/* Random bytes: what the scrub leaves jansson always takes, and strings jansson takes
 * come out unchanged. */
static void agrees_with_jansson(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    int taken = 0;
    for (int t = 0; t < 200000; t++) {
        char s[9], before[9];
        int n = 1 + t % 8;
        for (int i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* mostly the bytes that make or break UTF-8 */
            static const unsigned char pick[] = {'a',  0x80, 0x9f, 0xa0, 0xbf, 0xc0,
                                                 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
                                                 0xf4, 0xf5, 0xff, 0x8f, 0x90};
            s[i] = (char)(x % 5 == 0 ? (unsigned char)(x >> 8) | 1 : pick[(x >> 8) % sizeof pick]);
        }
        s[n] = 0;
        memcpy(before, s, sizeof s);
        json_t *j = json_string(before);
        taken += j != NULL;
        ga_utf8_scrub(s);
        if (j)
            assert_string_equal(s, before);
        json_decref(j);
        json_t *k = json_string(s);
        assert_non_null(k);
        json_decref(k);
    }
    assert_true(taken > 1000); /* the valid side was exercised too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(named_cases),
        cmocka_unit_test(agrees_with_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
