"""R16, R17: `block_customer`, `unblock_customer` and `list_blocked`, called in process and as the shell runs them."""

import csv
import json
import os
import subprocess
import sys
import unicodedata
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from consultations.models import CloseReason, Status
from consultations.tests.helpers import T0, consultation_in, customer_writes, db_state
from counsel_center import clock
from counsel_center.models import Member
from customers import rules
from customers.models import Block, Report
from customers.tests.factories import CustomerFactory

ROOT = Path(__file__).resolve().parents[2]
AT = T0 + timedelta(minutes=20)  # 10:20 in Asia/Seoul
FIELDS = ["customer_id", "display_name", "profile_nickname", "reason", "reason_label", "note", "blocked_by",
          "blocked_at", "refused_messages", "last_refused_at", "report"]  # fmt: skip
HEADINGS = ["CUSTOMER ID", "NAME", "PROFILE NICKNAME", "REASON", "NOTE", "BLOCKED BY", "BLOCKED AT", "REFUSED",
            "LAST REFUSED", "REPORT"]  # fmt: skip
LABELS = {"abuse": "Abuse (욕설)", "promotion": "Promotion (홍보)", "obscene": "Obscene (음란)",
          "gambling": "Gambling (도박)"}  # fmt: skip


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


def block(customer, *, actor=None, reason="abuse", note="", at=AT) -> Block:
    with clock.frozen_at(at):
        return rules.do_block_customer(customer, actor=actor, reason=reason, note=note)


# --- block_customer -------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["abuse", "promotion"])
def test_report_is_refused_for_abuse_and_promotion(customer, reason):
    with pytest.raises(CommandError, match=r"Only obscene \(음란\) or gambling \(도박\) can be reported"):
        run("block_customer", "alpha", customer.customer_id, "--reason", reason, "--report")

    assert not Block.objects.exists()


def test_the_operator_reports_a_gambling_customer(center, customer):
    customer_writes(center, "카지노 사이트 홍보", user_key=customer.user_key)

    out = run("block_customer", "alpha", customer.customer_id, "--reason", "gambling", "--report")

    assert out.endswith("Reported to the channel operator; delivery pending (no outbound URL is set: it waits).\n")
    report = Report.objects.get(block__customer=customer)
    assert [line["text"] for line in report.excerpt] == ["카지노 사이트 홍보"]
    listed = json.loads(run("list_blocked", "alpha", "--format", "json"))
    assert listed[0]["report"] == "pending"


def test_the_operator_blocks_a_customer_and_their_open_consultation_closes(customer, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, customer=customer, assignee=agent)

    with clock.frozen_at(AT):
        out = run("block_customer", "alpha", customer.customer_id, "--reason", "abuse", "--note", "욕설 반복")

    assert out == (
        f"Blocked 김민지 ({customer.customer_id}) for Abuse (욕설), by operator; "
        f"their open consultation {consultation.public_id} was closed.\n"
    )
    made = Block.objects.get()
    assert (made.customer, made.reason, made.note, made.blocked_by, made.blocked_at) == (
        customer,
        "abuse",
        "욕설 반복",
        None,
        AT,
    )
    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason) == (Status.CLOSED, CloseReason.CUSTOMER_BLOCKED)
    assert (consultation.closed_at, consultation.closed_by) == (AT, None)


@pytest.mark.django_db
@pytest.mark.parametrize("reason", list(LABELS))
def test_a_manager_blocks_for_each_reason(customer, manager, reason):
    out = run("block_customer", "alpha", customer.customer_id, "--reason", reason, "--by", "mina")

    assert out == (
        f"Blocked 김민지 ({customer.customer_id}) for {LABELS[reason]}, by Mina; they had no open consultation.\n"
    )
    made = Block.objects.active().get()
    assert (made.customer, made.reason, made.blocked_by, made.note) == (customer, reason, manager, "")


@pytest.mark.django_db
def test_the_display_name_is_the_internal_nickname_once_set(customer, master):
    customer.nickname = "단골 고객"
    customer.save(update_fields=["nickname"])

    out = run("block_customer", "alpha", customer.customer_id, "--reason", "promotion", "--by", "max")

    assert out.startswith(f"Blocked 단골 고객 ({customer.customer_id}) for Promotion (홍보), by Max;")


@pytest.mark.django_db
def test_an_agent_blocks_the_customer_of_their_own_consultation(customer, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, customer=customer, assignee=agent)

    out = run("block_customer", "alpha", customer.customer_id, "--reason", "obscene", "--by", "alice")

    assert out.endswith(f"by Alice; their open consultation {consultation.public_id} was closed.\n")
    assert Block.objects.active().get().blocked_by == agent
    consultation.refresh_from_db()
    assert (consultation.status, consultation.closed_by) == (Status.CLOSED, agent)


