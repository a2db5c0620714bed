"""`serve --journal-size N`: the journal keeps the newest N requests (memory is bounded), and
the grading report says how many of a client's requests it could no longer see."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import Api, make_app


def test_the_journal_keeps_the_newest_n_and_grading_counts_the_rest():
    with Api(make_app(journal_size=3)) as api:
        for _ in range(5):
            assert api.call("GET", "/api/v1/credits").status_code == 200
        entries = api.get("/__mock/journal", params={"client": "acme"}).json()["entries"]
        assert len(entries) == 3
        report = api.get("/__mock/grades", params={"client": "acme"}).json()
        assert report["requests_covered"] == 3 and report["journal_dropped"] == 2


def test_a_journal_size_below_one_is_one_line_naming_the_setting():
    done = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--journal-size", "0", "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "--journal-size" in done.stderr
