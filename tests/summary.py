#!/usr/bin/env python3
"""Prints the closing line of a meson test run, with each cmocka summary."""
import json
import sys

path = sys.argv[1]
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
try:
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            counts[r.get("result", "ERROR")] = counts.get(r.get("result", "ERROR"), 0) + 1
            for out_line in ((r.get("stdout") or "") + "\n" + (r.get("stderr") or "")).splitlines():
                # cmocka's own closing lines, so each runner's summary shows
                if out_line.startswith("[  PASSED  ]") or out_line.startswith("[  FAILED  ]"):
                    print(f"  {r['name']}: {out_line.strip()}")
except FileNotFoundError:
    print(f"summary.py: {path} not found", file=sys.stderr)
    sys.exit(1)
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print(f"tests: {passed} passed, {failed} failed, {counts['SKIP']} skipped")