@pytest.mark.django_db
def test_an_agent_who_does_not_hold_the_consultation_is_refused(customer, agent, agent2, make_consultation):
    consultation_in(make_consultation, Status.IN_PROGRESS, customer=customer, assignee=agent)
    before = db_state()

    with pytest.raises(CommandError) as error:
        run("block_customer", "alpha", customer.customer_id, "--reason", "abuse", "--by", "bob")

    assert str(error.value) == (
        "Only the assignee of this customer's open consultation, a master or a manager can block them."
    )
    assert db_state() == before


@pytest.mark.django_db
def test_blocking_a_blocked_customer_is_refused_and_changes_nothing(customer, manager):
    block(customer, reason="gambling", note="첫 차단")
    before = db_state()

    with pytest.raises(CommandError, match=r"^This customer is already blocked\.$"):
        run("block_customer", "alpha", customer.customer_id, "--reason", "abuse", "--by", "mina")

    assert db_state() == before
    assert Block.objects.get().note == "첫 차단"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "{mine}", "--reason", "abuse"], "No center has the slug “nowhere”."),
        (["alpha", "CNOSUCH234", "--reason", "abuse"], "No customer has the ID “CNOSUCH234” in alpha."),
        (["alpha", "{theirs}", "--reason", "abuse"], "No customer has the ID “{theirs}” in alpha."),
        (["beta", "{mine}", "--reason", "abuse"], "No customer has the ID “{mine}” in beta."),
        (["alpha", "{mine}", "--reason", "abuse", "--by", "nobody"], "No member of alpha has the username “nobody”."),
        (["alpha", "{mine}", "--reason", "abuse", "--by", "oscar"], "No member of alpha has the username “oscar”."),
        (["alpha", "{mine}", "--reason", "abuse", "--by", "bob"], "“bob” is not an active member of alpha."),
        (["alpha", "{mine}", "--reason", "spam"], "argument --reason: invalid choice: 'spam'"),
        (["alpha", "{mine}"], "the following arguments are required: --reason"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_error(customer, other_center, outsider, agent2, args, message):
    Member.objects.filter(pk=agent2.pk).update(is_active=False)
    ids = {"mine": customer.customer_id, "theirs": CustomerFactory(center=other_center).customer_id}

    with pytest.raises(CommandError) as error:
        run("block_customer", *(arg.format(**ids) for arg in args))

    assert message.format(**ids) in str(error.value)
    assert not Block.objects.exists()


# --- unblock_customer -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_operator_unblocks_a_customer(customer, manager):
    blocked = block(customer, actor=manager, reason="obscene")

    with clock.frozen_at(AT + timedelta(days=1)):
        out = run("unblock_customer", "alpha", customer.customer_id)

    assert out == (
        f"Unblocked 김민지 ({customer.customer_id}), by operator; "
        "blocked for Obscene (음란) since 2025-03-03T10:20:00+09:00.\n"
    )
    blocked.refresh_from_db()
    assert (blocked.ended_at, blocked.ended_by) == (AT + timedelta(days=1), None)
    assert not customer.is_blocked


@pytest.mark.django_db
def test_a_manager_unblocks_a_customer(customer, manager):
    blocked = block(customer)

    out = run("unblock_customer", "alpha", customer.customer_id, "--by", "mina")

    assert out.startswith(f"Unblocked 김민지 ({customer.customer_id}), by Mina; blocked for Abuse (욕설)")
    blocked.refresh_from_db()
    assert blocked.ended_by == manager
    assert blocked.ended_at is not None


@pytest.mark.django_db
def test_an_agent_may_not_unblock(customer, agent, make_consultation):
    consultation_in(make_consultation, Status.IN_PROGRESS, customer=customer, assignee=agent)
    block(customer, actor=agent)
    before = db_state()

    with pytest.raises(CommandError, match=r"^Only a master or a manager can unblock a customer\.$"):
        run("unblock_customer", "alpha", customer.customer_id, "--by", "alice")

    assert db_state() == before
    assert customer.is_blocked


@pytest.mark.django_db
def test_unblocking_a_customer_who_is_not_blocked_is_refused(customer, master):
    with pytest.raises(CommandError, match=r"^This customer is not blocked\.$"):
        run("unblock_customer", "alpha", customer.customer_id, "--by", "max")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "{mine}"], "No center has the slug “nowhere”."),
        (["alpha", "{theirs}"], "No customer has the ID “{theirs}” in alpha."),
        (["alpha", "{mine}", "--by", "oscar"], "No member of alpha has the username “oscar”."),
        (["alpha", "{mine}", "--whom", "max"], "unrecognized arguments: --whom max"),
    ],
)
def test_unblock_refuses_bad_arguments_with_a_clear_error(customer, other_center, outsider, args, message):
    block(customer)
    ids = {"mine": customer.customer_id, "theirs": CustomerFactory(center=other_center).customer_id}

    with pytest.raises(CommandError) as error:
        run("unblock_customer", *(arg.format(**ids) for arg in args))

    assert message.format(**ids) in str(error.value)
    assert customer.is_blocked


