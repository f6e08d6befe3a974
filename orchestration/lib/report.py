"""A self-contained HTML report of the published metrics, for people without a BI tool.

One file, no network: the charts are inline SVG drawn here, the styles inline CSS. Every figure is a
`<figure class="chart" data-chart="<id>">` holding an `<svg>` of marks, or a "no data" note when its
table is empty, so that a browser test can check that each chart drew. The data are small aggregate
queries on the read-only serving database (the tables are monthly); all text is HTML-escaped.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.lib.headline import HEADLINE_METRICS, latest_complete_month
from orchestration.settings import SERVING_SCHEMA, Paths

PALETTE = {
    "blue": "#2f6db5",
    "teal": "#2a9d8f",
    "green": "#5aa469",
    "purple": "#7b5ea7",
    "orange": "#e08a2c",
    "red": "#c8553d",
    "grey": "#8a94a3",
    "ink": "#1f2933",
}


class NothingPublishedError(RuntimeError):
    """The data folder has no publication to report on."""


@dataclass(frozen=True)
class QualityStatus:
    """Outcome of the data-quality checks (ingest checks and dbt tests) of the publishing run."""

    passed: int
    warned: tuple[str, ...] = ()  # "asset :: check" of each check that warned
    failed: tuple[str, ...] = ()

    @property
    def level(self) -> str:
        return "failed" if self.failed else "warned" if self.warned else "passed"

    def summary(self) -> str:
        if not self.warned and not self.failed:
            return f"all {self.passed} checks passed"
        outcomes = [f"{self.passed} checks passed"]
        outcomes += [f"{len(self.warned)} warned"] if self.warned else []
        outcomes += [f"{len(self.failed)} failed"] if self.failed else []
        return ", ".join(outcomes)


def run_quality(instance, run_id: str) -> QualityStatus | None:
    """The checks evaluated in a Dagster run, or None when the instance holds no evaluation of it
    (the run was deleted, or the data folder was copied without its Dagster history)."""
    from dagster import AssetCheckSeverity, DagsterEventType

    latest = {}
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.asset_check_evaluation_data
        # A check evaluated twice in one run (a retried step) counts once, with its last outcome.
        latest[(evaluation.asset_key, evaluation.check_name)] = evaluation
    if not latest:
        return None
    failing = [e for e in latest.values() if not e.passed]

    def names(severity) -> tuple[str, ...]:
        return tuple(
            sorted(f"{e.asset_key.to_user_string()} :: {e.check_name}" for e in failing if e.severity == severity)
        )

    warned, failed = names(AssetCheckSeverity.WARN), names(AssetCheckSeverity.ERROR)
    return QualityStatus(passed=len(latest) - len(warned) - len(failed), warned=warned, failed=failed)


@dataclass(frozen=True)
class PublicationInfo:
    as_of_date: date
    published_at: datetime
    run_id: str


def published_run(paths: Paths) -> PublicationInfo:
    con = _connect(paths)
    try:
        return _publication(con)
    finally:
        con.close()


def write_report(paths: Paths, output: Path, quality: QualityStatus | None) -> Path:
    """Writes the report of the live publication to `output` and returns it. `quality` is the
    publishing run's check outcome; None says it is unknown, and the page then states what
    publication itself guarantees."""
    con = _connect(paths)
    try:
        publication = _publication(con)
        page = _page(publication, quality, _kpis(con), {chart_id: draw(con) for chart_id, draw in _CHARTS.items()})
    finally:
        con.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so a reader never opens half a report.
    partial = output.with_name(f".{output.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, output)
    return output


def _connect(paths: Paths) -> duckdb.DuckDBPyConnection:
    if not paths.serving_db.exists():
        raise NothingPublishedError(f"Nothing published yet: {paths.serving_db} does not exist (run `cx-pipeline run`).")
    return duckdb.connect(str(paths.serving_db), read_only=True)


def _publication(con: duckdb.DuckDBPyConnection) -> PublicationInfo:
    row = con.execute(
        f"SELECT as_of_date, published_at, run_id FROM {SERVING_SCHEMA}._publication LIMIT 1"
    ).fetchone()
    if row is None:
        raise NothingPublishedError("The serving database has an empty publication log.")
    return PublicationInfo(*row)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql.format(cx=SERVING_SCHEMA))
    names = [column[0] for column in cursor.description]
    # An infinite or NaN figure (a float division by zero) cannot be drawn: it counts as missing.
    return [
        {name: None if isinstance(value, float) and not math.isfinite(value) else value for name, value in zip(names, row)}
        for row in cursor.fetchall()
    ]


# ---------------------------------------------------------------------------------------------
# Number formats


def format_money(value: float | None) -> str:
    if value is None:
        return "n/a"
    # Cents matter next to small amounts (an ARPA of 91.67), not next to large ones.
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}".removesuffix(".00")


def format_rate(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_minutes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} min"


def format_points(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def format_count(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------------------------------------
# Chart primitives: inline SVG


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str
    format: Callable[[float | None], str]
    kind: str = "line"  # "bar": stacked by sign on the left axis; "line": a line on its axis
    axis: str = "left"


@dataclass(frozen=True)
class Chart:
    title: str
    subtitle: str
    svg: str | None  # None: no data
    legend: Sequence[tuple[str, str]] = ()  # (name, color)
    note: str = ""
    empty_message: str = "No data published yet."


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], steps of 1, 2, 2.5 or 5 times a power of ten."""
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw_step = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [i * step for i in range(first, last + 1)]


