"""An owner's journey through the portal, as people would click it: the mill files the second half of 2025 with
the live calculation table and its report, commissions the verifier, who signs a statement; the mill applies
with the Art. 16 documents; the certification center and the bureau approve, the notice runs its course, the
bureau registers and issues; the mill sees the new serial block and the public sees the issuance. On the way,
a refusal shows its rule code, and the English switch works. Screenshots of the owner, review and public pages
go to artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Portal

Login = Callable[[Any, str], None]
Shot = Callable[[Any, str], Path]

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
MILL_PROJECT = "JXP-330481"  # the mill's rooftop PV (demo data)


def pdf(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF + name.encode()}


def choose(select: Any, text: str) -> None:
    """Select the option whose label contains `text`."""
    select.select_option(select.locator("option", has_text=text).first.get_attribute("value"))


def drawn(page: Any, hash_path: str) -> None:
    """Open a portal page and wait until it has drawn (the router marks the view ready)."""
    page.goto(f"/portal/#/{hash_path}")
    page.locator(f"main[data-page='{hash_path.split('/')[0]}'][data-ready]").wait_for()


def review_step(page: Any, filing_id: str, action: str, comment: str) -> None:
    """Open the filing from the review queue and take one step with a comment."""
    page.goto("/portal/#/review")
    page.locator(f"a[href='#/review/filing/{filing_id}']").first.click()
    expect(page.locator(".trace")).to_be_visible()  # the calculation trace beside the documents
    page.locator("#review-comment").fill(comment)
    page.locator(f"button[data-action={action}]").click()
    expect(page.locator("#review-actions .notice")).to_be_visible()


def test_owner_files_and_the_bureau_issues(portal: Portal, new_page: Callable[[], Any], login: Login,
                                          shot: Shot) -> None:
    owner = new_page()
    login(owner, "owner")
    shot(owner, "owner-home")
    drawn(owner, "my-projects")
    expect(owner.locator("table")).to_contain_text(MILL_PROJECT)
    shot(owner, "owner-projects")

    # The filing form: the calculation table runs live with the parameters of the period's start.
    owner.goto("/portal/#/filing-new")
    choose(owner.locator("select[name=project_id]"), MILL_PROJECT)
    owner.locator("input[name=monitoring_start]").fill("2025-07-01")
    owner.locator("input[name=monitoring_end]").fill("2025-12-31")
    owner.locator("input[name=net_generation_mwh]").fill("1000")
    expect(owner.locator(".calc-result")).to_contain_text("570.3")  # 1,000 MWh × 0.5703 (2022 grid factor)
    expect(owner.locator(".trace")).to_contain_text("EF_GRID_CN")
    owner.locator("input[name=report]").set_input_files(pdf("report.pdf"))
    shot(owner, "owner-filing-form")
    owner.locator("form button[type=submit]").click()
    owner.wait_for_url(re.compile(r"#/my-filings/\d+$"))
    filing_id = owner.url.rsplit("/", 1)[1]
    expect(owner.locator("h1")).to_contain_text("草稿")
    expect(owner.locator(".notice")).to_contain_text("委托")  # what is missing: a verifier

    # Commissioning the verifier moves the filing on; the verifier signs a statement with a lower quantity.
    choose(owner.locator("select[name=verifier_participant_id]"), "认证")
    owner.locator("#commission button[type=submit]").click()
    expect(owner.locator("h1")).to_contain_text("已委托核证")
    verifier = new_page()
    login(verifier, "verifier")
    verifier.goto("/portal/#/review")
    verifier.locator(f"a[href='#/review/filing/{filing_id}']").first.click()
    form = verifier.locator("#verification")
    form.locator("input[name=verified_tco2e]").fill("560.0")
    form.locator("input[name=statement]").set_input_files(pdf("statement.pdf"))
    form.locator("button[type=submit]").click()
    # Below the claim without reasons is refused, with the rule's code.
    expect(form.locator(".problem")).to_contain_text("JX-")
    form.locator("textarea[name=reason]").fill("扣除厂区自用电量 / own consumption deducted")
    form.locator("button[type=submit]").click()
    expect(form.locator(".notice")).to_be_visible()

    # The owner applies with the three Art. 16 documents.
    owner.goto(f"/portal/#/my-filings/{filing_id}")
    owner.reload()
    apply = owner.locator("#apply")
    for kind in ("application_letter", "application_form", "supporting_evidence"):
        apply.locator(f"input[name={kind}]").set_input_files(pdf(f"{kind}.pdf"))
    shot(owner, "owner-filing-apply")
    apply.locator("button[type=submit]").click()
    expect(apply.locator(".notice")).to_contain_text("JXF-")
    owner.wait_for_timeout(800)
    expect(owner.locator("h1")).to_contain_text("已提交")
    drawn(owner, "my-filings")
    expect(owner.locator("table")).to_contain_text("等待核证中心审核")
    shot(owner, "owner-filings")

    # The certification center approves, the bureau approves and the notice starts.
    center = new_page()
    login(center, "center")
    drawn(center, "review")
    expect(center.locator(f"a[href='#/review/filing/{filing_id}']").first).to_be_visible()
    shot(center, "review-queue-center")
    review_step(center, filing_id, "center_approve", "核算与核证材料齐全 / complete")
    bureau = new_page()
    login(bureau, "bureau")
    drawn(bureau, f"review/filing/{filing_id}")
    expect(bureau.locator(".trace")).to_be_visible()
    shot(bureau, "review-filing-bureau")
    review_step(bureau, filing_id, "bureau_approve", "同意公示 / notice")
    anyone = new_page()
    drawn(anyone, "notices")
    expect(anyone.locator("table").first).to_contain_text("560")
    shot(anyone, "public-notices")

    # Registering before the notice ends is refused with the flow's code and the first day it may; after the
    # notice, the bureau registers.
    bureau.goto(f"/portal/#/review/filing/{filing_id}")
    bureau.locator("#review-comment").fill("公示期满 / notice over")
    bureau.locator("button[data-action=register]").click()
    refusal = bureau.locator("#review-actions .problem")
    expect(refusal.locator("code.rule")).to_have_text("FLOW")
    expect(refusal).to_contain_text("2026-12-01")
    portal.clock.advance(timedelta(days=8))
    login(bureau, "bureau")  # a week later: the morning's token has expired
    review_step(bureau, filing_id, "register", "公示期满无异议 / no objection")
    review_step(bureau, filing_id, "issue", "签发 / issue")
    bureau.goto(f"/portal/#/review/filing/{filing_id}")
    expect(bureau.locator("h1")).to_contain_text("已签发")

    # The mill holds the new block (560 t, whole tonnes); the public sees the issuance and its serials.
    login(owner, "owner")
    drawn(owner, "holdings")
    expect(owner.locator("main")).to_contain_text("560 tCO2e")
    shot(owner, "owner-holdings")
    drawn(anyone, "issuances")
    expect(anyone.locator("table")).to_contain_text("560 tCO2e")
    shot(anyone, "public-issuances")
    anyone.locator(".lang-switch").click()
    expect(anyone.locator("h1")).to_contain_text("Issuances")
    expect(anyone.locator("table")).to_contain_text("2025-07-01 ~ 2025-12-31")
