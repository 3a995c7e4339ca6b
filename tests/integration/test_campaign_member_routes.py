"""The campaign member routes through the admin handler on moto: every status they document."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from leadflow.ids import shard_of
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store.campaigns import MEMBER_SHARDS
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import json_body
from tests.support.forms import submitted_contact

WEBINAR = "crm-webinar"
MEMBERS = f"/v1/admin/campaigns/{WEBINAR}/members"


def _bundle(webinar_status: str = "active") -> dict[str, Any]:
    bundle = scoring_bundle()
    bundle["campaigns"] += [
        {
            "id": WEBINAR,
            "kind": "crm",
            "name": "Webinar (sales)",
            "status": webinar_status,
            "member_statuses": [
                {"name": "Invited", "default": True},
                {"name": "Registered", "responded": True},
                {"name": "Attended", "responded": True},
                {"name": "No-show"},
            ],
        },
        {"id": "crm-done", "kind": "crm", "name": "Done", "status": "completed"},
        {"id": "crm-stopped", "kind": "crm", "name": "Stopped", "status": "aborted"},
    ]
    return bundle


@pytest.fixture
def world(aws, apply_bundle, capture, admin):
    apply_bundle(_bundle())
    return World(aws, apply_bundle, capture, admin)


class World:
    def __init__(self, aws, apply_bundle, capture, admin) -> None:
        self.aws, self.apply_bundle, self.capture, self.admin = aws, apply_bundle, capture, admin

    def contact(self, email: str = "mo@example.com") -> str:
        return submitted_contact(self.capture, {"email": email, "consent": True})

    def process(self) -> None:
        queues.drain(functions.load("process").lambda_handler, self.aws.queues["ActivityQueue"])

    def put(self, campaign: str, contact_id: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        headers = kwargs.pop("headers", {"content-type": "application/json"})
        return self.admin(
            "PUT",
            f"/v1/admin/campaigns/{campaign}/members/{contact_id}",
            body=body,
            headers=headers,
            iam=True,
            **kwargs,
        )

    def delete(self, campaign: str, contact_id: str) -> dict[str, Any]:
        return self.admin("DELETE", f"/v1/admin/campaigns/{campaign}/members/{contact_id}", iam=True)

    def get(self, path: str, **query: str) -> dict[str, Any]:
        return self.admin("GET", path, query=query or None, iam=True)


def _error(response: dict[str, Any]) -> dict[str, Any]:
    return json_body(response)["error"]


# ------------------------------------------------------------------ PUT


def test_an_admin_adds_a_member_with_the_default_status_and_a_replay_changes_nothing(world):
    contact_id = world.contact()
    added = world.put(WEBINAR, contact_id, {})
    assert added["statusCode"] == 201, added["body"]
    body = json_body(added)
    assert body == {
        "campaign_id": WEBINAR,
        "contact_id": contact_id,
        "status": "Invited",
        "responded": False,
        "responded_at": None,
        "source": "manual",
        "joined_at": body["joined_at"],
        "updated_at": body["joined_at"],
        "created": True,
        "changed": True,
    }
    replay = world.put(WEBINAR, contact_id, {})
    assert replay["statusCode"] == 200
    assert json_body(replay) == {**body, "created": False, "changed": False}
    same_status = world.put(WEBINAR, contact_id, {"status": "Invited"})
    assert same_status["statusCode"] == 200
    assert json_body(same_status)["changed"] is False
    assert len(campaigns_store.membership_history_of(contact_id, WEBINAR)) == 1
    # no body at all is the same as {}
    assert world.put(WEBINAR, contact_id, None, headers={})["statusCode"] == 200


def test_a_status_change_records_the_first_response_once_and_an_empty_body_keeps_the_status(world):
    contact_id = world.contact()
    world.put(WEBINAR, contact_id, {"status": "Invited"})
    registered = json_body(world.put(WEBINAR, contact_id, {"status": "Registered"}))
    assert (registered["status"], registered["responded"], registered["changed"]) == (
        "Registered",
        True,
        True,
    )
    assert registered["responded_at"] == registered["updated_at"]
    # an admin may move a status back; the first response stays
    back = json_body(world.put(WEBINAR, contact_id, {"status": "No-show"}))
    assert (back["status"], back["responded"], back["responded_at"]) == (
        "No-show",
        False,
        registered["responded_at"],
    )
    kept = json_body(world.put(WEBINAR, contact_id, {"status": None}))
    assert (kept["status"], kept["changed"]) == ("No-show", False)
    stored = campaigns_store.get_membership(WEBINAR, contact_id)
    assert stored is not None
    assert (stored.status, stored.responded_at) == ("No-show", registered["responded_at"])
    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert contact.crm[WEBINAR] == "No-show"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "Bogus"}, "status"),
        ({"status": "registered"}, "status"),  # statuses are exact names
        ({"status": ""}, "status"),
        ({"status": "x" * 65}, "status"),
        ({"status": 3}, "status"),
        ({"status": ["Registered"]}, "status"),
        ({"status": "Registered", "colour": "red"}, "colour"),
        (["Registered"], "body"),
        ('{"status": "Registered"', "body"),
        ('{"status": NaN}', "body"),
        ("[" * 100 + "]" * 100, "body"),
        (b'{"status": "\xff"}', "body"),
    ],
)
def test_a_body_or_status_the_route_cannot_use_is_a_422_naming_the_field(world, body, field):
    contact_id = world.contact()
    response = world.put(WEBINAR, contact_id, body)
    assert response["statusCode"] == 422, response["body"]
    error = _error(response)
    assert error["code"] == "validation_failed"
    assert field in error["fields"]
    assert campaigns_store.get_membership(WEBINAR, contact_id) is None


def test_a_body_that_is_not_json_is_a_415_and_a_huge_one_a_413(world):
    contact_id = world.contact()
    form = world.put(WEBINAR, contact_id, "status=Registered", headers={"content-type": "text/plain"})
    assert form["statusCode"] == 415
    huge = world.put(WEBINAR, contact_id, json.dumps({"status": "a" * 5000}))
    assert huge["statusCode"] == 413
    assert campaigns_store.get_membership(WEBINAR, contact_id) is None


def test_unknown_campaigns_and_contacts_are_404s(world):
    contact_id = world.contact()
    assert world.put("crm-nope", contact_id, {})["statusCode"] == 404
    missing = world.put(WEBINAR, "ct_nobody", {})
    assert missing["statusCode"] == 404
    assert "ct_nobody" in _error(missing)["message"]
    odd = world.put(WEBINAR, "a'b\"c#d%e\u00e9\u0000", {})
    assert odd["statusCode"] == 404
    too_long = world.put(WEBINAR, "c" * 65, {})
    assert too_long["statusCode"] == 422


def test_completed_and_aborted_campaigns_refuse_new_members_but_members_still_move(world):
    contact_id = world.contact()
    for closed in ("crm-done", "crm-stopped"):
        refused = world.put(closed, contact_id, {})
        assert refused["statusCode"] == 409
        assert _error(refused)["code"] == "conflict"
        assert campaigns_store.get_membership(closed, contact_id) is None
    world.put(WEBINAR, contact_id, {})
    world.apply_bundle(_bundle(webinar_status="completed"))
    moved = world.put(WEBINAR, contact_id, {"status": "Attended"})
    assert moved["statusCode"] == 200, moved["body"]
    assert json_body(moved)["status"] == "Attended"
    newcomer = world.contact("new@example.com")
    assert world.put(WEBINAR, newcomer, {})["statusCode"] == 409


def test_a_manual_crm_add_never_changes_ma_campaign_membership(world):
    contact_id = world.contact()  # the form joins MA campaign webinar-q3
    world.process()
    ma_members = json_body(world.get("/v1/admin/campaigns/webinar-q3/members"))["members"]
    assert [m["contact_id"] for m in ma_members] == [contact_id]

    # MA campaigns take no manual add, no status, no removal
    for body in ({}, {"status": "joined"}, {"status": "Registered"}):
        refused = world.put("webinar-q3", contact_id, body)
        assert refused["statusCode"] == 409
    assert world.put("ebook-q4", contact_id, {})["statusCode"] == 409
    assert world.delete("webinar-q3", contact_id)["statusCode"] == 409

    # every CRM change an admin can make, then everything that follows from it
    for status in ("Invited", "Registered", "Attended", "No-show"):
        world.put(WEBINAR, contact_id, {"status": status})
    world.put("crm-inbound-mql", contact_id, {"status": "Contacted"})
    world.delete(WEBINAR, contact_id)
    world.process()

    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert contact.ma_campaign_id == "webinar-q3"
    assert json_body(world.get("/v1/admin/campaigns/webinar-q3/members"))["members"] == ma_members
    assert json_body(world.get("/v1/admin/campaigns/ebook-q4/members"))["members"] == []
    view = json_body(world.get(f"/v1/admin/contacts/{contact_id}"))
    assert view["ma_campaign_id"] == "webinar-q3"
    assert [c["campaign_id"] for c in view["crm_campaigns"]] == ["crm-inbound-mql"]


# ------------------------------------------------------------------ DELETE and history


def test_a_removal_is_a_204_keeps_the_history_and_a_second_one_is_a_404(world):
    contact_id = world.contact()
    world.put(WEBINAR, contact_id, {"status": "Registered"})
    removed = world.delete(WEBINAR, contact_id)
    assert removed["statusCode"] == 204
    assert not removed.get("body")
    assert campaigns_store.get_membership(WEBINAR, contact_id) is None
    assert json_body(world.get(MEMBERS))["members"] == []
    again = world.delete(WEBINAR, contact_id)
    assert again["statusCode"] == 404
    assert world.delete(WEBINAR, "ct_nobody")["statusCode"] == 404
    assert world.delete("crm-nope", contact_id)["statusCode"] == 404

    history = json_body(world.get(f"/v1/admin/campaigns/{WEBINAR}/history"))
    assert history["campaign_id"] == WEBINAR
    assert history["cursor"] is None
    assert [(c["contact_id"], c["from"], c["to"], c["source"]) for c in history["changes"]] == [
        (contact_id, None, "Registered", "manual"),
        (contact_id, "Registered", None, "manual"),
    ]
    # rejoining starts a new membership; its history follows the old one
    rejoined = world.put(WEBINAR, contact_id, {})
    assert rejoined["statusCode"] == 201
    assert len(json_body(world.get(f"/v1/admin/campaigns/{WEBINAR}/history"))["changes"]) == 3


def test_history_pages_across_shards_and_refuses_hostile_cursors(world):
    contacts = [world.contact(f"h{index}@example.com") for index in range(5)]
    for contact_id in contacts:
        world.put(WEBINAR, contact_id, {})
        world.put(WEBINAR, contact_id, {"status": "Attended"})
    seen: list[tuple[str, str | None]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = json_body(world.get(f"/v1/admin/campaigns/{WEBINAR}/history", **query))
        assert len(page["changes"]) <= 3
        seen += [(c["contact_id"], c["to"]) for c in page["changes"]]
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break
    assert pages >= 4
    assert sorted(seen) == sorted([(c, "Invited") for c in contacts] + [(c, "Attended") for c in contacts])
    assert world.get("/v1/admin/campaigns/crm-nope/history")["statusCode"] == 404
    for bad in _hostile_cursors("MEMBERHIST", WEBINAR):
        response = world.get(f"/v1/admin/campaigns/{WEBINAR}/history", cursor=bad)
        assert response["statusCode"] == 422, (bad, response["body"])
        assert "cursor" in _error(response)["fields"]


# ------------------------------------------------------------------ GET members


def test_members_page_across_shards_with_a_status_filter(world):
    contacts = [world.contact(f"p{index}@example.com") for index in range(12)]
    registered = set(contacts[::2])
    assert len({shard_of(c, MEMBER_SHARDS) for c in registered}) > 2  # the walk crosses shards
    for contact_id in contacts:
        world.put(WEBINAR, contact_id, {"status": "Registered" if contact_id in registered else "Invited"})

    found: list[str] = []
    cursor: str | None = None
    while True:
        query = {"status": "Registered", "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = world.get(MEMBERS, **query)
        assert response["statusCode"] == 200, response["body"]
        page = json_body(response)
        assert page["status"] == "Registered"
        assert page["kind"] == "crm"
        assert len(page["members"]) <= 2
        assert {m["status"] for m in page["members"]} <= {"Registered"}
        found += [m["contact_id"] for m in page["members"]]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert sorted(found) == sorted(registered)  # each once, none missed

    everyone = json_body(world.get(MEMBERS, limit="200"))
    assert sorted(m["contact_id"] for m in everyone["members"]) == sorted(contacts)
    assert everyone["cursor"] is None
    member = next(m for m in everyone["members"] if m["contact_id"] in registered)
    assert set(member) == {
        "contact_id",
        "status",
        "responded",
        "responded_at",
        "source",
        "joined_at",
        "updated_at",
    }
    assert (member["responded"], member["source"]) == (True, "manual")
    assert member["responded_at"] == member["joined_at"]


def test_an_ma_campaign_lists_its_members_too(world):
    first, second = world.contact("a@example.com"), world.contact("b@example.com")
    page = json_body(world.get("/v1/admin/campaigns/webinar-q3/members"))
    assert page["kind"] == "ma"
    assert sorted(m["contact_id"] for m in page["members"]) == sorted([first, second])
    assert {(m["status"], m["source"], m["responded"]) for m in page["members"]} == {
        ("joined", "form", False)
    }
    joined = json_body(world.get("/v1/admin/campaigns/webinar-q3/members", status="joined"))
    assert len(joined["members"]) == 2
    assert world.get("/v1/admin/campaigns/webinar-q3/members", status="Registered")["statusCode"] == 422
    assert json_body(world.get("/v1/admin/campaigns/webinar-q3/history"))["changes"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "Bogus"}, "status"),
        ({"status": "x" * 65}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "x" * 2049}, "cursor"),
    ],
)
def test_a_status_limit_or_cursor_the_route_cannot_use_is_a_422(world, query, field):
    response = world.get(MEMBERS, **query)
    assert response["statusCode"] == 422, response["body"]
    assert field in _error(response)["fields"]


def test_hostile_member_cursors_are_422s_and_unknown_campaigns_404s(world):
    assert world.get("/v1/admin/campaigns/crm-nope/members")["statusCode"] == 404
    for bad in _hostile_cursors("MEMBERS", WEBINAR):
        response = world.get(MEMBERS, cursor=bad)
        assert response["statusCode"] == 422, (bad, response["body"])
        assert "cursor" in _error(response)["fields"]


def _cursor(state: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _hostile_cursors(prefix: str, campaign: str) -> list[str]:
    """Cursors no page handed out: garbage, other shards' or campaigns' keys, other tables' keys."""
    return [
        "not base64!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _cursor([1, 2]),
        _cursor({"shard": 16, "key": None}),
        _cursor({"shard": -1, "key": None}),
        _cursor({"shard": True, "key": None}),
        _cursor({"shard": "3", "key": None}),
        _cursor({"shard": 0, "key": {"pk": {"S": f"{prefix}#crm-other#00"}, "sk": {"S": "CONTACT#x"}}}),
        _cursor({"shard": 1, "key": {"pk": {"S": f"{prefix}#{campaign}#00"}, "sk": {"S": "CONTACT#x"}}}),
        _cursor({"shard": 0, "key": {"pk": {"S": "DEFS"}, "sk": {"S": "ACTIVE"}}}),
        _cursor({"shard": 0, "key": {"pk": {"S": f"{prefix}#{campaign}#00"}, "sk": {"N": "1"}}}),
        _cursor({"shard": 0, "key": {"pk": {"S": f"{prefix}#{campaign}#00"}, "sk": {"S": "C" * 600}}}),
        _cursor(
            {"shard": 0, "key": {"pk": {"S": f"{prefix}#{campaign}#00"}, "sk": {"S": "CONTACT#x"}, "x": 1}}
        ),
        _cursor({"shard": 0, "key": "CONTACT#x"}),
        "%%%",
    ]


