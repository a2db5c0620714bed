"""The contract suite's own time handling, checked without a server: ``TimeMachine`` converts
advertised (client real) seconds into target seconds with the scale the target reports,
waits within ``--wait-budget`` or skips without a control API, and ``until`` bounds a wait
by the target's time; the receiver checks ``t=`` against its own real clock (HOOK-8)."""

from __future__ import annotations

import time

import httpx
import pytest

from contract_tests.receiver import WebhookReceiver, sign, verify_signature
from contract_tests.target import TimeMachine
from contract_tests.waiting import until


class FakeControl:
    """A control API with a clock of the given mode and scale; ``advance`` moves it."""

    def __init__(self, mode: str, scale: float, epoch: float = 1_800_000_000.0) -> None:
        self.mode, self.scale, self.epoch = mode, scale, epoch
        self.advances: list[float] = []

    def clock(self) -> dict:
        return {"mode": self.mode, "scale": self.scale, "epoch": self.epoch, "now": "…"}

    def advance(self, seconds: float) -> dict:
        self.advances.append(seconds)
        self.epoch += seconds
        return self.clock()


@pytest.mark.parametrize("mode, scale, expected", [("manual", 1.0, 10.0), ("real", 1.0, 10.0),
                                                   ("scaled", 60.0, 600.0), ("scaled", 600.0, 6000.0)])
def test_an_advertised_interval_moves_the_target_clock_by_its_reported_scale(mode, scale, expected):
    control = FakeControl(mode, scale)
    TimeMachine(control, 0).wait_advertised(10, "a Retry-After of 10 s")
    assert control.advances == [expected]


def test_a_documented_duration_moves_the_target_clock_by_itself_whatever_the_scale():
    control = FakeControl("scaled", 60.0)
    machine = TimeMachine(control, 0)
    machine.pass_time(90, "an interview")
    machine.wait_advertised(1, "a poll window", at_least=10)
    assert control.advances == [90, 60.0]
    machine.wait_advertised(0.05, "a short poll window", at_least=10)
    assert control.advances[-1] == 10


@pytest.mark.parametrize("mode, scale, drift", [("manual", 1.0, 0.0), ("real", 1.0, 0.5), ("scaled", 600.0, 300.0)])
def test_drift_is_the_target_time_that_passes_on_its_own(mode, scale, drift):
    assert TimeMachine(FakeControl(mode, scale), 0).drift(0.5) == drift


def test_without_a_control_api_time_is_really_waited_within_the_budget_then_skipped():
    slept: list[float] = []
    machine = TimeMachine(None, 15, sleep=slept.append)
    machine.wait_advertised(10, "a poll window")
    assert slept == [10] and machine.remaining == 5
    with pytest.raises(pytest.skip.Exception, match="wait budget is 5s"):
        machine.pass_time(6, "a run to finish")
    assert slept == [10], "no wait beyond the budget"


def test_the_stopwatch_reads_the_targets_clock():
    control = FakeControl("manual", 1.0)
    machine = TimeMachine(control, 0)
    watch = machine.stopwatch()
    machine.pass_time(42, "a live interview")
    assert watch.elapsed() == 42


def test_until_fails_once_the_target_time_is_spent_not_after_a_number_of_rounds():
    control = FakeControl("scaled", 60.0)
    machine = TimeMachine(control, 0)
    rounds = 0
    with pytest.raises(pytest.fail.Exception, match="a terminal status was not reached within 600 s"):
        for _ in until(machine, 600, "a terminal status"):
            rounds += 1
            machine.wait_advertised(1, "the poll interval")  # 60 target seconds per round
    assert rounds == 12, "one last look after the wait that crossed the bound"


def test_until_takes_a_last_look_after_one_long_wait():
    control = FakeControl("scaled", 600.0)
    machine = TimeMachine(control, 0)
    looks = []
    for number in until(machine, 1200, "a terminal status"):
        looks.append(number)
        if number == 1:
            break  # the state was reached on the look after the long wait
        machine.wait_advertised(10, "a poll interval of 10 client seconds = 6000 target seconds")
    assert looks == [0, 1]


def test_until_is_bounded_even_when_time_stands_still():
    machine = TimeMachine(FakeControl("manual", 1.0), 0)
    with pytest.raises(pytest.fail.Exception):
        for _ in until(machine, 600, "a state", limit=5):
            pass


def test_the_signature_check_uses_the_receivers_real_clock():
    body, secret = b'{"id":"x"}', "whsec_test"
    header = sign(body, secret, 1_800_000_000)
    assert verify_signature(header, body, secret, now=1_800_000_000 + 299) == []
    virtual = sign(body, secret, 1_800_000_000 + 3600)  # signed with a clock an hour ahead
    problems = verify_signature(virtual, body, secret, now=1_800_000_000)
    assert len(problems) == 1 and "HOOK-8" in problems[0]


def test_the_receiver_stamps_each_request_with_its_real_arrival_time():
    with WebhookReceiver() as receiver:
        before = time.time()
        httpx.post(receiver.url, content=b"{}")
        got = receiver.wait_for(1, timeout=5)
    assert len(got) == 1 and before - 0.01 <= got[0].at <= time.time()
