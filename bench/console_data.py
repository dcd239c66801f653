"""Benchmark data for the console benchmark (bench/console_bench.py): one big center on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counsel_console_bench .venv/bin/python bench/console_data.py

This is benchmark data, not product data: it is written straight into the
tables with a few `INSERT … SELECT … generate_series` statements, bypassing the
ORM and consultations.lifecycle (which would take hours for a million
messages). It respects the database's constraints (one open consultation per
customer, agent messages have an author, …) and keeps the denormalised
columns consistent (`last_message`, `last_activity_at`, `first_response_at`,
`closed_at`), but not the product's business limits: the agents hold far more
waiting and in-progress consultations than R5/R7 allow, so that every tab has
rows to show.

What it makes, in one transaction, in the database of DATABASE_URL (created if
missing, then migrated), at `--scale 1` (the default):

- a center `bench` with 10 members: `bench-master`, `bench-manager` and
  `bench-agent1` … `bench-agent8`, all with the password `PASSWORD`;
- 40,000 customers with Korean profile names (every 8th with an internal
  nickname);
- 100,000 consultations: 94,000 closed, 2,000 unassigned, 1,000 waiting,
  3,000 in progress; about 6 % important, some on hold; assigned round-robin
  to the manager and the 8 agents;
- about 1,000,000 messages (2 to 18 per consultation, 10 on average;
  consultation `big_public_id` has exactly 1,000) of Korean customer-service
  text: `COMMON_WORD` is in about one message in ten, `RARE_WORD` in about one
  in 350;
- an Event per message plus each consultation's transitions (created,
  assigned, started, important, hold, closed), about 1,390,000 rows;
- read marks of each assignee for their consultations (every 4th one unread).

`--scale N` multiplies the history: N × 100,000 consultations, N × 40,000
customers, about N × 1,000,000 messages and N × 1,390,000 events, 5 minutes
apart as at scale 1 (so scale 10 reaches about 9.5 years back). The open
consultations stay the last 6,000 (agents' queues do not grow with the
history), so the newest consultations look alike at every scale.

Idempotent: when the center is already there with the same DATA_VERSION and
scale it only migrates and exits. `--force` drops and recreates the whole
database (its name must contain "bench"). VACUUM ANALYZE at the end, so the
planner and the visibility map are as on a database in steady state.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.parse
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from webhook_bench import check_database_url, ensure_database  # noqa: E402 (bench/ is not a package)

DATA_VERSION = 2
CENTER_SLUG = "bench"
CENTER_NAME = f"부하 테스트 센터 (data v{DATA_VERSION})"
PASSWORD = "bench-console-password"  # noqa: S105 (benchmark users of a local, throw-away database)
USERNAMES = ["bench-master", "bench-manager", *(f"bench-agent{i}" for i in range(1, 9))]
LOGIN_USERNAME = "bench-agent1"  # the member the benchmark signs in as (its "mine" scope)

CONSULTATIONS = 100_000  # per unit of --scale
CUSTOMERS = 40_000  # per unit of --scale
OPEN = 6_000  # the last OPEN consultations are open (one per customer), at every scale; the others are closed
MINUTES_APART = 5  # between two consecutive consultations' requests: 100,000 span about 347 days
MESSAGE_SECONDS = 15  # between two messages of one consultation
BIG_MESSAGES = 1_000

# Phrases of customer and agent messages; "{order}" becomes an order number.
CUSTOMER_PHRASES = [
    "안녕하세요, 주문한 상품 배송이 언제 되나요?",
    "주문번호 {order} 배송 조회 부탁드립니다.",
    "상품이 마음에 들지 않아 환불 요청하려고 합니다.",
    "사이즈 교환 가능한가요? 한 치수 큰 걸로 바꾸고 싶어요.",
    "결제가 두 번 된 것 같아요. 확인해 주세요.",
    "쿠폰 적용이 안 됩니다. 할인 코드가 만료되었다고 나와요.",
    "포장이 파손되어 도착했어요. 사진 보내드릴게요.",
    "감사합니다! 좋은 하루 보내세요.",
    "네 알겠습니다. 기다릴게요.",
    "언제쯤 답변 받을 수 있을까요?",
    "영수증 발급 가능할까요? 회사 제출용입니다.",
    "회원 탈퇴는 어떻게 하나요?",
]
AGENT_PHRASES = [
    "안녕하세요, 고객님. 무엇을 도와드릴까요?",
    "확인 후 안내드리겠습니다. 잠시만 기다려 주세요.",
    "불편을 드려 정말 죄송합니다.",
    "주문번호 {order} 주문 내역 확인되었습니다.",
    "환불 접수 도와드리겠습니다. 영업일 기준 3일 이내 처리됩니다.",
    "교환 신청서 링크를 보내드립니다.",
    "추가로 궁금하신 점 있으신가요?",
    "이용해 주셔서 감사합니다.",
]
RARE_PHRASE = "택배가 분실된 것 같아요. 배송 기사님 연락처 알 수 있을까요?"
COMMON_WORD = "환불"  # in one customer phrase of 12 and one agent phrase of 8
RARE_WORD = "분실"  # only in RARE_PHRASE
SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN_NAMES = [
    "민준", "서연", "도윤", "하은", "시우", "지우", "주원", "서윤", "예준", "지호",
    "하준", "수아", "은우", "지아", "유준", "채원", "건우", "다은", "현우", "예린",
]  # fmt: skip


# --- the plan, in Python (the SQL below computes the same) -----------------------------------------


@dataclass(frozen=True)
class Plan:
    """The data at a scale: consultations 1 … `consultations`, the last OPEN of them open."""

    scale: int = 1

    @property
    def consultations(self) -> int:
        return CONSULTATIONS * self.scale

    @property
    def customers(self) -> int:
        return CUSTOMERS * self.scale

    @property
    def closed(self) -> int:
        return self.consultations - OPEN  # consultations 1 … closed are closed

    def status_of(self, n: int) -> str:
        if n <= self.closed:
            return "closed"
        return {0: "waiting", 1: "in_progress", 2: "in_progress", 3: "in_progress"}.get(
            (n - self.closed) % 6, "unassigned"
        )

    def assignee_slot(self, n: int) -> int | None:
        """Index into [agent1 … agent8, manager]; None for unassigned (and every 20th closed one).

        Round-robin by blocks of 6, so that each member gets every state (the state cycles with n % 6).
        """
        status = self.status_of(n)
        if status == "unassigned" or (status == "closed" and n % 20 == 0):
            return None
        return (n // 6) % 9

    @staticmethod
    def usual_message_count(n: int) -> int:
        return 2 + (n * 7919) % 17  # in SQL on a bigint: n * 7919 passes 2^31 at scale 3

    def _plain_in_progress_of_agent1(self, n: int) -> bool:
        return self.status_of(n) == "in_progress" and self.assignee_slot(n) == 0 and n % 17 != 0 and n % 5 != 0

    @cached_property
    def big_n(self) -> int:
        start = self.consultations - 3_000
        return next(n for n in range(start, self.consultations) if self._plain_in_progress_of_agent1(n))

    @cached_property
    def average_n(self) -> int:
        start = self.consultations - 2_000
        return next(
            n
            for n in range(start, self.consultations)
            if self._plain_in_progress_of_agent1(n) and self.usual_message_count(n) == 10
        )

    @property
    def big_public_id(self) -> str:
        return public_id(self.big_n)  # in progress, assigned to LOGIN_USERNAME, 1,000 messages

    @property
    def average_public_id(self) -> str:
        return public_id(self.average_n)  # in progress, assigned to LOGIN_USERNAME, 10 messages


def public_id(n: int) -> str:
    return f"BENCH{n:07d}"


def plan_of(count: int) -> Plan | None:
    """The plan whose data has `count` consultations, if any."""
    return Plan(count // CONSULTATIONS) if count and count % CONSULTATIONS == 0 else None


# --- SQL ----------------------------------------------------------------------------------------------

PLAN_SQL = """
CREATE TEMP TABLE plan ON COMMIT DROP AS
SELECT n,
       'BENCH' || lpad(n::text, 7, '0') AS public_id,
       'C' || lpad((((n - 1) %% %(customers)s) + 1)::text, 9, '0') AS customer_code,
       s.status,
       CASE WHEN s.status = 'unassigned' OR (s.status = 'closed' AND n %% 20 = 0) THEN NULL
            ELSE (%(consulting)s::bigint[])[1 + (n / 6) %% 9] END AS assignee_id,
       n %% 17 = 0 AS is_important,
       CASE WHEN n = %(big_n)s THEN %(big_messages)s ELSE 2 + (n::bigint * 7919) %% 17 END AS messages,
       %(t_end)s::timestamptz - make_interval(mins => (%(consultations)s - n) * %(minutes_apart)s) AS requested_at
