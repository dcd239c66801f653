"""The demo center's cast and stories, played by `manage.py seed_demo`.

Data only: who works in the demo center, which customers write in, what they
say, and how each consultation ends; and, for the statistics, the shape of
three months of everyday history (HISTORY_*). The command turns it into
lifecycle calls on a timeline, so every row is written the way production
writes it.

Times (`Visit.start`):
- ``"3d 14:05"`` — 14:05 in the center's time zone, 3 days before today;
- ``"95m"`` — 95 minutes before the anchor (now, truncated to the hour).
Past-day visits stay within office hours (they end before 18:00) and minute
visits start at most 6 hours back, so the two never interleave whatever hour
the command runs at: the plan, and hence every limit check, is the same.

Script lines are ``("c", text)`` for the customer, ``("a", text)`` for the
assignee, and ``("hold", "")`` where the agent may put the consultation on hold
(보류) to check something; placeholders: ``{order}``, ``{invoice}``, ``{agent}``.
A line ``"file:<name>"`` sends that file of demo/files.py (FILES) instead of text.
"""

from dataclasses import dataclass

from counsel_center.models import Member

CENTER_SLUG = "demo"
CENTER_NAME = "데모 상담센터"
DEMO_PASSWORD = "counsel-demo"  # noqa: S105  # nosec B105  # a documented demo login, not a secret
DEFAULT_WEBHOOK_SECRET = "demo-webhook-secret"  # noqa: S105  # nosec B105  # the demo's; DEMO_WEBHOOK_SECRET overrides
RANDOM_SEED = 20240611


@dataclass(frozen=True)
class Staff:
    username: str
    role: str
    display_name: str
    can_consult: bool = False


STAFF = (
    Staff("master", Member.Role.MASTER, "김마스터"),
    Staff("manager", Member.Role.MANAGER, "이매니저", can_consult=True),
    Staff("agent1", Member.Role.AGENT, "박상담"),
    Staff("agent2", Member.Role.AGENT, "최상담"),
    Staff("agent3", Member.Role.AGENT, "정상담"),
)

# Outcomes of a visit: the state it is left in, or how it closed.
UNASSIGNED = "unassigned"
WAITING = "waiting"
IN_PROGRESS = "in_progress"
CLOSED_BY_AGENT = "agent"
CUSTOMER_END = "customer_end"  # the customer sends !종료
CHATBOT = "chatbot"  # the customer switches to the chatbot
IDLE = "idle"  # the customer leaves the agent's last message unanswered
BLOCKED = "blocked"


@dataclass(frozen=True)
class Visit:
    """One consultation: when it starts, what is said, who handles it, how it ends."""

    start: str
    script: str
    outcome: str
    assignee: str = ""  # a Staff username; "" = never assigned
    assigned_by: str = ""  # a master/manager who assigns it (담당자 변경); "" = the assignee takes it (나에게 할당)
    handover_to: str = ""  # handed over after the first exchange (or right after assignment when waiting)
    important: bool = False
    hold: str = ""  # "" | "held" (still held, or held then released if closed) | "kept" (closed while on hold)
    hold_minutes: int = 60  # how long a closed visit stays on hold
    turns: int = 1  # exchanges played before it stops (in progress) or the customer leaves (chatbot)
    closed_by: str = ""  # who presses 종료; default the assignee
    block: tuple[str, str, str] | None = None  # (reason, by username, note) for BLOCKED
    # The customer's last lines are new: the assignee has not opened them yet (the list's unread mark). Every
    # other consultation was read by its assignee, and by whoever assigned or handed it over, to its last message.
    unread: bool = False
    seen_by: tuple[str, ...] = ()  # other members who opened it (Staff usernames), to its last message


@dataclass(frozen=True)
class DemoCustomer:
    number: int
    profile_nickname: str
    is_friend: bool
    visits: tuple[Visit, ...]
    nickname: str = ""  # internal 고객 닉네임
    memo: str = ""  # shared 고객 메모
    unblock: tuple[str, str] | None = None  # (when, by username): the block is lifted later

    @property
    def user_key(self) -> str:
        return f"demo-customer-{self.number:02d}"


HANDOVER_LINE = "안녕하세요, 이어서 상담을 도와드릴 {agent}입니다. 앞선 내용 확인했습니다."
CLOSING_LINES = (
    "상담을 종료하겠습니다. 이용해 주셔서 감사합니다.",
    "문의해 주셔서 감사합니다. 좋은 하루 보내세요!",
    "추가 문의는 언제든 채팅 남겨 주세요. 감사합니다 🙂",
)

