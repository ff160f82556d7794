"""Progressive throttling of failed sign-ins, in-process or shared through Redis.

A key (an IP, an account, a trusted device) gets `free_failures` mistakes; after that each new
failure doubles the wait, up to `max_delay` seconds. The count is forgotten `window` seconds
after the last failure. There is no permanent lockout: a stalker who knows the victim's email
must not be able to lock the victim out of their own log.

A sign-in takes its try with `acquire` before the password is checked, counting it as a failure
there and then in one step (under a lock, or in one Redis script): checking first and counting
after a slow password hash would let a burst of parallel guesses all pass the check before any
was counted. A try that turns out right is given back with `refund`, or the key `clear`ed.
"""

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from app.logs import get_logger

if TYPE_CHECKING:
    from redis import Redis

log = get_logger("waymark.throttle")

Clock = Callable[[], float]


@dataclass(frozen=True)
class Policy:
    free_failures: int
    max_delay: int = 15 * 60
    window: int = 24 * 60 * 60
    # The wait after the first failure past the free ones; each further failure doubles it.
    first_delay: int = 1

    def delay_after(self, failures: int) -> float:
        if failures < self.free_failures:
            return 0.0
        doublings = min(failures - self.free_failures, 64)  # 2**64 s is past any cap
        return float(min(self.first_delay * 2**doublings, self.max_delay))


IPV6_NETWORK_PREFIX = 64


