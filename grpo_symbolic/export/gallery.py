"""Every figure by name, and the ``figures`` subcommand: ``grpo-symbolic figures -o DIR [--width] [--style] [--only]``.

The paper's Figures 1–3 (:mod:`grpo_symbolic.export.figures`) are ``fig1``–``fig3``; ours
(:mod:`grpo_symbolic.export.our_figures`) are ``pi_g`` and ``presets``.
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any, Callable

from grpo_symbolic.export.commandline import Progress, writable_folder
from grpo_symbolic.export.figures import POINTS, STYLE, WIDTH, _SPECS, check_style, check_width, draw, save
from grpo_symbolic.export.our_figures import OURS
from grpo_symbolic.model.errors import ParameterError

def main(args: argparse.Namespace) -> int:
    """``grpo-symbolic figures -o DIR``: Figures 1–3 and ours (:data:`OURS`) as PNG and PDF in ``args.output``.

    ``args.width`` (inches) and ``args.style`` (a matplotlib style) are optional; ``args.only``
    (a list of names: fig1, fig2, fig3 and those of :data:`OURS`) draws only those.
    """
    width, style = getattr(args, "width", WIDTH), getattr(args, "style", STYLE)
    check_width(width)
    check_style(style)
    makers: dict[str, Callable[[], Any]] = {f"fig{n}": partial(draw, n, POINTS, width) for n in sorted(_SPECS)}
    makers.update({name: partial(make, width=width) for name, make in OURS.items()})
    only = getattr(args, "only", None) or list(makers)
    unknown = [name for name in only if name not in makers]
    if unknown:
        raise ParameterError(f"only: unknown figure(s) {unknown}; choose from {', '.join(makers)}")
    output = writable_folder(args.output, "output")  # before anything is drawn
    progress = Progress("figures", len(only), quiet=getattr(args, "quiet", False))
    for name in only:
        progress.start(name)
        paths = save(makers[name], output, name, style, width)
        progress.clear()
        for path in paths:
            print(path)
    return 0
