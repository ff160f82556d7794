"""The throttle itself: free failures, a doubling wait with a cap, clearing, and forgetting.

MemoryThrottle runs on a clock the test moves; RedisThrottle runs against the local Redis, whose
own clock counts, so its waits are checked within a second or two of what is due (no sleeps).
"""

import threading
import uuid
from collections.abc import Iterator

import pytest
from redis import Redis

from app.throttle import MemoryThrottle, Policy, RedisThrottle, address_key
from tests.factories.clock import FakeClock

POLICY = Policy(free_failures=3, max_delay=60, window=3600)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def memory(clock: FakeClock) -> MemoryThrottle:
    return MemoryThrottle(clock)


def _fail(throttle: MemoryThrottle | RedisThrottle, key: str, times: int) -> None:
    for _ in range(times):
        throttle.record_failure(key, POLICY)


# --- the policy -------------------------------------------------------------------------------


def test_policy_waits_nothing_for_the_free_failures() -> None:
    assert [POLICY.delay_after(n) for n in range(POLICY.free_failures)] == [0.0, 0.0, 0.0]


def test_policy_doubles_the_wait_up_to_the_cap() -> None:
    delays = [POLICY.delay_after(n) for n in range(3, 12)]

    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_policy_survives_a_huge_failure_count() -> None:
    assert POLICY.delay_after(100_000) == 60.0


# --- in memory --------------------------------------------------------------------------------


def test_memory_allows_the_free_failures(memory: MemoryThrottle) -> None:
    for _ in range(POLICY.free_failures):
        assert memory.retry_after("ip:a", POLICY) == 0
        memory.record_failure("ip:a", POLICY)

    assert memory.retry_after("ip:a", POLICY) == 1


def test_memory_doubles_the_wait_and_caps_it(memory: MemoryThrottle, clock: FakeClock) -> None:
    _fail(memory, "k", POLICY.free_failures)
    waits = []
    for _ in range(9):
        wait = memory.retry_after("k", POLICY)
        waits.append(wait)
        clock.advance(wait)
        assert memory.retry_after("k", POLICY) == 0
        memory.record_failure("k", POLICY)

    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_memory_rounds_a_part_second_wait_up(memory: MemoryThrottle, clock: FakeClock) -> None:
    _fail(memory, "k", POLICY.free_failures + 2)  # a 4 second wait
    clock.advance(2.25)

    assert memory.retry_after("k", POLICY) == 2
    clock.advance(1.75)
    assert memory.retry_after("k", POLICY) == 0


def test_memory_keys_are_independent(memory: MemoryThrottle) -> None:
    _fail(memory, "account:a", POLICY.free_failures + 1)

    assert memory.retry_after("account:a", POLICY) == 2
    assert memory.retry_after("account:b", POLICY) == 0


def test_memory_clear_forgets_a_key(memory: MemoryThrottle) -> None:
    _fail(memory, "k", POLICY.free_failures + 4)
    _fail(memory, "other", POLICY.free_failures)

    memory.clear("k")
    memory.clear("never-seen")

    assert memory.retry_after("k", POLICY) == 0
    memory.record_failure("k", POLICY)
    assert memory.retry_after("k", POLICY) == 0
    assert memory.retry_after("other", POLICY) == 1


def test_memory_forgets_failures_after_the_window(memory: MemoryThrottle, clock: FakeClock) -> None:
    _fail(memory, "k", POLICY.free_failures + 5)
    clock.advance(POLICY.window + 1)

    # The count starts again from nothing: a fresh set of free failures.
    _fail(memory, "k", POLICY.free_failures - 1)
    assert memory.retry_after("k", POLICY) == 0
    memory.record_failure("k", POLICY)
    assert memory.retry_after("k", POLICY) == 1


def test_memory_window_counts_from_the_last_failure(
    memory: MemoryThrottle, clock: FakeClock
) -> None:
    _fail(memory, "k", POLICY.free_failures)
    clock.advance(POLICY.window - 10)
    memory.record_failure("k", POLICY)
    clock.advance(20)

    # Still remembered: the last failure was 20 seconds ago.
    memory.record_failure("k", POLICY)
    assert memory.retry_after("k", POLICY) == 4


def test_memory_ping() -> None:
    assert MemoryThrottle().ping() is True