FROM generate_series(1, %(consultations)s) AS n
CROSS JOIN LATERAL (
    SELECT CASE WHEN n <= %(closed)s THEN 'closed'
                WHEN (n - %(closed)s) %% 6 = 0 THEN 'waiting'
                WHEN (n - %(closed)s) %% 6 IN (1, 2, 3) THEN 'in_progress'
                ELSE 'unassigned' END AS status
) AS s;
ALTER TABLE plan ADD COLUMN is_on_hold boolean, ADD COLUMN talks boolean,
                 ADD COLUMN last_at timestamptz, ADD COLUMN close_reason text, ADD COLUMN closed_by_id bigint;
UPDATE plan SET
    is_on_hold = assignee_id IS NOT NULL
                 AND ((status = 'in_progress' AND n %% 5 = 0) OR (status = 'closed' AND n %% 50 = 0)),
    -- the assignee answered: every second message is theirs
    talks = assignee_id IS NOT NULL AND status IN ('in_progress', 'closed'),
    last_at = requested_at + make_interval(secs => messages * %(message_seconds)s),
    close_reason = CASE WHEN status <> 'closed' THEN ''
                        WHEN n %% 3 = 0 AND assignee_id IS NOT NULL THEN 'agent'
                        WHEN n %% 3 = 1 AND assignee_id IS NOT NULL THEN 'idle_timeout'
                        ELSE 'customer_end' END;
