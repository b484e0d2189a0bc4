/*
 * profile_builtin: the platform profiles compiled into the binary, generated
 * at build time from the YAML files in profiles/ (cmake/embed_profiles.cmake), so the
 * shipped files and the built-in defaults cannot drift apart.
 */
#ifndef TG_SERVE_PROFILE_BUILTIN_H
#define TG_SERVE_PROFILE_BUILTIN_H

#include <stddef.h>

struct profile_builtin {
    const char *name; /* file name without .yaml, e.g. "contact-center" */
    const char *text; /* the YAML, NUL-terminated */
    size_t len;       /* bytes, without the NUL */
};

/* Every built-in profile, ended by an entry whose name is NULL. */
extern const struct profile_builtin profile_builtins[];

/* The built-in profile called `name`, or NULL. */
const struct profile_builtin *profile_builtin_find(const char *name);

#endif
