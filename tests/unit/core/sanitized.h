/* sanitized.h — SANITIZED is 1 in the ASan and TSan builds (tests/run.sh and
 * tests/checkers.sh run the unit tests in both), 0 otherwise. There our SGEMM kernel is
 * instrumented (OpenBLAS is not), so training is far slower (test_gan's 2,000-step
 * ring8 run: 101 s under ASan, 161 s under TSan, 7 s without): tests that train for a
 * result run their path for a few steps there and check memory and threads, and the
 * normal build checks the result. */
#ifndef GC_TEST_SANITIZED_H
#define GC_TEST_SANITIZED_H

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#endif
