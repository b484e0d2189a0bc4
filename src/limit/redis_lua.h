/*
 * redis_lua: the decision script of the Redis store (redis_lua.c says why it
 * is a C string and how it keeps exact integers in Lua's doubles).
 *
 * One call decides several decisions (those of one loop pass), in turn, each
 * atomically. KEYS are the items' state keys, decision after decision.
 * ARGV: the expiry slack in ms, the concurrency lease in ms, the holder id,
 * the number of decisions, then per decision: its number of items, now in
 * whole seconds (empty: the script reads Redis' TIME, once per call) and the
 * nanoseconds within that second, and ten fields per item: algorithm (enum
 * algo_kind), count, period_ns, quota, cost, cost x T in ns and in 1/count
 * ns, the tolerance in ns and in 1/count ns, and the hold id. The reply is an
 * array of integers, per decision: admitted (0 or 1), then six per item:
 * conforms, quota, remaining, reset_ns, wait_ns (-1: never) and the ns from
 * now until the state is full again (-1: not by time).
 */
#ifndef TG_LIMIT_REDIS_LUA_H
#define TG_LIMIT_REDIS_LUA_H

extern const char redis_lua_decide[];

#endif
