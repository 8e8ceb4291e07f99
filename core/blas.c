/* blas.c — gc_sgemm (our AVX-512 SGEMM or cblas_sgemm), gc_gemm (the same or our
 * bfloat16 kernel) and OpenBLAS's one thread behind core/blas.h. */
#include "core/blas.h"

#include <cblas.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "core/gemm.h"

/* OpenBLAS picks its kernels when it loads: for this CPU's family, or for the core that
 * OPENBLAS_CORETYPE names (deployments pin an older one for reproducibility, or a build
 * may lack the newest). When it runs one of its AVX-512 kernel sets, those match ours
 * on the big DCGAN shapes and beat them by 10-50% on the small ones (ring8's layers),
 * so it keeps every shape; when it runs older kernels (Haswell's AVX2 at about 120
 * GFLOP/s a core here), ours is 1.35-1.95x faster. bench/bench_gemm measures each
 * shape of a step both ways. The choice is fixed for the process, so it is made once
 * (pthread_once: gc_sgemm is called from several threads) instead of per call. */
static pthread_once_t use_ours_once = PTHREAD_ONCE_INIT;
static int use_ours; /* written once by decide_kernels, read-only afterwards */

static void decide_kernels(void)
{
    static const char *const avx512[] = {"skylakex", "cooperlake", "sapphirerapids"};
    const char *name = openblas_get_corename();
    int openblas_avx512 = 0;
    for (size_t i = 0; name && i < sizeof avx512 / sizeof avx512[0]; i++)
        openblas_avx512 |= !strcasecmp(name, avx512[i]);
    use_ours = gc_gemm_have_avx512() && !openblas_avx512;
}

/* Shapes where our kernel loses even to AVX2 kernels: a C narrower than half the
 * 32-wide register tile (the D output layers, conv1's weight gradient with its 16
 * columns) or a k of a few (ring8's 2-D input layer). */
static int ours_wins(int m, int n, int k)
{
    (void)m;
    if (n <= 16 || k < 4)
        return 0;
    pthread_once(&use_ours_once, decide_kernels);
    return use_ours;
}

void gc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc)
{
    /* gc_gemm_avx512 declines (-1, C untouched) without AVX-512 or buffers */
    if (ours_wins(m, n, k) &&
        gc_gemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0)
        return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Shapes that bfloat16 does not pay for: rounding op(A) and op(B) into pairs costs per
 * element of each, and a C of 16 columns or fewer, or a depth of 16 or less, leaves
 * too few products per element to win it back. bench/bench_gemm, one thread, float32
 * (what gc_sgemm picks) against bf16 in GFLOP/s: 64 x n x 8192 at n = 1 10.5 / 4.5,
 * at 16 72 / 58, at 32 84 / 109; 64 x 8192 x k at k = 1 10.4 / 5.8, at 16 99 / 94, at
 * 32 123 / 150 (n = 1 and k = 1 are a D's one-output head: forward, input gradient).
 * A few rows cost nothing extra: 1 x 8192 x 64 ran 9.7 / 9.8. */
#define BF16_MIN_DIM 17

void gc_gemm(int bf16, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
             int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (bf16 && n >= BF16_MIN_DIM && k >= BF16_MIN_DIM &&
        gc_gemm_bf16(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0)
        return;
    gc_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int gc_gemm_bf16_available(void)
{
    return gc_gemm_have_bf16();
}

void gc_blas_describe(char *out, size_t cap)
{
    pthread_once(&use_ours_once, decide_kernels);
    const char *core = openblas_get_corename();
    /* openblas_get_config() reads "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"
     */
    const char *config = openblas_get_config();
    char version[32] = "";
    if (config && sscanf(config, "OpenBLAS %31s", version) != 1)
        version[0] = '\0';
    snprintf(out, cap, "OpenBLAS%s%s %s%s", version[0] ? " " : "", version, core ? core : "?",
             use_ours ? " + ganctl AVX-512 SGEMM" : "");
}

/* OpenBLAS's pthread build starts its threads when it loads, before main(), and
 * openblas_set_num_threads(1) leaves them idle, not gone. blas_thread_shutdown_ (the
 * call its own fork handler makes; exported, not in its headers, so looked for weakly)
 * ends them: nothing would run on them, and a thread started before main() is the one
 * thread a process cannot make hold its stop signals (daemon/serve.c). Calling
 * openblas_set_num_threads again would start them anew. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

void gc_blas_init(void)
{
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_)
        blas_thread_shutdown_();
}

int gc_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
