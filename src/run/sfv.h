/*
 * sfv: a reader for HTTP Structured Field Values (RFC 8941, RFC 9651) of
 * type List whose members are Items, such as the IETF `RateLimit` and
 * `RateLimit-Policy` fields:
 *
 *   RateLimit: "default";r=50;t=30, "burst";r=3;t=1
 *
 * Each member is a bare item (integer, decimal, string, token, byte
 * sequence, boolean or date) followed by parameters (`;key=value`). Values
 * are returned as slices into the caller's buffer: strings keep their escapes
 * and byte sequences stay base64, which is all the rate-limit reader needs
 * (names are compared as written). Inner lists, which these fields never
 * use, make the field invalid here.
 *
 * Following RFC 8941 section 4.2, a field that does not parse is invalid as a
 * whole: the callback is not called for any member of it.
 */
#ifndef TG_RUN_SFV_H
#define TG_RUN_SFV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFV_MAX_PARAMS 32 /* parameters per item; more make the field invalid here */

typedef enum sfv_type {
    SFV_INTEGER, /* integer: up to 15 digits, signed */
    SFV_DECIMAL, /* decimal: `integer` holds thousandths (1.5 -> 1500) */
    SFV_STRING,  /* text: between the quotes, escapes kept */
    SFV_TOKEN,   /* text: the token */
    SFV_BYTES,   /* text: the base64 between the colons */
    SFV_BOOLEAN, /* integer: 0 or 1 */
    SFV_DATE,    /* integer: seconds since the epoch (RFC 9651 "@") */
} sfv_type;

typedef struct sfv_bare {
    sfv_type type;
    int64_t integer;
    const char *text;
    size_t text_len;
} sfv_bare;

typedef struct sfv_param {
    const char *key;
    size_t key_len;
    sfv_bare value; /* boolean true when the parameter has no "=value" */
} sfv_param;

typedef struct sfv_item {
    sfv_bare value;
    size_t nparams;
    sfv_param params[SFV_MAX_PARAMS];
} sfv_item;

/* Called for each member of a valid list, in order; `item` is only valid
 * during the call. */
typedef void (*sfv_item_fn)(const sfv_item *item, void *ctx);

/* Parses s[0..len) as a List of Items. Returns 0 and calls fn(item, ctx) for
 * each member when the whole field is valid (an empty field is an empty
 * list), or -EINVAL without calling fn at all. */
int sfv_parse_list(const char *s, size_t len, sfv_item_fn fn, void *ctx);

/* The last parameter named key (RFC 8941: a repeated key's last value
 * counts), or NULL. */
const sfv_param *sfv_item_param(const sfv_item *item, const char *key);

#endif
