"""Report figures from summed counters and the campaigns' definitions: rates, cost per response,
ROI, the roll-up through the CRM hierarchy, and the funnel's conversions. Pure arithmetic in
``Decimal``, so money never picks up binary-float noise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise
from typing import TYPE_CHECKING

from leadflow.domain.aggregates import STAGES

if TYPE_CHECKING:
    from leadflow.definitions.campaigns import Campaign

RATE = Decimal("0.0001")
MONEY = Decimal("0.01")
MAX_WINDOW_DAYS = 400
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """A campaign's counters summed over their shards (never below zero: events of one member
    may arrive out of order, and a removal counted before its add is made up when it lands).
    ``responded`` is not stored: :meth:`responding` sums the statuses that count as responded."""

    members: int = 0
    responded: int = 0
    statuses: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: CampaignCounts) -> CampaignCounts:
        statuses = dict(self.statuses)
        for name, count in other.statuses.items():
            statuses[name] = statuses.get(name, 0) + count
        return CampaignCounts(self.members + other.members, self.responded + other.responded, statuses)

    def responding(self, responded_statuses: Iterable[str]) -> CampaignCounts:
        """These counts with ``responded``: the members now in a status the campaign marks
        ``responded`` (as a CRM counts responses)."""
        responded = sum(max(0, self.statuses.get(name, 0)) for name in set(responded_statuses))
        return CampaignCounts(self.members, responded, self.statuses)

    def clamped(self) -> CampaignCounts:
        return CampaignCounts(
            max(0, self.members),
            max(0, self.responded),
            {name: max(0, count) for name, count in self.statuses.items()},
        )


@dataclass(frozen=True, slots=True)
class Money:
    budgeted_cost: Decimal | None = None
    actual_cost: Decimal | None = None
    expected_revenue: Decimal | None = None

    def __add__(self, other: Money) -> Money:
        return Money(
            _plus(self.budgeted_cost, other.budgeted_cost),
            _plus(self.actual_cost, other.actual_cost),
            _plus(self.expected_revenue, other.expected_revenue),
        )

    @classmethod
    def of(cls, campaign: Campaign) -> Money:
        return cls(campaign.budgeted_cost, campaign.actual_cost, campaign.expected_revenue)


def _plus(left: Decimal | None, right: Decimal | None) -> Decimal | None:
    """A sum of amounts where "not given" stays "not given" only if every part is."""
    if left is None:
        return right
    if right is None:
        return left
    return left + right


@dataclass(frozen=True, slots=True)
class Figures:
    members: int
    responded: int
    response_rate: Decimal | None
    budgeted_cost: Decimal | None
    actual_cost: Decimal | None
    cost_per_response: Decimal | None
    expected_revenue: Decimal | None
    roi: Decimal | None
    statuses: dict[str, int]


def response_rate(responded: int, members: int) -> Decimal | None:
    """Responded over members; undefined (None) for a campaign without members."""
    if members <= 0:
        return None
    return (Decimal(responded) / Decimal(members)).quantize(RATE, ROUND_HALF_EVEN)


def cost_per_response(actual_cost: Decimal | None, responded: int) -> Decimal | None:
    """Actual cost over responses; undefined without a cost or without a response."""
    if actual_cost is None or responded <= 0:
        return None
    return (actual_cost / Decimal(responded)).quantize(MONEY, ROUND_HALF_EVEN)


def roi(expected_revenue: Decimal | None, actual_cost: Decimal | None) -> Decimal | None:
    """(expected revenue - actual cost) / actual cost; undefined when nothing was spent or no
    revenue is expected (a free campaign has no finite return on investment)."""
    if expected_revenue is None or actual_cost is None or actual_cost == 0:
        return None
    return ((expected_revenue - actual_cost) / actual_cost).quantize(RATE, ROUND_HALF_EVEN)


def figures(counts: CampaignCounts, money: Money, status_names: Sequence[str] = ()) -> Figures:
    """``statuses`` lists every defined status (zero when none has it) in the campaign's order,
    then any counted status the definitions no longer name."""
    counts = counts.clamped()
    statuses = {name: counts.statuses.get(name, 0) for name in status_names}
    statuses.update({name: n for name, n in counts.statuses.items() if name not in statuses and n})
    return Figures(
        members=counts.members,
        responded=counts.responded,
        response_rate=response_rate(counts.responded, counts.members),
        budgeted_cost=money.budgeted_cost,
        actual_cost=money.actual_cost,
        cost_per_response=cost_per_response(money.actual_cost, counts.responded),
        expected_revenue=money.expected_revenue,
        roi=roi(money.expected_revenue, money.actual_cost),
        statuses=statuses,
    )


def descendants(campaigns: Iterable[Campaign]) -> dict[str, list[str]]:
    """Each CRM campaign's descendants (children, their children, ...), in document order.

    Parent cycles are refused when a bundle is applied; the walk still stops at a campaign it
    has seen, so a stored bundle from before that check cannot loop forever here.
    """
    crm = [campaign for campaign in campaigns if campaign.is_crm]
    children: dict[str, list[str]] = {campaign.id: [] for campaign in crm}
    for campaign in crm:
        if campaign.parent in children and campaign.parent != campaign.id:
            children[campaign.parent].append(campaign.id)
    result: dict[str, list[str]] = {}
    for campaign in crm:
        seen = {campaign.id}
        order: list[str] = []
        pending = list(children[campaign.id])
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.add(current)
            order.append(current)
            pending.extend(children.get(current, []))
        result[campaign.id] = order
    return result


def children_of(campaigns: Iterable[Campaign]) -> dict[str, list[str]]:
    """Each CRM campaign's direct children, in document order."""
    result: dict[str, list[str]] = {}
    for campaign in campaigns:
        if campaign.is_crm and campaign.parent is not None and campaign.parent != campaign.id:
            result.setdefault(campaign.parent, []).append(campaign.id)
    return result


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    """A CRM campaign's own figures, and its hierarchy's (itself plus every descendant)."""

    campaign: Campaign
    own: Figures
    hierarchy: Figures
    children: list[str]
    depth: int


