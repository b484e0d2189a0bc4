#include "serve/emu_form.h"

#include <errno.h>
#include <string.h>

static int emu_form_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int emu_form_decode(const char *in, size_t len, bool plus, char *out, size_t outlen)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= len)
                return -EINVAL;
            hi = emu_form_hex(in[i + 1]);
            lo = emu_form_hex(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (n + 1 >= outlen)
            return -ENOBUFS;
        out[n++] = c;
    }
    if (outlen == 0)
        return -ENOBUFS;
    out[n] = '\0';
    return (int)n;
}

int emu_form_get(const char *s, size_t len, const char *key, char *out, size_t outlen,
                 size_t *out_len)
{
    const char *end = s + len, *p = s;
    int found = 0;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        const char *ke = eq != NULL ? eq : pe;
        char k[EMU_FORM_KEY_MAX + 1];
        int kn = emu_form_decode(p, (size_t)(ke - p), true, k, sizeof(k));

        if (kn == -EINVAL)
            return -EINVAL;
        if (pe > p && kn >= 0 && (size_t)kn == strlen(key) && memcmp(k, key, (size_t)kn) == 0) {
            const char *v = eq != NULL ? eq + 1 : pe;
            int vn;

            if (found)
                return -EEXIST;
            vn = emu_form_decode(v, (size_t)(pe - v), true, out, outlen);
            if (vn < 0)
                return vn;
            if (out_len != NULL)
                *out_len = (size_t)vn;
            found = 1;
        }
        p = pe + 1;
    }
    return found;
}

int emu_form_get_uint(const char *s, size_t len, const char *key, unsigned long min,
                      unsigned long max, unsigned long *out)
{
    char v[24];
    size_t n = 0;
    unsigned long x = 0;
    int rc = emu_form_get(s, len, key, v, sizeof(v), &n);

    if (rc == -ENOBUFS)
        return -EINVAL;
    if (rc <= 0)
        return rc;
    if (n == 0 || n > 18)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -EINVAL;
        x = x * 10 + (unsigned long)(v[i] - '0');
    }
    if (x < min || x > max)
        return -EINVAL;
    *out = x;
    return 1;
}
