#!/usr/bin/env python3
"""Draw the figures and print the tables of docs/experiments.md from the experiment outputs.

Usage: scripts/experiments.py OUT_DIR [--figures DIR]

OUT_DIR is the folder scripts/experiments.sh fills: runs/NAME/report.json (or
report.failed.json) from `hjbtt run`, and study/NAME.json from hjbtt_study_gaussian. The
figures go to DIR (default docs/figures next to this script) as PNG files. The tables are
printed as Markdown on standard output. A run that is missing is left out of its figure and
table, and a failed run appears with its failure.
"""
import argparse
import glob
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen before pyplot loads)
import numpy as np  # noqa: E402

DPI = 80
LANGEVIN_STEPS = [0, 5, 20, 50, 100]

# The sensitivity sweeps: figure row title, run-name prefix, values in plotting order, and the
# value of the default pipeline, whose run is mixed-20-default (None when no value is the default).
SWEEPS = [
    ("rank_tolerance", "mixed-20-rank_tolerance-", ["1e-4", "1e-5", "1e-6", "1e-7", "1e-8"], "1e-6"),
    ("stability_factor", "mixed-20-stability_factor-", ["0.25", "0.5", "1", "2"], "1"),
    ("degree (fixed)", "mixed-20-degree-", ["4", "6", "8", "10"], "8"),
    ("projection_tolerance (degree 4 to 8)", "mixed-20-projection_tolerance-", ["1e-2", "1e-4", "1e-6"], None),
    ("projection_tolerance, degree_raise all", "mixed-20-projection_tolerance-all-", ["1e-4"], None),
    ("viscosity", "mixed-20-viscosity-", ["0", "30", "100"], "0"),
]
# (max_rank, retraction_tolerance) pairs, swept together because the retraction tolerance
# matters only where the rank cap truncates.
MAX_RANK_RETRACTION = [("5", "1e-4"), ("4", "1e-4"), ("4", "1e-2")]


def load_json(path):
    with open(path) as handle:
        return json.load(handle)


def load_runs(out):
    runs = {}
    for folder in sorted(glob.glob(os.path.join(out, "runs", "*", ""))):
        name = os.path.basename(os.path.dirname(folder))
        for file in ("report.json", "report.failed.json"):
            path = os.path.join(folder, file)
            if os.path.exists(path):
                runs[name] = load_json(path)
                break
    return runs


def load_studies(out):
    studies = {}
    for path in sorted(glob.glob(os.path.join(out, "study", "*.json"))):
        studies[os.path.basename(path)[: -len(".json")]] = load_json(path)
    return studies


def statistics(report, label):
    """Return the statistics block stored under `label`, or None."""
    for entry in report.get("postprocessors", []):
        if isinstance(entry.get(label), dict):
            return entry[label]
    return None


def history_array(report, key, reduce=None):
    values = [step[key] for step in report.get("history", [])]
    if reduce is not None:
        values = [reduce(v) for v in values]
    return np.array(values, dtype=float)


def double_well_coordinates(report):
    """Return the coordinates of the double-well blocks of a `blocks` potential (mode weight 1/2 each)."""
    potential = report.get("pipeline", {}).get("potential", {})
    if potential.get("plugin") != "blocks":
        return []
    coordinates, offset = [], 0
    for block in potential["params"]["blocks"]:
        params = block.get("params", {})
        repeat = block.get("repeat", 1)
        if block["plugin"] == "double_well":
            size = params.get("dimension", 1)
            coordinates += list(range(offset, offset + size * repeat))
        elif block["plugin"] == "banana":
            size = 2
        elif block["plugin"] == "gaussian":
            size = len(params["ar1"]["mean"] if "ar1" in params else params["mean"])
        else:
            return coordinates  # an unknown block: the offsets after it are unknown
        offset += size * repeat
    return coordinates


def mode_weight_error(block, coordinates):
    """Return the largest |P(x_k > 0) - 1/2| over the double-well coordinates."""
    if block is None or not coordinates:
        return math.nan
    return max(abs(block["positive_fraction"][k] - 0.5) for k in coordinates)


