"""`manage.py list_blocked`: the customers of a center with a block in force (R17), as a table, CSV or JSON."""

import csv
import io
import json
import re
import unicodedata

from django.core.management.base import BaseCommand, no_translations

from counsel_center.models import Center
from customers.management import lookups
from customers.models import Block

# Every field of a row, in the order of the CSV header and of each JSON object.
FIELDS = (
    "customer_id",
    "display_name",
    "profile_nickname",
    "reason",
    "reason_label",
    "note",
    "blocked_by",
    "blocked_at",
    "refused_messages",
    "last_refused_at",
    "report",
)
# The table's columns: (key of a row, heading).
TABLE_COLUMNS = (
    ("customer_id", "CUSTOMER ID"),
    ("display_name", "NAME"),
    ("profile_nickname", "PROFILE NICKNAME"),
    ("reason_label", "REASON"),
    ("note", "NOTE"),
    ("blocked_by", "BLOCKED BY"),
    ("blocked_at", "BLOCKED AT"),
    ("refused_messages", "REFUSED"),
    ("last_refused_at", "LAST REFUSED"),
    ("report", "REPORT"),
)
NOTE_WIDTH = 30  # columns of a note in the table; CSV and JSON carry it whole
GAP = "  "


def display_width(text: str) -> int:
    """Columns a terminal gives `text`: Hangul and other wide or full-width characters take two."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text
    )


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def clip(text: str, width: int) -> str:
    # ASCII dots, not "…": an ambiguous-width character is two columns in many Korean terminals.
    if display_width(text) <= width:
        return text
    while display_width(text) > width - 3:
        text = text[:-1]
    return text.rstrip() + "..."


def table_cell(row: dict, key: str) -> str:
    """One line of text, so the row stays one line (a note may have several); empty for no value."""
    if key == "report" and row[key] is None:
        return "-"  # not reported
    text = re.sub(r"\s+", " ", "" if row[key] is None else str(row[key])).strip()
    return clip(text, NOTE_WIDTH) if key == "note" else text


def rows_of(center: Center) -> list[dict]:
    """One dict per active block, newest first, in one query (customer and blocker joined)."""
    blocks = Block.objects.active().for_list(center)
    return [
        {
            "customer_id": block.customer.customer_id,
            "display_name": block.customer.display_name,
            "profile_nickname": block.customer.profile_nickname,
            "reason": block.reason,
            "reason_label": str(block.get_reason_display()),
            "note": block.note,
            "blocked_by": lookups.actor_name(block.blocked_by),
            "blocked_at": lookups.local_iso(block.blocked_at, center),
            # Reset by each block (customers/rules.py): the messages refused since this one.
            "refused_messages": block.customer.blocked_attempts,
            "last_refused_at": lookups.local_iso(block.customer.last_blocked_attempt_at, center),
            # The report's delivery state (pending, sent, failed), or None when the block was not reported.
            "report": getattr(getattr(block, "report", None), "delivery_state", None),
        }
        for block in blocks
    ]


def as_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def as_table(rows: list[dict]) -> str:
    cells = [[heading for _, heading in TABLE_COLUMNS]]
    for row in rows:
        cells.append([table_cell(row, key) for key, _ in TABLE_COLUMNS])
    widths = [max(display_width(line[i]) for line in cells) for i in range(len(TABLE_COLUMNS))]
    cells.insert(1, ["-" * width for width in widths])
    return "\n".join(GAP.join(map(pad, line, widths)).rstrip() for line in cells)


class Command(BaseCommand):
    help = (
        "List the blocked customers of a center, newest block first: customer ID, names, reason, note, who "
        "blocked them and when (in the center's time zone), how many of their messages were refused since, and "
        "whether they were reported to the channel operator (the report's delivery state). "
        "As an aligned table (notes shortened), CSV with a header row (UTF-8), or a JSON array."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("center", metavar="CENTER_SLUG", help="The center's slug, as in its webhook URL.")
        parser.add_argument(
            "--format", choices=("table", "csv", "json"), default="table", help="Output format (default: table)."
        )

    @no_translations  # operators' tool: headings and labels in English, names as stored
    def handle(self, *args, center: str, format: str, **options) -> None:
        rows = rows_of(lookups.center_by_slug(center))
        if format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
        elif format == "csv":
            self.stdout.write(as_csv(rows), ending="")
        elif rows:
            self.stdout.write(as_table(rows))
        else:
            self.stdout.write("No blocked customers.")
