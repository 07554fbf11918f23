#!/usr/bin/env python3
"""Print the Markdown tables of docs/performance.md from a results file of scripts/bench.sh.

Usage: bench/tables.py bench/results/YYYY-MM-DD.jsonl
Rows measured with GLIBC_TUNABLES set fill the "tuned malloc" columns; all others are the
default run.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ms(seconds):
    return f"{1000 * seconds:.3g}" if seconds < 1 else f"{1000 * seconds:.0f}"


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print()


def main(path):
    lines = load(path)
    default = [x for x in lines if not x.get("GLIBC_TUNABLES")]
    tuned = {x["case"]: x for x in lines if x.get("GLIBC_TUNABLES") and "case" in x}

    dgemm = [x for x in default if x["bench"] == "dgemm"]
    contexts = [x for x in default if x["bench"] == "context"]
    print("DGEMM 1000 x 1000, one thread, per subcommand (median / best GFLOP/s):")
    table(["subcommand", "median GFLOP/s", "best GFLOP/s", "load average"],
          [[c["subcommand"], f"{d['gflops']:.1f}", f"{d['best_gflops']:.1f}", f"{c['load_average']:.2f}"]
           for c, d in zip(contexts, dgemm)])

    rows = [x for x in default if x["bench"] == "round"]
    table(["d", "n", "r (from 2r)", "ms", "GFLOP", "GFLOP/s", "% of DGEMM"],
          [[x["d"], x["n"], x["r"], ms(x["seconds"]), f"{x['gflop']:.3g}", f"{x['gflops']:.1f}",
            f"{100 * x['gflops'] / x['dgemm_gflops']:.0f}"] for x in rows])

    rows = [x for x in default if x["bench"] == "rhs"]
    out = []
    for x in rows:
        t = tuned.get(x["case"])
        rate = x.get("gflops", x.get("round_gflops"))
        out.append([x["case"].removeprefix("rhs/"), ms(x["seconds"]), ms(t["seconds"]) if t else "",
                    f"{x['reference_seconds']:g}" if "reference_seconds" in x else "",
                    f"{x['speedup_vs_reference']:.1f}" if "speedup_vs_reference" in x else "",
                    f"{rate:.1f}" if rate is not None else ""])
    table(["case", "ms", "ms, tuned malloc", "reference s", "reference / ours", "GFLOP/s"], out)

    rows = [x for x in default if x["bench"] == "gradient"]
    out = []
    for x in rows:
        t = tuned.get(x["case"])
        out.append([x["r"], ms(x["seconds"]), f"{x['points_per_second']:.3g}", f"{x['gflops']:.1f}",
                    f"{100 * x['gflops'] / x['dgemm_gflops']:.0f}",
                    f"{t['points_per_second']:.3g}" if t else "", f"{t['gflops']:.1f}" if t else ""])
    table(["r", "ms", "points/s", "GFLOP/s", "% of DGEMM", "points/s, tuned malloc", "GFLOP/s, tuned malloc"], out)

    rows = [x for x in default if x["bench"] == "linear-d" and "seconds" in x]
    out = []
    for x in rows:
        t = tuned.get(x["case"])
        out.append([x["d"], ms(x["seconds"]), f"{1000 * x['seconds_per_mode']:.2f}",
                    ms(t["seconds"]) if t else "", f"{1000 * t['seconds_per_mode']:.2f}" if t else ""])
    table(["d", "ms", "ms per mode", "ms, tuned malloc", "ms per mode, tuned malloc"], out)
    for x in lines:
        if x.get("case") == "linear-d/fit":
            run = "tuned malloc" if x.get("GLIBC_TUNABLES") else "default"
            print(f"fitted exponent of time in d, {run}: {x['exponent']:.2f} (medians), "
                  f"{x['exponent_from_min']:.2f} (fastest runs)\n")

    rows = [x for x in default if x["bench"] == "sampler" and "threads" in x]
    out = []
    for x in rows:
        t = tuned.get(x["case"])
        out.append([x["threads"], f"{x['seconds']:.2f}", f"{x['point_steps_per_second']:.3g}",
                    f"{t['seconds']:.2f}" if t else "", f"{t['point_steps_per_second']:.3g}" if t else ""])
    table(["threads", "s", "point-steps/s", "s, tuned malloc", "point-steps/s, tuned malloc"], out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
