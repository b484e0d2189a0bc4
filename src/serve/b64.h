/*
 * b64: base64 (RFC 4648 section 4, for HTTP Basic credentials) and base64url
 * without padding (section 5, for signed tokens and opaque cursors).
 *
 * Encoding goes through OpenSSL's EVP_EncodeBlock and translates the alphabet.
 * Decoding is by hand: EVP_DecodeBlock knows only the padded standard
 * alphabet, skips whitespace, and counts padding as data bytes, while the
 * callers here need a strict decoder for both alphabets (a table and a loop).
 */
#ifndef TG_SERVE_B64_H
#define TG_SERVE_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Room b64url_encode needs for n input bytes, including the NUL (it encodes
 * with padding before stripping it). */
#define B64_ENC_ROOM(n) (4 * (((n) + 2) / 3) + 1)

/* Room enough to decode len characters. */
#define B64_DEC_ROOM(len) (3 * ((len) / 4) + 3)

/* Encodes n bytes of `in` as base64url without padding into out and
 * NUL-terminates it. Returns the encoded length, or -ENOBUFS when outlen is
 * less than B64_ENC_ROOM(n) (out is then untouched). */
int b64url_encode(const void *in, size_t n, char *out, size_t outlen);

/* Decodes len characters of `in` into out. With url, the alphabet is
 * base64url (`-`, `_`), else standard (`+`, `/`). Padding (`=`) is optional,
 * but when present it must complete the last group of four. Anything else
 * (a character outside the alphabet, whitespace, a lone trailing character,
 * non-zero unused bits) is -EINVAL; a too small out is -ENOBUFS (room
 * B64_DEC_ROOM(len) always suffices). Returns the decoded length. */
int b64_decode(const char *in, size_t len, bool url, void *out, size_t outlen);

#endif