def _present(values) -> list[float]:
    return [float(v) for v in values if v is not None]


def _rect(x: float, y: float, width: float, height: float, fill: str, title: str, css_class: str = "") -> str:
    extra = f' class="{css_class}"' if css_class else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{max(height, 0):.1f}" '
        f'fill="{fill}"{extra}><title>{_esc(title)}</title></rect>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start", css_class: str = "tick", fill: str = "") -> str:
    colour = f' fill="{fill}"' if fill else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{css_class}"{colour}>{_esc(text)}</text>'


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{_esc(label)}">' + "".join(body) + "</svg>"
    )


def _time_chart(title: str, months: Sequence[date], complete: Sequence[bool], series: Sequence[Series]) -> str | None:
    """Months along x; stacked bars and lines on a left axis, lines on an optional right axis."""
    if not months or not any(_present(s.values) for s in series):
        return None
    has_right = any(s.axis == "right" for s in series)
    width, height = 720, 280
    left, right, top, bottom = 70, (70 if has_right else 20), 14, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    band = plot_w / len(months)
    bars = [s for s in series if s.kind == "bar"]

    def domain(axis: str) -> list[float] | None:
        lines = [v for s in series if s.axis == axis and s.kind == "line" for v in _present(s.values)]
        values = list(lines)
        if axis == "left" and bars:
            for i in range(len(months)):
                month_values = _present(s.values[i] for s in bars)
                values += [sum(v for v in month_values if v > 0), sum(v for v in month_values if v < 0)]
        return _nice_ticks(min(values), max(values)) if values else None

    def scale(ticks: list[float]) -> Callable[[float], float]:
        low, high = ticks[0], ticks[-1]
        return lambda v: top + plot_h * (1 - (v - low) / (high - low))

    body: list[str] = []
    left_ticks = domain("left")
    right_ticks = domain("right") if has_right else None
    axis_format = {s.axis: s.format for s in series}
    y_of = {}
    if left_ticks:
        y_of["left"] = scale(left_ticks)
        for tick in left_ticks:
            y = y_of["left"](tick)
            body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
            body.append(_text(left - 6, y + 4, axis_format["left"](tick), "end"))
    if right_ticks:
        y_of["right"] = scale(right_ticks)
        for tick in right_ticks:
            body.append(_text(width - right + 6, y_of["right"](tick) + 4, axis_format["right"](tick), "start"))

    label_every = math.ceil(len(months) / 12)
    for i, month in enumerate(months):
        if i % label_every == 0 or i == len(months) - 1:
            label = _month_label(month) + ("" if complete[i] else "*")
            body.append(_text(left + band * (i + 0.5), height - bottom + 18, label, "middle"))

    if bars:
        y = y_of["left"]
        bar_w = band * 0.7
        for i, month in enumerate(months):
            above = below = 0.0
            x = left + band * i + (band - bar_w) / 2
            for s in bars:
                value = s.values[i]
                if not value:
                    continue
                base = above if value > 0 else below
                top_value, bottom_value = (base + value, base) if value > 0 else (base, base + value)
                tooltip = f"{_month_label(month)} · {s.name}: {s.format(value)}"
                body.append(_rect(x, y(top_value), bar_w, y(bottom_value) - y(top_value), s.color, tooltip))
                if value > 0:
                    above += value
                else:
                    below += value
        if left_ticks[0] < 0 < left_ticks[-1]:
            body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="zero"/>')

    for s in (s for s in series if s.kind == "line"):
        y = y_of[s.axis]
        # A NULL month (a zero denominator) breaks the line instead of drawing it down to zero.
        segments, current = [], []
        for i, value in enumerate(s.values):
            if value is None:
                segments, current = segments + ([current] if current else []), []
            else:
                current.append((left + band * (i + 0.5), y(float(value))))
        segments += [current] if current else []
        for points in segments:
            if len(points) > 1:
                path = "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in points)
                body.append(f'<path d="{path}" fill="none" stroke="{s.color}" stroke-width="2.2"/>')
        for i, value in enumerate(s.values):
            if value is not None:
                cx, cy = left + band * (i + 0.5), y(float(value))
                tooltip = f"{_month_label(months[i])} · {s.name}: {s.format(value)}"
                body.append(
                    f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.2" fill="{s.color}"><title>{_esc(tooltip)}</title></circle>'
                )
    return _svg(width, height, title, body)


