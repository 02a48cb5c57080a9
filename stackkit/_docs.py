"""Parameter and attribute text shared by the classifier and regressor docstrings."""

PARAMETERS = """\
    estimators : list of (str, estimator)
        Base estimators. Names must be unique and free of ``"__"``; an estimator may
        be ``"drop"`` to leave it out. Every estimator is cloned; the objects given
        here are never fitted or modified.
    final_estimator : estimator, default=None
        Fit on the out-of-fold predictions of the base estimators. ``None`` means
        {default_final}. ``final_estimator__<param>`` may be set (e.g. in a grid search)
        even while this is ``None``: the default is then put in its place.
    cv : int, cross-validation splitter, iterable of (train, test) or "prefit", default=5
        How the out-of-fold predictions are made. An int means {int_cv}, unshuffled.
        The folds are drawn once and shared by every base estimator; ``cv`` itself is
        never modified. Repeated splits (``RepeatedKFold``) average each row's
        predictions over the repeats; forward-only splits (``TimeSeriesSplit``) leave
        rows no fold tests out of the final estimator's fit, with a warning.
        "prefit" (as in scikit-learn) is the same as wrapping every base estimator in
        ``sklearn.frozen.FrozenEstimator``: they must be fitted already, are never
        refit, and their predictions of the training rows (in-sample, not
        out-of-fold: mind the overfitting) train the final estimator;
        ``estimators_`` holds them as given.
    stack_method : {stack_method_values}, default="auto"
        The base estimators' method whose output becomes the meta-features. "auto" takes
        the first of {auto_order} an estimator has. A dict ``{{name: method}}`` sets it
        per estimator ("auto" for names left out).
    passthrough : bool, default=False
        If True, the final estimator also sees the original features, after the
        meta-features (a DataFrame keeps its columns and dtypes), named as
        ``get_feature_names_out`` names them: X's column names when they are all
        strings, else ``x0, x1, ...``. An input column named like a meta-feature
        (``<name>__<class>``, or ``<name>``) is a ``ValueError``, raised before any
        fitting.
    refit : bool, default=True
        If True, each base estimator is refit on all rows and that model predicts new
        rows (scikit-learn's semantics). If False, new rows get the mean of the fold
        models' predictions and no extra fit is made.
    memory : None, str or joblib.Memory, default=None
        Folder caching each fold task's result (fitted model if kept, held-out
        predictions), keyed by a hash of the estimator's class and parameters, the
        method, the data (X, y, sample_weight) and the task's rows, and each fitted base
        model's predictions on the data it is asked to predict. A grid search over the
        final estimator or ``passthrough`` then fits each base estimator's folds once
        and predicts each outer test fold once; changing or adding one estimator refits
        only its tasks; a fit killed part-way resumes from its finished tasks. Entries
        that cannot be read or do not match their checksum are recomputed. The cache
        grows by one entry per distinct task (the fold models' size when
        ``refit=False``, else little more than the predictions) and per distinct
        (model, X) predicted; clear it by deleting the folder. Estimators with
        ``random_state=None`` get the stored result of an earlier fit. A function is
        hashed by its module and name, not its code: after editing a function used by
        an estimator (e.g. in a ``FunctionTransformer``), clear the cache.
    on_error : {{"raise", "warn"}}, default="raise"
        What a base estimator failing on a fold or its refit does. ``"raise"``: the
        fit stops with a :class:`~stackkit.FoldFitError` naming the estimator, the
        fold and the cause (the other tasks are cancelled). ``"warn"``: the estimator
        is dropped from the stack with one ``StackkitWarning`` naming it, the fold and
        the cause, the others go on, and ``dropped_`` records it; if every estimator
        fails, ``FoldFitError`` is raised.
    n_jobs : int, default=None
        Number of fold tasks run at once, by one pool of joblib workers over all
        (estimator x fold) tasks; ``None`` means 1 unless in a
        ``joblib.parallel_config`` context, ``-1`` means all cores. Boosters and BLAS
        inside a task get the cores divided by the concurrent tasks, so threads never
        oversubscribe the machine; an explicit ``n_jobs`` on a base estimator is kept.
    verbose : int, default=0
        If > 0, a progress bar over the fold tasks (tqdm's, notebook-aware; tasks
        read from the ``memory`` cache count as done from the start), or joblib's
        progress messages when tqdm is not installed.
    time_limit : float, default=None
        Seconds for the whole ``fit``, from its start to its return, final estimator
        included; None: no limit. The base estimators are then taken in list order
        (the list is their priority). Before each task, the time the remaining work
        would take is estimated from the tasks that finished; an estimator that could
        not finish all its tasks (folds and refit) in the time left, less a reserve of
        5% of the limit for the final estimator, is skipped (if some of its tasks ran,
        the rest are) and recorded in ``dropped_`` and ``task_log_`` with the estimate,
        with one ``StackkitWarning`` for all such estimators. The first estimator is
        always kept. XGBoost and LightGBM boosters (also as a pipeline's last step)
        stop growing trees at the deadline and keep those they have (``truncated`` in
        ``task_log_``; such a task is never cached). Tasks read from ``memory`` cost
        nothing and are never skipped. The fit may end a little past the limit: other
        estimators cannot be stopped mid-task, and estimates err; see the README's
        "Time budget" section for the measured overshoot."""

