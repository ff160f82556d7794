"""Signing in, guarded against guessing without handing a stalker a way to lock the victim out.

Failures are counted per client IP and per account. The per-account count is where a stalker
who knows the victim's email could do harm, so a browser that has signed in to that account
before carries a signed device cookie and is counted on its own key instead (OWASP's "device
cookies"): the victim's own phone keeps working while strangers are slowed down.
"""

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session

from app.errors import Forbidden, LoginFailed, TooManyRequests
from app.models.user import User
from app.services import accounts, audit, auth_sessions
from app.storage.crypto import mac, same_mac
from app.throttle import Policy, Throttle, address_key

IP_POLICY = Policy(free_failures=30)
ACCOUNT_POLICY = Policy(free_failures=5)
DEVICE_POLICY = Policy(free_failures=5)

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt:
    email: str
    password: str
    client_ip: str
    device_cookie: str | None
    user_agent: str | None


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_token: str
    device_cookie: str


class LoginGuard:
    def __init__(self, throttle: Throttle, secret_key: bytes) -> None:
        self._throttle = throttle
        self._secret = secret_key

    def _mac(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode()
        digest = mac(self._secret, message)
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def address(self, client_ip: str) -> str:
        """What a client's address is counted by: a MAC of its /64 (or IPv4 address), so the
        throttle store holds no address, and no two services' counts (other secret keys, one
        Redis) ever mix."""
        return self._mac("address", address_key(client_ip))

    def issue_device_cookie(self, email: str) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._mac('device', email, nonce)}"

    def _trusted_device(self, email: str, cookie: str | None) -> str | None:
        if not cookie or cookie.count(".") != 1:
            return None
        nonce, signature = cookie.split(".")
        return nonce if same_mac(signature, self._mac("device", email, nonce)) else None

    def _keys(
        self, email: str, client_ip: str, device_cookie: str | None
    ) -> list[tuple[str, Policy]]:
        # Keys hold MACs, not emails, so the throttle store (Redis) learns nothing about users.
        device = self._trusted_device(email, device_cookie)
        if device:
            # A browser that signed in to this account before is judged on its own record
            # only: neither strangers' failures on the account nor those from its network (a
            # stalker often shares the victim's home or workplace) can lock it out.
            return [("device:" + device, DEVICE_POLICY)]
        return [
            ("ip:" + self.address(client_ip), IP_POLICY),
            ("account:" + self._mac("account", email), ACCOUNT_POLICY),
        ]

    def take_tries(self, keys: list[tuple[str, Policy]]) -> None:
        """Take a try on every key, each counted as a failure until it proves right (see
        app/throttle.py: checking first and counting after the password hash would let a
        parallel burst through); refused with 429, nothing taken, while any key waits."""
        taken: list[tuple[str, Policy]] = []
        for key, policy in keys:
            wait = self._throttle.acquire(key, policy)
            if wait > 0:
                self.give_back(taken)
                raise TooManyRequests(wait)
            taken.append((key, policy))

    def give_back(self, keys: list[tuple[str, Policy]]) -> None:
        """The tries taken were not wrong guesses (right, or cut short by a fault)."""
        for key, _ in keys:
            self._throttle.refund(key)

    def _check(self, keys: list[tuple[str, Policy]]) -> None:
        wait = max(self._throttle.retry_after(key, policy) for key, policy in keys)
        if wait > 0:
            raise TooManyRequests(wait)

    def sign_in(
        self, db: Session, attempt: Attempt, lifetimes: auth_sessions.Lifetimes
    ) -> SignedIn:
        keys = self._keys(attempt.email, attempt.client_ip, attempt.device_cookie)
        self.take_tries(keys)
        try:
            user = accounts.authenticate(db, attempt.email, attempt.password)
        except LoginFailed:
            raise  # counted already
        except BaseException:
            self.give_back(keys)
            raise
        # Forget this account's (or this trusted browser's) failures; the IP's earlier ones
        # stay counted, this right try is given back.
        self.give_back(keys[:-1])
        self._throttle.clear(keys[-1][0])
        token = auth_sessions.start(db, user, attempt.user_agent, lifetimes)
        audit.record_own(db, user, "session.created")
        return SignedIn(user, token, self.issue_device_cookie(attempt.email))

    def guard_registration(self, client_ip: str) -> None:
        """Registration reveals whether an email is taken; slow down anyone probing for that."""
        self._check([("register:" + self.address(client_ip), IP_POLICY)])

    def registration_refused(self, client_ip: str) -> None:
        self._throttle.record_failure("register:" + self.address(client_ip), IP_POLICY)

    def reconfirm(self, user: User, client_ip: str, action: Callable[[], T]) -> T:
        """Guard a password re-entry by a signed-in user (change password, erase account):
        someone holding an unlocked phone must not get unlimited guesses."""
        # Counted apart from sign-in failures: only someone already signed in to this account
        # can add to it, so strangers cannot use it to stop the victim changing their
        # password or erasing the account.
        keys = [("reconfirm:" + self._mac("reconfirm", str(user.id)), ACCOUNT_POLICY)]
        self.take_tries(keys)
        try:
            outcome = action()
        except Forbidden:
            raise  # a wrong password: counted already
        except BaseException:
            self.give_back(keys)
            raise
        self.give_back(keys)
        return outcome
