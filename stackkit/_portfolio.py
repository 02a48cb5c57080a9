"""Placeholder until benchmarks/build_portfolio.py writes this module; do not edit by hand."""

PORTFOLIO = {"binary": [], "multiclass": [], "regression": []}
FINAL_ESTIMATORS = {task: {"family": "linear", "params": {}}
                    for task in ("binary", "multiclass", "regression")}
BUILT_WITH = {}
