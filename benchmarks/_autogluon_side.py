"""The AutoGluon side of ``bench_automl.py``, run in AutoGluon's own Python.

AutoGluon pins versions of its dependencies that differ from stackkit's, so it lives in a
virtual environment of its own and ``bench_automl.py`` runs this script there::

    /path/to/agvenv/bin/python benchmarks/_autogluon_side.py WORKDIR

``WORKDIR`` holds ``train.parquet``, ``test.parquet`` (categorical columns keep pandas'
``category`` dtype through parquet) and ``spec.json`` (label, problem_type, eval_metric,
time_limit, excluded_model_types, num_cpus). The script writes ``predictions.npz`` (the
predictor's holdout predictions under ``final`` and every first-layer model's under
``member::<name>``; class columns in ``class_labels`` order) and ``result.json`` (fit and
predict seconds, model counts, versions). The scores are computed by ``bench_automl.py``
with the same functions for both libraries. Only the standard library, numpy, pandas and
AutoGluon are imported here.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def fit_predictor(train, spec, path):
    """Fit ``TabularPredictor(...).fit(presets="best_quality", ...)``; return it and seconds."""
    from autogluon.tabular import TabularPredictor

    predictor = TabularPredictor(label=spec["label"], problem_type=spec["problem_type"],
                                 eval_metric=spec["eval_metric"], path=str(path), verbosity=0)
    start = time.perf_counter()
    predictor.fit(train, presets="best_quality", time_limit=spec["time_limit"],
                  excluded_model_types=spec["excluded_model_types"],
                  num_cpus=spec["num_cpus"], num_gpus=0)
    return predictor, time.perf_counter() - start


def predict(predictor, test, classify, models=None):
    """Holdout predictions: a dict of arrays, probabilities for a classifier."""
    if models is None:
        out = {"final": (predictor.predict_proba(test, as_multiclass=True) if classify
                         else predictor.predict(test))}
    elif classify:
        out = predictor.predict_proba_multi(test, models=models, as_multiclass=True)
    else:
        out = predictor.predict_multi(test, models=models)
    return {name: np.asarray(values, dtype=float) for name, values in out.items()}


def first_layer(predictor):
    """The single members: first-layer models (the weighted ensembles and layer 2 excluded)."""
    board = predictor.leaderboard()
    members = board[(board["stack_level"] == 1) & ~board["model"].str.startswith("Weighted")]
    return list(members["model"]), len(board)


def run(workdir):
    """Fit, time one prediction of the holdout, predict every member; write the results."""
    import autogluon.tabular

    spec = json.loads((workdir / "spec.json").read_text())
    train = pd.read_parquet(workdir / "train.parquet")
    test = pd.read_parquet(workdir / "test.parquet").drop(columns=[spec["label"]])
    classify = spec["problem_type"] != "regression"
    predictor, fit_seconds = fit_predictor(train, spec, workdir / "models")
    predictor.persist("all")  # predictions from memory, as stackkit's are
    start = time.perf_counter()
    arrays = predict(predictor, test, classify)
    predict_seconds = time.perf_counter() - start
    members, n_models = first_layer(predictor)
    arrays.update({f"member::{name}": values
                   for name, values in predict(predictor, test, classify, members).items()})
    np.savez(workdir / "predictions.npz", **arrays)
    result = {"fit_seconds": fit_seconds, "predict_seconds": predict_seconds,
              "best_model": predictor.model_best, "n_models": n_models,
              "n_members": len(members),
              "class_labels": [int(c) for c in predictor.class_labels] if classify else None,
              "version": f"autogluon {autogluon.tabular.__version__}",
              "ray": importlib.util.find_spec("ray") is not None}
    (workdir / "result.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    run(Path(sys.argv[1]))