# --- list_blocked ---------------------------------------------------------------------------------------------


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


@pytest.fixture
def blocked(center, other_center, customer, manager):
    """Two blocked customers of alpha (the newest first), one unblocked, and one blocked in beta."""
    seojun = CustomerFactory(center=center, profile_nickname="이서준", nickname="도박 홍보 계정")
    block(customer, actor=manager, reason="abuse", note="욕설 반복")
    block(
        seojun, reason="gambling", note="도박 사이트 링크를\n계속 보냄 (3회째, 캡처 있음)", at=AT + timedelta(hours=1)
    )
    for minutes in (5, 95):
        with clock.frozen_at(AT + timedelta(minutes=minutes)):
            rules.do_record_blocked_attempt(center, user_key=customer.user_key)
    with clock.frozen_at(AT + timedelta(hours=2)):
        rules.do_record_blocked_attempt(center, user_key=seojun.user_key)
    gone = CustomerFactory(center=center, profile_nickname="박지훈")
    block(gone, reason="promotion")
    rules.do_unblock_customer(gone, actor=None)
    block(CustomerFactory(center=other_center, profile_nickname="최유나"), reason="obscene")
    return [seojun, customer]


@pytest.mark.django_db
def test_the_table_lines_up_korean_names_under_their_headings(blocked, django_assert_num_queries):
    seojun, minji = blocked

    # 1. the center by its slug; 2. the active blocks with their customers, blockers and reports (one join)
    with django_assert_num_queries(2):
        out = run("list_blocked", "alpha")

    header, rule, *lines = out.rstrip("\n").split("\n")
    rows = [
        [seojun.customer_id, "도박 홍보 계정", "이서준", "Gambling (도박)", "도박 사이트 링크를 계속 보...", "operator",
         "2025-03-03T11:20:00+09:00", "1", "2025-03-03T12:20:00+09:00", "-"],
        [minji.customer_id, "김민지", "김민지", "Abuse (욕설)", "욕설 반복", "Mina", "2025-03-03T10:20:00+09:00", "2",
         "2025-03-03T11:55:00+09:00", "-"],
    ]  # fmt: skip
    columns = starts(header, HEADINGS)
    assert columns[0] == 0
    assert [starts(line, row) for line, row in zip(lines, rows, strict=True)] == [columns, columns]
    # Each column is as wide as its widest cell, two spaces apart, and ruled under its heading.
    cells = [HEADINGS, *rows]
    widths = [max(width(line[i]) for line in cells) for i in range(len(HEADINGS))]
    assert rule.split("  ") == ["-" * each for each in widths]
    assert columns == [sum(widths[:i]) + 2 * i for i in range(len(HEADINGS))]
    assert width(lines[0]) == width(lines[1]) == columns[-1] + width("-")  # not reported


def starts(line: str, cells: list[str]) -> list[int]:
    """The display column where each cell begins in `line`, found left to right."""
    found, at = [], 0
    for cell in cells:
        at = line.index(cell, at)
        found.append(width(line[:at]))
        at += len(cell)
    return found


@pytest.mark.django_db
def test_csv_has_a_header_row_and_every_field(blocked):
    seojun, minji = blocked

    out = run("list_blocked", "alpha", "--format", "csv")

    reader = csv.DictReader(StringIO(out))
    assert reader.fieldnames == FIELDS
    assert list(reader) == [
        {"customer_id": seojun.customer_id, "display_name": "도박 홍보 계정", "profile_nickname": "이서준",
         "reason": "gambling", "reason_label": "Gambling (도박)",
         "note": "도박 사이트 링크를\n계속 보냄 (3회째, 캡처 있음)",
         "blocked_by": "operator", "blocked_at": "2025-03-03T11:20:00+09:00", "refused_messages": "1",
         "last_refused_at": "2025-03-03T12:20:00+09:00", "report": ""},
        {"customer_id": minji.customer_id, "display_name": "김민지", "profile_nickname": "김민지", "reason": "abuse",
         "reason_label": "Abuse (욕설)", "note": "욕설 반복", "blocked_by": "Mina",
         "blocked_at": "2025-03-03T10:20:00+09:00", "refused_messages": "2",
         "last_refused_at": "2025-03-03T11:55:00+09:00", "report": ""},
    ]  # fmt: skip


