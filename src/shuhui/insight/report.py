"""A map's monthly analysis report (月度分析报告) as an A4 PDF: for each indicator its figure for
the month and the year to date, against the month before and the target, its definition, and
a chart (by district, or the last twelve months) drawn into the PDF with reportlab's own
graphics, in the e-licences' Chinese font, embedded. The same figures as the pages: through the
engine, from the kept facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from shuhui.approval import licences
from shuhui.core.display import quantity
from shuhui.core.facts import add_months
from shuhui.core.i18n import Text
from shuhui.insight.content import Map
from shuhui.insight.engine import Cell, Scope
from shuhui.insight.service import Outcome, Reader, of_map

MARGIN = 56


@dataclass(frozen=True)
class Report:
    map: Map
    month: date
    pdf: bytes
    indicators: int


def monthly(reader: Reader, m: Map, month: date) -> Report:
    """The report of ``m`` for ``month`` (its first day)."""
    inds = of_map(reader.settings, m.code, reader.today)
    month = month.replace(day=1)
    this_month = reader.outcomes(inds, Scope(month, month))
    year = reader.outcomes(inds, Scope(date(month.year, 1, 1), month))
    trend = reader.outcomes(inds, Scope(add_months(month, -11), month))
    return Report(m, month, _render(m, month, this_month, year, trend), len(inds))


def _chart(cells: tuple[Cell, ...], kind: str, font: str, width: float) -> object:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    drawing = Drawing(width, 150)
    values = [0.0 if c.value is None else float(c.value) for c in cells]
    chart = VerticalBarChart() if kind == "district" else HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30, width - 60, 110
    chart.data = [values]
    chart.categoryAxis.categoryNames = [
        str(c.label) if kind == "district" else f"{c.key[5:7]}月" for c in cells
    ]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30 if kind == "district" else 0
    chart.categoryAxis.labels.dy = -6
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    if isinstance(chart, VerticalBarChart):
        chart.bars[0].fillColor = colors.HexColor("#1456a0")
    else:
        chart.lines[0].strokeColor = colors.HexColor("#1456a0")
        chart.lines[0].strokeWidth = 1.5
    drawing.add(chart)
    return drawing


def _figure_text(o: Outcome) -> str:
    f = o.figure
    if f is None:
        return str(o.problem or "—")
    if f.withheld:
        return "涉及人数少于10人，不予显示"
    return f"{quantity(f.value, str(o.indicator.unit))} {o.indicator.unit}"


def _versus(o: Outcome) -> str:
    f = o.figure
    if f is None or f.value is None:
        return ""
    parts = []
    if f.change is not None:
        parts.append(f"较上期{'增长' if f.change >= 0 else '下降'}{abs(f.change) * 100:.1f}%")
    if f.attainment is not None and f.target is not None:
        parts.append(f"{f.target.year}年目标{f.target.value:g}，完成{f.attainment * 100:.0f}%")
    return "；".join(parts)


def _render(
    m: Map, month: date, this_month: list[Outcome], year: list[Outcome], trend: list[Outcome]
) -> bytes:
    from reportlab.graphics import renderPDF
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    font = licences.register_font()
    out = BytesIO()
    width, height = A4
    c = Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    title = f"{m.name}月度分析报告（{month.year}年{month.month}月）"
    c.setTitle(title)
    c.setAuthor("数慧城市公共数据平台")
    c.setSubject(str(m.name))
    c.setCreator("数慧 Shuhui")
    right = width - MARGIN
    text_width = right - MARGIN
    y = height - 72

    def line(text: str, size: float, gap: float) -> None:
        nonlocal y
        c.setFont(font, size)
        for piece in licences.wrap_text(text, font, size, text_width):
            if y < 72:
                new_page()
                c.setFont(font, size)
            c.drawString(MARGIN, y, piece)
            y -= gap

    def new_page() -> None:
        nonlocal y
        c.showPage()
        y = height - 60
        c.setFont(font, 9)
        c.drawString(MARGIN, y, title)
        y -= 24

    c.setFont(font, 18)
    c.drawCentredString(width / 2, y, title)
    y -= 30
    line(str(m.summary), 10.5, 16)
    line(
        "本报告的每个数字都由平台的指标引擎计算，与“五张图”页面上的数字一致；"
        "涉及个人的数字，少于10人的不予显示。",
        9,
        14,
    )
    y -= 8
    for now, so_far, series in zip(this_month, year, trend, strict=True):
        ind = now.indicator
        if y < 300:
            new_page()
        c.setFont(font, 13)
        c.drawString(MARGIN, y, str(ind.name))
        y -= 20
        month_label = "本月" if now.figure is None or now.figure.start is not None else "截至目前"
        line(f"{month_label}：{_figure_text(now)}　{_versus(now)}", 10.5, 16)
        if so_far.figure is not None and so_far.figure.start is not None:
            line(f"本年累计：{_figure_text(so_far)}　{_versus(so_far)}", 10.5, 16)
        line(f"口径：{ind.definition}", 9, 13)
        line(f"负责部门：{ind.owner}；依据：{ind.reference}", 9, 13)
        f = series.figure
        cells: tuple[Cell, ...] = ()
        kind = ""
        if f is not None:
            if "district" in ind.charts and f.by_district:
                cells, kind = f.by_district, "district"
            elif f.by_month:
                cells, kind = f.by_month, "month"
        if cells and any(cell.value is not None for cell in cells):
            if y < 190:
                new_page()
            caption = "近12个月各区（市）" if kind == "district" else "近12个月走势"
            line(f"图：{ind.name}，{caption}（{ind.unit}）", 9, 6)
            drawing = _chart(cells, kind, font, text_width)
            renderPDF.draw(drawing, c, MARGIN, y - 155)
            y -= 165
        y -= 10
    c.setFont(font, 8)
    c.drawString(MARGIN, 40, f"数慧城市公共数据平台生成 · 数据截至{month.year}年{month.month}月")
    c.showPage()
    c.save()
    return out.getvalue()


def report_name(m: Map, month: date) -> Text:
    return Text(
        f"{m.name}月度分析报告-{month:%Y-%m}.pdf", f"{m.name.en} monthly report {month:%Y-%m}.pdf"
    )