# ------------------------------------------------------------------ the contact view


def test_the_contact_view_shows_crm_campaigns_with_their_names_and_not_ma_ones(world):
    contact_id = world.contact()
    world.put(WEBINAR, contact_id, {"status": "Registered"})
    view = json_body(world.get(f"/v1/admin/contacts/{contact_id}"))
    assert view["ma_campaign_id"] == "webinar-q3"
    [membership] = view["crm_campaigns"]
    assert membership == {
        "campaign_id": WEBINAR,
        "name": "Webinar (sales)",
        "kind": "crm",
        "status": "Registered",
        "responded": True,
        "responded_at": membership["joined_at"],
        "source": "manual",
        "joined_at": membership["joined_at"],
        "updated_at": membership["joined_at"],
    }


def test_a_filtered_page_that_reads_ahead_resumes_after_its_last_row(world):
    """Filtered queries read past the page; the cursor then names the last row kept, so the
    next page neither skips nor repeats anyone (rows written directly: listing needs no contact)."""
    from leadflow.store import dynamo

    ids = [f"ct_raw{index:03d}" for index in range(64)]
    chosen = {contact_id for index, contact_id in enumerate(ids) if index % 4 != 0}  # 3 in 4
    for contact_id in ids:
        dynamo.transact_write(
            [
                campaigns_store.put_membership(
                    campaigns_store.Membership(
                        campaign_id=WEBINAR,
                        contact_id=contact_id,
                        status="Attended" if contact_id in chosen else "Invited",
                        source="import",
                        joined_at="2026-11-30T10:00:00Z",
                    )
                )
            ]
        )
    per_shard = max(sum(1 for c in chosen if shard_of(c, MEMBER_SHARDS) == s) for s in range(MEMBER_SHARDS))
    assert per_shard > 3  # some shard holds more matches than a page: the read-ahead is trimmed
    found: list[str] = []
    cursor: str | None = None
    while True:
        query = {"status": "Attended", "limit": "3", **({"cursor": cursor} if cursor else {})}
        page = json_body(world.get(MEMBERS, **query))
        assert len(page["members"]) <= 3
        found += [m["contact_id"] for m in page["members"]]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert sorted(found) == sorted(chosen)


def test_a_campaign_that_left_the_definitions_still_shows_in_the_contact_view(world):
    contact_id = world.contact()
    world.put(WEBINAR, contact_id, {"status": "Attended"})
    bundle = _bundle()
    bundle["campaigns"] = [c for c in bundle["campaigns"] if c["id"] != WEBINAR]
    world.apply_bundle(bundle, allow_removals=True)
    view = json_body(world.get(f"/v1/admin/contacts/{contact_id}"))
    assert [(c["campaign_id"], c["name"], c["kind"], c["status"]) for c in view["crm_campaigns"]] == [
        (WEBINAR, None, None, "Attended")
    ]
    assert view["ma_campaign_id"] == "webinar-q3"  # its MA membership is not listed as a CRM one
    assert world.get(MEMBERS)["statusCode"] == 404
    assert world.put(WEBINAR, contact_id, {})["statusCode"] == 404