@dataclass(frozen=True)
class BarRow:
    label: str
    values: Sequence[float | None]  # one per series
    group: str | None = None
    detail: str = ""  # added to each bar's tooltip


def _horizontal_bars(
    title: str,
    rows: Sequence[BarRow],
    series: Sequence[tuple[str, str]],  # (name, color)
    value_format: Callable[[float | None], str],
    reference: tuple[str, float] | None = None,
) -> str | None:
    """Grouped horizontal bars with value labels; a dashed line marks the reference value."""
    values = [v for row in rows for v in _present(row.values)]
    if not values:
        return None
    width, label_w, value_w, top = 720, 170, 80, 26
    bar_h, row_gap, group_h = 14, 8, 24
    ticks = _nice_ticks(min(0.0, *values), max(0.0, *values, reference[1] if reference else 0.0))
    plot_left, plot_right = label_w, width - value_w

    def x(value: float) -> float:
        return plot_left + (plot_right - plot_left) * (value - ticks[0]) / (ticks[-1] - ticks[0])

    grid: list[str] = []  # drawn first, so the bars sit on top of it
    body, y, previous_group = [], top, None
    for row in rows:
        if row.group is not None and row.group != previous_group:
            y += 6 if previous_group is not None else 0
            body.append(_text(8, y + 14, row.group, css_class="group"))
            y += group_h
            previous_group = row.group
        row_h = bar_h * len(series)
        label = row.label if len(row.label) <= 24 else row.label[:23] + "…"
        body.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" class="label">'
            f"{_esc(label)}<title>{_esc(row.label)}</title></text>"
        )
        for (name, color), value in zip(series, row.values):
            if value is None:
                body.append(_text(x(0) + 4, y + bar_h - 3, "n/a", css_class="value"))
            else:
                start, end = sorted((x(0), x(float(value))))
                tooltip = f"{row.label} · {name}: {value_format(value)}" + (f" ({row.detail})" if row.detail else "")
                body.append(_rect(start, y + 1, max(end - start, 1.5), bar_h - 2, color, tooltip))
                body.append(_text(max(end, x(0)) + 4, y + bar_h - 3, value_format(value), css_class="value"))
            y += bar_h
        y += row_gap
    for tick in ticks:
        grid.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 6}" y2="{y:.1f}" class="grid"/>')
        grid.append(_text(x(tick), top - 10, value_format(tick), "middle"))
    if reference:
        name, value = reference
        body.append(f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{top - 6}" y2="{y:.1f}" class="reference"/>')
        body.append(_text(x(value), y + 14, f"{name}: {value_format(value)}", "middle", css_class="reference-label"))
        y += 18
    return _svg(width, y + 8, title, grid + body)


def _retention_colour(rate: float) -> str:
    """From pale (0%) to deep blue (100%)."""
    share = min(max(rate, 0.0), 1.0)
    pale, deep = (238, 244, 251), (22, 72, 140)
    return "#" + "".join(f"{round(p + (d - p) * share):02x}" for p, d in zip(pale, deep))


def _heatmap(title: str, cells: Sequence[dict]) -> str | None:
    """Cohorts down, months since the first paid month across; the colour is the logo retention."""
    cells = [c for c in cells if c["logo_retention_rate"] is not None]
    if not cells:
        return None
    cohorts = sorted({c["cohort_month"] for c in cells})
    sizes = {c["cohort_month"]: c["customers_in_cohort"] for c in cells}
    columns = max(c["months_since_start"] for c in cells) + 1
    label_w, top, width = 124, 30, 720
    cell_w = min(44.0, (width - label_w - 10) / columns)
    cell_h = 20
    row_of = {cohort: i for i, cohort in enumerate(cohorts)}
    body = [_text(label_w - 8, top - 10, "cohort (size)", "end", css_class="axis-title")]
    for column in range(columns):
        body.append(_text(label_w + cell_w * (column + 0.5), top - 10, str(column), "middle"))
    for cohort, row in row_of.items():
        label = f"{_month_label(cohort)} ({format_count(sizes[cohort])})"
        body.append(_text(label_w - 8, top + cell_h * row + 14, label, "end", css_class="label"))
    for cell in cells:
        rate = float(cell["logo_retention_rate"])
        x, y = label_w + cell_w * cell["months_since_start"], top + cell_h * row_of[cell["cohort_month"]]
        tooltip = (
            f"Cohort {_month_label(cell['cohort_month'])}, month {cell['months_since_start']}: "
            f"{format_rate(rate)} ({format_count(cell['customers_active'])} of {format_count(cell['customers_in_cohort'])})"
            + ("" if cell["is_complete_month"] else ", month to date")
        )
        css = "cell" if cell["is_complete_month"] else "cell partial"
        body.append(_rect(x + 0.5, y + 0.5, cell_w - 1, cell_h - 1, _retention_colour(rate), tooltip, css))
        if cell_w >= 30:
            ink = "#ffffff" if rate > 0.55 else PALETTE["ink"]
            body.append(_text(x + cell_w / 2, y + 14, f"{100 * rate:.0f}", "middle", css_class="cell-value", fill=ink))
    bottom = top + cell_h * len(cohorts)
    body.append(_text(label_w, bottom + 18, "months since first paid month →", css_class="axis-title"))
    for i, rate in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        x = width - 5 * 44 - 10 + 44 * i
        body.append(_rect(x, bottom + 8, 44, 12, _retention_colour(rate), f"logo retention {format_rate(rate)}"))
        body.append(_text(x + 22, bottom + 32, format_rate(rate).replace(".0%", "%"), "middle"))
    return _svg(width, bottom + 40, title, body)


# ---------------------------------------------------------------------------------------------
# The charts: one query and one drawing each


def _monthly(con, sql: str) -> tuple[list[dict], list[date], list[bool]]:
    rows = _rows(con, sql)
    return rows, [r["month"] for r in rows], [bool(r["is_complete_month"]) for r in rows]


def _mrr_bridge(con) -> Chart:
    rows, months, complete = _monthly(
        con, "SELECT * FROM {cx}.cx_mrr_monthly ORDER BY month"
    )
    movements = [
        ("New", "mrr_new", 1, PALETTE["green"]),
        ("Expansion", "mrr_expansion", 1, PALETTE["teal"]),
        ("Reactivation", "mrr_reactivation", 1, PALETTE["blue"]),
        ("FX adjustment", "fx_adjustment", 1, PALETTE["grey"]),
        ("Contraction", "mrr_contraction", -1, PALETTE["orange"]),
        ("Churned", "mrr_churned", -1, PALETTE["red"]),
    ]
    series = [
        Series(name, [None if r[column] is None else sign * float(r[column]) for r in rows], color, format_money, "bar")
        for name, column, sign, color in movements
    ]
    series.append(Series("MRR end (right axis)", [r["mrr_end"] for r in rows], PALETTE["ink"], format_money, axis="right"))
    title = "MRR bridge"
    return Chart(
        title,
        "Monthly MRR movements (gains above zero, losses below) and MRR at month end",
        _time_chart(title, months, complete, series),
        [(s.name, s.color) for s in series],
    )


def _churn_nrr(con) -> Chart:
    rows, months, complete = _monthly(
        con,
        """
        SELECT m.month, m.is_complete_month, c.logo_churn_rate, m.net_revenue_retention
        FROM {cx}.cx_mrr_monthly AS m LEFT JOIN {cx}.cx_churn_monthly AS c USING (month)
        ORDER BY m.month
        """,
    )
    series = [
        Series("Logo churn rate", [r["logo_churn_rate"] for r in rows], PALETTE["red"], format_rate),
        Series("Net revenue retention (right axis)", [r["net_revenue_retention"] for r in rows], PALETTE["blue"],
               format_rate, axis="right"),
    ]
    title = "Churn and net revenue retention"
    return Chart(title, "Share of paying customers lost each month; NRR of the month's starting MRR",
                 _time_chart(title, months, complete, series), [(s.name, s.color) for s in series])


def _support(con) -> Chart:
    rows, months, complete = _monthly(
        con,
        "SELECT month, is_complete_month, fcr_rate, first_response_minutes_p50 FROM {cx}.cx_tickets_monthly ORDER BY month",
    )
    series = [
        Series("First contact resolution", [r["fcr_rate"] for r in rows], PALETTE["green"], format_rate),
        Series("First response, median (right axis)", [r["first_response_minutes_p50"] for r in rows],
               PALETTE["purple"], format_minutes, axis="right"),
    ]
    title = "Support: first contact resolution and first response"
    return Chart(title, "Tickets by the month they were created",
                 _time_chart(title, months, complete, series), [(s.name, s.color) for s in series])


def _surveys(con) -> Chart:
    rows, months, complete = _monthly(
        con, "SELECT month, is_complete_month, nps, csat_score, ces_mean FROM {cx}.cx_surveys_monthly ORDER BY month"
    )
    series = [
        Series("NPS", [r["nps"] for r in rows], PALETTE["blue"], format_points),
        Series("CSAT score", [r["csat_score"] for r in rows], PALETTE["green"], format_points),
        Series("CES mean, 1-7 (right axis)", [r["ces_mean"] for r in rows], PALETTE["orange"], format_points,
               axis="right"),
    ]
    title = "Customer sentiment: NPS, CSAT and CES"
    return Chart(title, "Survey responses by the month they were submitted",
                 _time_chart(title, months, complete, series), [(s.name, s.color) for s in series])


def _clv_cac(con) -> Chart:
    rows = _rows(
        con,
        """
        SELECT month, segment, clv, cac
        FROM {cx}.cx_clv_monthly
        WHERE month = (SELECT max(month) FROM {cx}.cx_mrr_monthly WHERE is_complete_month)
        ORDER BY segment = 'all', segment
        """,
    )
    series = [("CLV", PALETTE["blue"]), ("CAC", PALETTE["orange"])]
    bars = [BarRow(r["segment"], (r["clv"], r["cac"])) for r in rows]
    title = "Lifetime value and acquisition cost by segment"
    month = _month_label(rows[0]["month"]) if rows else None
    return Chart(
        title, f"Latest complete month ({month or 'none yet'}); n/a: no churn in six months (CLV) or no new customer (CAC)",
        _horizontal_bars(title, bars, series, format_money), series,
        empty_message=f"No CLV or CAC defined for {month}." if month else "No complete month published yet.",
    )


def _cohort_retention(con) -> Chart:
    cells = _rows(
        con,
        """
        SELECT cohort_month, months_since_start, is_complete_month, customers_in_cohort, customers_active,
               logo_retention_rate
        FROM {cx}.cx_cohort_retention
        """,
    )
    title = "Cohort logo retention"
    return Chart(title, "Share of each first-paid-month cohort still paying, in %",
                 _heatmap(title, cells), note="Dashed cells: month to date.")


# Driver values in their natural order; a value not listed here goes last, alphabetically.
DRIVER_VALUE_ORDER = [
    "under_1h", "1h_to_4h", "4h_to_8h", "8h_to_24h", "over_24h", "no_reply_data",
    "no", "yes", "no_tickets",
    "promoter", "passive", "detractor", "no_response",
]
DRIVER_NAMES = {
    "first_response_band": "Mean first response, 90 days before",
    "not_first_contact_resolved": "Any ticket not resolved on first contact",
    "last_nps_category": "Last NPS answer",
    "all": "All customers",
}


def _roi_drivers(con) -> Chart:
    order = "[" + ", ".join(f"'{value}'" for value in DRIVER_VALUE_ORDER) + "]"
    rows = _rows(
        con,
        f"""
        SELECT driver, driver_value, customer_months, churned_next_month, churn_rate_next_month, overall_churn_rate
        FROM {{cx}}.cx_roi_drivers
        ORDER BY driver, list_position({order}, driver_value) NULLS LAST, driver_value
        """,
    )
    bars = [
        BarRow(
            r["driver_value"].replace("_", " "),
            (r["churn_rate_next_month"],),
            DRIVER_NAMES.get(r["driver"], r["driver"]),
            f"{format_count(r['churned_next_month'])} of {format_count(r['customer_months'])} customer-months",
        )
        for r in rows
    ]
    overall = next((r["overall_churn_rate"] for r in rows if r["overall_churn_rate"] is not None), None)
    reference = ("all customers", float(overall)) if overall is not None else None
    series = [("Churn next month", PALETTE["red"])]
    title = "CX ROI drivers: churn next month by customer experience"
    return Chart(title, "Customers paying at a month end, by their experience in the 90 days before",
                 _horizontal_bars(title, bars, series, format_rate, reference), series,
                 empty_message="No month can be followed into a complete next month yet.")


# Chart id (the figure's data-chart) -> its drawing.
_CHARTS = {
    "mrr_bridge": _mrr_bridge,
    "churn_nrr": _churn_nrr,
    "support": _support,
    "surveys": _surveys,
    "clv_cac": _clv_cac,
    "cohort_retention": _cohort_retention,
    "roi_drivers": _roi_drivers,
}
CHART_IDS = tuple(_CHARTS)


@dataclass(frozen=True)
class Kpi:
    name: str
    value: str
    kpi_id: str


@dataclass(frozen=True)
class Kpis:
    month: date | None
    tiles: list[Kpi] = field(default_factory=list)


# How each headline metric is written on the page.
KPI_FORMATS = {
    "mrr_end": format_money,
    "customers_end": format_count,
    "logo_churn_rate": format_rate,
    "net_revenue_retention": format_rate,
    "fcr_rate": format_rate,
    "first_response_minutes_p50": format_minutes,
    "nps": format_points,
    "csat_score": format_points,
    "crc": format_money,
    "clv": format_money,
}


def _kpis(con) -> Kpis:
    """Headline figures of the latest complete month."""
    headline = latest_complete_month(con)
    if headline.month is None:
        return Kpis(None)
    return Kpis(
        headline.month,
        [Kpi(label, KPI_FORMATS[column](headline.values[column]), column) for column, label in HEADLINE_METRICS],
    )


# ---------------------------------------------------------------------------------------------
# The page

STYLE = """
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #e3e8ef; --card: #ffffff; --page: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif; }
header, main, footer, .kpis { max-width: 1540px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0 0 12px; }
.facts div { display: flex; gap: 6px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-weight: 600; }
.quality { display: inline-block; margin: 0 0 16px; padding: 6px 12px; border-radius: 6px; font-weight: 600; }
.quality details { font-weight: 400; font-size: 12.5px; margin-top: 4px; }
.quality summary { cursor: pointer; }
.quality ul { margin: 4px 0 0; padding-left: 18px; overflow-wrap: anywhere; }
.quality-passed { background: #e3f4e8; color: #1d6b36; }
.quality-warned { background: #fff3dc; color: #8a5a00; }
.quality-failed { background: #fde4e1; color: #9b2c1f; }
.quality-unknown { background: #eceff3; color: var(--muted); }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; margin-bottom: 8px; }
.kpis h2 { grid-column: 1 / -1; font-size: 15px; margin: 8px 0 0; color: var(--muted); font-weight: 600; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.kpi-name { color: var(--muted); font-size: 12px; }
.kpi-value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; padding-top: 16px; }
.chart { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.chart figcaption h2 { font-size: 16px; margin: 0; }
.chart figcaption p { margin: 2px 0 8px; color: var(--muted); font-size: 12.5px; }
.chart svg { width: 100%; height: auto; display: block; }
.no-data { padding: 40px 0; text-align: center; color: var(--muted); }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 8px 0 0; font-size: 12.5px; }
.legend span { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.note { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
footer { color: var(--muted); font-size: 12px; padding-top: 20px; padding-bottom: 28px; }
svg text { font-family: inherit; }
svg .tick, svg .value { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .label { font-size: 12px; fill: var(--ink); }
svg .group { font-size: 12.5px; font-weight: 600; fill: var(--ink); }
svg .axis-title, svg .reference-label { font-size: 11px; fill: var(--muted); }
svg .cell-value { font-size: 10px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .zero { stroke: #9aa5b1; stroke-width: 1; }
svg .reference { stroke: var(--ink); stroke-width: 1.2; stroke-dasharray: 4 3; }
svg .partial { stroke: var(--ink); stroke-width: 1; stroke-dasharray: 3 2; }
"""


def _quality_html(quality: QualityStatus | None, publication: PublicationInfo) -> str:
    if quality is None:
        # Publication itself is the gate: a run publishes only when every error-level check passed.
        return (
            '<div id="data-quality" class="quality quality-unknown">Data quality: as published by run '
            f"{_esc(publication.run_id)}, so every error-level check passed (its warnings are not available here)</div>"
        )
    listed = [("Failed", name) for name in quality.failed] + [("Warned", name) for name in quality.warned]
    details = "".join(f"<li>{outcome}: {_esc(name)}</li>" for outcome, name in listed)
    return (
        f'<div id="data-quality" class="quality quality-{quality.level}">Data quality: {_esc(quality.summary())}'
        + (f"<details><summary>Checks that did not pass</summary><ul>{details}</ul></details>" if details else "")
        + "</div>"
    )


def _figure(chart_id: str, chart: Chart) -> str:
    caption = f"<figcaption><h2>{_esc(chart.title)}</h2><p>{_esc(chart.subtitle)}</p></figcaption>"
    if chart.svg is None:
        return (
            f'<figure class="chart" id="chart-{chart_id}" data-chart="{chart_id}" data-empty="true">'
            f'{caption}<p class="no-data">{_esc(chart.empty_message)}</p></figure>'
        )
    legend = "".join(f'<li><span style="background:{color}"></span>{_esc(name)}</li>' for name, color in chart.legend)
    return (
        f'<figure class="chart" id="chart-{chart_id}" data-chart="{chart_id}" data-empty="false">'
        f"{caption}{chart.svg}"
        + (f'<ul class="legend">{legend}</ul>' if legend else "")
        + (f'<p class="note">{_esc(chart.note)}</p>' if chart.note else "")
        + "</figure>"
    )


def _kpis_html(kpis: Kpis) -> str:
    if kpis.month is None:
        return '<section class="kpis"><h2>No complete month published yet.</h2></section>'
    tiles = "".join(
        f'<div class="kpi"><div class="kpi-name">{_esc(kpi.name)}</div>'
        f'<div class="kpi-value" id="kpi-{kpi.kpi_id}">{_esc(kpi.value)}</div></div>'
        for kpi in kpis.tiles
    )
    return f'<section class="kpis"><h2>Latest complete month: {_month_label(kpis.month)}</h2>{tiles}</section>'


def _page(publication: PublicationInfo, quality: QualityStatus | None, kpis: Kpis, charts: dict[str, Chart]) -> str:
    as_of = publication.as_of_date.isoformat()
    published_at = publication.published_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CX metrics report, as of {as_of}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Customer-experience metrics</h1>
<dl class="facts">
<div><dt>As of</dt><dd id="as-of-date">{as_of}</dd></div>
<div><dt>Published</dt><dd id="published-at">{published_at}</dd></div>
<div><dt>Run</dt><dd id="run-id"><code>{_esc(publication.run_id)}</code></dd></div>
</dl>
{_quality_html(quality, publication)}
</header>
{_kpis_html(kpis)}
<main>
{"".join(_figure(chart_id, chart) for chart_id, chart in charts.items())}
</main>
<footer>Months marked * are months to date (they end after the as-of date). Hover over a mark for its value.
Source: the cx schema of serving/cx_metrics.duckdb; definitions in docs/metrics.md.</footer>
</body>
</html>
"""
