#!/usr/bin/env python3
"""Median, min and max of key=value figures over the runs of a bench results file, and ratios.

usage: summarize.py FILE KEY... [--ratio A/B]...
A ratio is computed per run (A and B measured side by side in that run), then summarized.
"""
import re
import statistics
import sys


def main():
    path = sys.argv[1]
    keys, ratios = [], []
    args = sys.argv[2:]
    i = 0
    while i < len(args):
        if args[i] == "--ratio":
            ratios.append(args[i + 1].split("/"))
            i += 2
        else:
            keys.append(args[i])
            i += 1
    runs = []
    for line in open(path):
        if not line.startswith("run="):
            continue
        runs.append({k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)})
    def show(name, values):
        if not values:
            return
        print(f"summary {name}: median={statistics.median(values):.3f} min={min(values):.3f} "
              f"max={max(values):.3f} runs={len(values)}")
    for k in keys:
        show(k, [r[k] for r in runs if k in r])
    for a, b in ratios:
        show(f"{a}/{b}", [r[a] / r[b] for r in runs if a in r and b in r and r[b] > 0])


if __name__ == "__main__":
    main()