def solve_summary(report):
    history = report.get("history", [])
    summary = {
        "status": report.get("status", "?"),
        "steps": len(history),
        "solve": report.get("timings", {}).get("solve", math.nan),
        "sample": report.get("timings", {}).get("sample", math.nan),
        "max_rank": max((max(s["ranks"]) for s in history), default=0),
        "max_degree": max((max(s["degrees"]) for s in history), default=0),
        "rejected": sum(s["rejected"] for s in history),
        # A cost measure that does not depend on the machine's load, because rounding costs grow like r^3.
        "mean_max_rank": float(np.mean([max(s["ranks"]) for s in history])) if history else math.nan,
        "t_end": history[-1]["t"] if history else 0.0,
    }
    if "solve" not in report.get("timings", {}):
        # A failed or interrupted solve has only the total time, which it spent solving.
        summary["solve"] = report.get("timings", {}).get("total", math.nan)
    return summary


def fmt(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def save(figure, directory, name):
    path = os.path.join(directory, name)
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    print(f"<!-- figure {path}: {os.path.getsize(path) // 1024} KB -->")


# gaussian-20 ---------------------------------------------------------------------------------


def gaussian_section(runs, studies, figures):
    report, study = runs.get("gaussian-20"), studies.get("gaussian-20")
    if report is None or study is None:
        print("gaussian-20: run or study missing\n")
        return
    rows = study["history"]
    t = np.array([r["t"] for r in rows])
    error = np.array([r["score_relative_error"] for r in rows])
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.6))

    axes[0].step(t, [r["max_rank"] for r in rows], where="post", label="solution (largest bond)")
    axes[0].step(t, [r["exact_rank"] for r in rows], where="post", linestyle="--", label="exact v(t)")
    axes[0].set_ylim(0, max(r["max_rank"] for r in rows) + 1)
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("max TT rank")
    axes[0].legend()

    axes[1].semilogy(t[1:], error[1:])
    axes[1].set_xlabel("t")
    axes[1].set_ylabel("relative L2(rho_t) score error")

    history_t = history_array(report, "t")
    axes[2].semilogy(history_t[:-1], history_array(report, "tau")[:-1], label="tau")
    axes[2].semilogy(history_t, 1.0 / history_array(report, "stiffness"), linestyle="--", label="1 / lambda")
    axes[2].set_xlabel("t")
    axes[2].set_ylabel("step")
    axes[2].legend()
    figure.suptitle(f"gaussian-20: {study['steps']} steps, solve {study['solve_seconds']:.1f} s")
    figure.tight_layout()
    save(figure, figures, "gaussian-20.png")

    # Exponential rate of the error decay, fitted on the second half of [0, T].
    late = t > 0.5 * t[-1]
    rate = -np.polyfit(t[late], np.log(error[late]), 1)[0]
    peak = int(np.argmax(error))
    summary = solve_summary(report)
    print("### gaussian-20\n")
    print(table(
        ["steps", "solve [s]", "max rank", "exact rank", "largest score error (at t)", "score error at T",
         "decay rate on [T/2, T]"],
        [[study["steps"], fmt(summary["solve"]), summary["max_rank"], max(r["exact_rank"] for r in rows),
          f"{error[peak]:.3g} (t = {t[peak]:.3g})", fmt(error[-1]), f"e^(-{rate:.2f} t)"]]))
    print(quality_table(report, ["reverse_sde", "langevin"], []))


def quality_table(report, labels, coordinates):
    header = ["after", "covariance error", "mean error", "max KS", "P(x > 0) max error"]
    if coordinates:
        header.append("double-well mode weight error")
    rows = []
    for label in labels:
        block = statistics(report, label)
        if block is None:
            continue
        for title, data in ((label, block), (f"exact draws ({label})", block.get("exact_floor"))):
            if not isinstance(data, dict):
                continue
            row = [title] + [fmt(data.get(k)) for k in
                             ("covariance_relative_error", "mean_error", "ks_max", "positive_fraction_max_error")]
            if coordinates:
                row.append(fmt(mode_weight_error(data, coordinates)) if "positive_fraction" in data else "–")
            rows.append(row)
    return table(header, rows)


