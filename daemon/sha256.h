/* sha256.h — SHA-256 (FIPS 180-4) of a buffer, for checkpoint digests.
 *
 * Small and self-contained so the store needs no crypto library; checked against the
 * FIPS test vectors in tests/unit/daemon/test_store.c. */
#ifndef GD_SHA256_H
#define GD_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* The 32-byte digest of data[0..len). */
void gd_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
/* The same digest as 64 lowercase hex digits and a NUL (the form checkpoints keep). */
void gd_sha256_hex(const uint8_t *data, size_t len, char out[65]);

#endif
