"""Charts drawn on the server as SVG: readable without JavaScript, each with a text alternative.

Each function returns markup for an inline ``<svg role="img">`` with a ``<title>`` and a
``<desc>`` that say in words what the bars show; the page also shows the same numbers as a
table. Colours meet 3:1 against white and each series has its own pattern of labels, so
colour is never the only carrier of meaning.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .reports import format_duration

# One colour per scenario, in SCENARIOS order (all at least 3:1 on white).
PALETTE = ("#0b5394", "#a4161a", "#1e6b32", "#6a3d9a")
P50_COLOUR = "#0b5394"
P90_COLOUR = "#7a4a00"


def _svg(width, height, title, desc, body, ident):
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        # Drawn at its own size and shrunk to fit a narrow screen (CSS), never stretched:
        # a chart of three months stretched to a wide page had letters a centimetre high.
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        f"{''.join(body)}</svg>"
    )


def _nice_max(value):
    if value <= 5:
        return 5
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return step
    return value


def monthly_stacked(months, series, title, ident="chart-monthly"):
    """Stacked bars: ``months`` is [(label, {series_key: n})], ``series`` [(key, label)]."""
    left, top, bar_w, gap, plot_h = 44, 16, 28, 10, 200
    # Wide enough for the bars and for the longest legend label (about 7 units a letter).
    legend_w = left + 20 + 7 * max((len(label) for _key, label in series), default=0) + 8
    width = max(left + max(len(months), 1) * (bar_w + gap) + 16, legend_w)
    legend_y = top + plot_h + 44
    height = legend_y + 20 * len(series) + 8
    peak = _nice_max(max((sum(c.values()) for _label, c in months), default=0))
    body = []
    for i in range(0, 6):
        value = peak * i / 5
        y = top + plot_h - plot_h * i / 5
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#c8c8c8" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#1a1a1a">{value:g}</text>'
        )
    words = []
    for m, (label, counts) in enumerate(months):
        x = left + m * (bar_w + gap) + gap / 2
        y = top + plot_h
        parts = []
        for s, (key, series_label) in enumerate(series):
            n = counts.get(key, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}" stroke="#fff" stroke-width="1">'
                f"<title>{escape(label)}: {escape(series_label)} {n}</title></rect>"
            )
            parts.append(f"{series_label} {n}")
        total = sum(counts.values())
        body.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle" fill="#1a1a1a">{total or ""}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="end" '
            f'transform="rotate(-45 {x + bar_w / 2:.1f} {top + plot_h + 14})" fill="#1a1a1a">{escape(label)}</text>'
        )
        words.append(f"{label}: {total}" + (f" ({', '.join(parts)})" if parts else ""))
    for s, (_key, series_label) in enumerate(series):
        y = legend_y + 20 * s
        body.append(
            f'<rect x="{left}" y="{y}" width="14" height="14" fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{left + 20}" y="{y + 12}" font-size="12" fill="#1a1a1a">{escape(series_label)}</text>'
        )
    desc = "; ".join(words) if words else "–"
    return _svg(width, height, title, desc, body, ident)


def durations_bars(rows, title, labels, ident="chart-durations"):
    """Paired horizontal bars of median and p90 per duration; ``rows`` from selectors.figures."""
    label_w, bar_max, row_h = 230, 380, 44
    width = label_w + bar_max + 150
    height = 30 + row_h * len(rows) + 10
    peak = max((r["p90"] or 0 for r in rows), default=0) or 1
    body = [
        f'<rect x="{label_w}" y="4" width="12" height="12" fill="{P50_COLOUR}"/>'
        f'<text x="{label_w + 18}" y="15" font-size="12" fill="#1a1a1a">{escape(labels["median"])}</text>'
        f'<rect x="{label_w + 120}" y="4" width="12" height="12" fill="{P90_COLOUR}"/>'
        f'<text x="{label_w + 138}" y="15" font-size="12" fill="#1a1a1a">{escape(labels["p90"])}</text>'
    ]
    words = []
    for i, row in enumerate(rows):
        y = 30 + i * row_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + 18}" font-size="12" text-anchor="end" fill="#1a1a1a">{escape(row["label"])}</text>'
        )
        for j, (key, colour) in enumerate((("median", P50_COLOUR), ("p90", P90_COLOUR))):
            value = row[key]
            w = 0 if value is None else max(1.0, bar_max * value / peak)
            by = y + j * 16
            body.append(
                f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="14" fill="{colour}"/>'
                f'<text x="{label_w + w + 6:.1f}" y="{by + 11}" font-size="11" fill="#1a1a1a">{escape(format_duration(value))}</text>'
            )
        words.append(
            f"{row['label']}: {labels['median']} {format_duration(row['median'])}, "
            f"{labels['p90']} {format_duration(row['p90'])}"
        )
    return _svg(width, height, title, "; ".join(words), body, ident)


def milestones(rows, title, marker=None, ident="chart-milestones"):
    """How long after the report each milestone came: one horizontal bar per milestone.

    ``rows`` is [(label, timedelta or None)] (None: not reached, drawn as a dash); ``marker``
    an optional (label, timedelta) drawn as a dashed line, e.g. the routine's 4 hours.
    """
    label_w, bar_max, row_h, top = 230, 380, 26, 24
    width = label_w + bar_max + 110
    height = top + row_h * len(rows) + 12
    seconds = [d.total_seconds() for _label, d in rows if d is not None]
    if marker is not None:
        seconds.append(marker[1].total_seconds())
    peak = max(seconds, default=0) or 1
    body = []
    words = []
    for i, (label, delta) in enumerate(rows):
        y = top + i * row_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + 13}" font-size="12" text-anchor="end" fill="#1a1a1a">{escape(label)}</text>'
        )
        if delta is None:
            body.append(f'<text x="{label_w + 4}" y="{y + 13}" font-size="11" fill="#4a4a4a">–</text>')
            words.append(f"{label}: –")
            continue
        w = max(1.0, bar_max * max(delta.total_seconds(), 0) / peak)
        body.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="14" fill="{P50_COLOUR}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" font-size="11" fill="#1a1a1a">{escape(format_duration(delta))}</text>'
        )
        words.append(f"{label}: {format_duration(delta)}")
    if marker is not None:
        x = label_w + bar_max * marker[1].total_seconds() / peak
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 4}" stroke="{P90_COLOUR}" '
            f'stroke-width="2" stroke-dasharray="5 3"/>'
            f'<text x="{x:.1f}" y="{top - 10}" font-size="11" text-anchor="middle" fill="{P90_COLOUR}">{escape(marker[0])}</text>'
        )
        words.append(f"{marker[0]}: {format_duration(marker[1])}")
    return _svg(width, height, title, "; ".join(words), body, ident)
