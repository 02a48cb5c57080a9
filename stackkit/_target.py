"""The validated target of one fit."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Target:
    """The validated target of one fit: values as the base models see them, and its kind."""

    values: np.ndarray
    kind: str  # binary, multiclass, multilabel, continuous, continuous-multioutput
    classes: object = None  # classifier: array of labels, or one array per label column

    @property
    def n_outputs(self):
        return 1 if self.values.ndim == 1 else self.values.shape[1]

    @property
    def multi_output(self):
        return self.kind in ("multilabel", "continuous-multioutput")
