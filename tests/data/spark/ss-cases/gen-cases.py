#!/usr/bin/env python3
"""Writes cases.jsonl (stdout): every input x every ss-window workload, oracle defaults."""
import json, os
HERE = os.path.dirname(os.path.abspath(__file__))
for name in ["late-split", "edges", "watermark-moves", "many-words", "empty-ends"]:
    b = json.load(open(os.path.join(HERE, f"{name}.json")))["batches"]
    for wl in ["ss-window-append", "ss-window-update", "ss-window-complete"]:
        print(json.dumps({"id": f"{name}/{wl}", "workload": wl, "batches": b}, separators=(",", ":")))
