"""The Django admin looks like the console and speaks the member's language, Korean or English, throughout.

Covers templates/admin/base_site.html, static/css/admin.css, the admin titles in
counsel_center/urls.py and the Django strings our catalogue translates
(counsel_center/django_strings.py).
"""

import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from consultations.models import QnA
from counsel_center.django_strings import UNTRANSLATED_IN_DJANGO_KO

KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _text(html: str) -> str:
    """The visible text of an HTML fragment, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _part(html: str, pattern: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found, f"not in the page: {pattern}"
    return found.group(1)


def _chrome(html: str) -> dict[str, str]:
    """The admin's own words on a page: everything but the rows of data."""
    parts = {
        "title": _part(html, r"<title>(.*?)</title>"),
        "header": _part(html, r'<header id="header">(.*?)</header>'),
        "breadcrumbs": _part(html, r'<ol class="breadcrumbs">(.*?)</ol>'),
        "sidebar": _part(html, r'<nav class="sticky" id="nav-sidebar"[^>]*>(.*?)</nav>'),
    }
    actions = re.search(r'<div class="actions">(.*?)</div>', html, re.S)
    if actions:
        parts["actions"] = actions.group(1)
    filters = re.search(r'<search id="changelist-filter"[^>]*>(.*?)</search>', html, re.S)
    if filters:
        parts["filters"] = filters.group(1)
    return {name: _text(part) for name, part in parts.items()}


def _first_action_option(html: str) -> str:
    select = _part(html, r'<select name="action"[^>]*>(.*?)</select>')
    return _text(_part(select, r"<option[^>]*>(.*?)</option>"))


@pytest.fixture
def master_client(client, master):
    client.force_login(master.user)
    return client


@pytest.fixture
def qna(center):
    return QnA.objects.create(center=center, question="환불은 언제 되나요?", answer="3~5영업일", keywords="환불")


def test_the_index_in_korean_has_the_korean_header_and_a_link_back_to_the_console(master_client):
    response = master_client.get(reverse("admin:index"), **KO)

    html = response.content.decode()
    assert '<div id="site-name"><a href="/admin/">상담 관리자센터</a></div>' in html
    assert "<title>센터 관리 | 상담 관리자센터</title>" in html
    assert "<h1>센터 관리</h1>" in html
    assert f'<a class="console-link" href="{reverse("console")}">상담 화면으로</a>' in html
    assert "English" in _text(_part(html, r'<header id="header">(.*?)</header>'))  # the language switch
    assert "사이트 보기" not in html  # "View site": the console link replaces it


def test_the_index_in_english_has_the_english_header_and_no_korean_in_its_chrome(master_client):
    response = master_client.get(reverse("admin:index"), **EN)

    html = response.content.decode()
    assert '<div id="site-name"><a href="/admin/">Consultation Admin Center</a></div>' in html
    assert "<title>Center administration | Consultation Admin Center</title>" in html
    assert f'<a class="console-link" href="{reverse("console")}">Back to the console</a>' in html
    header = _text(_part(html, r'<header id="header">(.*?)</header>'))
    assert HANGUL.findall(header.replace("한국어", "")) == []  # the switch names Korean in Korean
    assert HANGUL.findall(_text(_part(html, r'<div id="content-main"[^>]*>(.*?)<div id="content-related">'))) == []


def test_every_admin_page_links_the_consoles_stylesheet_after_the_admins(master_client):
    html = master_client.get(reverse("admin:index"), **KO).content.decode()

    assert '<link rel="stylesheet" href="/static/css/admin.css">' in html
    assert html.index("admin/css/base.css") < html.index("css/admin.css")
    assert html.index("admin/css/dark_mode.css") < html.index("css/admin.css")  # ours wins in dark mode too


def test_the_changelist_in_korean_offers_its_actions_in_korean(master_client, qna):
    html = master_client.get(reverse("admin:consultations_qna_changelist"), **KO).content.decode()

    assert _first_action_option(html) == "- 선택하세요 -"
    chrome = _chrome(html)
    assert chrome["breadcrumbs"] == "홈 상담 Q&A"
    assert chrome["actions"].startswith("액션: - 선택하세요 - 선택된 Q&A 삭제 실행")
    assert "활성(으)로" in chrome["filters"]


def test_the_changelist_in_english_shows_no_korean_outside_its_rows(master_client, qna):
    html = master_client.get(reverse("admin:consultations_qna_changelist"), **EN).content.decode()

    assert _first_action_option(html) == "- Select an option -"
    chrome = _chrome(html)
    assert chrome["breadcrumbs"] == "Home Consultations Q&A"
    assert chrome["title"] == "Select Q&A to change | Consultation Admin Center"
    assert "Delete selected Q&A" in chrome["actions"]
    assert "By active" in chrome["filters"]
    for name, text in chrome.items():
        if name == "header":
            text = text.replace("한국어", "")  # the language switch names Korean in Korean
        assert HANGUL.findall(text) == [], f"Korean in the English {name}: {text}"


def test_the_members_list_names_its_username_column_in_both_languages(master_client):
    url = reverse("admin:counsel_center_member_changelist")

    korean = master_client.get(url, **KO).content.decode()
    english = master_client.get(url, **EN).content.decode()

    assert _text(_part(korean, r'<th scope="col" class="sortable column-username">(.*?)</th>')) == "아이디"
    assert _text(_part(english, r'<th scope="col" class="sortable column-username">(.*?)</th>')) == "Username"


def test_our_catalogue_translates_the_django_strings_djangos_own_korean_catalogue_lacks():
    # LOCALE_PATHS wins over Django's catalogue for the same msgid (Django's documented order).
    with translation.override("ko"):
        translated = {msgid: translation.gettext(msgid) for msgid in UNTRANSLATED_IN_DJANGO_KO}
    assert translated == {"- Select an option -": "- 선택하세요 -"}
