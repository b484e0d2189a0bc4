#!/usr/bin/env python3
"""The table of `make demo` (scripts/demo.sh), and its helpers.

    demo_table.py version PORT PATH      prints the `version` of the entity at PATH
                                         (logged in as the profile's demo-01 client)
    demo_table.py table OUT PLAN...      prints the side-by-side table of the plans'
                                         reports in OUT; exit 1 if a verdict fails

Each plan of plans/field-reports/ says in its header what the table shows and
what to expect:

    # demo-report: script updates at 5 / 20 / 50 req/s   (rows are grouped by report)
    # demo-case: as run                                   (or: fix)
    # demo-load: 50 updates/s, 8s                         (the load column)
    # demo-step: put-script                               (the step the row shows, or all)
    # demo-entity: /api/v2/scripts/seed-199               (optional: version read before/after)
    # demo-expect: throttled_ratio >= 0.45, throttled_ratio <= 0.75
    # demo-verdict: reproduced                            (the word when every expectation holds)

An expectation is `METRIC OP NUMBER` (OP one of < <= > >= == !=; NUMBER may also
be `landed_base + logical_ok`, the version an entity must end at), on the row's
step (or the whole run for `all`), or `STEP.METRIC` on another step. Metrics:
the counters of the JSON report's `requests` (logical, logical_ok, ok,
throttled, retries, ...), throttled_ratio, first_throttle_s (infinite without a
429), min_remaining (the lowest rate-limit remaining seen), and with
demo-entity: landed_base (the version before), final_version (after), landed
(their difference) and lost_updates (the step's logical requests that did not
land). The JSON report's fields are documented in docs/report.md.
"""
import json
import math
import os
import re
import sys
import urllib.parse
import urllib.request

HEADER_KEYS = ("report", "case", "load", "step", "entity", "expect", "verdict")
EXPR = re.compile(r"^\s*([A-Za-z0-9_.-]+?)\s*(<=|>=|==|!=|<|>)\s*([A-Za-z0-9_.+ -]+?)\s*$")
OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def plan_header(path):
    """The `# demo-KEY: value` lines of a plan, as a dict."""
    h = {k: "" for k in HEADER_KEYS}
    with open(path) as f:
        for line in f:
            m = re.match(r"^# demo-([a-z]+): (.*)$", line.rstrip("\n"))
            if m and m.group(1) in h:
                h[m.group(1)] = m.group(2).strip()
    return h


def entity_version(port, path):
    """The current version of the entity at `path`, read with a fresh token."""
    base = f"http://127.0.0.1:{port}"
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": "demo-01", "client_secret": "demo-secret"}
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(base + "/oauth/token", data=form), timeout=10) as r:
        token = json.load(r)["access_token"]
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return int(json.load(r)["version"])


def scope_metrics(report, scope):
    """The metrics of one step (or of the whole run for None) as a flat dict."""
    src = report if scope is None else report["steps"].get(scope)
    if src is None:
        return None
    m = dict(src["requests"])
    m["throttled_ratio"] = src.get("throttled_ratio")
    fts = src.get("first_throttle_s")
    m["first_throttle_s"] = math.inf if fts is None else fts
    m["p99_ms"] = (src.get("end_to_end_ms") or {}).get("p99")
    m["min_remaining"] = (report.get("ratelimit") or {}).get("min_remaining")
    dur = report.get("duration_s") or 0
    if scope is None:
        m["goodput"] = report["rate"]["goodput"]
    else:
        m["goodput"] = m["logical_ok"] / dur if dur > 0 else 0.0
    return m


def check(expr, metrics, report, entity):
    """Evaluates one expectation; returns (ok, text with the observed value)."""
    mt = EXPR.match(expr)
    if not mt:
        return False, f"{expr}: not METRIC OP NUMBER"
    name, op, want = mt.groups()
    try:
        want_v = float(want)
    except ValueError:
        want_v = None
    scope = metrics
    metric = name
    if "." in name:
        step, metric = name.rsplit(".", 1)
        scope = scope_metrics(report, step)
        if scope is None:
            return False, f"{expr}: no step '{step}' in the report"
    if entity is not None:
        scope = dict(scope, **entity)
    value = scope.get(metric)
    if want == "landed_base + logical_ok":
        if entity is None:
            return False, f"{expr}: the plan has no demo-entity"
        want_v = entity["landed_base"] + scope["logical_ok"]
    if value is None or want_v is None:
        return False, f"{expr}: {metric} is not known"
    ok = OPS[op](value, want_v)
    shown = "inf" if value == math.inf else (f"{value:.4g}" if isinstance(value, float) else value)
    return ok, f"{expr} (observed {shown})"


def fmt(v, spec):
    if v is None:
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return format(v, spec)