UPDATE plan SET closed_by_id = assignee_id WHERE close_reason = 'agent';
"""

CUSTOMERS_SQL = """
INSERT INTO customers_customer (center_id, user_key, customer_id, profile_nickname, nickname, memo, is_friend,
                                created_at, blocked_attempts)
SELECT %(center)s,
       'bench-user-' || c,
       'C' || lpad(c::text, 9, '0'),
       CASE WHEN c %% 13 = 0 THEN 'kakao_' || c
            ELSE (%(surnames)s::text[])[1 + c %% 10] || (%(given)s::text[])[1 + (c / 10) %% 20] END,
       CASE WHEN c %% 8 = 0 THEN '단골 ' || (%(surnames)s::text[])[1 + c %% 10] || '님' ELSE '' END,
       CASE WHEN c %% 16 = 0 THEN '배송 관련 문의가 잦은 고객. 친절히 응대 바랍니다.' ELSE '' END,
       c %% 3 <> 0,
       %(t_end)s::timestamptz - make_interval(mins => (%(consultations)s - c) * %(minutes_apart)s),
       0
FROM generate_series(1, %(customers)s) AS c
"""

CONSULTATIONS_SQL = """
INSERT INTO consultations_consultation (center_id, customer_id, public_id, status, assignee_id, is_important,
    is_on_hold, requested_at, assigned_at, first_response_at, closed_at, close_reason, closed_by_id,
    last_message_id, last_activity_at)
SELECT %(center)s, cu.id, p.public_id, p.status, p.assignee_id, p.is_important, p.is_on_hold, p.requested_at,
       CASE WHEN p.assignee_id IS NOT NULL THEN p.requested_at + interval '20 seconds' END,
       CASE WHEN p.talks THEN p.requested_at + make_interval(secs => 2 * %(message_seconds)s) END,
       CASE WHEN p.status = 'closed' THEN p.last_at + interval '1 minute' END,
       p.close_reason, p.closed_by_id, NULL, p.last_at
FROM plan p JOIN customers_customer cu ON cu.center_id = %(center)s AND cu.customer_id = p.customer_code
ORDER BY p.n
"""

CMAP_SQL = """
CREATE TEMP TABLE cmap ON COMMIT DROP AS
SELECT p.*, c.id AS cid, c.customer_id AS customer_pk
FROM plan p JOIN consultations_consultation c ON c.public_id = p.public_id;
CREATE INDEX ON cmap (cid);
ANALYZE cmap;
"""

MESSAGES_SQL = """
INSERT INTO consultations_message (consultation_id, sender, kind, text, author_id, created_at, channel_event_id,
    channel_sent_at, delivery_state, delivery_attempts, delivery_error, delivered_at)
