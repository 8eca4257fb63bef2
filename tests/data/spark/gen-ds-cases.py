#!/usr/bin/env python3
"""Writes ds-cases.jsonl (the DStream conformance cases) to stdout. Run from this folder."""
import json

inputs = {name: json.load(open(f"{name}.json"))["batches"] for name in ["wordcount", "ds-edge"]}
WINDOWS = [(3, 1), (4, 2), (2, 2), (6, 3)]
for inp, batches in inputs.items():
    for wl, extra in [("ds-reducebykey", 1), ("ds-updatestate", 2), ("ds-mapwithstate", 2)]:
        print(json.dumps({"id": f"{inp}/{wl}", "workload": wl, "extra_batches": extra, "batches": batches}))
    for wl in ["ds-window", "ds-window-inv", "ds-window-inv-filter"]:
        for (w, s) in WINDOWS:
            # W + S trailing empty batches: at least one slide-aligned window lies wholly after the input
            print(json.dumps({"id": f"{inp}/{wl}/w{w}s{s}", "workload": wl, "win_batches": w,
                              "slide_batches": s, "extra_batches": w + s, "batches": batches}))