def table(out, plans):
    """Prints the table; returns the number of rows whose verdict failed."""
    rows, notes, failed = [], [], 0
    for path in plans:
        name = os.path.splitext(os.path.basename(path))[0]
        h = plan_header(path)
        jpath = os.path.join(out, name + ".json")
        rc_path = os.path.join(out, name + ".rc")
        rc = open(rc_path).read().strip() if os.path.exists(rc_path) else "?"
        row = {"report": h["report"] or name, "scenario": name, "load": h["load"]}
        if not os.path.exists(jpath):
            row["verdict"] = f"NO REPORT (exit {rc})"
            failed += 1
            rows.append(row)
            continue
        with open(jpath) as f:
            report = json.load(f)
        scope = None if h["step"] in ("", "all") else h["step"]
        m = scope_metrics(report, scope)
        if m is None:
            row["verdict"] = f"NO STEP {scope}"
            failed += 1
            rows.append(row)
            continue
        entity = None
        epath = os.path.join(out, name + ".entity.json")
        if h["entity"]:
            if os.path.exists(epath):
                with open(epath) as f:
                    e = json.load(f)
                entity = {
                    "landed_base": e["before"],
                    "final_version": e["after"],
                    "landed": e["after"] - e["before"],
                    "lost_updates": m["logical"] - (e["after"] - e["before"]),
                }
        results = []
        for expr in [x for x in h["expect"].split(",") if x.strip()]:
            results.append(check(expr.strip(), m, report, entity))
        ok = all(r[0] for r in results) and rc in ("0", "99") and not report.get("partial")
        word = h["verdict"] or "as expected"
        row.update(
            sent=m["sent"],
            ok=m["ok"],
            throttled_pct=None if m["throttled_ratio"] is None else 100.0 * m["throttled_ratio"],
            goodput=m["goodput"],
            p99=m["p99_ms"],
            retries=m["retries"],
            verdict=word if ok else "NOT " + word,
        )
        if not ok:
            failed += 1
        detail = "; ".join(r[1] for r in results)
        if entity is not None:
            detail += (
                f"; version {entity['landed_base']} -> {entity['final_version']}: "
                f"{entity['landed']} of {m['logical']} updates landed"
            )
        if rc not in ("0", "99"):
            detail += f"; tollgate run exited {rc}"
        notes.append((name, ("ok" if ok else "FAIL") + ": " + detail))
        rows.append(row)

    cols = [
        ("scenario", "<", 22, lambda r: r["scenario"]),
        ("load", "<", 33, lambda r: r["load"]),
        ("sent", ">", 5, lambda r: fmt(r.get("sent"), "d")),
        ("ok", ">", 5, lambda r: fmt(r.get("ok"), "d")),
        ("429 %", ">", 5, lambda r: fmt(r.get("throttled_pct"), ".1f")),
        ("goodput/s", ">", 9, lambda r: fmt(r.get("goodput"), ".1f")),
        ("p99 ms", ">", 6, lambda r: fmt(r.get("p99"), ".0f")),
        ("retries", ">", 7, lambda r: fmt(r.get("retries"), "d")),
        ("verdict", "<", 0, lambda r: r["verdict"]),
    ]
    line = "  ".join(f"{c[0]:{c[1]}{c[2]}}" for c in cols)
    print(line)
    print("-" * (len(line) + 4))
    last = None
    for r in rows:
        if r["report"] != last:
            if last is not None:
                print()
            print(f"{r['report']}:")
            last = r["report"]
        print("  ".join(f"{c[3](r):{c[1]}{c[2]}}" for c in cols))
    print()
    print("sent/ok: attempts of the step shown; 429 %: of its attempts; goodput: its successful")
    print("requests per second; p99: end to end, from the intended start, retries and waits included.")
    print()
    print("What was checked (the demo-expect lines of each plan):")
    for name, text in notes:
        print(f"  {name:22}  {text}")
    print()
    print(f"Reports, per plan: {out}/PLAN.json (docs/report.md), {out}/PLAN.jtl (JMeter CSV),")
    print(f"{out}/PLAN.txt (text summary); the plans as run, with the port: {out}/plans/.")
    for path in plans:
        name = os.path.splitext(os.path.basename(path))[0]
        print(f"  {out}/{name}.json  {out}/{name}.jtl")
    return failed


def main(argv):
    if len(argv) == 4 and argv[1] == "version":
        print(entity_version(int(argv[2]), argv[3]))
        return 0
    if len(argv) >= 4 and argv[1] == "table":
        return 1 if table(argv[2], argv[3:]) else 0
    if len(argv) == 3 and argv[1] == "header":
        print(json.dumps(plan_header(argv[2])))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
