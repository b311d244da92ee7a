"""The monthly report: the month's figures, the agent ranking and payouts by rule, as tables.

One builder feeds both downloads (CSV and XLSX), so they always hold the same numbers.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from reporting.services import metrics


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list]


def _percent(value: float | None):
    return None if value is None else round(value * 100, 1)


def _number(value: float | None, places: int = 2):
    return None if value is None else round(value, places)


def monthly_report(*, month: date) -> list[Table]:
    """Return the report's tables for the month containing `month`."""
    start, end = metrics.month_bounds(month)
    figures = metrics.totals(start=start, end=end)
    summary = Table(_("Summary"), [_("Metric"), _("Value")], [
        [_("Month"), f"{start:%Y-%m}"],
        [_("Tickets created"), figures.created],
        [_("Tickets closed"), figures.closed],
        [_("First response time (minutes)"), _number(figures.frt_minutes, 1)],
        [_("Average handling time (hours)"), _number(figures.aht_hours)],
        [_("First-contact resolution (per cent)"), _percent(figures.fcr_rate)],
        [_("Reopen rate (per cent)"), _percent(figures.reopen_rate)],
        [_("SLA compliance (per cent)"), _percent(figures.sla_compliance)],
        [_("Archiving compliance (per cent)"), _percent(figures.archiving_rate)],
        [_("Survey answers"), figures.surveys],
        [_("CSAT (average of 1–5)"), _number(figures.csat_average)],
        [_("CSAT (per cent satisfied)"), _percent(figures.csat_rate)],
        [_("NPS"), _number(figures.nps, 1)],
    ])
    ranking = Table(_("Agent ranking"), [
        _("Rank"), _("Agent"), _("Score"), _("Tickets closed"),
        _("First-contact resolution (per cent)"), _("First response time (minutes)"),
        _("CSAT (average of 1–5)"), _("Archiving compliance (per cent)"),
    ], [
        [row.rank, row.name, row.score, row.figures.closed, _percent(row.figures.fcr_rate),
         _number(row.figures.frt_minutes, 1), _number(row.figures.csat_average),
         _percent(row.figures.archiving_rate)]
        for row in metrics.scorecard(month=month)
    ])
    payouts = Table(_("Refunds and compensation by rule"), [
        _("Rule"), _("Kind"), pgettext("count", "Resolutions"), _("Refunds (CNY)"), _("Compensation (CNY)"),
        _("Coupons (CNY)"),
    ], [
        [row.rule_name, row.kind, row.resolutions, row.refund_total, row.compensation_total,
         row.coupon_total]
        for row in metrics.rule_totals(start=start, end=end)
    ])
    return [summary, ranking, payouts]


def _cell(value) -> str:
    return "" if value is None else str(value)


def report_csv(tables: list[Table]) -> bytes:
    """Return the tables as one CSV file (UTF-8 with BOM, so spreadsheet programs read Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for position, table in enumerate(tables):
        if position:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.header)
        writer.writerows([[_cell(value) for value in row] for row in table.rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def report_xlsx(tables: list[Table]) -> bytes:
    """Return the tables as an XLSX workbook, one sheet each."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(title=table.title[:31])
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
        for column in sheet.columns:
            width = max(len(_cell(cell.value)) for cell in column)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 40)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
