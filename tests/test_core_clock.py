"""CLOCK-1 and CLOCK-2: the three modes, forward-only moves, and advertised intervals in
the client's real seconds."""

import pytest

from mockserver.clock import Clock, iso, parse_iso


class FakeWall:
    def __init__(self, t=1_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_real_clock_follows_wall_time():
    wall = FakeWall()
    clock = Clock("real", wall=wall)
    wall.t += 12.5
    assert clock.now() == pytest.approx(1_000_012.5)


def test_scaled_clock_runs_faster_and_advertises_real_seconds():
    wall = FakeWall()
    clock = Clock("scaled", scale=60, wall=wall)
    wall.t += 2
    assert clock.now() == pytest.approx(1_000_120)
    assert clock.advertise(10) == 1          # 10 virtual s = 1/6 real s, rounded up to 1
    assert clock.advertise(300) == 5         # 5 virtual minutes = 5 real seconds


def test_manual_clock_moves_only_when_told():
    wall = FakeWall()
    clock = Clock("manual", wall=wall, start=500.0)
    wall.t += 1000
    assert clock.now() == 500.0
    clock.advance(30)
    assert clock.now() == 530.0
    assert clock.advertise(10) == 10


def test_clock_never_moves_backwards():
    clock = Clock("manual", start=100.0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(50)


def test_unknown_mode_and_bad_scale_are_refused():
    with pytest.raises(ValueError):
        Clock("fast")
    with pytest.raises(ValueError):
        Clock("scaled", scale=0)


def test_iso_has_milliseconds_and_round_trips():
    text = iso(1705412345.678)
    assert text == "2024-01-16T13:39:05.678Z"
    assert parse_iso(text) == pytest.approx(1705412345.678)


def test_control_api_moves_the_manual_clock(api):
    before = api.get("/__mock/clock").json()
    after = api.advance(3600)
    assert after["epoch"] == pytest.approx(before["epoch"] + 3600)
    assert api.post("/__mock/clock/advance", json={"seconds": -5}).status_code == 400
    later = api.platform.clock.iso(after["epoch"] + 60)
    assert api.post("/__mock/clock/set", json={"time": later}).json()["now"] == later


def test_a_clock_jump_makes_every_webhook_retry_at_its_own_virtual_time():
    """HOOK-5 on a manual clock: advancing 60 s passes through each due attempt, so the
    retries keep their ~1 s / ~4 s spacing in virtual time; each is signed with the real
    time it was made (HOOK-8), which a clock jump does not move. Seeded, from a whole second:
    the ±10 % jitter is the same every run."""
    import time
    from conftest import Api, make_app
    from mockserver.clock import parse_iso
    from tests.support.webhook_receiver import refused_url
    with Api(make_app(allow_local_webhooks=True, seed=3, clock_start=1_790_000_000.0)) as api, \
            refused_url() as url:
        engine = api.platform.webhooks
        engine.enqueue(kind="cvdm", client_id="acme", run_id="r-1", url=url, payload={"a": 1})
        real_before = int(time.time())
        api.advance(60)
        real_after = time.time()
        [log] = api.get("/__mock/webhooks/deliveries", params={"client": "acme"}).json()["deliveries"]
    times = [parse_iso(a["at"]) for a in log["attempts"]]
    stamps = [a["signature_timestamp"] for a in log["attempts"]]
    assert [a["outcome"] for a in log["attempts"]] == ["retry", "retry", "exhausted"]
    assert 0.85 <= times[1] - times[0] <= 1.2 and 3.5 <= times[2] - times[1] <= 4.5
    assert stamps == sorted(stamps) and all(real_before <= t <= real_after for t in stamps)


class RunningWall(FakeWall):
    """Wall time that moves on by ``step`` real seconds at every reading: a running clock read
    twice in one request has moved in between (a loaded machine, a fast scale)."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def __call__(self):
        self.t += self.step
        return self.t


def test_reaching_an_instant_a_running_clock_already_passed_leaves_it_where_it_is():
    clock = Clock("scaled", scale=600, wall=RunningWall(0.01))  # 6 virtual seconds per reading
    before = clock.now()
    after = clock.reach(before + 1)  # passed on its own before the move
    assert after > before + 1
    far = clock.now() + 3600
    assert clock.reach(far) >= far  # a real jump forward
    with pytest.raises(ValueError):
        clock.set(clock.now() - 10)  # an explicit jump into the past stays an error


def test_an_advance_on_a_fast_running_clock_is_never_refused_as_going_back(monkeypatch):
    from conftest import Api
    from mockserver.app import create_app
    from mockserver.config import Settings

    clock = Clock("scaled", scale=600, wall=RunningWall(0.01))
    with Api(create_app(Settings(clock="scaled", time_scale=600), clock=clock)) as api:
        for _ in range(5):
            before = clock.now()
            moved = api.post("/__mock/clock/advance", json={"seconds": 1})
            assert moved.status_code == 200, moved.text
            assert clock.now() >= before + 1

