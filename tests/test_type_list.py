"""The type list, the header, login, and the type id rules."""

import pytest
from django.test import Client

from qualdash.mturk import emulator as seeds
from qualdash.mturk.emulator import Emulator


def test_it_lists_every_owned_type(owner_client: Client) -> None:
    response = owner_client.get("/")
    assert response.status_code == 200
    assert len(response.context["shown"]) == len(seeds.SEED_TYPES)
    for seed in (seeds.TYPE_SMALL, seeds.TYPE_LARGE, seeds.SEED_TYPES[-1].type_id):
        assert f'href="/types/{seed}/"' in response.content.decode()


def test_it_filters_the_type_list_by_name(owner_client: Client) -> None:
    response = owner_client.get("/", {"q": "panel SCREENER 01"})
    names = [t.name for t in response.context["shown"]]
    expected = sorted(
        (s.name for s in seeds.SEED_TYPES if "panel screener 01" in s.name.lower()),
        key=str.casefold,
    )
    assert names == expected
    assert len(names) == 10


def test_it_answers_a_search_with_only_the_table_for_htmx(owner_client: Client) -> None:
    response = owner_client.get(
        "/", {"q": "screener"}, headers={"HX-Request": "true", "HX-Target": "type-table"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="type-table">')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_it_shows_production_and_the_account_scope(owner_client: Client) -> None:
    body = owner_client.get("/").content.decode()
    assert "Production" in body
    assert "SANDBOX" not in body


def test_it_shows_an_unmistakable_sandbox_badge(owner_client: Client, settings: object) -> None:
    settings.QUALDASH_MTURK_SANDBOX = True  # type: ignore[attr-defined]
    # The login page renders the header without calling MTurk (the sandbox is not reachable).
    body = owner_client.get("/accounts/login/").content.decode()
    assert "SANDBOX" in body


def test_it_escapes_a_hostile_type_name(owner_client: Client) -> None:
    body = owner_client.get("/").content.decode()
    assert "<script>alert(" not in body
    assert "&lt;script&gt;alert(" in body
    assert "<img src=x" not in body
    body = owner_client.get(f"/types/{seeds.TYPE_HOSTILE}/").content.decode()
    assert "<script>alert(" not in body
    assert "&lt;script&gt;alert(" in body.split("<title>")[1].split("</title>")[0]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/types/{seeds.TYPE_SMALL}/",
        f"/types/{seeds.TYPE_SMALL}/export.csv",
    ],
)
def test_it_requires_login_for_every_page(client: Client, mturk: Emulator, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert mturk.call_count() == 0


@pytest.mark.parametrize(
    "path",
    [f"/types/{seeds.TYPE_SMALL}/refresh/", "/types/refresh/"],
)
def test_it_requires_login_to_refresh(client: Client, mturk: Emulator, path: str) -> None:
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert mturk.call_count() == 0


@pytest.mark.parametrize(
    "type_id",
    ["3abc", "3ABC-DEF", "3ABC%00", "X" * 65, "3ABC DEF", "ÄBC"],
)
def test_a_malformed_type_id_is_a_404_without_an_api_call(
    owner_client: Client, mturk: Emulator, type_id: str
) -> None:
    response = owner_client.get(f"/types/{type_id}/")
    assert response.status_code == 404
    assert mturk.call_count() == 0


def test_an_unknown_type_id_is_a_clear_not_found_page(owner_client: Client) -> None:
    response = owner_client.get("/types/3NOSUCHTYPE0000000000000000000/")
    assert response.status_code == 404
    assert "Qualification type not found" in response.content.decode()


def test_it_shows_a_setup_message_without_credentials(
    owner_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qualdash.mturk.client import forget_account

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    forget_account()
    response = owner_client.get("/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "MTurk is not set up" in body
    assert "AWS_ACCESS_KEY_ID" in body


def test_it_logs_in_and_out(client: Client, owner: object) -> None:
    response = client.post(
        "/accounts/login/", {"username": "owner", "password": "owner-password-1"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_refreshing_the_type_list_lists_again(owner_client: Client, mturk: Emulator) -> None:
    owner_client.get("/")
    owner_client.get("/")
    assert mturk.call_count("ListQualificationTypes") == 2
    response = owner_client.post("/types/refresh/")
    assert response.status_code == 302
    owner_client.get("/")
    assert mturk.call_count("ListQualificationTypes") == 4


def test_it_shows_a_setup_message_for_a_missing_aws_profile(
    owner_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qualdash.mturk.client import forget_account

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    forget_account()
    response = owner_client.get("/")
    assert response.status_code == 503
    assert "no-such-profile" in response.content.decode()
