/* model_check.h — model builders shared by the model tests (test_model.c,
 * test_grad2.c, test_torch_ref.c): generic batch-norm parameters, and the DCGAN
 * discriminator's shape on 1x8x8 that the second-order and PyTorch tests share.
 * Include after cmocka.h. */
#ifndef TEST_MODEL_CHECK_H
#define TEST_MODEL_CHECK_H

#include <stdint.h>

#include "core/model.h"
#include "core/rng.h"

/* Gives BN layers a generic gamma and beta, so their gradients are not special. */
static inline void mc_shake_bn(struct gc_model *m, uint64_t seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 9);
    for (int i = 0; i < gc_model_nlayers(m); i++) {
        if (gc_model_layer_kind(m, i) != GC_LAYER_BATCHNORM)
            continue;
        size_t n;
        float *g = gc_model_layer_weight(m, i, &n);
        gc_rng_fill_uniform(&r, g, n, 0.5f, 1.5f);
        float *b = gc_model_layer_bias(m, i, &n);
        gc_rng_fill_uniform(&r, b, n, -0.5f, 0.5f);
    }
}

/* The DCGAN discriminator's shape on 1x8x8: conv(4,2,1) -> leaky 0.2 -> conv(4,2,1,
 * bias only without BN) -> [BN] -> leaky 0.2 -> linear(1); sn: spectral norm on the
 * convs and the linear (layers 0, 2 and 4). Finalized from seed, BN shaken. */
static inline struct gc_model *mc_small_d(int max_batch, int bn, int sn, uint64_t seed)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(max_batch, 1, 8, 8, &err);
    assert_non_null(m);
    assert_int_equal(gc_model_add_conv2d(m, 4, 4, 2, 1, 1, &err), 0);
    if (sn)
        assert_int_equal(gc_model_spectral_norm(m, &err), 0);
    assert_int_equal(gc_model_add_leaky_relu(m, 0.2f, &err), 0);
    assert_int_equal(gc_model_add_conv2d(m, 6, 4, 2, 1, !bn, &err), 0);
    if (sn)
        assert_int_equal(gc_model_spectral_norm(m, &err), 0);
    if (bn)
        assert_int_equal(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err), 0);
    assert_int_equal(gc_model_add_leaky_relu(m, 0.2f, &err), 0);
    assert_int_equal(gc_model_add_linear(m, 1, 1, &err), 0);
    if (sn)
        assert_int_equal(gc_model_spectral_norm(m, &err), 0);
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    assert_int_equal(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err), 0);
    mc_shake_bn(m, seed);
    return m;
}

#endif