# mixed-20 ------------------------------------------------------------------------------------


def mixed_section(runs, figures):
    report = runs.get("mixed-20")
    if report is None:
        print("mixed-20: run missing\n")
        return
    t = history_array(report, "t")
    figure, axes = plt.subplots(2, 3, figsize=(13, 6.4), sharex=True)
    axes = axes.ravel()
    parameters = report["pipeline"]["integrator"].get("params", {})
    axes[0].step(t, history_array(report, "ranks", max), where="post")
    axes[0].set_ylim(0, history_array(report, "ranks", max).max() + 1)
    axes[0].set_ylabel("max TT rank")
    axes[1].step(t, history_array(report, "degrees", max), where="post", label="max")
    axes[1].step(t, history_array(report, "degrees", min), where="post", linestyle="--", label="min")
    axes[1].set_ylim(0, history_array(report, "degrees", max).max() + 2)
    axes[1].set_ylabel("basis degree")
    axes[1].legend()
    # The last step only reaches T, so it is left out of the step plot.
    axes[2].loglog(t[:-1], history_array(report, "tau")[:-1], label="tau")
    axes[2].loglog(t, parameters.get("stability_factor", 1.0) / history_array(report, "stiffness"), linestyle="--",
                   label="stability_factor / lambda")
    axes[2].set_ylabel("step")
    axes[2].legend()
    axes[3].loglog(t, history_array(report, "stiffness"))
    axes[3].set_ylabel("stiffness estimate lambda")
    axes[4].loglog(t, history_array(report, "projection_error"))
    axes[4].set_ylabel("projection error |N - PN| / |N|")
    axes[5].loglog(t, np.maximum(history_array(report, "retraction_error"), 1e-17))
    axes[5].axhline(parameters.get("rank_tolerance", 1e-6), color="gray", linestyle=":", label="rank_tolerance")
    axes[5].legend()
    axes[5].set_ylabel("retraction error")
    for axis in axes[3:]:
        axis.set_xlabel("t")
    axes[0].set_xscale("log")
    summary = solve_summary(report)
    figure.suptitle(f"mixed-20: {summary['steps']} steps, solve {summary['solve']:.1f} s")
    figure.tight_layout()
    save(figure, figures, "mixed-20-solve.png")

    tau = history_array(report, "tau")[:-1]  # the last step only reaches T
    print("### mixed-20\n")
    print(table(
        ["steps", "rejected", "solve [s]", "sample [s]", "max rank", "degree", "tau min – max", "lambda max",
         "max projection error", "max retraction error"],
        [[summary["steps"], summary["rejected"], fmt(summary["solve"]), fmt(summary["sample"]), summary["max_rank"],
          summary["max_degree"], f"{tau.min():.2g} – {tau.max():.2g}", fmt(history_array(report, "stiffness").max()),
          fmt(history_array(report, "projection_error").max()), fmt(history_array(report, "retraction_error").max())]]))

    # Sample quality against the number of MALA steps.
    coordinates = double_well_coordinates(report)
    metrics = [("covariance_relative_error", "covariance error"), ("mean_error", "mean error"), ("ks_max", "max KS")]
    figure, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    blocks = [(steps, statistics(report, f"langevin_{steps}")) for steps in LANGEVIN_STEPS]
    blocks = [(steps, block) for steps, block in blocks if block is not None]
    x = np.arange(len(blocks))
    for axis, (key, title) in zip(axes, metrics):
        axis.plot(x, [b[key] for _, b in blocks], marker="o", label="samples")
        axis.plot(x, [b["exact_floor"][key] for _, b in blocks], marker=".", linestyle="--", label="exact draws")
        axis.set_title(title)
    axes[3].plot(x, [mode_weight_error(b, coordinates) for _, b in blocks], marker="o", label="samples")
    # The statistics postprocessor drops the exact draws' mode weights, so the noise scale is
    # drawn instead: two standard deviations of a share of N fair coin flips.
    if blocks:
        axes[3].axhline(2 * 0.5 / math.sqrt(blocks[0][1]["samples"]), color="tab:orange", linestyle="--",
                        label="2 sd of exact draws")
        axes[3].legend(fontsize=8)
    axes[3].set_title("double-well |P(x > 0) - 1/2| max")
    for axis in axes:
        axis.set_xlabel("MALA steps")
        axis.set_xticks(x)
        axis.set_xticklabels([str(steps) for steps, _ in blocks])
        axis.set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    save(figure, figures, "mixed-20-langevin.png")

    rows = []
    acceptance = [e["acceptance_rate"] for e in report.get("postprocessors", []) if "acceptance_rate" in e]
    for index, (count, block) in enumerate(blocks):
        floor = block["exact_floor"]
        rows.append([count, fmt(block["covariance_relative_error"]), fmt(floor["covariance_relative_error"]),
                     fmt(block["mean_error"]), fmt(floor["mean_error"]), fmt(block["ks_max"]), fmt(floor["ks_max"]),
                     fmt(mode_weight_error(block, coordinates)),
                     " ".join(f"{block['positive_fraction'][k]:.4f}" for k in coordinates),
                     fmt(acceptance[index - 1]) if 0 < index <= len(acceptance) else "–"])
    print(table(["MALA steps", "covariance error", "(exact)", "mean error", "(exact)", "max KS", "(exact)",
                 "mode weight error", "P(x_k > 0), double wells", "acceptance of the last segment"], rows))


