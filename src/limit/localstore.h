/*
 * localstore: the in-process store (see store.h) over a keystore.
 *
 * A decision hashes its keys, locks the shards they fall in in ascending
 * order (so two decisions never wait on each other in a cycle), runs every
 * limit's algorithm on a copy of its state, writes the new states only if all
 * conform, and unlocks. It always answers synchronously. Safe to share
 * between threads.
 */
#ifndef TG_LIMIT_LOCALSTORE_H
#define TG_LIMIT_LOCALSTORE_H

#include <stddef.h>

#include "limit/keystore.h"
#include "limit/store.h"

/* Makes an in-process store holding at most max_keys keys (0 means
 * KEYSTORE_DEFAULT_MAX_KEYS). Returns 0, -EINVAL (bound below
 * KEYSTORE_MIN_KEYS) or -ENOMEM; the caller frees it with store_free. */
int localstore_new(limit_store **out, size_t max_keys);

/* The key table behind a store made by localstore_new, for statistics. */
keystore *localstore_keystore(limit_store *s);

#endif
