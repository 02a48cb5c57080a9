"""A stack's notebook display: scikit-learn's diagram, then the sections capabilities add.

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
    if not hasattr(stack, "layout_"):
        return diagram
    return diagram + "".join(_block(section, stack) for section in _SECTIONS.values())


def _block(section, stack):
    try:
        body = section.render(stack)
    except Exception as exc:  # a display must never fail; say why the block is missing
        body = f"<p>{section.name} unavailable: {type(exc).__name__}: {exc}</p>"
    return f'<div class="stackkit-{section.name}"><h4>{section.title}</h4>{body}</div>'
