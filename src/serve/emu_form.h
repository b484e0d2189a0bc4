/*
 * emu_form: application/x-www-form-urlencoded text (an OAuth token request
 * body, a query string): `k=v&k2=v2`, percent-escapes, `+` for a space.
 *
 * Hand-written: libcurl's curl_easy_unescape needs a handle and allocates,
 * and nothing in Debian's C libraries parses a form into caller buffers; it
 * is one loop.
 */
#ifndef TG_SERVE_EMU_FORM_H
#define TG_SERVE_EMU_FORM_H

#include <stdbool.h>
#include <stddef.h>

#define EMU_FORM_KEY_MAX 64 /* longer keys never match */

/* Percent-decodes len bytes of `in` into out (turning `+` into a space when
 * plus is set) and NUL-terminates it. Returns the decoded length (which may
 * include NUL bytes from %00), -EINVAL for a malformed escape, or -ENOBUFS
 * when out (outlen bytes, NUL included) is too small. */
int emu_form_decode(const char *in, size_t len, bool plus, char *out, size_t outlen);

/* Looks up `key` among the pairs of the len bytes at s (keys compared after
 * decoding; a pair without '=' has an empty value; empty pairs are skipped).
 * Returns 1 and writes the decoded value into out (as emu_form_decode, its
 * length in *out_len when out_len is not NULL), 0 when the key is absent,
 * -EEXIST when it appears more than once, -EINVAL for a malformed escape in
 * any key or in the value, or -ENOBUFS when the value does not fit. */
int emu_form_get(const char *s, size_t len, const char *key, char *out, size_t outlen,
                 size_t *out_len);

/* Reads an unsigned decimal query parameter: 1 and *out in [min, max], 0 when
 * absent, -EINVAL when it is not such a number (or as emu_form_get). */
int emu_form_get_uint(const char *s, size_t len, const char *key, unsigned long min,
                      unsigned long max, unsigned long *out);

#endif