def crm_report(campaigns: Sequence[Campaign], counts: Mapping[str, CampaignCounts]) -> list[CampaignFigures]:
    """Every CRM campaign with its own and rolled-up figures, parents before their children."""
    crm = {campaign.id: campaign for campaign in campaigns if campaign.is_crm}
    below = descendants(crm.values())
    direct = children_of(crm.values())
    rows = []
    own = {
        campaign.id: counts.get(campaign.id, CampaignCounts())
        .responding(s.name for s in campaign.responded_statuses())
        .clamped()
        for campaign in crm.values()
    }
    for campaign in _tree_order(crm, direct):
        own_counts = own[campaign.id]
        total_counts, total_money = own_counts, Money.of(campaign)
        for child in below[campaign.id]:
            total_counts = total_counts + own[child]
            total_money = total_money + Money.of(crm[child])
        names = campaign.status_names()
        rows.append(
            CampaignFigures(
                campaign=campaign,
                own=figures(own_counts, Money.of(campaign), names),
                hierarchy=figures(total_counts, total_money, names if not below[campaign.id] else ()),
                children=direct.get(campaign.id, []),
                depth=_depth(campaign, crm),
            )
        )
    return rows


def _tree_order(crm: Mapping[str, Campaign], direct: Mapping[str, list[str]]) -> list[Campaign]:
    roots = [c for c in crm.values() if c.parent is None or c.parent not in crm or c.parent == c.id]
    ordered: list[Campaign] = []
    seen: set[str] = set()

    def visit(campaign: Campaign) -> None:
        if campaign.id in seen:
            return
        seen.add(campaign.id)
        ordered.append(campaign)
        for child in direct.get(campaign.id, []):
            visit(crm[child])

    for root in roots:
        visit(root)
    ordered.extend(c for c in crm.values() if c.id not in seen)  # only in a (refused) cycle
    return ordered


def _depth(campaign: Campaign, crm: Mapping[str, Campaign]) -> int:
    depth, seen, current = 0, {campaign.id}, campaign
    while current.parent is not None and current.parent in crm and current.parent not in seen:
        seen.add(current.parent)
        current = crm[current.parent]
        depth += 1
    return depth


# ---------------------------------------------------------------- the funnel


class WindowError(ValueError):
    """A funnel window the report refuses; ``field`` names the parameter at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True, slots=True)
class Window:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_day(text: str | None, field_name: str) -> date | None:
    """A ``YYYY-MM-DD`` day, exactly (no time, no week date, no other spelling)."""
    if text is None:
        return None
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not text.replace("-", "").isdigit():
        raise WindowError(field_name, f"{field_name} must be a day as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WindowError(field_name, f"{field_name} is not a day of the calendar") from None


def window(start: date | None, end: date | None, today: date) -> Window:
    """The report's days, both ends included: ``to`` defaults to today and ``from`` to the 30
    days up to ``to``."""
    end = end or today
    if start is None:
        back = timedelta(days=DEFAULT_WINDOW_DAYS - 1)
        start = end - back if end - date.min >= back else date.min
    if start > end:
        raise WindowError("from", f"from ({start}) is after to ({end})")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise WindowError("to", f"the window is {(end - start).days + 1} days; at most {MAX_WINDOW_DAYS}")
    return Window(start, end)


@dataclass(frozen=True, slots=True)
class Conversion:
    from_stage: str
    to_stage: str
    rate: Decimal | None


@dataclass(frozen=True, slots=True)
class Funnel:
    counts: dict[str, int]
    conversions: list[Conversion]


def funnel(counts: Mapping[str, int]) -> Funnel:
    """Entries per stage and the conversion between consecutive ones: entries into the next
    stage over entries into this one, in the same window (None when nobody entered this one;
    above 1 when contacts who entered earlier moved on in the window)."""
    entered = {stage: max(0, counts.get(stage, 0)) for stage in STAGES}
    conversions = [Conversion(a, b, response_rate(entered[b], entered[a])) for a, b in pairwise(STAGES)]
    return Funnel(entered, conversions)
