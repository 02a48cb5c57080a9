"""The command line and the meta-learners as subpackages: entry points and names unchanged."""

import subprocess
import sys

import pytest

from stackkit import _trust, meta


def test_python_m_stackkit_cli_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "stackkit.cli", "fit"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "stackkit fit: error: the following arguments are required" in done.stderr


@pytest.mark.parametrize("name", meta.__all__)
def test_meta_learners_keep_the_name_the_trust_list_gives_them(name):
    """Saved model files name them ``stackkit.meta.<Class>``; loading checks the real module."""
    cls = getattr(meta, name)
    assert f"{cls.__module__}.{cls.__qualname__}" == f"stackkit.meta.{name}"
    assert f"stackkit.meta.{name}" in _trust.STACKKIT_TYPES
