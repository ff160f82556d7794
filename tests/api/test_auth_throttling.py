"""Throttled sign-in through the API: progressive waits, 429 with Retry-After, and never a
lockout that a stalker who knows the victim's email could use against them.

The app's throttle runs on a clock the test moves by hand (MemoryThrottle takes any clock), so
every wait is exact and nothing sleeps. The Redis-backed throttle is exercised at the end.
"""

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis import Redis

from app.config import Settings
from app.services import logins
from app.services.logins import LoginGuard
from app.throttle import MemoryThrottle, Policy, RedisThrottle, Throttle
from tests.conftest import AppFactory, ClientFactory
from tests.factories.accounts import (
    DEVICE_COOKIE,
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    assert_problem,
    attempt_login,
    login,
    me,
    new_email,
    register,
    replace_cookie,
)
from tests.factories.clock import FakeClock
from tests.factories.settings import development_settings

WRONG_PASSWORD = "not the right password"
# Mistakes an account (or a trusted device) gets before any wait; a client IP gets more.
ACCOUNT_FREE_FAILURES = 5
IP_FREE_FAILURES = 30
MAX_WAIT = 15 * 60


def _use_throttle(app: FastAPI, throttle: Throttle) -> None:
    runtime = app.state.runtime
    runtime.throttle = throttle
    runtime.login_guard = LoginGuard(throttle, runtime.keys.secret_key)


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    """Run the app's throttle on a clock that only moves when the test says so."""
    fake = FakeClock()
    _use_throttle(app, MemoryThrottle(fake))
    return fake


def _retry_after(response: Any) -> int:
    problem = assert_problem(response, 429)
    assert problem["type"].endswith("too-many-requests")
    wait = int(response.headers["retry-after"])
    assert wait >= 1
    return wait


def _fail(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        assert_problem(attempt_login(client, email, WRONG_PASSWORD), 401)


def _browser_at(app: FastAPI, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 50000))


# --- per account ------------------------------------------------------------------------------


def test_repeated_failures_on_an_account_are_answered_429_with_retry_after(
    clock: FakeClock, client: TestClient, make_client: ClientFactory
) -> None:
    email = new_email()
    register(client, email=email)
    stranger = make_client()

    _fail(stranger, email, ACCOUNT_FREE_FAILURES)
    throttled = attempt_login(stranger, email, STRONG_PASSWORD)

    assert _retry_after(throttled) == 1
    assert not throttled.headers.get_list("set-cookie")


def test_the_wait_doubles_and_is_capped(
    clock: FakeClock, client: TestClient, make_client: ClientFactory
) -> None:
    email = new_email()
    register(client, email=email)
    stranger = make_client()
    _fail(stranger, email, ACCOUNT_FREE_FAILURES)

    waits = []
    for _ in range(13):
        wait = _retry_after(attempt_login(stranger, email, WRONG_PASSWORD))
        waits.append(wait)
        clock.advance(wait - 0.5)
        assert _retry_after(attempt_login(stranger, email, WRONG_PASSWORD)) == 1
        clock.advance(0.5)
        _fail(stranger, email, 1)

    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, MAX_WAIT, MAX_WAIT, MAX_WAIT]


def test_the_right_password_gets_in_once_the_wait_is_over(
    clock: FakeClock, client: TestClient, make_client: ClientFactory
) -> None:
    email = new_email()
    user = register(client, email=email)
    new_phone = make_client()
    _fail(new_phone, email, ACCOUNT_FREE_FAILURES)
    clock.advance(_retry_after(attempt_login(new_phone, email, STRONG_PASSWORD)))

    assert login(new_phone, email)["id"] == user["id"]
    # Success forgets the failures: the next mistake is a plain 401 again.
    assert_problem(attempt_login(make_client(), email, WRONG_PASSWORD), 401)


def test_unknown_emails_are_throttled_like_real_accounts(
    clock: FakeClock, make_client: ClientFactory
) -> None:
    real, unknown = new_email(), new_email()
    register(make_client(), email=real)
    prober = make_client()

    _fail(prober, real, ACCOUNT_FREE_FAILURES)
    _fail(prober, unknown, ACCOUNT_FREE_FAILURES)
    for_real = attempt_login(prober, real, WRONG_PASSWORD)
    for_unknown = attempt_login(prober, unknown, WRONG_PASSWORD)

    assert for_real.json() == for_unknown.json()
    assert _retry_after(for_real) == _retry_after(for_unknown)