# Sensitivity ---------------------------------------------------------------------------------


def sweep_rows(runs):
    """List (parameter, value, run name) for every sensitivity run, defaults included."""
    rows = []
    for title, prefix, values, default in SWEEPS:
        for value in values:
            name = "mixed-20-default" if value == default else prefix + value
            rows.append((title, value, name))
    for rank, tolerance in MAX_RANK_RETRACTION:
        rows.append(("max_rank, retraction_tolerance", f"{rank}, {tolerance}",
                     f"mixed-20-max_rank-{rank}-retraction_tolerance-{tolerance}"))
    rows.append(("max_rank, retraction_tolerance", "20, 1e-4 (default)", "mixed-20-default"))
    return rows


def run_quality(report, coordinates):
    before, after = statistics(report, "reverse_sde"), statistics(report, "langevin")
    return {
        "ks_before": before["ks_max"] if before else math.nan,
        "cov_before": before["covariance_relative_error"] if before else math.nan,
        "mode_before": mode_weight_error(before, coordinates),
        "ks_after": after["ks_max"] if after else math.nan,
        "cov_after": after["covariance_relative_error"] if after else math.nan,
        "ks_floor": before["exact_floor"]["ks_max"] if before else math.nan,
    }


def failure_text(report):
    error = report.get("error", "")
    history = report.get("history", [])
    if report.get("status") == "interrupted" and history:
        seconds = report.get("timings", {}).get("total", math.nan)
        return f"stopped after {seconds:.0f} s at t = {history[-1]['t']:.3g}, step {history[-1]['tau']:.1e}"
    if "diverged at t = " in error:
        return "diverged at t = " + error.split("diverged at t = ")[1].split(" ")[0].rstrip(".")
    if "min_step" in error:
        if "at t = " not in error:
            return "step below min_step"
        return "step below min_step at t = " + error.split("at t = ")[1].split(" ")[0]
    return "failed: " + error[:60]


