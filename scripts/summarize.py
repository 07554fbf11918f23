#!/usr/bin/env python3
"""Print the headline numbers of one or more hjbtt report.json files.

Usage: scripts/summarize.py REPORT.json...
For each report: status, timings per phase, steps and maximal rank of the solve, and each
statistics block (covariance and mean errors, largest marginal KS distance, largest error of
P(x_k > 0)) beside the same metrics for exact draws of the same size.
"""
import json
import sys


def statistics_blocks(report):
    for entry in report.get("postprocessors", []):
        for label, block in entry.items():
            if isinstance(block, dict) and "covariance_relative_error" in block:
                yield label, block
        if "covariance_relative_error" in entry:
            yield entry.get("plugin", "statistics"), entry


def metric_row(block):
    keys = ["covariance_relative_error", "mean_error", "ks_max", "positive_fraction_max_error"]
    return "  ".join(f"{key} {block[key]:.4g}" for key in keys if isinstance(block.get(key), (int, float)))


def main(paths):
    for path in paths:
        with open(path) as handle:
            report = json.load(handle)
        print(f"{path}: {report.get('status')}")
        timings = report.get("timings", {})
        phases = {k: v for k, v in timings.items() if isinstance(v, (int, float))}
        print("  timings [s]: " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
        history = report.get("history", [])
        if history:
            max_rank = max(max(step["ranks"]) for step in history)
            print(f"  solve: {len(history)} steps, max rank {max_rank}, degrees {history[-1]['degrees'][0]}")
        for label, block in statistics_blocks(report):
            print(f"  {label}: {metric_row(block)}")
            if isinstance(block.get("exact_floor"), dict):
                print(f"  {label} exact draws: {metric_row(block['exact_floor'])}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