def test_throttling_one_account_leaves_others_alone(
    clock: FakeClock, make_client: ClientFactory
) -> None:
    victim, neighbour = new_email(), new_email()
    register(make_client(), email=victim)
    register(make_client(), email=neighbour)
    stranger = make_client()
    _fail(stranger, victim, ACCOUNT_FREE_FAILURES)

    login(stranger, neighbour)


# --- the stalker who knows the victim's email -------------------------------------------------


def test_a_stalkers_failures_do_not_lock_the_victims_browser_out(
    clock: FakeClock, make_client: ClientFactory
) -> None:
    email = new_email()
    victims_phone, stalker = make_client(), make_client()
    user = register(victims_phone, email=email)
    assert victims_phone.cookies.get(DEVICE_COOKIE)
    assert victims_phone.post("/api/v1/auth/logout").status_code == 204

    _fail(stalker, email, ACCOUNT_FREE_FAILURES)
    _retry_after(attempt_login(stalker, email, STRONG_PASSWORD))

    # The victim's browser signed in before, so it is judged on its own record.
    assert login(victims_phone, email)["id"] == user["id"]
    # The stalker is still waiting, and the victim's sign-in did not clear their count.
    _retry_after(attempt_login(stalker, email, STRONG_PASSWORD))


def test_a_victims_own_typos_are_counted_on_their_browser(
    clock: FakeClock, make_client: ClientFactory
) -> None:
    email = new_email()
    victims_phone, stalker = make_client(), make_client()
    register(victims_phone, email=email)
    _fail(stalker, email, ACCOUNT_FREE_FAILURES)

    _fail(victims_phone, email, ACCOUNT_FREE_FAILURES)
    _retry_after(attempt_login(victims_phone, email, STRONG_PASSWORD))
    clock.advance(1)

    login(victims_phone, email)


def test_a_device_cookie_for_another_account_earns_nothing(
    clock: FakeClock, make_client: ClientFactory
) -> None:
    victim = new_email()
    register(make_client(), email=victim)
    stalker = make_client()
    # The stalker signs in to an account of their own and keeps its device cookie.
    register(stalker, email=new_email(), password=OTHER_STRONG_PASSWORD)
    assert stalker.cookies.get(DEVICE_COOKIE)

    _fail(stalker, victim, ACCOUNT_FREE_FAILURES)

    _retry_after(attempt_login(stalker, victim, STRONG_PASSWORD))


@pytest.mark.parametrize("forged", ["", "nonce.mac", "a.b.c", "x" * 300])
def test_a_forged_device_cookie_earns_nothing(
    clock: FakeClock, make_client: ClientFactory, forged: str
) -> None:
    email = new_email()
    register(make_client(), email=email)
    stalker = make_client()
    replace_cookie(stalker, DEVICE_COOKIE, forged)

    _fail(stalker, email, ACCOUNT_FREE_FAILURES)

    _retry_after(attempt_login(stalker, email, STRONG_PASSWORD))


def test_a_stalker_cannot_stop_the_victim_changing_their_password(
    clock: FakeClock, make_client: ClientFactory
) -> None:
    email = new_email()
    victims_phone, stalker = make_client(), make_client()
    register(victims_phone, email=email)
    _fail(stalker, email, ACCOUNT_FREE_FAILURES)

    response = victims_phone.post(
        "/api/v1/auth/password",
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
    )

    assert response.status_code == 200, response.text


def test_a_stalker_cannot_stop_the_victim_erasing_their_account(
    clock: FakeClock, make_client: ClientFactory
) -> None:
    email = new_email()
    victims_phone, stalker = make_client(), make_client()
    register(victims_phone, email=email)
    _fail(stalker, email, ACCOUNT_FREE_FAILURES)

    response = victims_phone.request(
        "DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD}
    )

    assert response.status_code == 204, response.text


def test_a_stalker_on_the_victims_network_cannot_lock_the_victim_out(
    app: FastAPI, clock: FakeClock
) -> None:
    """Stalkers often share the victim's network (a home, a workplace): the per-IP count
    must not become a way to lock the victim's own browser out either."""
    email = new_email()
    home = "192.0.2.10"
    with _browser_at(app, home) as victims_phone, _browser_at(app, home) as stalker:
        register(victims_phone, email=email)
        for _ in range(IP_FREE_FAILURES):
            _fail(stalker, new_email(), 1)
        _retry_after(attempt_login(stalker, new_email(), WRONG_PASSWORD))

        password_change = victims_phone.post(
            "/api/v1/auth/password",
            json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        )
        assert password_change.status_code == 200, password_change.text
        assert victims_phone.post("/api/v1/auth/logout").status_code == 204
        login(victims_phone, email, OTHER_STRONG_PASSWORD)