@pytest.mark.django_db
def test_json_is_an_array_of_objects(blocked, center):
    seojun, minji = blocked
    center.time_zone = "UTC"  # times are shown in the center's zone
    center.save(update_fields=["time_zone"])
    rules.do_unblock_customer(seojun, actor=None)
    block(seojun, reason="obscene", at=AT + timedelta(hours=3))  # a new block starts its count again

    out = run("list_blocked", "alpha", "--format", "json")

    assert json.loads(out) == [
        {"customer_id": seojun.customer_id, "display_name": "도박 홍보 계정", "profile_nickname": "이서준",
         "reason": "obscene", "reason_label": "Obscene (음란)", "note": "", "blocked_by": "operator",
         "blocked_at": "2025-03-03T04:20:00+00:00", "refused_messages": 0, "last_refused_at": None,
         "report": None},
        {"customer_id": minji.customer_id, "display_name": "김민지", "profile_nickname": "김민지", "reason": "abuse",
         "reason_label": "Abuse (욕설)", "note": "욕설 반복", "blocked_by": "Mina",
         "blocked_at": "2025-03-03T01:20:00+00:00", "refused_messages": 2,
         "last_refused_at": "2025-03-03T02:55:00+00:00", "report": None},
    ]  # fmt: skip
    assert "김민지" in out  # UTF-8 as written, not \u escapes
    assert out.startswith("[\n  {\n")


@pytest.mark.django_db
def test_with_no_blocked_customer_each_format_says_so(center, other_center, customer):
    block(CustomerFactory(center=other_center))
    block(customer)
    rules.do_unblock_customer(customer, actor=None)

    assert run("list_blocked", "alpha") == "No blocked customers.\n"
    assert run("list_blocked", "alpha", "--format", "csv") == ",".join(FIELDS) + "\n"
    assert json.loads(run("list_blocked", "alpha", "--format", "json")) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "No center has the slug “nowhere”."),
        (["alpha", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    ],
)
def test_list_refuses_bad_arguments_with_a_clear_error(center, args, message):
    with pytest.raises(CommandError) as error:
        run("list_blocked", *args)

    assert message in str(error.value)


# --- as the shell runs them -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ("block_customer", ["CENTER_SLUG", "CUSTOMER_ID", "--reason", "abuse,promotion,obscene,gambling", "--by",
                            "USERNAME", "--note", "--report"]),
        ("unblock_customer", ["CENTER_SLUG", "CUSTOMER_ID", "--by", "USERNAME"]),
        ("list_blocked", ["CENTER_SLUG", "--format", "table,csv,json"]),
    ],
)  # fmt: skip
def test_from_the_shell_help_names_the_arguments(command, mentions):
    done = shell(command, "--help")

    assert done.returncode == 0, done.stderr
    for word in mentions:
        assert word in done.stdout


@pytest.mark.django_db(transaction=True)
def test_from_the_shell_an_unknown_center_exits_1_with_one_line(center):
    done = shell("block_customer", "nowhere", "C234567890", "--reason", "abuse")

    assert done.returncode == 1
    assert done.stderr.strip() == "CommandError: No center has the slug “nowhere”."
    assert done.stdout == ""


@pytest.mark.django_db(transaction=True)
def test_from_the_shell_a_blocked_customer_cannot_be_blocked_again(customer):
    block(customer, reason="gambling")

    done = shell("block_customer", "alpha", customer.customer_id, "--reason", "abuse")

    assert done.returncode == 1
    assert "This customer is already blocked." in done.stderr
    assert "Traceback" not in done.stderr
    assert Block.objects.get().reason == "gambling"


@pytest.mark.django_db(transaction=True)
def test_from_the_shell_a_bad_reason_is_a_usage_error(customer):
    done = shell("block_customer", "alpha", customer.customer_id, "--reason", "spam")

    assert done.returncode == 2
    assert "argument --reason: invalid choice: 'spam'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not Block.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_from_the_shell_a_block_shows_in_the_json_list(customer, manager):
    blocked = shell("block_customer", "alpha", customer.customer_id, "--reason", "abuse", "--by", "mina")
    listed = shell("list_blocked", "alpha", "--format", "json")

    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout.startswith(f"Blocked 김민지 ({customer.customer_id}) for Abuse (욕설), by Mina;")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["customer_id"], row["display_name"], row["reason"], row["blocked_by"]) == (
        customer.customer_id,
        "김민지",
        "abuse",
        "Mina",
    )


def shell(*args: str) -> subprocess.CompletedProcess:
    from consultations.tests.live import database_url_for

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for("customer-commands-test"),
        "DJANGO_SETTINGS_MODULE": "counsel_center.settings",
    }
    return subprocess.run(  # noqa: S603 (a fixed command line)
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
