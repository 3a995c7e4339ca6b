"""Stages and temperatures compare by their order, not alphabetically."""

from __future__ import annotations

from leadflow.definitions import Stage, Temperature


def test_stages_are_in_lifecycle_order() -> None:
    assert [s.value for s in Stage.ordered()] == [
        "subscriber",
        "lead",
        "mql",
        "sql",
        "opportunity",
        "customer",
    ]
    # alphabetically each of these would be the other way round
    assert Stage.SUBSCRIBER < Stage.LEAD
    assert Stage.SQL < Stage.OPPORTUNITY
    assert Stage.CUSTOMER > Stage.SQL
    assert not Stage.LEAD < Stage.SUBSCRIBER
    assert max([Stage.CUSTOMER, Stage.SUBSCRIBER, Stage.SQL]) is Stage.CUSTOMER
    assert Stage.SUBSCRIBER.rank == 0
    assert Stage.CUSTOMER.rank == 5


def test_stages_compare_with_stored_strings() -> None:
    assert Stage.SQL >= "mql"
    assert Stage.LEAD <= "lead"
    assert Stage.MQL == "mql"
    assert {Stage.MQL: 1}["mql"] == 1


def test_temperatures_are_ordered_cold_warm_hot() -> None:
    assert Temperature.COLD < Temperature.WARM < Temperature.HOT
    assert sorted([Temperature.HOT, Temperature.COLD, Temperature.WARM]) == [
        Temperature.COLD,
        Temperature.WARM,
        Temperature.HOT,
    ]
