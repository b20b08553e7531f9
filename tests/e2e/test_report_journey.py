"""A violation report (Art. 27) through the portal: a member of the public reports without logging in and keeps
the receipt token; the bureau reads who reported (no one else can), opens an investigation with feedback, is
refused when it tries to close without any, and closes with its findings; the reporter follows all of it with
the token and never sees anything of who reported. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Portal

Login = Callable[[Any, str], None]
Shot = Callable[[Any, str], Path]

SUBJECT = "某光伏项目发电量数据疑似造假"
REPORTER = "王某某"
CONTACT = "wang@example.cn"


def drawn(page: Any, hash_path: str) -> None:
    """Open a portal page afresh (a reload: going to the hash a page is already on draws nothing new) and
    wait until it has drawn."""
    page.goto(f"/portal/#/{hash_path}")
    page.reload()
    page.locator(f"main[data-page='{hash_path.split('/')[0]}'][data-ready]").wait_for()


def follow(page: Any, token: str) -> Any:
    """The reporter's view of the report, by receipt token."""
    drawn(page, f"report-status/{token}")
    return page.locator("#view")


def handle(bureau: Any, feedback: str, status: str) -> None:
    """The bureau moves the report on with feedback and waits for its page to show the result."""
    card = bureau.locator("section[data-report]", has_text=SUBJECT)
    card.locator("textarea").fill(feedback)
    card.locator(f"button[data-action={status}]").click()
    expect(card.locator(".notice")).to_contain_text("已更新")
    drawn(bureau, "reports")


def test_a_report_is_lodged_handled_by_the_bureau_and_followed_by_its_reporter(
        portal: Portal, new_page: Callable[[], Any], login: Login, shot: Shot) -> None:
    public = new_page()
    drawn(public, "report")
    public.locator("input[name=reporter_name]").fill(REPORTER)
    public.locator("input[name=reporter_contact]").fill(CONTACT)
    public.locator("input[name=subject]").fill(SUBJECT)
    public.locator("textarea[name=details]").fill("2026 年 10 月的逆变器读数与并网电表读数相差三成。")
    public.get_by_role("button", name="提交举报").click()
    token = public.locator("#receipt-token").inner_text().strip()
    assert len(token) >= 16
    shot(public, "report-receipt")
    view = follow(public, token)
    expect(view).to_contain_text(SUBJECT)
    expect(view).to_contain_text("已受理")

    bureau = new_page()
    login(bureau, "bureau")
    expect(bureau.locator("#nav")).to_contain_text("举报处理")
    drawn(bureau, "reports")
    card = bureau.locator("section[data-report]", has_text=SUBJECT)
    expect(card).to_contain_text(REPORTER)  # the bureau alone sees who reported
    expect(card).to_contain_text(CONTACT)
    shot(bureau, "bureau-reports")
    # Closing without feedback is refused with the article's rule; nothing changes.
    card.locator("button[data-action=closed]").click()
    expect(card).to_contain_text("JX-27")
    expect(card).to_contain_text("办结举报须向举报人反馈处理结果")
    handle(bureau, "已立案调查，调取了并网电表记录。", "investigating")
    card = bureau.locator("section[data-report]", has_text=SUBJECT)
    expect(card).to_contain_text("调查中")
    expect(card).to_contain_text("已立案调查")
    view = follow(public, token)
    expect(view).to_contain_text("调查中")
    expect(view).to_contain_text("已立案调查，调取了并网电表记录。")

    handle(bureau, "经核实数据不实，已依第二十六条收回相关减排量并取消业主资格。", "closed")
    expect(bureau.locator("section[data-report]", has_text=SUBJECT)).to_have_count(0)
    expect(bureau.locator("table")).to_contain_text(SUBJECT)  # among the closed
    shot(bureau, "bureau-reports-closed")

    view = follow(public, token)
    expect(view).to_contain_text("已办结")
    expect(view).to_contain_text("经核实数据不实")
    expect(view).not_to_contain_text(REPORTER)
    expect(view).not_to_contain_text(CONTACT)
    shot(public, "report-followed")

    owner = new_page()  # anyone but the bureau: neither the menu entry nor the page
    login(owner, "owner")
    expect(owner.locator("#nav")).not_to_contain_text("举报处理")
    drawn(owner, "reports")
    expect(owner.locator("#view")).to_contain_text("无权访问")
    expect(owner.locator("#view")).not_to_contain_text(SUBJECT)
