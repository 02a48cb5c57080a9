"""The table, the tally and the target checks of ``bench_automl.py``.

Pure functions of the result records (one dict per library and table, as written by
``bench_automl.py --out``), so ``--table-from`` can print them again without fitting.
"""

import math

TOLERANCE = {"roc_auc": ("absolute", 0.0005), "r2": ("absolute", 0.0005),
             "log_loss": ("relative", 0.001)}
OVERSHOOT_LIMIT = 0.05  # a fit may end at most 5% after T
LABELS = {"roc_auc": "AUC", "log_loss": "log loss", "r2": "R2"}


def outcome(metric, ours, theirs):
    """``"win"``, ``"tie"`` or ``"loss"`` of score ``ours`` against ``theirs``."""
    gap = (ours - theirs) * (-1 if metric == "log_loss" else 1)  # > 0: ours is better
    kind, tolerance = TOLERANCE[metric]
    limit = tolerance * abs(theirs) if kind == "relative" else tolerance
    return "tie" if abs(gap) <= limit else ("win" if gap > 0 else "loss")


def pair_up(records):
    """``{dataset: {library: record}}`` in the order the tables were run."""
    pairs = {}
    for r in records:
        pairs.setdefault(r["dataset"], {})[r["library"]] = r
    return pairs


def head_to_head(sides):
    """stackkit's result on one table: a side that failed loses; None if not both ran."""
    kit, ag = sides.get("stackkit"), sides.get("autogluon")
    if kit is None or ag is None or (kit["error"] and ag["error"]):
        return None
    if kit["error"] or ag["error"]:
        return "loss" if kit["error"] else "win"
    return outcome(kit["metric"], kit["score"], ag["score"])


def _cell(r, key, fmt):
    if r is None or r["error"]:
        return "failed" if r is not None else "—"
    value = r.get(key)
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else format(value, fmt)


def markdown_table(pairs):
    """One row per table: both scores, the result, best members, fit and predict times."""
    lines = ["| table | task | train rows | metric | stackkit | AutoGluon | result "
             "| best member: stackkit / AutoGluon | fit s: stackkit / AutoGluon (vs T) "
             "| predict s per 1k rows: stackkit / AutoGluon |",
             "|---|---|---:|---|---:|---:|---|---:|---:|---:|"]
    for name, sides in pairs.items():
        kit, ag = sides.get("stackkit"), sides.get("autogluon")
        any_side = kit or ag
        fits = " / ".join(f"{_cell(r, 'fit_seconds', '.0f')}"
                          + (f" ({r['overshoot_pct']:+.0f}%)" if r and not r["error"] else "")
                          for r in (kit, ag))
        lines.append(
            f"| {name} | {any_side['task']} | {any_side['train_rows']:,} "
            f"| {LABELS[any_side['metric']]} | {_cell(kit, 'score', '.4f')} "
            f"| {_cell(ag, 'score', '.4f')} | {head_to_head(sides) or '—'} "
            f"| {_cell(kit, 'best_member_score', '.4f')} / "
            f"{_cell(ag, 'best_member_score', '.4f')} | {fits} "
            f"| {_cell(kit, 'predict_s_per_1k', '.3f')} / {_cell(ag, 'predict_s_per_1k', '.3f')} |")
    return "\n".join(lines)


def target_checks(pairs):
    """The issue's three targets, each as ``(met, text)``; ``met`` is None if not measured."""
    results = {n: head_to_head(s) for n, s in pairs.items() if head_to_head(s)}
    level = sum(v in ("win", "tie") for v in results.values())
    kits = [s["stackkit"] for s in pairs.values() if "stackkit" in s]
    below = [r["dataset"] for r in kits if r["error"] or math.isnan(r["best_member_score"])
             or outcome(r["metric"], r["score"], r["best_member_score"]) == "loss"]
    late = [r["dataset"] for r in kits if r["error"]
            or r["overshoot_pct"] > 100 * OVERSHOOT_LIMIT]
    return [
        (2 * level >= len(results) if results else None,
         f"ahead of or level with AutoGluon on >= half the tables: {level} of {len(results)}"),
        (not below if kits else None,
         "never below its own best member: " + (", ".join(below) or "none below")),
        (not late if kits else None,
         f"every fit within T + {100 * OVERSHOOT_LIMIT:.0f}%: "
         + (", ".join(late) or "none over")),
    ]


def note(r):
    """What to know about one record beside its scores: failure, drops, models, preset."""
    if r["error"]:
        lines = r["error"].strip().splitlines()
        return "FAILED: " + lines[0] + (f" ... {lines[-1]}" if len(lines) > 1 else "")
    if r["library"] == "autogluon":
        no_ray = "; no ray: bag folds fit one after another" if r.get("ray") is False else ""
        return (f"{r['n_models']} models ({r['n_members']} first-layer), best "
                f"{r['best_model']}{no_ray}")
    text = f"dropped {', '.join(r['dropped'])}" if r["dropped"] else ""
    if r["preset"] != "best":
        text += (f"; the {r['preset']!r} preset, NOT the portfolio"
                 + ("" if r["budget"] else ", no time_limit on this stackkit"))
    return text.lstrip("; ")


def print_report(records):
    """Print the table, wins / ties / losses, the failures and the target checks."""
    pairs = pair_up(records)
    print("\n" + markdown_table(pairs) + "\n")
    results = [head_to_head(s) for s in pairs.values()]
    counts = {k: results.count(k) for k in ("win", "tie", "loss")}
    print(f"stackkit against AutoGluon: {counts['win']} wins / {counts['tie']} ties / "
          f"{counts['loss']} losses (tie: within 0.0005 AUC or R2, within 0.1% of "
          "AutoGluon's log loss; a side that fails loses)")
    for r in records:
        line = note(r)
        if line:
            print(f"  {r['dataset']} / {r['library']}: {line}")
    for met, text in target_checks(pairs):
        print(f"  [{ {True: 'met', False: 'MISSED', None: 'not measured'}[met]}] {text}")
