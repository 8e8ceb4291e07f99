/* test_router.c — the route table of api/router.c: every row answers a path made from
 * its own pattern, path parameters and their limits, the Allow set of a path, the
 * detail of a malformed run id, HEAD beside GET.
 *
 *   test_router           the cmocka tests
 *   test_router --routes  prints the table, one "METHODS PATTERN" line a row
 *                         ("GET,HEAD /api/v1/runs"), for tests/integration/test_openapi.py
 *                         to compare with api/openapi.json */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api/router.h"

/* The pattern with its parameters filled in: {id} 7, {step} 42, {file} js/app.js. */
static void instance(const char *pattern, char *out, size_t cap)
{
    static const struct {
        const char *param, *value;
    } fill[] = {{"{id}", "7"}, {"{step}", "42"}, {"{file}", "js/app.js"}};
    size_t n = 0;
    for (const char *p = pattern; *p && n + 1 < cap;) {
        int done = 0;
        for (size_t i = 0; i < sizeof fill / sizeof fill[0] && !done; i++) {
            size_t k = strlen(fill[i].param);
            if (strncmp(p, fill[i].param, k) == 0) {
                n += (size_t)snprintf(out + n, cap - n, "%s", fill[i].value);
                p += k;
                done = 1;
            }
        }
        if (!done)
            out[n++] = *p++;
    }
    out[n < cap ? n : cap - 1] = 0;
}

static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE"};

static void every_row_answers_its_own_path(void **state)
{
    (void)state;
    for (int i = 0; i < ga_route_count; i++) {
        const struct ga_route *rt = &ga_routes[i];
        char path[256];
        instance(rt->pattern, path, sizeof path);
        for (int m = 0; m < 4; m++) {
            if (!(rt->methods & (1u << m)))
                continue;
            struct ga_match got;
            ga_route_match(path, methods[m], &got);
            assert_ptr_equal(got.route, rt);
            assert_true(got.allow & rt->methods);
            assert_int_equal(got.id, strstr(rt->pattern, "{id}") ? 7 : 0);
            assert_int_equal(got.step, strstr(rt->pattern, "{step}") ? 42 : -1);
            if (strstr(rt->pattern, "{file}"))
                assert_string_equal(got.file, "js/app.js");
            else
                assert_null(got.file);
        }
    }
}

static void head_goes_with_get_except_streams(void **state)
{
    (void)state;
    for (int i = 0; i < ga_route_count; i++) {
        const struct ga_route *rt = &ga_routes[i];
        size_t n = strlen(rt->pattern);
        int stream = n >= 7 && strcmp(rt->pattern + n - 7, "/events") == 0;
        if (rt->methods & GA_GET)
            assert_int_equal(!!(rt->methods & GA_HEAD), !stream);
        else
            assert_false(rt->methods & GA_HEAD);
    }
}

