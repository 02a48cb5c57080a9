"""A stack's notebook display: scikit-learn's diagram, then the sections capabilities add.

The diagram follows scikit-learn's visual-block protocol (:func:`visual_block`): the
base estimators side by side above the final estimator, the fitted ones once fitted.
The engine knows only this small interface, never the modules that fill it:
:mod:`stackkit.report` registers its leaderboard here when it is imported (and
``stackkit`` imports it, so the section is always there).
"""

from dataclasses import dataclass
from typing import Callable

from sklearn.utils import estimator_html_repr


@dataclass(frozen=True)
class Section:
    """One block shown under the diagram of a fitted stack.

    Parameters
    ----------
    name : str
        Names the block's ``div`` (class ``stackkit-<name>``) and the line shown when
        ``render`` fails; registering a name again replaces the earlier section.
    title : str
        The block's heading.
    render : callable
        ``render(stack) -> str``: the block's HTML, given a fitted stack.
    """

    name: str
    title: str
    render: Callable


_SECTIONS = {}


def register_section(section):
    """Show ``section`` under the diagram of every fitted stack, after those already registered."""
    _SECTIONS[section.name] = section
    return section


def html(stack):
    """scikit-learn's diagram of ``stack``, then each registered section once it is fitted."""
    diagram = estimator_html_repr(stack)
    if not _is_fitted(stack):
        return diagram
    return diagram + "".join(_block(section, stack) for section in _SECTIONS.values())


def _block(section, stack):
    try:
        body = section.render(stack)
    except Exception as exc:  # a display must never fail; say why the block is missing
        body = f"<p>{section.name} unavailable: {type(exc).__name__}: {exc}</p>"
    return f'<div class="stackkit-{section.name}"><h4>{section.title}</h4>{body}</div>'


# -- the diagram: scikit-learn's visual-block protocol --------------------------------


def _visual_block_class():
    """scikit-learn's ``_VisualBlock``, or None when it cannot be imported.

    The protocol's block class is private to scikit-learn (its own meta-estimators use
    it; no public equivalent exists), so this is stackkit's only import of it: if a
    release moves it, stacks fall back to scikit-learn's default diagram.
    """
    try:
        from sklearn.utils._repr_html.estimator import _VisualBlock
    except ImportError:
        return None
    return _VisualBlock


def has_visual_block(stack):
    """Whether ``stack`` can draw its own diagram (``available_if`` check)."""
    return _visual_block_class() is not None


def visual_block(stack):
    """The stack's diagram: its base estimators in parallel, then the final estimator.

    Unfitted, the configured estimators (and the default final estimator when
    ``final_estimator=None``); fitted, the fitted ones, with an estimator that
    ``on_error`` dropped shown as such. ``"drop"`` is shown as scikit-learn shows it.
    """
    block = _visual_block_class()
    names = [name for name, _ in stack.estimators]
    bases = [_base_shown(stack, name, est, block) for name, est in stack.estimators]
    final = _final_shown(stack)
    return block("serial", [
        block("parallel", bases, names=names, dash_wrapped=False),
        block("parallel", [final], names=["final_estimator"], dash_wrapped=False),
    ], dash_wrapped=False)


def _base_shown(stack, name, estimator, block):
    if not _is_fitted(stack):
        return estimator
    if name in stack.dropped_:
        why = stack.dropped_[name]
        return block("single", why, names="dropped in fit", name_details=why)
    return stack.named_estimators_.get(name, estimator)


def _final_shown(stack):
    if _is_fitted(stack):
        return stack.final_estimator_
    final = stack.final_estimator
    return stack._default_final_estimator() if final is None else final


def _is_fitted(stack):
    return hasattr(stack, "layout_")