SCRIPTS: dict[str, tuple[tuple[str, str], ...]] = {
    "delivery": (
        ("c", "안녕하세요, 주문한 상품이 아직 도착하지 않아서 문의드려요."),
        ("c", "주문번호는 {order}입니다."),
        ("a", "안녕하세요, 데모 상담센터 {agent}입니다. 주문 내역 확인해 보겠습니다. 잠시만 기다려 주세요."),
        ("a", "확인해 보니 어제 오후에 출고되어 현재 배송 중입니다. 내일 중 도착 예정입니다."),
        ("c", "아 그렇군요. 송장번호도 알 수 있을까요?"),
        ("a", "송장번호는 {invoice}(CJ대한통운)입니다. 택배사 앱에서 실시간 위치를 조회하실 수 있습니다."),
        ("c", "네 확인했어요. 감사합니다!"),
        ("a", "더 궁금하신 점 있으시면 언제든 문의해 주세요. 좋은 하루 보내세요 😊"),
        ("c", "네 수고하세요~"),
    ),
    "delay": (
        ("c", "주문한 지 일주일이 넘었는데 아직도 배송 준비중이에요."),
        ("c", "언제 보내주시는 건가요? 주문번호 {order}"),
        ("a", "안녕하세요, {agent}입니다. 오래 기다리시게 해서 정말 죄송합니다. 바로 확인해 보겠습니다."),
        ("c", "선물용이라 이번 주 안에는 꼭 받아야 해요"),
        ("a", "입고가 늦어진 상품이라 물류센터에 정확한 출고 일정을 확인해야 합니다. 확인되는 대로 안내드리겠습니다."),
        ("hold", ""),
        ("c", "네 최대한 빨리 알려주세요"),
        ("a", "기다려 주셔서 감사합니다. 내일 오전 입고 후 당일 출고되어 모레 도착 예정입니다."),
        ("c", "다행이네요. 꼭 그렇게 부탁드려요."),
        ("a", "출고되면 알림톡으로 송장번호가 발송됩니다. 불편을 드려 다시 한번 죄송합니다."),
        ("c", "네 감사합니다"),
    ),
    "refund": (
        ("c", "환불 신청하려고 하는데요"),
        ("c", "지난주에 산 원피스가 사이즈가 안 맞아서요"),
        ("a", "안녕하세요, {agent}입니다. 불편을 드려 죄송합니다. 주문번호 알려주시겠어요?"),
        ("c", "{order} 이에요"),
        ("a", "확인 감사합니다. 단순 변심 반품은 왕복 배송비 6,000원을 제외하고 환불됩니다. 진행해 드릴까요?"),
        ("c", "네 진행해 주세요. 카드로 결제했는데 언제 취소돼요?"),
        ("a", "회수 접수해 드렸습니다. 물류센터 검수가 끝나면 카드사 기준 3~5영업일 안에 승인 취소됩니다."),
        ("c", "알겠습니다. 택배 기사님은 언제 오시나요?"),
        ("a", "2~3일 안에 방문 예정이며, 방문 전에 기사님이 먼저 연락드릴 거예요."),
        ("c", "네 감사합니다~"),
    ),
    "payment": (
        ("c", "결제가 두 번 된 것 같아요!! 카드 승인 문자가 두 번 왔어요"),
        ("c", "주문은 하나밖에 없는데요"),
        ("a", "안녕하세요, {agent}입니다. 많이 놀라셨겠어요. 주문번호를 알려주시겠어요?"),
        ("c", "{order}이고 아까 점심쯤 결제했어요"),
        ("a", "결제대행사에 승인 내역 확인을 요청해야 해서 시간이 조금 걸립니다. 확인되는 대로 바로 안내드리겠습니다."),
        ("hold", ""),
        ("c", "네 빨리 좀 부탁드려요"),
        ("a", "기다려 주셔서 감사합니다. 중복 승인 1건은 취소 처리되었고, 1~3일 안에 카드사 취소 문자가 옵니다."),
        ("c", "휴 다행이네요. 감사합니다"),
        ("a", "불편을 드려 정말 죄송합니다. 사과의 의미로 적립금 3,000원을 지급해 드렸습니다."),
        ("c", "오 감사합니다 ㅎㅎ"),
    ),
    "order_change": (
        ("c", "주문한 상품 옵션 변경 가능한가요?"),
        ("c", "블랙 M으로 주문했는데 네이비 L로 바꾸고 싶어요"),
        ("a", "안녕하세요, {agent}입니다. 주문번호를 알려주시면 변경 가능 여부를 확인해 드릴게요."),
        ("c", "{order}입니다"),
        ("a", "이미 출고 준비 단계라 물류센터에 출고 보류를 요청해야 합니다. 확인 후 바로 말씀드릴게요."),
        ("hold", ""),
        ("c", "네 기다릴게요"),
        ("a", "오래 기다리셨습니다. 출고 보류가 완료되어 네이비 L로 변경해 드렸습니다. 추가 결제 금액은 없습니다."),
        ("c", "와 감사합니다!"),
        ("a", "변경된 상품은 내일 출고될 예정입니다. 이용해 주셔서 감사합니다."),
        ("c", "네 좋은 하루 되세요"),
    ),
    "address": (
        ("c", "배송지를 잘못 입력했어요 ㅠㅠ"),
        ("c", "아직 변경 가능할까요?"),
        ("a", "안녕하세요, {agent}입니다. 주문번호와 변경하실 주소를 알려주세요."),
        ("c", "{order}이고 서울시 마포구 월드컵북로 12길 34, 201호로 바꿔주세요"),
        ("a", "아직 출고 전이라 변경 가능합니다. 말씀하신 주소로 변경해 드렸습니다."),
        ("c", "휴 다행이다. 받는 사람 연락처는 그대로예요"),
        ("a", "네, 연락처는 그대로 두었습니다. 변경된 주소는 주문 상세에서도 확인하실 수 있습니다."),
        ("c", "감사합니다!!"),
    ),
    "member_info": (
        ("c", "회원정보에서 휴대폰 번호를 바꾸려고 하는데 인증번호가 안 와요"),
        ("a", "안녕하세요, {agent}입니다. 불편을 드려 죄송합니다. 혹시 스팸 문자함도 확인해 보셨을까요?"),
        ("c", "네 스팸함에도 없어요. 알뜰폰 쓰고 있어요"),
        ("a", "일부 알뜰폰 통신사는 인증 문자가 늦게 도착하기도 합니다. 3분 정도 뒤에 다시 요청해 보시겠어요?"),
        ("c", "아 방금 왔어요! 바꿨습니다"),
        ("a", "변경 완료되었습니다. 앞으로 주문 알림은 새 번호로 발송됩니다."),
        ("c", "감사해요"),
    ),
    "login": (
        ("c", "앱에서 로그인이 안 돼요"),
        ("c", "비밀번호 맞게 넣었는데 계속 '일시적인 오류입니다'라고 떠요"),
        ("a", "안녕하세요, {agent}입니다. 불편을 드려 죄송합니다. 휴대폰 기종과 앱 버전을 알려주시겠어요?"),
        ("c", "아이폰 15이고 앱 버전은 4.2.1이요"),
        (
            "a",
            "해당 버전의 로그인 오류를 개발팀에 전달했습니다. 최신 버전(4.2.3)으로 업데이트 후 다시 시도해 주시겠어요?",
        ),
        ("c", "업데이트하니까 되네요!"),
        ("a", "다행입니다. 이용에 불편을 드려 죄송합니다."),
        ("c", "네 수고하세요"),
    ),
    "coupon": (
        ("c", "쿠폰이 적용이 안 돼요"),
        ("c", "신규가입 10% 할인 쿠폰이요"),
        ("a", "안녕하세요, {agent}입니다. 쿠폰 사용 조건을 확인해 드릴게요. 결제하시려는 금액이 얼마인가요?"),
        ("c", "25,000원이요"),
        ("a", "신규가입 쿠폰은 30,000원 이상 구매 시 사용할 수 있습니다. 5,000원 이상 더 담으시면 적용됩니다."),
        ("c", "아 그런 조건이 있었군요. 쿠폰 유효기간은 언제까지예요?"),
        ("a", "발급일로부터 30일, 이번 달 말일까지 사용 가능합니다."),
        ("c", "알겠습니다 감사합니다"),
    ),
    "exchange": (
        ("c", "교환 신청하고 싶어요"),
        ("c", "운동화 260 샀는데 발이 아파서 265로요"),
        ("a", "안녕하세요, {agent}입니다. 사이즈 교환 도와드리겠습니다. 주문번호 알려주세요."),
        ("c", "{order}"),
        ("a", "265 재고가 있어 교환 가능합니다. 교환 배송비 6,000원은 동봉하시거나 계좌로 입금해 주세요."),
        ("c", "동봉할게요. 원래 박스에 넣어서 보내면 되죠?"),
        ("a", "네, 신발 박스가 상하지 않게 택배 상자에 한 번 더 포장해 주세요. 회수 기사님이 2~3일 안에 방문합니다."),
        ("c", "네 알겠습니다"),
    ),
    "points": (
        ("c", "적립금이 사라졌어요"),
        ("c", "분명 5천원 있었는데 0원이에요"),
        ("a", "안녕하세요, {agent}입니다. 적립금 내역을 확인해 보겠습니다."),
        ("a", "지난해 구매로 받은 적립금 5,000원이 어제 유효기간(1년) 만료로 소멸되었습니다."),
        ("c", "헐 알림도 없었는데요ㅠ"),
        ("a", "수신 거부 상태라 소멸 안내가 가지 않았던 것 같습니다. 이번에 한해 3,000원을 다시 지급해 드렸어요."),
        ("c", "오 감사합니다!"),
    ),
    "gift": (
        ("c", "카카오톡 선물하기로 받은 상품 배송지 입력을 못 했어요"),
        ("a", "안녕하세요, {agent}입니다. 선물 받으신 분 성함과 휴대폰 번호 뒷자리를 알려주시겠어요?"),
        ("c", "최지아, 5678이요"),
        ("a", "확인했습니다. 아직 기한 전이라 알림톡의 '배송지 입력' 버튼을 다시 눌러 입력하시면 됩니다."),
        ("c", "아 버튼 찾았어요. 입력 완료했어요"),
        ("a", "입력 확인되었습니다. 내일 출고 예정입니다. 즐거운 선물 되세요 🎁"),
        ("c", "감사합니다 ㅎㅎ"),
    ),
    "receipt": (
        ("c", "세금계산서 발행 가능한가요?"),
        ("c", "회사 비품으로 구매한 거라서요"),
        ("a", "안녕하세요, {agent}입니다. 네, 가능합니다. 주문번호와 사업자등록번호, 받으실 이메일을 알려주세요."),
        ("c", "주문번호 {order}, 사업자번호 123-45-67890, tax@example.co.kr 입니다"),
        ("a", "접수했습니다. 영업일 기준 1~2일 안에 전자세금계산서가 메일로 발송됩니다."),
        ("a", "file:세금계산서_발행안내.pdf"),
        ("c", "네 감사합니다. 현금영수증은 따로 안 나가는 거죠?"),
        ("a", "네, 세금계산서를 발행하면 현금영수증은 중복 발행되지 않습니다."),
        ("c", "알겠습니다"),
    ),
    "withdrawal": (
        ("c", "회원 탈퇴는 어디서 하나요?"),
        ("a", "안녕하세요, {agent}입니다. 마이페이지 > 회원정보 수정 > 맨 아래 '회원 탈퇴'에서 하실 수 있습니다."),
        ("c", "탈퇴하면 적립금은 어떻게 돼요?"),
        ("a", "탈퇴하면 적립금과 쿠폰은 복구할 수 없습니다. 남은 적립금 4,200원을 쓰신 뒤 탈퇴하시길 권해 드려요."),
        ("c", "아 그럼 쓰고 탈퇴할게요"),
        ("a", "네, 더 필요하신 점 있으시면 말씀해 주세요."),
        ("c", "네 감사합니다"),
    ),
    "stock": (
        ("c", "품절된 린넨 셔츠 화이트 재입고 언제 되나요?"),
        ("a", "안녕하세요, {agent}입니다. 해당 상품은 다음 주 수요일 재입고 예정입니다."),
        ("c", "S 사이즈도 들어오나요?"),
        ("a", "네, S~XL 전 사이즈가 들어옵니다. 상품 페이지에서 '재입고 알림 신청'을 하시면 입고 즉시 알려드려요."),
        ("c", "알림 신청했어요 감사합니다"),
    ),
    "damaged": (
        ("c", "택배 받았는데 유리컵이 깨져서 왔어요"),
        ("c", "6개 세트 중에 2개가 깨졌어요. 박스는 멀쩡했고요"),
        ("c", "file:깨진컵.jpg"),
        ("a", "안녕하세요, {agent}입니다. 불편을 드려 정말 죄송합니다. 주문번호를 알려주시겠어요?"),
        ("c", "{order}요"),
        ("a", "택배사 파손 접수와 재발송 가능 여부를 확인한 뒤 안내드리겠습니다. 잠시만 기다려 주세요."),
        ("hold", ""),
        ("c", "네"),
        ("a", "기다려 주셔서 감사합니다. 깨진 2개는 내일 새로 보내드리며, 파손품은 회수 없이 폐기해 주세요."),
        ("c", "빠른 처리 감사합니다"),
        ("a", "다시 한번 불편을 드려 죄송합니다. 좋은 하루 보내세요."),
        ("c", "네 수고하세요"),
    ),
    "after_unblock": (
        ("c", "안녕하세요. 예전에 제 계정이 해킹돼서 이상한 광고 메시지가 보내졌었어요. 죄송합니다."),
        ("c", "이제 주문 문의 드려도 될까요?"),
        ("a", "안녕하세요, {agent}입니다. 네, 확인되어 차단은 해제된 상태입니다. 무엇을 도와드릴까요?"),
        ("c", "어제 주문한 {order} 언제 배송되는지 궁금해요"),
        ("a", "오늘 오후 출고 예정이라 내일 도착할 예정입니다."),
        ("c", "감사합니다!"),
    ),
    "abuse": (
        ("c", "아니 배송이 왜 이렇게 늦어요? 일주일째야"),
        ("a", "안녕하세요, {agent}입니다. 기다리시게 해서 죄송합니다. 주문번호를 알려주시면 바로 확인하겠습니다."),
        ("c", "그걸 왜 내가 찾아야 됨? 니들이 알아서 찾아 ㅡㅡ"),
        ("a", "고객님, 정확한 확인을 위해 주문번호 또는 주문자 성함과 연락처가 필요합니다."),
        ("c", "장난하냐 진짜 XX 일 똑바로 안 하냐 XXX들아"),
        ("a", "고객님, 욕설이 계속되면 상담이 제한될 수 있습니다. 원활한 상담을 위해 협조 부탁드립니다."),
        ("c", "제한하든가 말든가 XX"),
    ),
    "gambling_spam": (
        ("c", "🎰 신규가입 즉시 3만 포인트 지급 🎰"),
        ("c", "안전한 메이저 놀이터 ○○벳 ▶ bit.ly/xx-xxxx 가입코드 7777 ✔️먹튀 없음 ✔️당일 환전"),
    ),
    "promotion_spam": (
        ("c", "안녕하세요~ 인스타 팔로워 늘려드립니다 1,000명 9,900원!!"),
        ("c", "상담은 카톡 아이디 follow_up_now 로 연락주세요 ^^"),
    ),
}