def sensitivity_section(runs, figures):
    rows = [(p, v, n) for p, v, n in sweep_rows(runs) if n in runs]
    if not rows:
        print("sensitivity: no runs\n")
        return
    coordinates = double_well_coordinates(runs[rows[0][2]])
    parameters = []
    for parameter, _, _ in rows:
        if parameter not in parameters:
            parameters.append(parameter)

    figure, axes = plt.subplots(len(parameters), 3, figsize=(13, 2.6 * len(parameters)), squeeze=False)
    for row_axes, parameter in zip(axes, parameters):
        entries = [(v, runs[n]) for p, v, n in rows if p == parameter]
        labels = [v for v, _ in entries]
        x = np.arange(len(entries))
        quality = [run_quality(r, coordinates) for _, r in entries]
        summaries = [solve_summary(r) for _, r in entries]
        failed = [s["status"] != "complete" for s in summaries]
        row_axes[0].plot(x, [q["ks_before"] for q in quality], marker="o", label="reverse SDE")
        row_axes[0].plot(x, [q["ks_after"] for q in quality], marker="s", label="+ 20 MALA steps")
        row_axes[0].plot(x, [q["ks_floor"] for q in quality], linestyle="--", label="exact draws")
        row_axes[0].set_ylabel(parameter, fontsize=9)
        row_axes[1].bar(x, [s["steps"] for s in summaries], color=["tab:red" if f else "tab:blue" for f in failed])
        row_axes[2].bar(x, [s["solve"] for s in summaries], color=["tab:red" if f else "tab:blue" for f in failed])
        for axis in row_axes:
            axis.set_xticks(x)
            axis.set_xticklabels(labels, fontsize=8)
        row_axes[0].set_ylim(bottom=0)
        row_axes[0].set_xlim(-0.5, len(entries) - 0.5)
        for index, summary in enumerate(summaries):
            if failed[index]:
                row_axes[0].text(index, 0.05, "failed", transform=row_axes[0].get_xaxis_transform(), ha="center",
                                 color="tab:red", fontsize=8)
    axes[0][0].set_title("max KS distance")
    axes[0][1].set_title("accepted steps (red: failed, up to failure)")
    axes[0][2].set_title("solve wall time [s]")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    save(figure, figures, "sensitivity.png")

    lines = []
    for parameter, value, name in rows:
        report = runs[name]
        summary = solve_summary(report)
        quality = run_quality(report, coordinates)
        status = "complete" if summary["status"] == "complete" else failure_text(report)
        lines.append([parameter, value, status, summary["steps"], summary["rejected"], fmt(summary["solve"]),
                      summary["max_rank"], fmt(summary["mean_max_rank"]), summary["max_degree"],
                      fmt(quality["ks_before"]), fmt(quality["cov_before"]),
                      fmt(quality["mode_before"]), fmt(quality["ks_after"]), fmt(quality["cov_after"])])
    print("### Sensitivity (mixed-20)\n")
    print(table(["parameter", "value", "status", "steps", "rejected", "solve [s]", "max rank", "mean max rank",
                 "max degree",
                 "max KS", "cov. error", "mode weight error", "max KS + MALA", "cov. error + MALA"], lines))
    default = runs.get("mixed-20-default")
    if default is not None and statistics(default, "reverse_sde"):
        floor = statistics(default, "reverse_sde")["exact_floor"]
        print(f"Exact draws of the same size: max KS {fmt(floor['ks_max'])}, covariance error "
              f"{fmt(floor['covariance_relative_error'])}.\n")


# Efficiency ----------------------------------------------------------------------------------


