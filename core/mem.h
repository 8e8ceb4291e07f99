/* mem.h — zeroed blocks that start on a cache line, for the arrays the kernels stream.
 *
 * calloc gives 16-byte alignment, and a large block (mmap'd by glibc) starts 16 bytes
 * past a page, so a kernel's 64-byte vector load or store of a row that starts with
 * the block touches two cache lines. On the 64x64 DCGAN at 2 threads the worker's share
 * of D's backward regions took 6-13% longer than the caller's, and the caller waited;
 * with the models' blocks, the pool's scratch and the trainer's batches on lines,
 * 0-4% (same bits). These keep calloc's untouched zero pages, so a block costs
 * resident memory only where it is written.
 *
 * gc_zalloc64(n, size): n * size zeroed bytes, 64-byte aligned; NULL when out of
 * memory or when n * size overflows. gc_free64(p) frees it (NULL is a no-op); never
 * free() a gc_zalloc64 block, nor gc_free64 anything else. */
#ifndef GC_MEM_H
#define GC_MEM_H

#include <stddef.h>

void *gc_zalloc64(size_t n, size_t size);
void gc_free64(void *p);

#endif