def _v(start: str, script: str, outcome: str, **options) -> Visit:
    return Visit(start=start, script=script, outcome=outcome, **options)


# 40 customers. Numbers 1–23 have a consultation open now (할당 전 1–6, 대기 7–13,
# 상담 중 14–23); the others have only closed ones. Several have both.
# Every member is left room under both limits (R5: 5 waiting, R7: the center's 3 in progress): at most
# 2 in progress and 3 waiting each, so a newcomer who takes a new inquiry can answer it (README).
# fmt: off
CUSTOMERS = (
    # --- 할당 전 (unassigned) ---
    DemoCustomer(1, "하늘바라기", True, (
        _v("5d 10:05", "delivery", CLOSED_BY_AGENT, assignee="agent2"),
        _v("12m", "delivery", UNASSIGNED),
    )),
    DemoCustomer(
        2, "이서연", True,
        (
            _v("20d 14:00", "coupon", CLOSED_BY_AGENT, assignee="agent1", important=True),
            _v("9d 15:30", "refund", CLOSED_BY_AGENT, assignee="agent3"),
            _v("7m", "coupon", UNASSIGNED, important=True),
        ),
        nickname="VIP 이서연",
        memo="골드 등급 고객. 쿠폰 관련 불만 이력 있음 — 필요하면 적립금 보상 가능(매니저 승인).",
    ),
    DemoCustomer(3, "jun_lee", False, (_v("25m", "login", UNASSIGNED, seen_by=("manager",)),)),
    DemoCustomer(4, "민수아빠", True, (_v("41m", "order_change", UNASSIGNED, seen_by=("manager", "agent1")),)),
    DemoCustomer(5, "초코맘", True, (
        _v("330m", "delivery", CLOSED_BY_AGENT, assignee="agent2"),
        _v("3m", "exchange", UNASSIGNED),
    )),
    DemoCustomer(6, "Daniel Kim", False, (_v("18m", "stock", UNASSIGNED),)),
    # --- 대기 (waiting) ---
    DemoCustomer(
        7, "박준호", True,
        (
            _v("12d 11:00", "exchange", CUSTOMER_END, assignee="agent1"),
            _v("55m", "refund", WAITING, assignee="agent1"),
        ),
        nickname="박준호(사이즈 교환 잦음)",
        memo="사이즈 교환 요청이 잦음. 실측 사이즈표 먼저 안내하기.",
    ),
    DemoCustomer(8, "행복한하루", True, (_v("35m", "points", WAITING, assignee="agent2", assigned_by="manager"),)),
    DemoCustomer(9, "🌸지은🌸", True, (
        _v("1d 11:40", "delivery", IDLE, assignee="agent1"),
        _v("28m", "address", WAITING, assignee="agent2", important=True),
    )),
    DemoCustomer(10, "정우진", False, (
        _v("50m", "receipt", WAITING, assignee="agent1", assigned_by="manager", handover_to="agent3"),
    )),
    DemoCustomer(11, "여행가고싶다", True, (_v("22m", "gift", WAITING, assignee="manager"),)),
    DemoCustomer(
        12, "김하은", True,
        (
            _v("7d 09:30", "coupon", CUSTOMER_END, assignee="manager", important=True),
            _v("15m", "withdrawal", WAITING, assignee="master", important=True),
        ),
        memo="탈퇴 의사 있음. 남은 적립금 소멸 안내 필요.",
    ),
    DemoCustomer(13, "오늘도맑음", False, (_v("9m", "delay", WAITING, assignee="agent3", unread=True),)),
    # --- 상담 중 (in progress) ---
    DemoCustomer(14, "최민석", True, (
        _v("4d 13:10", "login", CHATBOT, assignee="agent3"),
        _v("110m", "delivery", IN_PROGRESS, assignee="manager", unread=True),
    )),
    DemoCustomer(15, "소연맘", True, (
        _v("80m", "refund", IN_PROGRESS, assignee="agent1", important=True, turns=2, unread=True),
    )),
    DemoCustomer(
        16, "이동현", True,
        (
            _v("8d 16:20", "points", IDLE, assignee="agent2"),
            _v("1d 15:10", "payment", IN_PROGRESS, assignee="agent1", hold="held"),
        ),
        nickname="이동현(이중결제)",
        memo="이중결제 건 결제대행사 확인 중. 결과 나오면 바로 연락하기로 함.",
    ),
    DemoCustomer(17, "윤서아", True, (
        _v("95m", "order_change", IN_PROGRESS, assignee="agent2", important=True, hold="held"),
    )),
    DemoCustomer(18, "꿀벌이", False, (
        _v("70m", "member_info", IN_PROGRESS, assignee="agent2", turns=2, unread=True),
    )),
    DemoCustomer(19, "강태호", True, (_v("130m", "damaged", IN_PROGRESS, assignee="agent3", hold="held"),)),
    DemoCustomer(20, "Grace", True, (
        _v("300m", "coupon", CUSTOMER_END, assignee="agent1"),
        _v("45m", "address", IN_PROGRESS, assignee="agent3", assigned_by="master", important=True),
    )),
    DemoCustomer(21, "서울사는곰", True, (
        _v("60m", "exchange", IN_PROGRESS, assignee="agent2", handover_to="manager", turns=2),
    )),
    DemoCustomer(
        22, "문지호", True,
        (
            _v("3d 10:30", "gift", CLOSED_BY_AGENT, assignee="master"),
            _v("75m", "points", IN_PROGRESS, assignee="master", important=True),
        ),
        memo="적립금 문의 자주 하심. 유효기간 안내 필수.",
    ),
    DemoCustomer(23, "송이", False, (_v("100m", "stock", IN_PROGRESS, assignee="master"),)),
    # --- closed only ---
    DemoCustomer(24, "박지민", True, (
        _v("19d 10:12", "delivery", CLOSED_BY_AGENT, assignee="agent1"),
        _v("9d 14:30", "coupon", CUSTOMER_END, assignee="agent2"),
    )),
    DemoCustomer(25, "고양이집사", True, (
        _v("18d 11:05", "payment", CLOSED_BY_AGENT, assignee="agent2", important=True, hold="held", hold_minutes=95),
    )),
    DemoCustomer(26, "최유리", False, (
        _v("17d 13:40", "order_change", IDLE, assignee="agent3"),
        _v("350m", "login", CLOSED_BY_AGENT, assignee="manager"),
    )),
    DemoCustomer(27, "한결같이", False, (_v("16d 15:20", "coupon", CHATBOT),)),
    DemoCustomer(
        28, "김태양", True,
        (
            _v("15d 10:30", "payment", CLOSED_BY_AGENT, assignee="manager", important=True, hold="kept",
               hold_minutes=150),
            _v("4d 16:00", "receipt", CLOSED_BY_AGENT, assignee="agent1"),
        ),
        nickname="김태양 사장님",
        memo="법인 구매 담당. 주문마다 세금계산서 발행 필요(사업자번호 123-45-67890).",
    ),
    DemoCustomer(29, "나무늘보", True, (_v("14d 14:15", "login", CUSTOMER_END, assignee="agent1"),)),
    DemoCustomer(30, "이지훈", False, (_v("13d 11:45", "exchange", CHATBOT, assignee="agent2"),)),
    DemoCustomer(31, "서윤", True, (
        _v("12d 16:10", "points", IDLE, assignee="agent3", important=True),
        _v("240m", "stock", IDLE, assignee="agent3"),
    )),
    DemoCustomer(32, "Mina Park", True, (_v("11d 09:50", "address", CLOSED_BY_AGENT, assignee="master"),)),
    DemoCustomer(33, "도토리", True, (_v("10d 13:25", "gift", IDLE, assignee="agent1"),)),
    DemoCustomer(
        34, "정은비", True,
        (
            _v("8d 10:40", "withdrawal", CLOSED_BY_AGENT, assignee="agent2", assigned_by="manager"),
            _v("2d 11:20", "delivery", CUSTOMER_END, assignee="agent3"),
        ),
        memo="탈퇴 문의 후 재구매. 친절 응대 요망.",
    ),
    DemoCustomer(35, "바다가좋아", True, (
        _v("7d 15:35", "damaged", CLOSED_BY_AGENT, assignee="agent3", hold="kept", hold_minutes=70,
           closed_by="master"),
    )),
    DemoCustomer(36, "양현우", False, (_v("6d 12:05", "stock", CUSTOMER_END),)),
    DemoCustomer(37, "라떼한잔", True, (
        _v("3d 14:50", "delay", CHATBOT, assignee="agent1", turns=1),
        _v("1d 10:15", "coupon", IDLE, assignee="agent2"),
    )),
    DemoCustomer(
        38, "💰대박기회💰", False,
        (_v("5d 09:20", "gambling_spam", BLOCKED,
            block=("gambling", "manager", "도박 사이트 홍보 메시지 반복 전송. 카카오팀 신고 대상.")),),
        nickname="도박 스팸",
    ),
    DemoCustomer(
        39, "ㅇㅇ", True,
        (_v("2d 15:40", "abuse", BLOCKED, assignee="agent2",
            block=("abuse", "agent2", "상담직원에게 반복적으로 욕설. 경고 후 차단.")),),
        nickname="욕설 고객",
        memo="2차례 경고 후에도 욕설을 이어가 차단함. 차단 해제는 매니저와 상의.",
    ),
    DemoCustomer(
        40, "홍보왕", True,
        (
            _v("15d 16:30", "promotion_spam", BLOCKED, assignee="agent3",
               block=("promotion", "agent3", "팔로워 판매 광고 메시지.")),
            _v("6d 11:10", "after_unblock", CLOSED_BY_AGENT, assignee="agent1"),
        ),
        memo="계정 도용으로 광고가 발송되었다고 본인 확인됨. 김마스터가 차단 해제함.",
        unblock=("14d 10:00", "master"),
    ),
)
# fmt: on

