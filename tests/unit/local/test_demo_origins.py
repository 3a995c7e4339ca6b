"""A bundle's default-port local origins also allow the port the stack serves on; nothing else moves."""

from __future__ import annotations

from leadflow_local.demo_origins import follow_port, served_origins

LOCAL = ["http://127.0.0.1:3000", "http://localhost:3000"]


def bundle() -> dict:
    return {
        "forms": [
            {"id": "contact", "allowed_origins": [*LOCAL, "https://www.example.com"]},
            {"id": "partner", "allowed_origins": ["https://partner.example"]},
            {"id": "open"},
        ],
        "sites": [{"id": "demo", "write_key": "wk", "allowed_origins": ["http://LOCALHOST:3000/"]}],
    }


def test_the_served_port_is_added_beside_port_3000() -> None:
    followed, changed = follow_port(bundle(), "127.0.0.1", 8080)
    assert followed["forms"][0]["allowed_origins"] == [
        *LOCAL,
        "https://www.example.com",
        "http://127.0.0.1:8080",
        "http://localhost:8080",
    ]
    assert followed["sites"][0]["allowed_origins"][-2:] == ["http://127.0.0.1:8080", "http://localhost:8080"]
    assert changed == ["forms[contact]", "sites[demo]"]


def test_forms_without_a_local_origin_are_left_alone_and_the_input_is_not_changed() -> None:
    original = bundle()
    followed, _ = follow_port(original, "127.0.0.1", 8080)
    assert followed["forms"][1] == {"id": "partner", "allowed_origins": ["https://partner.example"]}
    assert followed["forms"][2] == {"id": "open"}
    assert original == bundle()


def test_on_port_3000_or_with_nothing_to_add_the_document_is_returned_as_it_is() -> None:
    original = bundle()
    assert follow_port(original, "127.0.0.1", 3000) == (original, [])
    followed, _ = follow_port(original, "127.0.0.1", 8080)
    assert follow_port(followed, "127.0.0.1", 8080) == (followed, [])


def test_a_named_host_is_served_too_but_not_a_wildcard_address() -> None:
    wildcard = "0.0.0.0"  # noqa: S104 - the address the stack listens on, not a bind here
    assert served_origins(wildcard, 8080) == ["http://127.0.0.1:8080", "http://localhost:8080"]
    assert served_origins("devbox.lan", 8080)[-1] == "http://devbox.lan:8080"


def test_odd_documents_do_not_break_it() -> None:
    odd = {"forms": "not a list", "sites": [None, 3, {"allowed_origins": "x"}]}
    assert follow_port(odd, "127.0.0.1", 8080) == (odd, [])
