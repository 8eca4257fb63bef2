#!/usr/bin/env python3
"""Writes cases.jsonl for oracle_extra.py: hand-made inputs that pin a rule each, and random
inputs (fixed seeds) that cover what nobody thought of."""

import json
import random


def ev(t, w):
    return {"timestamp": "2024-01-01 " + t, "word": w}


def rand_batches(rng, n_batches, words, start_min=0, spread=40, per=6):
    out = []
    base = start_min
    for _ in range(n_batches):
        b = []
        for _ in range(rng.randint(0, per)):
            m = base + rng.randint(-12, spread // 4)
            m = max(0, m)
            s = rng.choice([0, 0, 0, 30, 59])
            b.append(ev(f"12:{m:02d}:{s:02d}" if m < 60 else f"13:{m - 60:02d}:{s:02d}", rng.choice(words)))
        base += rng.randint(0, 9)
        out.append(b)
    return out


cases = []
dups = [
    [ev("12:00:00", "a"), ev("12:00:00", "a"), ev("12:01:00", "b"), ev("12:00:00", "b")],
    [ev("12:00:00", "a"), ev("12:20:00", "c"), ev("12:01:00", "b")],
    [ev("12:05:00", "a"), ev("12:10:00", "e"), ev("12:09:59", "d"), ev("12:00:00", "a")],
    [],
    [ev("12:30:00", "a"), ev("12:10:00", "e"), ev("12:21:00", "c"), ev("12:20:00", "c")],
    [ev("12:00:00", "a"), ev("12:25:00", "a")],
]
for keys, tag in [(["word", "timestamp"], "wt"), (["word"], "w"), (["timestamp"], "t")]:
    cases.append({"id": f"dups-{tag}/dedup-append", "workload": "dedup-append", "batches": dups, "keys": keys})
cases.append({"id": "dups-wt/dedup-update", "workload": "dedup-update", "batches": dups, "keys": ["word", "timestamp"]})

# Two inputs, each with its own watermark; the query's is the minimum. b is empty at first, then
# lags behind a, then overtakes it.
ua = [
    [ev("12:00:00", "x"), ev("12:30:00", "x")],
    [ev("12:31:00", "y")],
    [ev("12:02:00", "x")],
    [ev("12:40:00", "x")],
    [],
    [ev("12:12:00", "y")],
]
ub = [
    [],
    [ev("12:05:00", "y"), ev("12:06:00", "x")],
    [ev("12:20:00", "y")],
    [ev("12:01:00", "x")],
    [ev("12:50:00", "z")],
    [ev("12:16:00", "z"), ev("12:36:00", "x")],
]
for wl in ["union-window-append", "union-window-update"]:
    cases.append({"id": f"lagging/{wl}", "workload": wl, "batches": ua, "batches_b": ub, "watermark_b": "5 minutes"})
    cases.append({"id": f"b-ends-early/{wl}", "workload": wl, "batches": ua, "batches_b": ub[:2], "watermark_b": "5 minutes"})

sessions = [
    [ev("12:00:00", "a"), ev("12:03:00", "a"), ev("12:20:00", "b"), ev("12:25:00", "b")],
    [ev("12:08:00", "a"), ev("12:14:59", "b"), ev("12:40:00", "c")],
    [ev("12:12:00", "a"), ev("12:30:00", "b"), ev("12:02:00", "a")],
    [ev("13:00:00", "a")],
    [ev("12:50:00", "c"), ev("12:44:00", "c"), ev("12:20:00", "a")],
    [],
]
for wl in ["session-append", "session-complete"]:
    cases.append({"id": f"sessions/{wl}", "workload": wl, "batches": sessions})

static = [{"word": "a", "category": "fruit"}, {"word": "b", "category": "veg"}, {"word": "c", "category": None},
          {"word": "a", "category": "red"}]
joins = [
    [ev("12:00:00", "a"), ev("12:01:00", "b"), ev("12:02:00", "z")],
    [],
    [ev("12:03:00", "c"), {"timestamp": "2024-01-01 12:04:00", "word": None}, ev("12:05:00", "a")],
]
for wl in ["join-static-inner", "join-static-left", "join-static-agg"]:
    cases.append({"id": f"joins/{wl}", "workload": wl, "batches": joins, "static": static})

dates = [
    [{"day": "2024-01-01", "timestamp": "2024-01-01 23:59:59.999999", "word": "a"},
     {"day": "2024-02-29", "timestamp": "2024-01-02 00:00:00", "word": "a"},
     {"day": None, "timestamp": "1969-12-31 23:00:00", "word": "b"}],
    [{"day": "2024-01-01", "timestamp": "2024-01-01 00:00:00", "word": "a"},
     {"day": "1999-12-31", "timestamp": "2024-01-01T08:00:00Z", "word": "a"}],
]
cases.append({"id": "dates/date-complete", "workload": "date-complete", "batches": dates})

words = ["a", "b", "c", "d"]
for seed in range(1, 4):
    rng = random.Random(seed)
    b = rand_batches(rng, 7, words)
    cases.append({"id": f"rand{seed}/dedup-append", "workload": "dedup-append", "batches": b})
    cases.append({"id": f"rand{seed}/session-append", "workload": "session-append", "batches": b})
    cases.append({"id": f"rand{seed}/session-complete", "workload": "session-complete", "batches": b})
    b2 = rand_batches(rng, 6, words)
    for wl in ["union-window-append", "union-window-update"]:
        cases.append({"id": f"rand{seed}/{wl}", "workload": wl, "batches": b, "batches_b": b2, "watermark_b": "5 minutes"})

for c in cases:
    print(json.dumps(c))