# --- history: three months of everyday consultations, so that 통계 (SPEC §6) has figures at once ---
#
# Besides the stories above, every past day of the last HISTORY_DAYS gets ordinary consultations from
# a pool of regular customers: a short dialogue, answered by whoever has room, closed in one of the
# usual ways. Past days only, within office hours (they end before 18:00, like the stories' past-day
# visits), so the plan is the same whatever hour the command runs at.
HISTORY_DAYS = 92  # stats.rollup.RANGE_DAYS: the statistics' whole range, up to yesterday
HISTORY_SEED = 20240612  # its own generator: the stories' timings stay as they were
HISTORY_CUSTOMERS = 600  # ~1,500 consultations from 600 customers: many come back
# Inbound on a weekday grows linearly from the first figure (oldest day) to the second (yesterday);
# each weekday (Monday first) scales it, a little noise is added, and the result stays within the bounds.
HISTORY_WEEKDAY_INBOUND = (14, 23)
HISTORY_DAY_FACTORS = (1.15, 1.05, 1.0, 1.0, 0.9, 0.5, 0.4)
HISTORY_INBOUND_BOUNDS = (8, 30)
# When requests arrive: the weight of each starting hour (a request at 16:59 is still done before 18:00).
# On each past day but yesterday, this is the chance of one more request after 18:00: nobody answers it
# and the customer gives up the next morning, so that day's 당일 상담완료율 is under 100 %.
HISTORY_AFTER_HOURS = 0.4
HISTORY_HOURS = {9: 5, 10: 10, 11: 9, 12: 4, 13: 7, 14: 10, 15: 9, 16: 6}
# Who answers, by weight, among those with room under the limits (R5, R7) at the time.
HISTORY_ASSIGNEES = {"agent1": 3, "agent2": 3, "agent3": 3, "manager": 1}
HISTORY_ASSIGNED_BY = "manager"  # assigns one consultation in ten (담당자 변경); the others are taken (나에게 할당)
NOT_ANSWERED = "not_answered"  # the customer gives up before anyone answers: !종료 or the chatbot
HISTORY_OUTCOMES = {CLOSED_BY_AGENT: 62, CUSTOMER_END: 11, IDLE: 12, CHATBOT: 7, NOT_ANSWERED: 8}
# Minutes from the first answer to the close (평균 대화시간): (low, high, most likely).
HISTORY_CONVERSATION_MINUTES = (5, 40, 11)

