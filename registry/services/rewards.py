"""The reward shelf (权益兑换): offers with stock from an operator or the bureau, and residents' redemptions.
A redemption takes one of the offer's stock with a conditional UPDATE (never below zero, whatever the number
of residents at once) and the resident's points through the points ledger, in one transaction."""

from __future__ import annotations

from registry.errors import Forbidden, NotFound, RuleViolation
from registry.orm import Redemption, RewardOffer
from registry.principals import Principal
from registry.repositories import points as repo
from registry.services import points
from registry.unit_of_work import UnitOfWork
from rules import points as rules


def add_offer(uow: UnitOfWork, principal: Principal, *, title_zh: str, title_en: str, points_cost: int,
              stock: int) -> RewardOffer:
    """An operator (of a scenario) or the bureau puts an offer on the shelf."""
    if not principal.has("bureau") and not repo.scenarios(uow.session,
                                                          operator_participant_id=principal.participant_id):
        raise Forbidden("Only the bureau or a scenario's operator offers rewards.",
                        "只有生态环境局或场景运营方可以提供权益。")
    offer = RewardOffer(provider_participant_id=principal.participant_id, title_zh=title_zh, title_en=title_en,
                        points_cost=points_cost, stock=stock, active=True, created_at=uow.now())
    uow.session.add(offer)
    uow.session.flush()
    uow.audit("reward.offered", "reward_offer", offer.id, {"points_cost": points_cost, "stock": stock})
    uow.commit()
    return offer


def shelf(uow: UnitOfWork) -> list[RewardOffer]:
    return repo.offers(uow.session)


def redeem(uow: UnitOfWork, principal: Principal, offer_id: int) -> Redemption:
    """The resident redeems one of the offer for its points."""
    account = points.my_account(uow, principal, for_update=True)
    offer = repo.offer(uow.session, offer_id)
    if offer is None or not offer.active:
        raise NotFound(f"Offer {offer_id} not found.", f"未找到权益 {offer_id}。")
    cost = offer.points_cost
    if not repo.take_stock(uow.session, offer.id):
        raise RuleViolation([points.violation(rules.SOLD_OUT, "offer_id")])
    entry_id = points.spend(uow, account.id, cost, "redeemed", "redeemed", f"offer {offer.id}")
    redemption = Redemption(offer_id=offer.id, account_id=account.id, points=cost, entry_id=entry_id,
                            created_at=uow.now())
    uow.session.add(redemption)
    uow.session.flush()
    uow.audit("reward.redeemed", "reward_offer", offer.id, {"account_id": account.id, "points": cost})
    uow.commit()
    return redemption