# --- re-entering the password while signed in -------------------------------------------------


def test_guessing_the_current_password_on_an_unlocked_phone_is_throttled(
    clock: FakeClock, client: TestClient
) -> None:
    register(client)
    guess = {"current_password": WRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD}
    for _ in range(ACCOUNT_FREE_FAILURES):
        assert_problem(client.post("/api/v1/auth/password", json=guess), 403)

    _retry_after(client.post("/api/v1/auth/password", json=guess))
    _retry_after(client.request("DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD}))
    clock.advance(1)

    right = {"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD}
    assert client.post("/api/v1/auth/password", json=right).status_code == 200


# --- per client IP ----------------------------------------------------------------------------


def test_many_failures_from_one_ip_are_throttled_across_accounts(
    app: FastAPI, clock: FakeClock, make_client: ClientFactory
) -> None:
    email = new_email()
    register(make_client(), email=email)
    with _browser_at(app, "203.0.113.7") as sprayer, _browser_at(app, "198.51.100.9") as other:
        for _ in range(IP_FREE_FAILURES):
            _fail(sprayer, new_email(), 1)

        assert _retry_after(attempt_login(sprayer, email, STRONG_PASSWORD)) == 1
        # Another address is not affected.
        login(other, email)


def test_probing_registration_for_taken_emails_is_throttled(
    app: FastAPI, clock: FakeClock, make_client: ClientFactory
) -> None:
    taken = new_email()
    register(make_client(), email=taken)
    body = {"email": taken, "password": OTHER_STRONG_PASSWORD, "display_name": "Sam"}
    with _browser_at(app, "203.0.113.8") as prober, _browser_at(app, "198.51.100.10") as other:
        for _ in range(IP_FREE_FAILURES):
            assert_problem(prober.post("/api/v1/auth/register", json=body), 409)

        _retry_after(prober.post("/api/v1/auth/register", json=body | {"email": new_email()}))
        register(other)


# --- shared through Redis ---------------------------------------------------------------------


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own in the local Redis, removed afterwards."""
    prefix = f"waymark-test:{uuid.uuid4().hex}:"
    yield prefix
    client = Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_apps(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str, make_app: AppFactory
) -> tuple[FastAPI, FastAPI]:
    """Two server processes of one deployment: same keys, same database, same Redis."""
    settings = development_settings(tmp_path / "data", database_url, redis_url=redis_url)
    apps = (make_app(settings), make_app(settings))
    for application in apps:
        assert isinstance(application.state.runtime.throttle, RedisThrottle)
        _use_throttle(application, RedisThrottle.from_url(redis_url, prefix=redis_prefix))
    return apps


@pytest.mark.redis
def test_redis_throttle_is_shared_by_every_process(redis_apps: tuple[FastAPI, FastAPI]) -> None:
    first, second = redis_apps
    email = new_email()
    with TestClient(first) as victims_phone, TestClient(second) as stalker_elsewhere:
        register(victims_phone, email=email)
        with TestClient(first) as stalker:
            _fail(stalker, email, ACCOUNT_FREE_FAILURES)

        # Going to another server behind the load balancer is no second chance.
        _retry_after(attempt_login(stalker_elsewhere, email, STRONG_PASSWORD))
        # The victim's own browser still gets in, on either server.
        assert victims_phone.post("/api/v1/auth/logout").status_code == 204
        login(victims_phone, email)
        me(victims_phone)


@pytest.mark.redis
def test_redis_learns_no_emails(
    redis_apps: tuple[FastAPI, FastAPI], redis_url: str, redis_prefix: str
) -> None:
    email = "robin.private@example.org"
    with TestClient(redis_apps[0]) as browser:
        register(browser, email=email)
        _fail(browser, email, 2)
        _fail(browser, "someone.else@example.org", 1)

    client = Redis.from_url(redis_url)
    keys = [key.decode() for key in client.scan_iter(match=redis_prefix + "*")]
    client.close()
    assert keys
    for key in keys:
        assert "robin" not in key
        assert "someone" not in key
        assert "example.org" not in key


# --- a burst, addresses and proxies (issue 15) ------------------------------------------------

BURST = 40


def _burst_of_wrong_passwords(app: FastAPI, email: str) -> list[int]:
    """BURST wrong passwords for one account, sent at once from BURST threads; the statuses."""
    start = threading.Barrier(BURST)
    statuses: list[int] = []

    def guess(client: TestClient) -> None:
        start.wait()
        statuses.append(attempt_login(client, email, WRONG_PASSWORD).status_code)

    with TestClient(app) as client:
        threads = [threading.Thread(target=guess, args=(client,)) for _ in range(BURST)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return statuses


def test_a_burst_of_parallel_guesses_gets_no_more_than_the_budget(
    app: FastAPI, clock: FakeClock, make_client: ClientFactory
) -> None:
    email = new_email()
    register(make_client(), email=email)

    statuses = _burst_of_wrong_passwords(app, email)

    # Each guess takes its try before the password is hashed, so the ones that arrive while
    # the first five are still being checked are refused rather than checked too.
    assert sorted(statuses) == [401] * ACCOUNT_FREE_FAILURES + [429] * (
        BURST - ACCOUNT_FREE_FAILURES
    )


@pytest.mark.redis
def test_a_burst_of_parallel_guesses_gets_no_more_than_the_budget_on_redis(
    redis_apps: tuple[FastAPI, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Redis keeps time by its own clock, which the test cannot stop: a first wait of an hour
    # makes "no more than the budget" independent of how long the burst takes to arrive.
    monkeypatch.setattr(
        logins, "ACCOUNT_POLICY", Policy(free_failures=ACCOUNT_FREE_FAILURES, first_delay=3600)
    )
    app = redis_apps[0]
    email = new_email()
    with TestClient(app) as victims_phone:
        register(victims_phone, email=email)

    statuses = _burst_of_wrong_passwords(app, email)

    assert statuses.count(401) == ACCOUNT_FREE_FAILURES
    assert statuses.count(429) == BURST - ACCOUNT_FREE_FAILURES


def test_an_ipv6_slash_64_shares_one_budget(
    app: FastAPI, clock: FakeClock, make_client: ClientFactory
) -> None:
    email = new_email()
    register(make_client(), email=email)
    for host in range(IP_FREE_FAILURES):
        with _browser_at(app, f"2001:db8:7:42::{host + 1:x}") as sprayer:
            _fail(sprayer, new_email(), 1)

    with _browser_at(app, "2001:db8:7:42:ffff:1:2:3") as same_network:
        _retry_after(attempt_login(same_network, email, STRONG_PASSWORD))
    with _browser_at(app, "2001:db8:7:43::1") as next_network:
        login(next_network, email)


def test_x_forwarded_for_changes_nothing_by_default(
    app: FastAPI, clock: FakeClock, make_client: ClientFactory
) -> None:
    email = new_email()
    register(make_client(), email=email)
    with _browser_at(app, "203.0.113.20") as sprayer:
        for n in range(BURST):
            forged = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
            response = sprayer.post(
                "/api/v1/auth/login",
                json={"email": new_email(), "password": WRONG_PASSWORD},
                headers=forged,
            )
            assert response.status_code == (401 if n < IP_FREE_FAILURES else 429), n


def test_x_forwarded_for_is_believed_from_a_trusted_proxy_only(
    settings: Settings, make_app: AppFactory, make_client: ClientFactory
) -> None:
    app = make_app(settings.model_copy(update={"trusted_proxies": "10.0.0.0/24"}))
    _use_throttle(app, MemoryThrottle(FakeClock()))
    with _browser_at(app, "10.0.0.5") as proxy:
        for n in range(BURST):
            # The client appended by the proxy is the rightmost entry; what the client itself
            # wrote in front of it is not believed.
            forwarded = {"X-Forwarded-For": f"192.0.2.99, 198.51.100.{n + 1}"}
            response = proxy.post(
                "/api/v1/auth/login",
                json={"email": new_email(), "password": WRONG_PASSWORD},
                headers=forwarded,
            )
            assert response.status_code == 401, n  # each client its own budget
        for _ in range(IP_FREE_FAILURES):
            _fail_from(proxy, "198.51.100.200")
        throttled = proxy.post(
            "/api/v1/auth/login",
            json={"email": new_email(), "password": WRONG_PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.200"},
        )
        _retry_after(throttled)


def _fail_from(proxy: TestClient, client_address: str) -> None:
    response = proxy.post(
        "/api/v1/auth/login",
        json={"email": new_email(), "password": WRONG_PASSWORD},
        headers={"X-Forwarded-For": client_address},
    )
    assert_problem(response, 401)