def address_key(address: str) -> str:
    """What failures from a client address count on: the address itself for IPv4, its /64 for
    IPv6, which providers hand to one household or one machine whole."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_NETWORK_PREFIX), strict=False))
    return str(parsed)


class Throttle(Protocol):
    def retry_after(self, key: str, policy: Policy) -> int:
        """Seconds until `key` may try again; 0 when it may try now."""
        ...

    def record_failure(self, key: str, policy: Policy) -> None: ...

    def acquire(self, key: str, policy: Policy) -> int:
        """Take a try: if `key` may try now, count it as a failure at once and answer 0;
        otherwise count nothing and answer the seconds until it may. One atomic step."""
        ...

    def refund(self, key: str) -> None:
        """Give back a try taken with `acquire` that was not a failure after all."""
        ...

    def clear(self, key: str) -> None: ...

    def ping(self) -> bool: ...


@dataclass
class _Entry:
    failures: int
    last_failure: float


class MemoryThrottle:
    """One process's memory: right for the single-process default."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def retry_after(self, key: str, policy: Policy) -> int:
        now = self._clock()
        with self._lock:
            entry = self._live_entry(key, policy, now)
            if entry is None:
                return 0
            wait = entry.last_failure + policy.delay_after(entry.failures) - now
        return max(0, math.ceil(wait))

    def record_failure(self, key: str, policy: Policy) -> None:
        now = self._clock()
        with self._lock:
            entry = self._live_entry(key, policy, now)
            failures = entry.failures + 1 if entry else 1
            self._entries[key] = _Entry(failures=failures, last_failure=now)
            if len(self._entries) > 100_000:
                self._forget_old(policy, now)

    def acquire(self, key: str, policy: Policy) -> int:
        now = self._clock()
        with self._lock:
            entry = self._live_entry(key, policy, now)
            if entry is not None:
                wait = entry.last_failure + policy.delay_after(entry.failures) - now
                if wait > 0:
                    return math.ceil(wait)
            self._entries[key] = _Entry(
                failures=(entry.failures if entry else 0) + 1, last_failure=now
            )
            if len(self._entries) > 100_000:
                self._forget_old(policy, now)
        return 0

    def refund(self, key: str) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return
            if entry.failures <= 1:
                del self._entries[key]
            else:
                entry.failures -= 1

    def clear(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def ping(self) -> bool:
        return True

    def _live_entry(self, key: str, policy: Policy, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry and now - entry.last_failure > policy.window:
            del self._entries[key]
            return None
        return entry

    def _forget_old(self, policy: Policy, now: float) -> None:
        stale = [k for k, e in self._entries.items() if now - e.last_failure > policy.window]
        for key in stale:
            del self._entries[key]


# Count a failure and stamp it with the server's clock, atomically, so processes that share
# Redis agree on both.
_RECORD_FAILURE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_failure', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return failures
"""

_READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 'failures', 'last_failure')
if not v[1] then return {0, '0', tostring(now)} end
return {tonumber(v[1]), v[2], tostring(now)}
"""


# Take a try (see Throttle.acquire) in one step, so parallel requests on every process see
# each other's tries. The wait is returned as a string: Redis would truncate a number.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local free, first, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'failures', 'last_failure')
local failures = tonumber(v[1]) or 0
if failures >= free then
  local delay = math.min(first * 2 ^ math.min(failures - free, 64), cap)
  local wait = tonumber(v[2]) + delay - now
  if wait > 0 then return tostring(wait) end
end
redis.call('HSET', KEYS[1], 'failures', failures + 1, 'last_failure', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return '0'
"""

_REFUND = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', -1)
if failures <= 0 then redis.call('DEL', KEYS[1]) end
return failures
"""


class RedisThrottle:
    """Shared by every process of a deployment, so a second server is no second chance.

    When Redis does not answer, sign-in goes on with this process's own limits (`fallback`,
    the same policy, counted per process): refusing every sign-in would lock victims out of
    their own log, while a stalker gains at most one process's worth of extra tries until
    Redis is back. Each fallback is logged as a warning (at most one a minute), naming only
    the error's type.
    """

    WARN_EVERY_S = 60.0

    def __init__(
        self,
        client: "Redis",
        prefix: str = "waymark:throttle:",
        fallback: MemoryThrottle | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._record = client.register_script(_RECORD_FAILURE)
        self._read = client.register_script(_READ)
        self._acquire = client.register_script(_ACQUIRE)
        self._refund = client.register_script(_REFUND)
        self._fallback = fallback or MemoryThrottle(clock)
        self._clock = clock
        self._warned_at: float | None = None

    def _falling_back(self, error: Exception) -> MemoryThrottle:
        now = self._clock()
        if self._warned_at is None or now - self._warned_at >= self.WARN_EVERY_S:
            self._warned_at = now
            log.warning("throttle_fallback", error=type(error).__name__, limits="in-process")
        return self._fallback

    @classmethod
    def from_url(cls, url: str, prefix: str = "waymark:throttle:") -> "RedisThrottle":
        # Imported here: a single process without Redis need not hold the client (about 6 MiB).
        from redis import Redis

        return cls(Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), prefix)

    def retry_after(self, key: str, policy: Policy) -> int:
        from redis.exceptions import RedisError

        try:
            failures, last_failure, now = self._read(keys=[self._prefix + key])
        except RedisError as error:
            return self._falling_back(error).retry_after(key, policy)
        shared = 0
        if int(failures) != 0:
            wait = float(last_failure) + policy.delay_after(int(failures)) - float(now)
            shared = max(0, math.ceil(wait))
        # Failures counted here while Redis was away still count.
        return max(shared, self._fallback.retry_after(key, policy))

    def record_failure(self, key: str, policy: Policy) -> None:
        from redis.exceptions import RedisError

        try:
            self._record(keys=[self._prefix + key], args=[policy.window])
        except RedisError as error:
            self._falling_back(error).record_failure(key, policy)

    def acquire(self, key: str, policy: Policy) -> int:
        from redis.exceptions import RedisError

        # Failures counted here while Redis was away still count.
        local = self._fallback.retry_after(key, policy)
        if local > 0:
            return local
        try:
            wait = self._acquire(
                keys=[self._prefix + key],
                args=[policy.free_failures, policy.first_delay, policy.max_delay, policy.window],
            )
        except RedisError as error:
            return self._falling_back(error).acquire(key, policy)
        return max(0, math.ceil(float(wait)))

    def refund(self, key: str) -> None:
        from redis.exceptions import RedisError

        self._fallback.refund(key)
        try:
            self._refund(keys=[self._prefix + key])
        except RedisError as error:
            self._falling_back(error)

    def clear(self, key: str) -> None:
        from redis.exceptions import RedisError

        self._fallback.clear(key)
        try:
            self._client.delete(self._prefix + key)
        except RedisError as error:
            self._falling_back(error)

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except Exception:
            return False
