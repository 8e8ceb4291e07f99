/* mem.c — zeroed cache-line-aligned blocks (see mem.h).
 *
 * The block is calloc'd 64 bytes longer and its start rounded up to the next line;
 * calloc's own alignment (at least 16 bytes, more than a pointer) leaves 16 to 64
 * bytes before that start, and the last pointer's width of them holds calloc's
 * pointer for gc_free64. */
#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>

#define LINE 64

void *gc_zalloc64(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - LINE) / size)
        return NULL;
    char *raw = calloc(n * size + LINE, 1);
    if (!raw)
        return NULL;
    char *p = (char *)(((uintptr_t)raw + LINE) & ~(uintptr_t)(LINE - 1));
    ((void **)p)[-1] = raw;
    return p;
}

void gc_free64(void *p)
{
    if (p)
        free(((void **)p)[-1]);
}