SELECT m.cid, m.sender, 'text',
       CASE WHEN m.sender = 'agent'
                THEN replace((%(agent)s::text[])[1 + (m.n * 13 + m.k * 11) %% %(agent_count)s], '{order}',
                             (2024000000 + m.n)::text)
            WHEN (m.n * 131 + m.k * 7) %% 199 = 0 THEN %(rare)s
            ELSE replace((%(customer)s::text[])[1 + (m.n * 31 + m.k * 17) %% %(customer_count)s], '{order}',
                         (2024000000 + m.n)::text) END,
       CASE WHEN m.sender = 'agent' THEN m.assignee_id END,
       m.at,
       CASE WHEN m.sender = 'customer' THEN 'bench-' || m.n || '-' || m.k ELSE '' END,
       CASE WHEN m.sender = 'customer' THEN m.at END,
       CASE WHEN m.sender = 'agent' THEN 'sent' ELSE '' END,
       CASE WHEN m.sender = 'agent' THEN 1 ELSE 0 END,
       '',
       CASE WHEN m.sender = 'agent' THEN m.at + interval '1 second' END
FROM (
    SELECT c.cid, c.n, k, c.assignee_id,
           CASE WHEN c.talks AND k %% 2 = 0 THEN 'agent' ELSE 'customer' END AS sender,
           c.requested_at + make_interval(secs => k * %(message_seconds)s) AS at
    FROM cmap c CROSS JOIN LATERAL generate_series(1, c.messages) AS k
) AS m
ORDER BY m.cid, m.k
"""

LAST_MESSAGE_SQL = """
UPDATE consultations_consultation c SET last_message_id = x.last_id
FROM (SELECT consultation_id, max(id) AS last_id FROM consultations_message m
      WHERE consultation_id IN (SELECT cid FROM cmap) GROUP BY consultation_id) AS x
