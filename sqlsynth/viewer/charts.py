"""Small inline SVG charts for the data card: horizontal bars and a funnel, no scripts.

The SVG is text inside the HTML, so the card needs no network, no JavaScript and prints well.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

_BAR_H = 20
_GAP = 6
_LABEL_W = 230
_VALUE_W = 70


def _svg_open(label: str, width: int, height: int) -> str:
    return (f'<svg class="chart" role="img" aria-label="{label}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" '
            'xmlns="http://www.w3.org/2000/svg">')


def bar_chart(items: Sequence[tuple[str, float]], *, width: int = 640, title: str = "",
              color: str = "#3b6fb6", value_format: str = "{:g}") -> str:
    """One horizontal bar per (label, value); an empty list gives a one-line note."""
    if not items:
        return '<p class="empty">nothing to show</p>'
    top = max((v for _, v in items), default=0) or 1
    plot = width - _LABEL_W - _VALUE_W
    height = len(items) * (_BAR_H + _GAP) + _GAP
    parts = [_svg_open(html.escape(title), width, height)]
    for i, (label, value) in enumerate(items):
        y = _GAP + i * (_BAR_H + _GAP)
        w = max(1.0, plot * float(value) / top) if value else 0.0
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{_LABEL_W - 8}" y="{y + _BAR_H * 0.72:.1f}" text-anchor="end" '
            f'font-size="12"><title>{html.escape(label)}</title>{html.escape(short)}</text>'
            f'<rect x="{_LABEL_W}" y="{y}" width="{w:.1f}" height="{_BAR_H}" fill="{color}" '
            f'rx="2"/><text x="{_LABEL_W + w + 6:.1f}" y="{y + _BAR_H * 0.72:.1f}" '
            f'font-size="12">{html.escape(value_format.format(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def funnel_chart(steps: Sequence[tuple[str, int, int]], *, width: int = 640) -> str:
    """Per step (label, rows in, rows out): a light bar for in, a dark one for out."""
    if not steps:
        return '<p class="empty">no step has finished</p>'
    top = max(max(i, o) for _, i, o in steps) or 1
    plot = width - _LABEL_W - _VALUE_W - 40
    height = len(steps) * (_BAR_H + _GAP) + _GAP
    parts = [_svg_open("funnel", width, height)]
    for k, (label, rows_in, rows_out) in enumerate(steps):
        y = _GAP + k * (_BAR_H + _GAP)
        w_in, w_out = plot * rows_in / top, plot * rows_out / top
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{_LABEL_W - 8}" y="{y + _BAR_H * 0.72:.1f}" text-anchor="end" '
            f'font-size="12">{html.escape(short)}</text>'
            f'<rect x="{_LABEL_W}" y="{y}" width="{w_in:.1f}" height="{_BAR_H}" '
            f'fill="#c9d7ee" rx="2"/>'
            f'<rect x="{_LABEL_W}" y="{y}" width="{w_out:.1f}" height="{_BAR_H}" '
            f'fill="#3b6fb6" rx="2"/>'
            f'<text x="{_LABEL_W + max(w_in, w_out) + 6:.1f}" y="{y + _BAR_H * 0.72:.1f}" '
            f'font-size="12">{rows_in} → {rows_out}</text>')
    parts.append("</svg>")
    return "".join(parts)
