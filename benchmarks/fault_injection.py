"""The nightly check's two error rates, measured: realistic faults injected one at a time, and the
unchanged code rerun (once while a busy loop loads the machine). A benchmark, not part of CI.

    python benchmarks/fault_injection.py --out /tmp/faults train      # the runs (resumable)
    python benchmarks/fault_injection.py --out /tmp/faults compare    # the nightly on each, the table

``train`` copies suite/ and conftest.py into OUT/trees/NAME, applies the fault's text patch there
(each patch must match exactly once, so a refactor that moves the code fails loudly instead of
silently injecting nothing), and runs the suite from that copy (PYTHONPATH points at it) into
OUT/runs/NAME. ``compare`` stores the baseline, then the two quiet reruns (a nightly stores the
nights that pass), and runs ``python -m suite.regress`` on the loaded rerun and every fault
against that history, as it stands, and once more with ``--statistical`` (as if the environment
had changed), then prints the table docs/nightly.md carries. Run ``train`` on a CPU, one run at a
time; its selection (``--select``, ``--seeds``) is the same for every run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SELECT = "scaling or optimizer or dropout or annealing"  # every fault below touches one of these
SEEDS = 2


@dataclass(frozen=True)
class Fault:
    name: str
    area: str
    what: str  # the fault in words, for the table
    path: str  # file under suite/
    old: str  # text replaced (must occur exactly once)
    new: str


FAULTS = [
    Fault("eval_dropout", "evaluation", "evaluation runs with dropout active", "engine/stack.py",
          "logits = self.forward(pixels[start : start + EVAL_CHUNK] * self.scale, False)",
          "logits = self.forward(pixels[start : start + EVAL_CHUNK] * self.scale, True)"),
    Fault("input_x10", "data", "input scaling off by a factor of ten", "engine/stack.py",
          "self.scale = per_run([c.input_scale for c in cfgs], device)",
          "self.scale = per_run([c.input_scale * 10 for c in cfgs], device)"),
    Fault("label_noise", "data", "2 % of training labels shifted by one class", "engine/trainer.py",
          "stepper = Stepper(stack, pixels, train.labels,",
          "noisy = torch.where(torch.arange(n, device=device) % 50 == 0, (train.labels + 1) % 10, train.labels)\n"
          "    stepper = Stepper(stack, pixels, noisy,"),
    Fault("leaky_relu", "model", "hidden activation LeakyReLU(0.01) instead of ReLU", "engine/stack.py",
          "h = h.relu()", "h = F.leaky_relu(h, 0.01)"),
    Fault("adam_beta2", "optimizer", "Adam's beta2 0.99 instead of 0.999", "engine/stack.py",
          "BETAS, ADAM_EPS = (0.9, 0.999), 1e-8", "BETAS, ADAM_EPS = (0.9, 0.99), 1e-8"),
    Fault("sgd_decay", "optimizer", "SGD silently decays weights by 1e-4 a step", "engine/stack.py",
          "p.addcmul_(g, bcast(neg_lr, p))  # == p.add_(g, alpha=-lr)",
          "p.addcmul_(g, bcast(neg_lr, p)).mul_(1 - 1e-4)"),
    Fault("plateau_not_applied", "schedule", "plateau cut logged but never applied", "engine/trainer.py",
          'stack.lr[slot] = plateaus[k].optimizer.param_groups[0]["lr"]', "pass"),
    Fault("plateau_patience", "schedule", "plateau patience off by one", "engine/trainer.py",
          "patience=cfg.plateau_patience,", "patience=cfg.plateau_patience + 1,"),
    Fault("one_epoch_short", "schedule", "the epoch loop stops one epoch early", "engine/trainer.py",
          "for epoch in range(1, max((c.epochs for c in cfgs), default=0) + 1):",
          "for epoch in range(1, max((c.epochs for c in cfgs), default=0)):"),
    Fault("dropout_halved", "regularization", "dropout rate halved", "engine/stack.py",
          "self.dropout = per_run([c.dropout for c in cfgs], device)",
          "self.dropout = per_run([c.dropout / 2 for c in cfgs], device)"),
    Fault("sleep_2ms", "speed", "a 2 ms sleep in every training step", "engine/trainer.py",
          "stepper(order[:, first : first + batch])",
          "stepper(order[:, first : first + batch])\n            time.sleep(0.002)"),
]  # fmt: skip
RERUNS = ["rerun-1", "rerun-2"]  # quiet; stored like passing nights
LOADED = "rerun-loaded"  # while a busy loop runs on every core but one
# The unchanged code on other seeds (--ablation-base-seed N): what an environment change does to
# the numbers when nothing is wrong, so the statistical comparison's false alarms are counted.
NULLS = {"seeds-1": 1, "seeds-2": 2}


def _tree(out: Path, name: str, fault: Fault | None) -> Path:
    tree = out / "trees" / name
    if tree.exists():
        shutil.rmtree(tree)
    shutil.copytree(out / "source", tree)
    if fault is not None:
        target = tree / "suite" / fault.path
        text = target.read_text()
        if text.count(fault.old) != 1:
            sys.exit(f"fault {fault.name}: {fault.old!r} occurs {text.count(fault.old)} times in suite/{fault.path}")
        target.write_text(text.replace(fault.old, fault.new))
    return tree


def _busy(cores: int) -> list[subprocess.Popen]:
    loop = "while True: pass"
    return [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(cores)]


def train(out: Path, names: list[str], select: str, seeds: int) -> None:
    """Each run NAME, from a copy of the code as it was when the first run started (a later edit
    of the checkout must not reach the later runs)."""
    faults = {f.name: f for f in FAULTS}
    if not (out / "source").exists():
        shutil.copytree(ROOT / "suite", out / "source" / "suite", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(ROOT / "conftest.py", out / "source" / "conftest.py")
    for name in names:
        results = out / "runs" / name / "results.json"
        if results.exists() and json.loads(results.read_text()).get("status") == "complete":
            continue
        if results.exists():
            shutil.rmtree(results.parent)
        tree = _tree(out, name, faults.get(name))
        env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
        command = [sys.executable, "-m", "pytest", "suite/cases", "-q", "-p", "no:cacheprovider"]
        command += ["--ablation-profile", "ci", "--ablation-device", "cpu", "--ablation-seeds", str(seeds)]
        command += ["-k", select, "--ablation-out", str(out / "runs"), "--ablation-run-id", name]
        command += ["--ablation-base-seed", str(NULLS[name])] if name in NULLS else []
        busy = _busy(max((os.cpu_count() or 2) - 1, 1)) if name == LOADED else []
        start = time.monotonic()
        try:
            proc = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        finally:
            for job in busy:
                job.kill()
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:]
        print(f"{name}: exit {proc.returncode} in {time.monotonic() - start:.0f} s; {' '.join(tail)}", flush=True)


def compare(out: Path) -> None:
    """The nightly on every run, against a history rebuilt from the baseline and the quiet reruns."""
    history = out / "history"
    if history.exists():
        shutil.rmtree(history)
    header = "| run | area | same environment: exit, what decided | values moved | as if the environment changed"
    lines = [header + ": exit, what decided | largest shift / noise | time | µs per step vs baseline |"]
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, fault in [(n, None) for n in ["baseline", *RERUNS, LOADED]] + [(f.name, f) for f in FAULTS]:
        if not (out / "runs" / name / "results.json").exists():
            lines.append(f"| {name} | not run | | | | | | |")
            continue
        store = ("--store",) if name in ("baseline", *RERUNS) else ()  # a nightly stores the nights that pass
        stats = _regress(out, name, "--statistical") if name != "baseline" else None
        exact = _regress(out, name, *store)
        what = fault.what if fault else "unchanged code" + (", machine loaded" if name == LOADED else "")
        cells = [f"{name}: {what}", fault.area if fault else "-", _decided(*exact), _moved(exact[1])]
        cells += [_decided(*stats), _margin(stats[1])] if stats else ["", ""]
        cells += [_time(exact[1]), _cost_ratio(out, name)]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))
    for name in NULLS:
        if (out / "runs" / name / "results.json").exists():
            print(_false_alarms(name, *_regress(out, name, "--statistical")))


def _regress(out: Path, name: str, *extra: str) -> tuple[int, dict | None]:
    """The nightly's exit status and JSON; on exit 2 (a file it refuses to read) its one line."""
    path = out / "json" / f"{name}{''.join('-' + e.strip('-') for e in extra)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "suite.regress", str(out / "runs" / name), "--history", str(out / "history")]
    proc = subprocess.run([*command, "--json", str(path), *extra], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode == 2:  # refused: a fault that leaves an unreadable results file is caught this way
        print(f"{name}: {proc.stderr.strip()}", file=sys.stderr)
        return 2, {"refused": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "exit 2"}
    return proc.returncode, json.loads(path.read_text())


def _decided(code: int, report: dict | None) -> str:
    """'**red** (1): the first finding' or 'green (0): the verdict', from the JSON."""
    word = {0: "green", 1: "**red**", 2: "**red**"}.get(code, "error")
    if report is None:
        return f"{word} ({code})"
    if "refused" in report:  # the nightly would not read tonight's results: the night fails
        return f"{word} ({code}): refused: {report['refused'].removeprefix('regress: ')[-140:]}"
    found = [_short(f) for f in report["findings"]] or report["headline"][:1]
    text = found[0] if len(found[0]) <= 140 else found[0][:139] + "…"
    return f"{word} ({code}): {text}" + (f" (+{len(found) - 1} more)" if len(found) > 1 else "")


def _short(finding: dict) -> str:
    """A finding for the table: the first value that moved with 4 significant digits."""
    if finding["kind"] != "changed_same_environment":
        return finding["text"]
    first = finding["first"]
    value = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    seed = f" seed {first['seed']}" if first["seed"] is not None else ""
    return (
        f"changed in the same environment, first {first['ablation']}/{first['subject']}{seed} {first['what']}: "
        f"{value(first['baseline'])} → {value(first['current'])}"
    )


def _time(report: dict | None) -> str:
    """What the time comparison said: why it did not compare, or its worst row."""
    notes = [
        n for n in (report or {}).get("notes", []) if n["kind"] == "time_not_compared" and n.get("reason") != "served"
    ]
    if notes:
        return notes[0]["text"].removeprefix("time not compared: ")
    rows = [r for r in (report or {}).get("rows", []) if r["kind"] == "time"]
    slowest = max(rows, key=lambda r: r["relative_delta"] or 0, default=None)
    return f"{slowest['status']} ({slowest['relative_delta']:+.0%})" if slowest else "-"


def _moved(report: dict | None) -> str:
    if report and "refused" in report:
        return "-"
    found = [f for f in (report or {}).get("findings", []) if f["kind"] == "changed_same_environment"]
    return str(found[0]["count"]) if found else "0"


def _margin(report: dict | None) -> str:
    """The largest |shift| / noise over the per-seed comparisons: above 1 is beyond noise."""
    rows = [r for r in (report or {}).get("rows", []) if r["kind"] in ("metric", "statistic")]
    ratios = [abs(r["delta"]) / r["tolerance"] for r in rows if r.get("delta") is not None and r.get("tolerance")]
    return f"{max(ratios):.1f}" if ratios else "-"


def _cost_ratio(out: Path, name: str) -> str:
    """Median over the variants trained in both of tonight's cost per run-step / the baseline's, and
    the range: what the time comparison would have seen, loaded or not."""
    sys.path.insert(0, str(ROOT))
    from suite.regress.cost import _cost
    from suite.regress.history import load_run
    from suite.store.files import ResultsError

    try:
        base, now = load_run(out / "runs" / "baseline"), load_run(out / "runs" / name)
    except ResultsError:  # a fault's results the nightly refuses: no cost to compare either
        return "-"
    ratios = sorted(
        _cost(now.costs[k]) / _cost(v) for k, v in base.costs.items() if _cost(v) and _cost(now.costs.get(k))
    )
    if not ratios:
        return "-"
    return f"×{ratios[len(ratios) // 2]:.2f} ({ratios[0]:.2f}–{ratios[-1]:.2f})"


def _false_alarms(name: str, code: int, report: dict | None) -> str:
    """Seeds changed, code not: every metric or statistic row beyond noise is a false alarm."""
    if report is None or "refused" in report:
        return f"{name}: error (exit {code})"
    rows = [r for r in report["rows"] if r["kind"] in ("metric", "statistic")]
    flagged = [r for r in rows if r["status"] in ("REGRESSED", "IMPROVED", "SHIFTED")]
    return f"{name}: exit {code}; {len(flagged)} of {len(rows)} per-seed comparisons beyond noise" + "".join(
        f"\n  {f['text']}" for f in report["findings"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("phase", choices=["train", "compare"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="+", help="train only these runs (baseline, rerun-1, ..., fault names)")
    parser.add_argument("--select", default=SELECT, help=f"pytest -k of every run (default: {SELECT!r})")
    parser.add_argument("--seeds", type=int, default=SEEDS)
    args = parser.parse_args()
    if args.phase == "train":
        names = args.only or ["baseline", *RERUNS, LOADED, *(f.name for f in FAULTS), *NULLS]
        train(args.out, names, args.select, args.seeds)
    else:
        compare(args.out)


if __name__ == "__main__":
    main()
