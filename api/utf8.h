/* utf8.h — text on its way into JSON. jansson takes only whole, valid UTF-8: a string
 * with one bad byte is refused whole, and what the user needed to read is lost. Text
 * that may hold foreign bytes (a URL, a store's message, the JSON parser's own error,
 * which quotes the input and can end inside a character) goes through here first.
 *
 * Internal to api/. */
#ifndef GA_UTF8_H
#define GA_UTF8_H

/* Replaces, in place, every byte of s that does not belong to a character jansson takes
 * (no overlong form, no surrogate, nothing above U+10FFFF, no cut-off tail) with '?'. */
void ga_utf8_scrub(char *s);

#endif
