"""API keys and roles, without a server."""

from __future__ import annotations

import pytest

from serve.auth import (
    Authenticator,
    AuthError,
    Role,
    generate_key,
    hash_key,
    issue_key,
    key_id_of,
)
from serve.store import Store


def test_roles_are_ordered_officer_below_analyst_below_admin() -> None:
    assert Role.OFFICER < Role.ANALYST < Role.ADMIN


def test_role_parse_accepts_any_case_and_names_the_choices_on_a_bad_role() -> None:
    assert Role.parse(" Analyst ") is Role.ANALYST
    with pytest.raises(ValueError, match="officer, analyst, admin"):
        Role.parse("superuser")


def test_generated_keys_carry_their_id_and_differ_every_time() -> None:
    first_id, first = generate_key()
    second_id, second = generate_key()
    assert first != second and first_id != second_id
    assert key_id_of(first) == first_id
    assert len(first) > 50


@pytest.mark.parametrize(
    "text",
    [
        "",
        "rk",
        "rk__secret",
        "xx_0123456789ab_secret",
        "rk_0123456789AB_secret",
        "rk_0123_s",
        "rk_0123456789ab_",
    ],
)
def test_key_id_of_rejects_text_not_shaped_like_a_key(text: str) -> None:
    assert key_id_of(text) is None


def test_the_store_keeps_the_hash_of_a_key_never_the_key(store: Store) -> None:
    issued = issue_key(store, role=Role.OFFICER, name="Officer Nguyen")
    record = store.get_key(issued.key_id)
    assert record is not None
    assert record.key_hash == hash_key(issued.key)
    assert issued.key not in repr(record)
    assert record.role == "officer" and record.name == "Officer Nguyen"


def test_a_key_needs_a_name(store: Store) -> None:
    with pytest.raises(ValueError, match="name"):
        issue_key(store, role=Role.OFFICER, name="  ")


def test_a_valid_key_authenticates_as_its_holder_and_role(store: Store) -> None:
    issued = issue_key(store, role=Role.ANALYST, name="Analyst Tran")
    principal = Authenticator(store).authenticate(issued.key)
    assert principal.key_id == issued.key_id
    assert principal.role is Role.ANALYST
    assert principal.name == "Analyst Tran"


@pytest.mark.parametrize("presented", [None, "", "not a key", "rk_0123456789ab_guess"])
def test_missing_or_unknown_keys_are_401(store: Store, presented: str | None) -> None:
    with pytest.raises(AuthError) as caught:
        Authenticator(store).authenticate(presented)
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"].startswith("ApiKey")


def test_a_known_key_id_with_a_wrong_secret_is_401(store: Store) -> None:
    issued = issue_key(store, role=Role.ADMIN, name="Admin")
    forged = issued.key[:-4] + ("AAAA" if not issued.key.endswith("AAAA") else "BBBB")
    with pytest.raises(AuthError) as caught:
        Authenticator(store).authenticate(forged)
    assert caught.value.status == 401 and caught.value.code == "invalid_key"


def test_a_revoked_key_is_401_on_its_next_use(store: Store) -> None:
    issued = issue_key(store, role=Role.OFFICER, name="Officer")
    authenticator = Authenticator(store)
    authenticator.authenticate(issued.key)
    store.revoke_key(issued.key_id)
    with pytest.raises(AuthError) as caught:
        authenticator.authenticate(issued.key)
    assert caught.value.code == "revoked_key"


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        (Role.OFFICER, Role.OFFICER, True),
        (Role.OFFICER, Role.ANALYST, False),
        (Role.ANALYST, Role.OFFICER, True),
        (Role.ANALYST, Role.ADMIN, False),
        (Role.ADMIN, Role.ADMIN, True),
    ],
)
def test_a_role_may_do_what_the_roles_below_it_may_and_nothing_above(
    store: Store, role: Role, needed: Role, allowed: bool
) -> None:
    principal = Authenticator(store).authenticate(issue_key(store, role=role, name="x").key)
    if allowed:
        Authenticator.authorise(principal, needed)
    else:
        with pytest.raises(AuthError) as caught:
            Authenticator.authorise(principal, needed)
        assert caught.value.status == 403
        assert needed.label in caught.value.message