def efficiency_section(runs, studies, figures):
    adaptive, fixed = [], []
    for name, study in studies.items():
        if not name.startswith("gaussian-20"):
            continue
        errors = [r["score_relative_error"] for r in study["history"][1:]]
        steps = [r["tau"] for r in study["history"][1:-1]]
        entry = {"name": name, "steps": study["steps"], "solve": study["solve_seconds"],
                 "solve_cpu": study.get("solve_cpu_seconds", math.nan), "max_error": max(errors),
                 "final_error": errors[-1], "tau_min": min(steps), "tau_max": max(steps)}
        if "-fixed-" in name:
            entry["h"] = float(name.split("-fixed-")[1])
            entry["fixed_share"] = sum(abs(s - entry["h"]) <= 1e-12 * entry["h"] for s in steps) / len(steps)
            fixed.append(entry)
        else:
            entry["factor"] = float(name.split("-stability-")[1]) if "-stability-" in name else 1.0
            adaptive.append(entry)
    adaptive.sort(key=lambda e: e["steps"])
    fixed.sort(key=lambda e: e["steps"])
    if not adaptive or not fixed:
        print("efficiency: studies missing\n")
        return

    figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for axis, key, label in ((axes[0], "steps", "accepted steps"), (axes[1], "solve_cpu", "solve processor time [s]")):
        axis.loglog([e[key] for e in adaptive], [e["max_error"] for e in adaptive], marker="o",
                    label="adaptive (c = stability_factor)")
        axis.loglog([e[key] for e in fixed], [e["max_error"] for e in fixed], marker="s", label="fixed step h")
        for e in adaptive:
            axis.annotate(f"c={e['factor']:g}", (e[key], e["max_error"]), fontsize=8, textcoords="offset points",
                          xytext=(4, 4))
        for e in fixed:
            axis.annotate(f"h={e['h']:g}", (e[key], e["max_error"]), fontsize=8, textcoords="offset points",
                          xytext=(4, -10))
        axis.set_xlabel(label)
        axis.set_ylabel("largest score error over [0, T]")
    axes[0].legend(fontsize=8)
    figure.suptitle("gaussian-20: adaptive controller against fixed steps")
    figure.tight_layout()
    save(figure, figures, "efficiency.png")

    print("### Efficiency\n")
    rows = []
    for e in adaptive:
        rows.append([f"adaptive, stability_factor {e['factor']:g}", e["steps"], fmt(e["solve"]), fmt(e["solve_cpu"]),
                     fmt(e["max_error"]), fmt(e["final_error"]), f"{e['tau_min']:.2g} – {e['tau_max']:.2g}"])
    for e in fixed:
        title = f"fixed h = {e['h']:g} ({100 * e['fixed_share']:.0f} % of steps at h)"
        rows.append([title, e["steps"], fmt(e["solve"]), fmt(e["solve_cpu"]), fmt(e["max_error"]),
                     fmt(e["final_error"]), f"{e['tau_min']:.2g} – {e['tau_max']:.2g}"])
    print(table(["gaussian-20", "steps", "solve wall [s]", "solve processor [s]", "largest score error",
                 "score error at T", "tau min – max"], rows))

    # Interpolated number of fixed steps that matches the default controller's largest error
    # (Euler's error is first order in h, so log error is close to linear in log steps).
    default = next((e for e in adaptive if e["factor"] == 1.0), None)
    if default is not None and len(fixed) >= 2:
        log_steps = np.log([e["steps"] for e in fixed])
        log_errors = np.log([e["max_error"] for e in fixed])
        slope, intercept = np.polyfit(log_steps, log_errors, 1)
        matching = math.exp((math.log(default["max_error"]) - intercept) / slope)
        print(f"A fixed step reaches the default controller's largest score error {default['max_error']:.3g} "
              f"with about {matching:.0f} steps (fit error ~ steps^{slope:.2f} over the fixed-step runs), against "
              f"{default['steps']} adaptive steps.\n")

    rows = []
    mixed_runs = (("mixed-20-default", "adaptive (default)"),
                  ("mixed-20-stability_factor-2", "adaptive, stability_factor 2"),
                  ("mixed-20-fixed-3e-4", "fixed h = 3e-4"))
    for name, title in mixed_runs:
        report = runs.get(name)
        if report is None:
            continue
        summary = solve_summary(report)
        quality = run_quality(report, double_well_coordinates(report))
        tau = history_array(report, "tau")[:-1]
        share = f"{100 * np.mean(np.abs(tau - 3e-4) <= 1e-12):.0f} %" if "fixed" in name and tau.size else "–"
        status = "complete" if summary["status"] == "complete" else failure_text(report)
        step_range = f"{tau.min():.2g} – {tau.max():.2g}" if tau.size else "–"
        rows.append([title, status, summary["steps"], fmt(summary["solve"]), step_range, share,
                     fmt(quality["ks_before"]), fmt(quality["cov_before"]), fmt(quality["mode_before"])])
    print(table(["mixed-20", "status", "steps", "solve [s]", "tau min – max", "steps at h", "max KS", "cov. error",
                 "mode weight error"], rows))