ATTRIBUTES = """\
    estimators_ : list of estimators
        The fitted base estimators, without the dropped ones. With ``refit=False``
        each is a :class:`~stackkit.FoldAverage` of its fold models.
    named_estimators_ : Bunch
        The fitted base estimators by name.
    final_estimator_ : estimator
        The fitted final estimator. For multi-output targets an estimator without
        multi-output support is wrapped in {multi_output_wrapper}.
    stack_method_ : list of str
        The method used for each base estimator.
    oof_ : ndarray of shape (n_samples, n_meta_features)
        Out-of-fold meta-features of the training rows, in the order of ``X``; NaN for
        rows no fold tested.
    oof_target_ : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        The target as the base estimators saw it (class labels encoded as
        ``0 .. n_classes - 1``), rows as in ``oof_``: what
        :func:`stackkit.report.leaderboard` scores ``oof_`` against.
    oof_folds_ : list of ndarray
        Each fold's held-out rows (indices into ``oof_``).
    oof_sample_weight_ : ndarray of shape (n_samples,) or None
        The ``sample_weight`` of the fit (None without), which weights the
        leaderboard's scores as it weighted the fits. After a fit on a Dask
        collection, ``oof_``, ``oof_target_`` and ``oof_sample_weight_`` are lazy Dask
        collections and ``oof_folds_`` names each fold's rows by a lazy mask;
        :mod:`stackkit.report` collects them when it scores the stack.
    task_log_ : DataFrame
        One row per fold task (``fold`` is ``"full"`` for the refit, ``"frozen"``
        for the one prediction task of a frozen model, which fits nothing): estimator,
        fold, training and test rows, fit and predict seconds, and when the task
        started and finished (seconds since the first task started), whether it was
        read from the ``memory`` cache, its cache key (None without ``memory``),
        where it ran (``"cpu"``, or ``"gpu:<n>"`` for the GPU lane of device n), why
        it failed or was skipped (``error``), its ``status``: ``"ran"``,
        ``"cached"``, ``"failed"`` or ``"skipped"``, and whether the ``time_limit``
        deadline stopped its booster growing trees (``truncated``).
    best_iterations_ : dict of str to ndarray of shape (n_folds,)
        For each base estimator that stops early (XGBoost ``early_stopping_rounds``,
        LightGBM ``early_stopping_round`` or its ``early_stopping`` callback,
        ``HistGradientBoosting*(early_stopping=True)``), the number of boosting
        rounds each fold model kept, in fold order (for a
        :class:`~stackkit.transfer.WarmStart`, the rounds it added to its source's);
        empty when none does. XGBoost
        and LightGBM stop on 10% of each training fold, held out by stackkit
        (stratified for classifiers, seeded), never on the fold's test rows. With
        ``refit=True`` the model refit on all rows trains, without early stopping,
        for the mean of these rounds (never more than the rounds asked for).
    dropped_ : dict of str to str
        The base estimators dropped because a task failed (``on_error="warn"``) or
        was skipped (``time_limit``), each with its first error or the reason it was
        skipped; empty when none was.
    layout_ : Layout
        Which meta-feature columns belong to which base estimator
        (:class:`~stackkit.layout.Layout`).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in fit, when ``X`` had string column names."""


_PREDICT_PARAMS = """\
            Routing disabled (the default): passed to the final estimator's ``{method}``
            (e.g. ``return_std=True`` for a Gaussian process or ``ARDRegression``; it
            describes the final estimator's uncertainty only). Routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``): metadata routed as
            each estimator requested it (``set_{method}_request``): to the final
            estimator's ``{method}`` and to the base estimators' stack methods. A final
            estimator's parameter such as ``return_std`` is then metadata too: request it
            (``set_{method}_request(return_std=True)``), as with scikit-learn's stacks."""


def with_predict_params(method):
    """Decorator: put the text of ``**params`` of the prediction ``method`` in its docstring.

    The docstring holds the line ``PREDICT_PARAMS`` where the text goes.
    """

    def fill(function):
        function.__doc__ = function.__doc__.replace(
            "            PREDICT_PARAMS", _PREDICT_PARAMS.format(method=method))
        return function

    return fill
