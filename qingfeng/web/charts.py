"""Small server-rendered SVG charts (no JavaScript, no CDN: the deployment has no internet)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

PALETTE = ("#b22222", "#1f5fa8", "#2e8b57", "#d2691e", "#6a5acd", "#708090")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"


def bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, width: int = 520, color: str = PALETTE[1]
) -> Markup:
    """Horizontal bars, one per (label, value), largest scale = widest bar."""
    row, label_w, top = 22, 150, 28
    height = top + row * max(1, len(items)) + 10
    peak = max((v for _, v in items), default=0) or 1
    bar_room = width - label_w - 70
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not items:
        parts.append(f'<text x="0" y="{top + 14}" class="chart-empty">暂无数据</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * row
        w = bar_room * (value / peak)
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 7}" fill="{color}"/>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 14}">{escape(_fmt(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    months: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    width: int = 560,
    height: int = 240,
) -> Markup:
    """One polyline per series over the months, with a legend and y-axis ticks."""
    left, right, top, bottom = 48, 28, 40, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(4.0, max((v for values in series.values() for v in values), default=0))  # whole-number ticks
    step = plot_w / max(1, len(months) - 1)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(value))}</text>')
    for i, month in enumerate(months):
        x = left + i * step if len(months) > 1 else left + plot_w / 2
        shown = month[2:] if len(months) > 8 else month  # 25-01: twelve labels fit
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{escape(shown)}</text>')
    for n, (name, values) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join(
            f"{(left + i * step if len(months) > 1 else left + plot_w / 2):.1f},{top + plot_h - plot_h * v / peak:.1f}"
            for i, v in enumerate(values)
        )
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        lx = left + n * 110
        parts.append(f'<rect x="{lx}" y="24" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{lx + 14}" y="33">{escape(name)}</text>')
    if not months:
        parts.append(f'<text x="{left}" y="{top + 20}" class="chart-empty">暂无数据</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
