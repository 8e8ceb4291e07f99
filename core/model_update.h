/* model_update.h — the passes over a model's parameters: the optimizer's step, zeroing
 * the gradients, weight clipping, the gradient norm. Part of the model's API:
 * core/model.h includes it. None allocates; each splits across the model's pool when
 * the parameters are many enough. */
#ifndef GC_MODEL_UPDATE_H
#define GC_MODEL_UPDATE_H

struct gc_model;

void gc_model_zero_grad(struct gc_model *m);
/* One optimizer step over all parameters with the current gradients. */
void gc_model_step(struct gc_model *m);
/* The steps that follow use the optimizer's learning rate times scale (> 0; 1 after
 * create): a learning-rate schedule. Not part of the saved state (the caller sets it
 * from its step count), nor of copy_state; clone copies it. */
void gc_model_set_lr_scale(struct gc_model *m, float scale);
/* Optimizer steps taken since the optimizer was chosen (part of the saved state). */
long long gc_model_step_count(const struct gc_model *m);
/* L2 norm of all gradients. */
float gc_model_grad_norm(const struct gc_model *m);
/* Clips every parameter to [-c, c] (WGAN weight clipping). */
void gc_model_clip(struct gc_model *m, float c);

#endif