HISTORY_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
HISTORY_GIVEN_NAMES = (
    "민준", "서연", "도윤", "하은", "시우", "지우", "주원", "서윤", "예준", "지호", "하준", "수아", "은우", "지아",
    "유준", "채원", "건우", "다은", "현우", "예린", "태윤", "소율", "준서", "나연", "승민", "유나", "재원", "가은",
)  # fmt: skip
HISTORY_NICKNAMES = (
    "달빛소녀", "커피중독", "주말엔등산", "새벽배송러", "고양이두마리", "초보엄마", "운동하는직장인", "행복한쇼핑",
    "민트초코", "퇴근하고싶다", "봄날의곰", "책읽는밤", "캠핑가자", "단골손님", "바다소리", "해피바이러스",
)  # fmt: skip

# Short everyday dialogues: the customer's opening lines, the answer, the customer's reply. The command
# adds how it ends (a closing line, a follow-up left unanswered, !종료, the chatbot).
HISTORY_DIALOGUES: tuple[tuple[tuple[str, str], ...], ...] = (
    (
        ("c", "주문한 상품 언제 도착하나요?"),
        ("c", "주문번호 {order}입니다"),
        ("a", "안녕하세요, {agent}입니다. 오늘 오전에 출고되어 내일 도착 예정입니다. 송장번호는 {invoice}입니다."),
        ("c", "네 감사합니다!"),
    ),
    (
        ("c", "반품하고 싶은데 어떻게 하나요?"),
        ("a", "안녕하세요, {agent}입니다. 마이페이지 > 주문내역에서 '반품 신청'을 눌러 주세요."),
        ("a", "신청하시면 2~3일 안에 회수 기사님이 방문합니다."),
        ("c", "아 찾았어요. 신청했습니다"),
    ),
    (
        ("c", "슬랙스 사이즈 문의드려요. 평소 28 입는데 M이 맞을까요?"),
        ("a", "안녕하세요, {agent}입니다. 이 상품의 M은 허리 29~30이라 S(27~28)를 권해 드려요."),
        ("c", "그럼 S로 주문할게요"),
    ),
    (
        ("c", "생일 쿠폰은 언제 들어오나요?"),
        ("a", "안녕하세요, {agent}입니다. 생일 쿠폰은 생일 7일 전에 발급되고 30일 동안 쓰실 수 있습니다."),
        ("c", "아하 알겠습니다"),
    ),
    (
        ("c", "무통장으로 입금했는데 아직 입금 확인 중이라고 나와요"),
        ("c", "주문번호 {order}입니다"),
        ("a", "안녕하세요, {agent}입니다. 방금 입금이 확인되어 결제 완료로 바뀌었습니다. 오늘 출고 예정입니다."),
        ("c", "빠른 확인 감사합니다"),
    ),
    (
        ("c", "구매 적립금은 언제 들어와요?"),
        ("a", "안녕하세요, {agent}입니다. 구매 확정 다음 날 지급됩니다. 배송 완료 7일 뒤에 자동으로 구매 확정돼요."),
        ("c", "네 확인했어요"),
    ),
    (
        ("c", "주문 취소 가능한가요? {order}"),
        ("a", "안녕하세요, {agent}입니다. 아직 출고 전이라 바로 취소해 드렸습니다."),
        ("a", "카드 승인은 2~3영업일 안에 취소됩니다."),
        ("c", "감사합니다~"),
    ),
    (
        ("c", "니트 소매에 올이 풀려서 왔어요"),
        ("c", "교환 가능할까요?"),
        ("a", "안녕하세요, {agent}입니다. 불편을 드려 죄송합니다. 무료 교환으로 접수해 드렸습니다."),
        ("a", "2~3일 안에 회수 기사님이 방문하시니 받으신 상품을 전달해 주세요."),
        ("c", "네 감사해요"),
    ),
    (
        ("c", "베이지 가디건 재입고 예정 있나요?"),
        ("a", "안녕하세요, {agent}입니다. 다음 주 금요일 입고 예정이에요. 상품 페이지에서 재입고 알림을 신청하세요."),
        ("c", "알림 신청했어요!"),
    ),
    (
        ("c", "선물 포장도 되나요?"),
        ("a", "안녕하세요, {agent}입니다. 주문서에서 '선물 포장'을 고르시면 2,000원에 포장해 드립니다."),
        ("c", "좋네요 그렇게 할게요"),
    ),
    (
        ("c", "배송지를 바꾸고 싶어요. 주문번호 {order}"),
        ("a", "안녕하세요, {agent}입니다. 출고 전이라 변경할 수 있습니다. 새 주소를 알려주세요."),
        ("c", "경기도 성남시 분당구 판교역로 100, 3층이요"),
    ),
    (
        ("c", "카드 영수증은 어디서 출력하나요?"),
        ("a", "안녕하세요, {agent}입니다. 마이페이지 > 주문내역 > 주문 상세에서 '영수증 출력'을 누르시면 됩니다."),
        ("c", "찾았어요 감사합니다"),
    ),
    (
        ("c", "무료배송 기준이 얼마예요?"),
        ("a", "안녕하세요, {agent}입니다. 30,000원 이상 구매하시면 무료 배송이고, 도서산간은 3,000원이 추가됩니다."),
        ("c", "아 네 알겠습니다"),
    ),
    (
        ("c", "회원 등급은 언제 올라가요?"),
        ("a", "안녕하세요, {agent}입니다. 매월 1일에 지난 6개월 구매 금액으로 다시 정해집니다."),
        ("a", "지금은 실버 등급이고, 골드까지 42,000원 남으셨어요."),
        ("c", "오 얼마 안 남았네요 ㅎㅎ"),
    ),
    (
        ("c", "비밀번호를 잊어버렸어요"),
        ("a", "안녕하세요, {agent}입니다. 로그인 화면의 '비밀번호 찾기'에서 휴대폰 인증 후 새로 정하실 수 있습니다."),
        ("c", "됐어요 감사합니다"),
    ),
    (
        ("c", "배송 완료로 나오는데 물건이 없어요"),
        ("c", "주문번호는 {order}예요"),
        ("a", "안녕하세요, {agent}입니다. 택배 기사님께 확인해 보니 경비실에 맡기셨다고 합니다."),
        ("c", "아 경비실에 있네요! 감사합니다"),
    ),
)  # fmt: skip
FOLLOW_UP_LINES = (
    "혹시 더 궁금하신 점 있으실까요?",
    "처리되었는지 확인 부탁드립니다. 추가 문의 있으시면 말씀해 주세요.",
    "다른 도움이 필요하시면 편하게 말씀해 주세요.",
)

