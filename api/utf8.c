/* utf8.c — ga_utf8_scrub: bytes that are not UTF-8 become '?'. */
#include "api/utf8.h"

#include <stdint.h>

/* The length of the character at p (1-4), or 0 when it is not valid UTF-8. */
static int char_len(const unsigned char *p)
{
    int n = p[0] < 0x80                    ? 1
            : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
            : (p[0] & 0xf0) == 0xe0        ? 3
            : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                           : 0;
    uint32_t c = n == 1 ? p[0] : p[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also the terminating 0 of a cut-off tail */
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
        (n == 4 && (c < 0x10000 || c > 0x10ffff)))
        return 0; /* overlong, a surrogate, or past the last code point */
    return n;
}

void ga_utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = char_len(p);
        if (n)
            p += n;
        else
            *p++ = '?';
    }
}
