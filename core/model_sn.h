/* model_sn.h — spectral normalization of a layer's weight (Miyato et al. 2018), with
 * the semantics of PyTorch's torch.nn.utils.spectral_norm (one power iteration per
 * forward in train mode, u and v constants of the backward). Part of the model's API:
 * core/model.h includes it.
 *
 * The layer keeps its raw weight W among the parameters (what the optimizer updates,
 * clipping clips and a checkpoint saves); its kernels run on W / sigma(W), sigma the
 * largest singular value of W seen as a matrix (O, I) for linear, (OC, C*K*K) for
 * conv2d, estimated from two vectors u (O) and v (I) that are part of the model's
 * state (saved, loaded, copied). Gradients are those of W. */
#ifndef GC_MODEL_SN_H
#define GC_MODEL_SN_H

#include "core/error.h"
#include "core/rng.h"

struct gc_model;

/* Marks the last layer added (linear or conv2d) for spectral normalization; before
 * finalize. GC_EINVAL for another kind or no layer, GC_ESTATE after finalize. */
int gc_model_spectral_norm(struct gc_model *m, struct gc_error *err);

/* Views of a normalized layer's u (*rows floats), v (*cols floats) and the sigma of
 * the last forward; NULL / 0 for a layer without spectral norm. For tests and tools:
 * a caller may set u and v (PyTorch's buffers) before a forward. */
float *gc_model_layer_sn_u(struct gc_model *m, int layer, int *rows);
float *gc_model_layer_sn_v(struct gc_model *m, int layer, int *cols);
float gc_model_layer_sigma(const struct gc_model *m, int layer);

/* ---- the model's own rooms call these (core/model*.c) ------------------------------ */

/* Lays out and allocates the blocks of the normalized layers (at finalize and clone). */
int gc_model_sn_alloc(struct gc_model *m, struct gc_error *err);
/* u and v drawn N(0, 1) from rng and normalized, as PyTorch starts them. */
void gc_model_sn_init(struct gc_model *m, struct gc_rng *rng);
/* At the start of a forward: one power iteration per layer when train, then sigma and
 * the normalized weights. */
void gc_model_sn_refresh(struct gc_model *m, int train);
/* Around a backward that forms parameter gradients: stash puts the gradients the
 * normalized weights hold aside and clears them; unstash turns what the backward
 * accumulated (the gradient of W / sigma) into the gradient of W and adds the stash
 * back. */
void gc_model_sn_stash(struct gc_model *m);
void gc_model_sn_unstash(struct gc_model *m);

#endif