# The Q&A base and reply templates of the demo center (SPEC §3 즐겨찾기).
QNAS = [
    (
        "환불은 언제 되나요?",
        "반품 상품이 물류센터에 도착해 검수가 끝나면 환불이 진행됩니다.\n"
        "카드 결제는 카드사 기준 3~5영업일 안에 승인 취소되고, 무통장 입금은 1~2영업일 안에 환불 계좌로 입금됩니다.",
        "환불, 카드취소, 입금, 반품",
    ),
    (
        "반품 배송비는 얼마인가요?",
        "단순 변심 반품은 왕복 배송비 6,000원을 제외하고 환불됩니다. 상품 불량이나 오배송은 무료로 회수해 드립니다.",
        "반품, 배송비, 환불, 단순변심",
    ),
    (
        "부분 환불이 가능한가요?",
        "여러 상품을 함께 주문하셨다면 일부 상품만 반품하고 그 금액만 환불받으실 수 있습니다. "
        "쿠폰을 사용한 주문은 쿠폰 할인액이 상품별로 나뉘어 차감됩니다.",
        "환불, 부분취소, 쿠폰",
    ),
    (
        "교환은 어떻게 신청하나요?",
        "마이페이지 > 주문내역에서 교환 신청을 눌러 주세요. 같은 상품의 다른 사이즈·색상으로만 교환할 수 있으며, "
        "회수 후 1~2일 안에 새 상품을 보내 드립니다.",
        "교환, 사이즈, 색상",
    ),
    (
        "배송은 얼마나 걸리나요?",
        "평일 오후 2시 이전 결제 주문은 당일 출고되며, 출고 후 1~2일 안에 받으실 수 있습니다. "
        "도서산간은 1~2일 더 걸립니다.",
        "배송, 출고, 도착",
    ),
    (
        "적립금 유효기간이 있나요?",
        "적립금은 지급일로부터 1년 동안 사용할 수 있습니다. 소멸 7일 전에 카카오톡 알림으로 안내해 드립니다.",
        "적립금, 포인트, 유효기간, 소멸",
    ),
]
TEMPLATES = [
    ("첫 인사", "안녕하세요, 데모 상담센터입니다. 무엇을 도와드릴까요?"),
    ("주문번호 요청", "확인을 위해 주문번호(DM으로 시작하는 8자리 숫자)를 알려주시겠어요?"),
    ("확인 중 안내", "확인에 시간이 조금 걸립니다. 확인되는 대로 바로 안내드리겠습니다. 잠시만 기다려 주세요."),
    ("상담 종료 인사", "문의해 주셔서 감사합니다. 추가 문의는 언제든 채팅 남겨 주세요. 좋은 하루 보내세요!"),
]
