"""The top bar's links by role, and which one is the current section (aria-current)."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def topbar_links(html: str) -> list[tuple[str, bool]]:
    """(label, is current) of each top-bar link, in order."""
    nav = re.search(r'<nav class="topbar-nav".*?</nav>', html, re.S).group(0)
    return [
        (label, "aria-current" in attrs)
        for attrs, label in re.findall(r'<a class="topbar-link" ([^>]*)>([^<]+)</a>', nav)
    ]


@pytest.mark.parametrize(
    ("fixture", "labels"),
    [
        ("agent", ["상담"]),
        ("plain_manager", ["상담", "차단고객관리", "설정"]),
        ("manager", ["상담", "통계", "차단고객관리", "설정"]),
        ("master", ["상담", "통계", "차단고객관리", "설정"]),
    ],
)
def test_each_role_sees_the_links_it_may_use(request, as_member, fixture, labels):
    client = as_member(request.getfixturevalue(fixture))

    links = topbar_links(client.get(reverse("console")).content.decode())

    assert [label for label, _ in links] == labels
    assert [label for label, current in links if current] == ["상담"]


@pytest.mark.parametrize(
    ("url", "current"),
    [
        ("/settings/", "설정"),
        ("/settings/members/", "설정"),
        ("/settings/qna/", "설정"),
        ("/settings/templates/add/", "설정"),
        ("/stats/", "통계"),
        ("/blocked/", "차단고객관리"),
    ],
)
def test_the_current_section_is_marked(as_member, master, url, current):
    html = as_member(master).get(url).content.decode()

    assert [label for label, is_current in topbar_links(html) if is_current] == [current]


def test_the_settings_menu_marks_its_page_and_links_to_the_django_admin(as_member, master):
    html = as_member(master).get(reverse("settings:members")).content.decode()

    nav = re.search(r'<nav class="settings-nav".*?</nav>', html, re.S).group(0)
    assert re.findall(r">([^<>]+)</a>", nav)[:4] == ["센터 설정", "구성원", "Q&A", "템플릿"]
    assert re.search(r'href="/settings/members/" aria-current="page">구성원<', nav)
    assert 'href="/admin/"' in nav and "관리자 화면" in nav


def test_the_pages_speak_english_when_asked(as_member, master):
    client = as_member(master)
    client.post(reverse("set_language"), {"language": "en", "next": "/settings/"})

    html = client.get(reverse("settings:center")).content.decode()

    assert [label for label, _ in topbar_links(html)] == [
        "Consultations",
        "Statistics",
        "Blocked customers",
        "Settings",
    ]
    assert "Center settings" in html and "Operating switch" in html