static void allow_is_every_method_of_the_path(void **state)
{
    (void)state;
    static const struct {
        const char *path, *allow;
    } cases[] = {
        {"/api/v1/runs", "GET, HEAD, POST"},
        {"/api/v1/runs/", "GET, HEAD, POST"},
        {"/api/v1/runs/3", "GET, HEAD, DELETE"},
        {"/api/v1/runs/3/cancel", "POST"},
        {"/api/v1/events", "GET"},
        {"/api/v1/runs/3/events", "GET"},
        {"/healthz", "GET, HEAD"},
        {"/static/", "GET, HEAD"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ga_match m;
        ga_route_match(cases[i].path, "PUT", &m);
        assert_null(m.route);
        char text[64];
        assert_string_equal(ga_methods_text(m.allow, ", ", text, sizeof text), cases[i].allow);
    }
}

static void path_parameters_and_their_limits(void **state)
{
    (void)state;
    struct ga_match m;
    ga_route_match("/api/v1/runs/12/samples/latest.png", "GET", &m);
    assert_non_null(m.route);
    assert_int_equal(m.id, 12);
    assert_int_equal(m.step, -1);
    ga_route_match("/api/v1/runs/12/samples/0.png", "GET", &m);
    assert_non_null(m.route);
    assert_int_equal(m.step, 0);
    ga_route_match("/api/v1/runs/1000000000000000000/checkpoints/1000000000000000000", "GET", &m);
    assert_non_null(m.route);
    assert_int_equal(m.id, 1000000000000000000LL);
    assert_int_equal(m.step, 1000000000000000000LL);
    static const char *const none[] = {
        "/api/v1/runs/1/samples/x.png",
        "/api/v1/runs/1/samples/.png",
        "/api/v1/runs/1/samples/5.png/x",
        "/api/v1/runs/1/samples/5",
        "/api/v1/runs/1/checkpoints/x",
        "/api/v1/runs/1/checkpoints/-1",
        "/api/v1/runs/1/checkpoints/99999999999999999999",
        "/api/v1/runs/1/",
        "/api/v1/runs/1/nope",
        "/api/v1/runs//cancel",
        "/api/v2/runs",
        "/static",
        "/healthz/",
        "",
        "/index.htm",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        ga_route_match(none[i], "GET", &m);
        assert_null(m.route);
        assert_int_equal(m.allow, 0);
    }
}

static void a_bad_run_id_is_named(void **state)
{
    (void)state;
    static const struct {
        const char *path, *id;
    } bad[] = {{"/api/v1/runs/0", "'0'"},
               {"/api/v1/runs/abc", "'abc'"},
               {"/api/v1/runs/-1/metrics", "'-1'"},
               {"/api/v1/runs/1e3", "'1e3'"},
               {"/api/v1/runs/18446744073709551616", "'18446744073709551616'"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ga_match m;
        ga_route_match(bad[i].path, "GET", &m);
        assert_int_equal(m.allow, 0);
        assert_non_null(strstr(m.detail, "run ids are positive integers"));
        assert_non_null(strstr(m.detail, bad[i].id));
    }
    struct ga_match m;
    ga_route_match("/api/v1/runs/1/nope", "GET", &m);
    assert_string_equal(m.detail, "");
}

static void patterns_are_well_formed(void **state)
{
    (void)state;
    for (int i = 0; i < ga_route_count; i++) {
        const char *p = ga_routes[i].pattern;
        assert_true(p[0] == '/');
        assert_non_null(ga_routes[i].handler);
        assert_true(ga_routes[i].methods != 0);
        for (const char *b = strchr(p, '{'); b; b = strchr(b + 1, '{')) {
            const char *e = strchr(b, '}');
            assert_non_null(e);
            size_t n = (size_t)(e - b - 1);
            assert_true((n == 2 && !strncmp(b + 1, "id", 2)) ||
                        (n == 4 && !strncmp(b + 1, "step", 4)) ||
                        (n == 4 && !strncmp(b + 1, "file", 4) && e[1] == 0));
        }
        /* no two rows of one pattern take the same method */
        for (int j = 0; j < i; j++)
            if (strcmp(ga_routes[j].pattern, p) == 0)
                assert_int_equal(ga_routes[j].methods & ga_routes[i].methods, 0);
    }
}

static int print_routes(void)
{
    for (int i = 0; i < ga_route_count; i++) {
        char text[64];
        printf("%s %s\n", ga_methods_text(ga_routes[i].methods, ",", text, sizeof text),
               ga_routes[i].pattern);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--routes") == 0)
        return print_routes();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_row_answers_its_own_path),
        cmocka_unit_test(head_goes_with_get_except_streams),
        cmocka_unit_test(allow_is_every_method_of_the_path),
        cmocka_unit_test(path_parameters_and_their_limits),
        cmocka_unit_test(a_bad_run_id_is_named),
        cmocka_unit_test(patterns_are_well_formed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