WHERE c.id = x.consultation_id
"""

# Every event of a consultation at its time; ids increase with time as the live stream expects.
EVENTS_SQL = """
INSERT INTO consultations_event (center_id, consultation_id, customer_id, kind, actor_id, created_at, data)
SELECT %(center)s, e.cid, e.customer_pk, e.kind, e.actor_id, e.at, e.data
FROM (
    SELECT cid, customer_pk, 'consultation.created' AS kind, NULL::bigint AS actor_id, requested_at AS at,
           0 AS sub, jsonb_build_object('new_status', 'unassigned') AS data
    FROM cmap
    UNION ALL
    SELECT cid, customer_pk, 'consultation.assigned', assignee_id, requested_at + interval '20 seconds', 0,
           jsonb_build_object('old_status', 'unassigned', 'new_status', 'waiting', 'assignee_id', assignee_id)
    FROM cmap WHERE assignee_id IS NOT NULL
    UNION ALL
    SELECT cid, customer_pk, 'consultation.important', coalesce(assignee_id, %(manager)s),
           requested_at + interval '21 seconds', 0, jsonb_build_object('important', true)
    FROM cmap WHERE is_important
    UNION ALL
    SELECT cid, customer_pk, 'consultation.started', assignee_id,
           requested_at + make_interval(secs => 2 * %(message_seconds)s), 0,
           jsonb_build_object('old_status', 'waiting', 'new_status', 'in_progress')
    FROM cmap WHERE talks
    UNION ALL
    SELECT c.cid, c.customer_pk, 'message.created', m.author_id, m.created_at, 1,
           jsonb_build_object('message_id', m.id, 'sender', m.sender, 'message_kind', m.kind)
    FROM cmap c JOIN consultations_message m ON m.consultation_id = c.cid
    UNION ALL
    SELECT cid, customer_pk, 'consultation.hold', assignee_id, last_at + interval '5 seconds', 0,
           jsonb_build_object('on_hold', true)
    FROM cmap WHERE is_on_hold
    UNION ALL
    SELECT cid, customer_pk, 'consultation.closed', closed_by_id, last_at + interval '1 minute', 2,
           jsonb_build_object('old_status', CASE WHEN assignee_id IS NULL THEN 'unassigned' ELSE 'in_progress' END,
                              'new_status', 'closed', 'reason', close_reason)
    FROM cmap WHERE status = 'closed'
) AS e
ORDER BY e.at, e.sub, e.cid
"""

READ_MARKS_SQL = """
INSERT INTO consultations_readmark (member_id, consultation_id, last_read_message_id)
SELECT c.assignee_id, c.id, CASE WHEN p.n %% 4 = 0 THEN c.last_message_id - 1 ELSE c.last_message_id END
FROM cmap p JOIN consultations_consultation c ON c.id = p.cid
WHERE c.assignee_id IS NOT NULL
"""


# --- running ---------------------------------------------------------------------------------------


def step(connection, label: str, sql: str, params: dict) -> None:
    """Run the statements of `sql` (separated by ";" at a line's end) with `params`; report the first one's rows."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        rows = None
        for statement in filter(str.strip, sql.split(";\n")):
            cursor.execute(statement, params)
            rows = cursor.rowcount if rows is None else rows
    print(f"  {label:<32} {rows:>10,} rows  {time.monotonic() - started:6.1f} s", flush=True)


def existing_version(url: str) -> tuple[int | None, int]:
    """(data version of the bench center or None, its consultation count)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as connection:
        row = connection.execute(
            "SELECT id, name FROM counsel_center_center WHERE slug = %s", (CENTER_SLUG,)
        ).fetchone()
        if row is None:
            return None, 0
        count = connection.execute(
            "SELECT count(*) FROM consultations_consultation WHERE center_id = %s", (row[0],)
        ).fetchone()[0]
        version = int(row[1].rsplit("v", 1)[-1].rstrip(")")) if "(data v" in row[1] else 0
        return version, count


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"--force drops the database; its name must contain 'bench', not {name!r}")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    print(f"dropped database {name}")


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DB_POOL_MAX_SIZE": "0", "DEBUG": "0"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess_run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], env)
    if done.returncode != 0:
        sys.exit(f"migrate failed:\n{done.stdout}\n{done.stderr}")


def subprocess_run(command: list[str], env: dict[str, str]):
    import subprocess

    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def password_hash() -> str:
    """Django's hash of PASSWORD (the project's hasher settings), computed in a child process."""
    env = {**os.environ, "DB_POOL_MAX_SIZE": "0", "DEBUG": "0"}
    env.pop("DATABASE_URL", None)  # hashing needs no database
    code = f"from django.contrib.auth.hashers import make_password; print(make_password({PASSWORD!r}))"
    done = subprocess_run([sys.executable, "manage.py", "shell", "-c", code], env)
    if done.returncode != 0:
        sys.exit(f"hashing the password failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def skip_foreign_key_checks(cursor) -> bool:
    """Turn off the foreign-key triggers for this transaction when allowed (superuser); True if they stay on.

    The deferred checks of 2.5 million new rows would take about two minutes at
    commit; every id inserted here comes from a join with the rows it points at,
    and `check` verifies the facts the benchmark relies on.
    """
    import psycopg

    cursor.execute("SAVEPOINT replica")
    try:
        cursor.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        cursor.execute("ROLLBACK TO SAVEPOINT replica")
        print("foreign-key checks stay on (not a superuser): the commit takes a couple of minutes longer")
        return True
    cursor.execute("RELEASE SAVEPOINT replica")
    return False


def generate(url: str, plan: Plan) -> None:
    import psycopg

    hashed = password_hash()
    t_end = "now() - interval '1 hour'"
    started = time.monotonic()
    with psycopg.connect(url, connect_timeout=10) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            fk_checks = skip_foreign_key_checks(cursor)
            t_end_value = cursor.execute(f"SELECT {t_end}").fetchone()[0]
            center = cursor.execute(
                "INSERT INTO counsel_center_center (slug, name, concurrent_limit, idle_close_minutes, is_operating,"
                " webhook_secret, outbound_url, time_zone, created_at)"
                " VALUES (%s, %s, 100, 10, true, 'bench-console-secret', '', 'Asia/Seoul', now()) RETURNING id",
                (CENTER_SLUG, CENTER_NAME),
            ).fetchone()[0]
            member_ids: dict[str, int] = {}
            for username in USERNAMES:
                user = cursor.execute(
                    "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
                    " is_staff, is_active, date_joined) VALUES (%s, false, %s, '', '', '', false, true, now())"
                    " ON CONFLICT (username) DO UPDATE SET password = EXCLUDED.password RETURNING id",
                    (hashed, username),
                ).fetchone()[0]
                role = username.split("-")[1].rstrip("0123456789")
                display = {"master": "마스터", "manager": "매니저"}.get(role) or f"상담원{username[-1]}"
                member_ids[username] = cursor.execute(
                    "INSERT INTO counsel_center_member (center_id, user_id, role, can_consult, display_name,"
                    " is_active, created_at) VALUES (%s, %s, %s, %s, %s, true, now()) RETURNING id",
                    (center, user, role, role == "manager", display),
                ).fetchone()[0]
        consulting = [member_ids[f"bench-agent{i}"] for i in range(1, 9)] + [member_ids["bench-manager"]]
        params = {
            "center": center,
            "customers": plan.customers,
            "consultations": plan.consultations,
            "closed": plan.closed,
            "consulting": consulting,
            "manager": member_ids["bench-manager"],
            "big_n": plan.big_n,
            "big_messages": BIG_MESSAGES,
            "t_end": t_end_value,
            "minutes_apart": MINUTES_APART,
            "message_seconds": MESSAGE_SECONDS,
            "surnames": SURNAMES,
            "given": GIVEN_NAMES,
            "customer": CUSTOMER_PHRASES,
            "customer_count": len(CUSTOMER_PHRASES),
            "agent": AGENT_PHRASES,
            "agent_count": len(AGENT_PHRASES),
            "rare": RARE_PHRASE,
        }
        print(f"center {CENTER_SLUG} (id {center}), 10 members, scale {plan.scale}; bulk inserts:", flush=True)
        step(connection, "plan", PLAN_SQL, params)
        step(connection, "customers", CUSTOMERS_SQL, params)
        step(connection, "consultations", CONSULTATIONS_SQL, params)
        step(connection, "consultation map", CMAP_SQL, params)
        step(connection, "messages", MESSAGES_SQL, params)
        step(connection, "last messages", LAST_MESSAGE_SQL, params)
        step(connection, "events", EVENTS_SQL, params)
        step(connection, "read marks", READ_MARKS_SQL, params)
        check(connection, center, plan)
        commit_started = time.monotonic()
        connection.commit()
        label = "commit (deferred FK checks)" if fk_checks else "commit"
        print(f"  {label:<32} {'':>10}       {time.monotonic() - commit_started:6.1f} s")
    analyze_started = time.monotonic()
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
        connection.execute("VACUUM (ANALYZE)")
    print(f"  {'VACUUM ANALYZE':<32} {'':>10}       {time.monotonic() - analyze_started:6.1f} s")
    print(f"generated in {time.monotonic() - started:.0f} s")


def check(connection, center: int, plan: Plan) -> None:
    """The few facts the benchmark relies on; a mismatch aborts (and rolls back) the generation."""
    row = connection.execute(
        """
        SELECT count(*) FILTER (WHERE status = 'closed'), count(*) FILTER (WHERE status = 'unassigned'),
               count(*) FILTER (WHERE status = 'waiting'), count(*) FILTER (WHERE status = 'in_progress'),
               count(*) FILTER (WHERE is_important), count(*) FILTER (WHERE is_on_hold),
               count(*) FILTER (WHERE last_message_id IS NULL)
        FROM consultations_consultation WHERE center_id = %s
        """,
        (center,),
    ).fetchone()
    print(
        f"  states: closed {row[0]:,}, unassigned {row[1]:,}, waiting {row[2]:,}, in progress {row[3]:,};"
        f" important {row[4]:,}, on hold {row[5]:,}"
    )
    if row[6]:
        sys.exit(f"{row[6]} consultations have no last message")
    big, average = ("1,000-message", plan.big_public_id, BIG_MESSAGES), ("average", plan.average_public_id, 10)
    for label, pid, expected in (big, average):
        found = connection.execute(
            """
            SELECT count(m.id), c.status, u.username, max(m.id) = c.last_message_id
            FROM consultations_consultation c
            JOIN consultations_message m ON m.consultation_id = c.id
            JOIN counsel_center_member mb ON mb.id = c.assignee_id JOIN auth_user u ON u.id = mb.user_id
            WHERE c.public_id = %s GROUP BY c.id, u.username
            """,
            (pid,),
        ).fetchone()
        if found != (expected, "in_progress", LOGIN_USERNAME, True):
            sys.exit(f"the {label} consultation {pid} is not as planned: {found}")
        print(f"  {label} consultation {pid}: {found[0]} messages, in progress, assigned to {LOGIN_USERNAME}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="drop and recreate the database, then generate")
    parser.add_argument(
        "--scale", type=int, default=1, help="N × 100,000 consultations, N × 40,000 customers (1; the issue's 10×: 10)"
    )
    args = parser.parse_args()
    if args.scale < 1:
        parser.error("--scale must be 1 or more")
    plan = Plan(args.scale)
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/counsel_console_bench")
    check_database_url(url)
    if args.force:
        drop_database(url)
    ensure_database(url)
    migrate(url)
    version, count = existing_version(url)
    if version == DATA_VERSION and count == plan.consultations:
        print(f"benchmark data v{DATA_VERSION} already there ({count:,} consultations); --force rebuilds it")
        return 0
    if version is not None:
        sys.exit(f"center {CENTER_SLUG!r} exists with other data (v{version}, {count:,} consultations): use --force")
    generate(url, plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
