"""CSV files that open cleanly in a Swedish Excel.

UTF-8 with a byte-order mark (so å, ä, ö survive a double-click), semicolons (Excel's list
separator where the decimal sign is a comma), CRLF line ends, whole minutes (no decimal sign
to misread) and local times. Cells that Excel would run as a formula are quoted as text.
"""

import csv
import io

from django.utils import timezone
from django.utils.translation import gettext as _

from routines import loader

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return _("Ja") if value else _("Nej")
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def minutes(secs):
    return None if secs is None else round(secs / 60)


class _Echo:
    def write(self, value):
        return value


def rows_to_lines(header, rows):
    """Yield the file line by line (for a streaming response), BOM first."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    yield BOM + writer.writerow([_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([_cell(c) for c in row])


def to_text(header, rows):
    buffer = io.StringIO()
    for line in rows_to_lines(header, rows):
        buffer.write(line)
    return buffer.getvalue()


def history_header():
    return [
        _("Nummer"),
        _("Scenario"),
        _("Slutstatus"),
        _("Sammanfattning"),
        _("Störningen började"),
        _("Anmäld"),
        _("Eskalerad"),
        _("Kvitterad"),
        _("Första prognos"),
        _("Reservrutin"),
        _("Reservrutin manuellt"),
        _("Driften återställd"),
        _("Avslutad/makulerad"),
        _("Min till eskalerad"),
        _("Min till kvitterad"),
        _("Min till prognos"),
        _("Min till reservrutin"),
        _("Min till återställd"),
        _("Min till avslutad"),
        _("Steg i tid"),
        _("Steg sent"),
        _("Steg ej utförda"),
        _("Omklassad"),
    ]


def _scenario_title(m):
    """The scenario's title in the routine version the incident ran under."""
    scenario = loader.loaded(m.incident.pinned_version_id).scenarios.get(m.scenario)
    return scenario.title if scenario else m.scenario


def history_rows(metrics_rows):
    states = {"closed": _("Avslutad"), "cancelled": _("Makulerad")}
    drill = _("ÖVNING")
    for m in metrics_rows:
        yield [
            m.incident_id,
            f"{drill}: {_scenario_title(m)}" if m.is_drill else _scenario_title(m),
            states.get(m.final_state, m.final_state),
            m.incident.summary,
            m.began_at,
            m.reported_at,
            m.escalated_at,
            m.acknowledged_at,
            m.first_prognosis_at,
            m.reserve_at,
            m.reserve_by_hand if m.had_reserve_routine else None,
            m.resolved_at,
            m.ended_at,
            minutes(m.secs_to_escalated),
            minutes(m.secs_to_acknowledged),
            minutes(m.secs_to_prognosis),
            minutes(m.secs_to_reserve),
            minutes(m.secs_to_resolved),
            minutes(m.secs_to_closed),
            m.steps_on_time,
            m.steps_late,
            m.steps_skipped,
            m.reclassified,
        ]


def figures_text(figures, months, series):
    """Both tables of the figures page in one file, one after the other."""
    rows = [
        [_("Störningar per månad och scenario")],
        [_("Månad"), *[label for _k, label in series], _("Summa"), _("Makulerade"), _("Reservrutin")],
    ]
    for label, counts, extra in months:
        rows.append(
            [label, *[counts.get(k, 0) for k, _l in series], sum(counts.values()), extra["cancelled"], extra["reserve"]]
        )
    rows.append([])
    rows.append([_("Tider från anmälan (minuter)"), _("Antal"), _("Median"), _("90:e percentil")])
    for d in figures["durations"]:
        rows.append([str(d["label"]), d["n"], minutes(d["median"]), minutes(d["p90"])])
    rows.append([])
    totals = figures["totals"]
    share = figures["acknowledged_share"]
    rows.append([_("Avslutade störningar"), totals["incidents"]])
    rows.append([_("Reservrutin aktiverad"), totals["reserve"]])
    rows.append([_("varav manuellt"), totals["reserve_by_hand"]])
    rows.append([_("varav manuellt före 4 timmar"), totals["reserve_early"]])
    rows.append([_("Eskaleringar"), totals["escalations"]])
    rows.append(
        [
            _("Kvitterade inom sin rutins tid")
            if figures["ack_target"] is None
            else _("Kvitterade inom %(m)d min") % {"m": figures["ack_target"].total_seconds() // 60},
            totals["acknowledged_in_time"],
        ]
    )
    rows.append([_("Andel kvitterade i tid (%)"), None if share is None else round(share * 100)])
    rows.append([_("Följde rutinen (alla steg i tid)"), totals["followed"]])
    header, *body = rows
    return to_text(header, body)
