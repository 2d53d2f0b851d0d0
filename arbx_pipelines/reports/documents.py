"""A report as files (markdown + PNG, and a self-contained HTML page) and as Dagster markdown metadata.

The same content three ways: ``report.md`` next to its PNG charts for reading in a repository or editor,
``report.html`` with the charts embedded (opens anywhere, one file), and markdown with the charts as data URIs
for the materialization's metadata, so the Dagster UI shows them inline.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

_SLUG = re.compile(r"[^a-z0-9]+")
MIN_ANNUALIZE_DAYS = 7  #: below this a yearly figure is noise blown up (one bad hour read as -108 % a year)


def annualized_text(total_return: float, days: float) -> str:
    """``total_return`` over ``days`` as a simple yearly rate, or "n/a" when the span is under a week."""
    if days < MIN_ANNUALIZE_DAYS:
        return f"n/a (less than {MIN_ANNUALIZE_DAYS} days)"
    return f"{total_return * 365 / days:.2%}"


@dataclass
class Report:
    title: str
    summary: list[tuple[str, str]]  # (figure, value) rows
    charts: dict[str, bytes]  # title -> PNG
    tables: dict[str, list[list[str]]] = field(default_factory=dict)  # title -> rows, the first is the header
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportFiles:
    directory: Path
    markdown: Path
    html: Path
    charts: tuple[Path, ...]


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "chart"


def _table(rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    header, *body = rows
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return lines


def to_markdown(report: Report, image_links: dict[str, str]) -> str:
    lines = [f"# {report.title}", ""]
    lines += _table([["figure", "value"], *[[k, v] for k, v in report.summary]])
    for name, link in image_links.items():
        lines += ["", f"## {name}", "", f"![{name}]({link})"]
    for name, rows in report.tables.items():
        lines += ["", f"## {name}", "", *_table(rows)]
    if report.notes:
        lines += ["", *[f"- {note}" for note in report.notes]]
    return "\n".join(lines) + "\n"


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def metadata_markdown(report: Report) -> str:
    """Markdown with every chart inline (``MetadataValue.md`` renders it in the Dagster UI)."""
    return to_markdown(report, {name: data_uri(png) for name, png in report.charts.items()})


def to_html(report: Report) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(report.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}</style>",
        f"</head><body><h1>{html.escape(report.title)}</h1>",
        _html_table([["figure", "value"], *[[k, v] for k, v in report.summary]]),
    ]
    for name, png in report.charts.items():
        parts.append(f"<h2>{html.escape(name)}</h2><img alt='{html.escape(name)}' src='{data_uri(png)}'>")
    for name, rows in report.tables.items():
        parts.append(f"<h2>{html.escape(name)}</h2>{_html_table(rows)}")
    if report.notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_table(rows: list[list[str]]) -> str:
    if not rows:
        return ""
    header, *body = rows
    head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return f"<table><tr>{head}</tr>{cells}</table>"


def write_report(report: Report, directory: Path) -> ReportFiles:
    """Write report.md, its PNG charts and report.html into ``directory`` (created; files replaced)."""
    directory.mkdir(parents=True, exist_ok=True)
    charts: list[Path] = []
    links: dict[str, str] = {}
    for name, png in report.charts.items():
        path = directory / f"{slug(name)}.png"
        path.write_bytes(png)
        charts.append(path)
        links[name] = path.name
    markdown = directory / "report.md"
    markdown.write_text(to_markdown(report, links), encoding="utf-8")
    page = directory / "report.html"
    page.write_text(to_html(report), encoding="utf-8")
    return ReportFiles(directory, markdown, page, tuple(charts))
