/*
 * coll_store: the entities behind the `collection` handler kind (emu_coll.c),
 * kept apart from HTTP: versioned JSON documents per org, with the
 * compare-and-set that makes concurrent PUTs safe.
 *
 * A store holds, per org, an array of entities sorted by id (length first,
 * then bytes: seed-2 before seed-10 before any UUID), each one complete JSON
 * text with its server fields: `{"id": ..., <the caller's fields>, "version",
 * "dateCreated", "dateModified", "selfUri"}`. One mutex guards a store; every
 * call takes it once, and a call that answers with an entity copies it into
 * the caller's buffer while holding it, because the next writer frees it.
 *
 * Stores are shared by name, process-wide: acquiring a name that exists
 * returns the same store (with a reference count), so two routes declaring
 * one collection serve the same entities.
 *
 * Seeding: the first call that names an org creates its `seed` entities,
 * with the ids seed-1 .. seed-N, version 1.
 *
 * Bounds: at most max_entities per org, at most max_bytes of JSON (plus a
 * fixed bookkeeping charge per entity) in a store, at most COLL_STORE_MAX_ORGS
 * orgs; what would pass them is refused with -ENOSPC.
 */
#ifndef TG_SERVE_COLL_STORE_H
#define TG_SERVE_COLL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define COLL_STORE_MAX_ORGS 256
#define COLL_STORE_ID_MAX   40 /* bytes of an id: seed ids and UUIDs fit */

typedef struct coll_store coll_store;

typedef struct coll_store_opts {
    const char *name; /* 1-64 of [A-Za-z0-9._-] */
    const char *base; /* the collection's path, for selfUri; no characters JSON must escape */
    uint64_t max_entities, seed, max_bytes;
} coll_store_opts;

/* Returns the store called o->name, creating it (with copies of the strings)
 * if no store has that name. Returns 0 and sets *out, -EEXIST when a store of
 * that name exists with other options, or -ENOMEM. Each success is matched by
 * one coll_store_release. Thread-safe. */
int coll_store_acquire(coll_store **out, const coll_store_opts *o);

/* Drops a reference; the last one frees the store and its entities. NULL is
 * accepted. */
void coll_store_release(coll_store *s);

/* The store's options (its own copies). */
const coll_store_opts *coll_store_options(const coll_store *s);

/* Appends entities [first, first + count) of the org, comma-separated, to out
 * and sets *total to the org's count. Returns 0, -ENOSPC when the org cannot
 * be created (too many orgs), or -ENOMEM / -ENOBUFS from out. now_wall (epoch
 * ns) dates seed entities. */
int coll_store_list(coll_store *s, const char *org, uint64_t now_wall, uint64_t first,
                    uint64_t count, buf *out, uint64_t *total);

/* Appends entity `id` (len bytes) of the org to out. Returns 0, -ENOENT, or
 * as coll_store_list. */
int coll_store_get(coll_store *s, const char *org, uint64_t now_wall, const char *id, size_t len,
                   buf *out);

/* Creates entity `id` (NUL-terminated, at most COLL_STORE_ID_MAX bytes, not
 * taken) at version 1. `head` (hlen bytes) is the entity's JSON without its
 * closing brace, starting with its id: `{"id":"...","name":"x"`; the store
 * appends the server fields. Appends the stored text to out. Returns 0,
 * -ENOSPC (a bound), -EEXIST, or -ENOMEM / -ENOBUFS (when out fails, the
 * entity is stored nonetheless). */
int coll_store_create(coll_store *s, const char *org, uint64_t now_wall, const char *id,
                      const char *head, size_t hlen, buf *out);

/* Replaces entity `id` iff its version is `version`: the new text is head
 * (as for create) plus the server fields, with version + 1, the original
 * dateCreated and now_wall as dateModified. Appends the new text to out.
 * Returns 0, -ENOENT, -ESTALE with the entity's version in *current, -ENOSPC
 * (max_bytes), or -ENOMEM / -ENOBUFS (from out, after the replacement). */
int coll_store_replace(coll_store *s, const char *org, uint64_t now_wall, const char *id,
                       size_t len, uint64_t version, const char *head, size_t hlen, buf *out,
                       uint64_t *current);

/* Deletes entity `id`. Returns 0 or -ENOENT. */
int coll_store_delete(coll_store *s, const char *org, uint64_t now_wall, const char *id,
                      size_t len);

#endif