# Stabilisation ------------------------------------------------------------------------------


def stabilisation_rows(runs, prefix, keys):
    """Return (settings, report) for the runs named prefix + key1-value1-key2-value2..., sorted by the values."""
    rows = []
    for name, report in runs.items():
        if not name.startswith(prefix):
            continue
        parts = name[len(prefix):].split("-")
        values = dict(zip(parts[0::2], parts[1::2]))
        if all(key in values for key in keys):
            rows.append((tuple(float(values[key]) for key in keys), report))
    return sorted(rows, key=lambda row: row[0])


def stabilisation_section(runs):
    print("### Stabilisation: mixture-2 (explicit_euler)\n")
    lines = []
    for (degree, nu), report in stabilisation_rows(runs, "stab-mixture-2-", ["degree", "viscosity"]):
        summary = solve_summary(report)
        quality = run_quality(report, [])
        status = "complete" if summary["status"] == "complete" else failure_text(report)
        lines.append([f"{degree:g}", f"{nu:g}", status, summary["steps"], fmt(summary["solve"]),
                      fmt(quality["cov_before"]), fmt(quality["ks_before"]), fmt(quality["cov_after"]),
                      fmt(quality["ks_after"]), fmt(quality["ks_floor"])])
    print(table(["degree", "viscosity", "status", "steps", "solve [s]", "cov. error", "max KS", "cov. error + MALA",
                 "max KS + MALA", "max KS, exact draws"], lines))

    print("### Stabilisation: one many-well block (exponential_euler)\n")
    lines = []
    for (box, degree, nu), report in stabilisation_rows(runs, "stab-many-well-2-", ["box", "degree", "viscosity"]):
        summary = solve_summary(report)
        before, after = statistics(report, "reverse_sde"), statistics(report, "langevin")
        status = "complete" if summary["status"] == "complete" else failure_text(report)
        weight = (lambda block: fmt(block["positive_fraction"][0], 4) if block else "–")
        lines.append([f"[-{box:g}, {box:g}]", f"{degree:g}", f"{nu:g}", status, summary["steps"], weight(before),
                      weight(after), fmt(before["ks_max"]) if before else "–", fmt(after["ks_max"]) if after else "–"])
    print(table(["box", "degree", "viscosity", "status", "steps", "P(x_1 > 0)", "P(x_1 > 0) + MALA", "max KS",
                 "max KS + MALA"], lines))
    print("Exact: P(x_1 > 0) = 0.8443.\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="output folder of scripts/experiments.sh")
    default_figures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "figures")
    parser.add_argument("--figures", default=default_figures, help="folder the PNG figures are written to")
    arguments = parser.parse_args()
    if not os.path.isdir(arguments.out):
        sys.exit(f"experiments.py: {arguments.out} is not a folder; run scripts/experiments.sh first")
    os.makedirs(arguments.figures, exist_ok=True)

    runs, studies = load_runs(arguments.out), load_studies(arguments.out)
    machine = os.path.join(arguments.out, "machine.txt")
    if os.path.exists(machine):
        with open(machine) as handle:
            print("```\n" + handle.read().strip() + "\n```\n")
    gaussian_section(runs, studies, arguments.figures)
    mixed_section(runs, arguments.figures)
    sensitivity_section(runs, arguments.figures)
    efficiency_section(runs, studies, arguments.figures)
    stabilisation_section(runs)


if __name__ == "__main__":
    main()
