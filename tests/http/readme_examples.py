#!/usr/bin/env python3
"""Runs the README's gateway examples and checks each answers what the README
says. An example is a line `curl ... localhost:8080... # <expected output>`;
lines without an expected output (event streams) are shown, not run.

usage: readme_examples.py README.md HOST:PORT
"""
import re
import subprocess
import sys


def main():
    readme, addr = sys.argv[1], sys.argv[2]
    ran = failed = 0
    for line in open(readme, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^(curl .*?)\s+# (.+)$", line)
        if not m or "localhost:8080" not in m.group(1):
            continue
        cmd = m.group(1).replace("localhost:8080", addr)
        want = m.group(2).strip()
        got = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=30).stdout.strip()
        ran += 1
        if got != want:
            failed += 1
            print(f"MISMATCH {m.group(1)}\n  README says: {want}\n  server says: {got}")
    print(f"{ran} README examples run, {failed} mismatches")
    if ran == 0 or failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