# --- in Redis ---------------------------------------------------------------------------------


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: Redis) -> Iterator[str]:
    """This test's own corner of the local Redis, removed afterwards."""
    own = f"waymark-test:{uuid.uuid4().hex}:"
    yield own
    keys = list(redis_client.scan_iter(match=own + "*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def shared(redis_client: Redis, prefix: str) -> RedisThrottle:
    return RedisThrottle(redis_client, prefix=prefix)


def _about(wait: int, due: int) -> bool:
    """Redis's own clock moves while the test runs; a second or two is allowed for that."""
    return due - 2 <= wait <= due


@pytest.mark.redis
def test_redis_allows_the_free_failures(shared: RedisThrottle) -> None:
    for _ in range(POLICY.free_failures):
        assert shared.retry_after("ip:a", POLICY) == 0
        shared.record_failure("ip:a", POLICY)

    assert _about(shared.retry_after("ip:a", POLICY), 1)
    assert shared.retry_after("ip:a", POLICY) >= 0


@pytest.mark.redis
def test_redis_doubles_the_wait_and_caps_it(shared: RedisThrottle) -> None:
    big = Policy(free_failures=1, max_delay=1000, window=3600)
    for failures, due in [(6, 32), (8, 128), (10, 512), (11, 1000), (20, 1000)]:
        key = f"k{failures}"
        for _ in range(failures):
            shared.record_failure(key, big)
        assert _about(shared.retry_after(key, big), due), (failures, due)


@pytest.mark.redis
def test_redis_keys_are_independent_and_prefixed(
    shared: RedisThrottle, redis_client: Redis, prefix: str
) -> None:
    _fail(shared, "account:a", POLICY.free_failures + 5)

    assert shared.retry_after("account:b", POLICY) == 0
    assert [k.decode() for k in redis_client.scan_iter(match=prefix + "*")] == [
        prefix + "account:a"
    ]


@pytest.mark.redis
def test_redis_clear_forgets_a_key(shared: RedisThrottle, redis_client: Redis, prefix: str) -> None:
    _fail(shared, "k", POLICY.free_failures + 5)

    shared.clear("k")

    assert shared.retry_after("k", POLICY) == 0
    assert redis_client.exists(prefix + "k") == 0


@pytest.mark.redis
def test_redis_forgets_failures_a_window_after_the_last(
    shared: RedisThrottle, redis_client: Redis, prefix: str
) -> None:
    _fail(shared, "k", 2)

    # Redis expires the whole count a window after the latest failure.
    ttl = redis_client.ttl(prefix + "k")
    assert POLICY.window - 5 <= ttl <= POLICY.window
    redis_client.expire(prefix + "k", 1000)
    shared.record_failure("k", POLICY)
    assert redis_client.ttl(prefix + "k") > 1000


@pytest.mark.redis
def test_redis_state_is_shared_between_processes(
    redis_client: Redis, redis_url: str, prefix: str
) -> None:
    one = RedisThrottle(redis_client, prefix=prefix)
    other_process = RedisThrottle.from_url(redis_url, prefix=prefix)

    _fail(one, "account:a", POLICY.free_failures + 3)

    assert _about(other_process.retry_after("account:a", POLICY), 8)
    other_process.clear("account:a")
    assert one.retry_after("account:a", POLICY) == 0


@pytest.mark.redis
def test_redis_ping(shared: RedisThrottle) -> None:
    assert shared.ping() is True
    # Nothing listens on port 1: the throttle says so rather than raising.
    assert RedisThrottle.from_url("redis://127.0.0.1:1/0").ping() is False


# --- taking a try up front (issue 15) ---------------------------------------------------------

HOUR_FIRST = Policy(free_failures=3, first_delay=3600, max_delay=7200, window=86400)


def _parallel_acquires(throttle: MemoryThrottle | RedisThrottle, key: str, n: int) -> list[int]:
    start = threading.Barrier(n)
    waits: list[int] = []

    def take() -> None:
        start.wait()
        waits.append(throttle.acquire(key, HOUR_FIRST))

    threads = [threading.Thread(target=take) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return waits


def test_memory_acquire_counts_the_try_and_refund_gives_it_back(memory: MemoryThrottle) -> None:
    for _ in range(POLICY.free_failures):
        assert memory.acquire("k", POLICY) == 0
    assert memory.acquire("k", POLICY) == 1  # refused, and not counted
    assert memory.retry_after("k", POLICY) == 1
    memory.refund("k")
    assert memory.retry_after("k", POLICY) == 0
    assert memory.acquire("k", POLICY) == 0


def test_memory_acquire_in_parallel_takes_no_more_than_the_free_tries(
    memory: MemoryThrottle,
) -> None:
    waits = _parallel_acquires(memory, "k", 40)
    assert waits.count(0) == HOUR_FIRST.free_failures


def test_the_first_wait_can_be_longer() -> None:
    assert [HOUR_FIRST.delay_after(n) for n in (2, 3, 4, 5)] == [0.0, 3600.0, 7200.0, 7200.0]


@pytest.mark.redis
def test_redis_acquire_in_parallel_takes_no_more_than_the_free_tries(
    shared: RedisThrottle,
) -> None:
    waits = _parallel_acquires(shared, "k", 40)
    assert waits.count(0) == HOUR_FIRST.free_failures
    assert all(_about(wait, 3600) for wait in waits if wait)


@pytest.mark.redis
def test_redis_refund_gives_a_try_back(shared: RedisThrottle) -> None:
    for _ in range(HOUR_FIRST.free_failures):
        assert shared.acquire("k", HOUR_FIRST) == 0
    assert shared.acquire("k", HOUR_FIRST) > 0
    shared.refund("k")
    assert shared.acquire("k", HOUR_FIRST) == 0
    assert shared.acquire("k", HOUR_FIRST) > 0


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:7:42::1", "2001:db8:7:42::/64"),
        ("2001:db8:7:42:ffff:ffff:ffff:ffff", "2001:db8:7:42::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("unknown", "unknown"),
    ],
)
def test_an_address_is_counted_on_its_ipv4_address_or_ipv6_slash_64(address: str, key: str) -> None:
    assert address_key(address) == key
