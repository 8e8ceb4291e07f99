/* projection.h — the class term of a projection discriminator (Miyato & Koyama 2018).
 *
 * D(x, y) = psi(phi(x)) + <e_y, phi(x)>: the logits of D's own head plus the dot
 * product of the class's embedding with D's last features. With a head of o logits
 * over features of c channels at p positions (a linear head: p = 1 and c all the
 * features; a PatchGAN's map: o = 1, one logit per position, the embedding dotted with
 * the c channels there):
 *
 *   out (N,O,P) += sum_c emb (N,O,C) * feat (N,C,P)
 *
 * where emb holds each sample's embedding (the rows of its class, looked up by the
 * caller). Backward accumulates (+=) into dfeat and demb; either may be NULL. Plain
 * kernels over raw pointers, sizes assumed valid. */
#ifndef GC_PROJECTION_H
#define GC_PROJECTION_H

void gc_projection_forward(float *out, const float *feat, const float *emb, int n, int o, int c,
                           int p);
void gc_projection_backward(float *dfeat, float *demb, const float *dout, const float *feat,
                            const float *emb, int n, int o, int c, int p);

#endif
