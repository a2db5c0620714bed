"""Loads the suite's pytest plugin (options, target, fixtures, catalog report) for every
test under ``contract_tests/``. See ``plugin.py`` and ``README.md``."""

from contract_tests.plugin import (  # noqa: F401  (pytest discovers hooks and fixtures by name)
    api,
    contract,
    control,
    credit_guard,
    operation,
    primary_client_id,
    provision,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_header,
    pytest_runtest_logreport,
    pytest_sessionstart,
    pytest_terminal_summary,
    pytest_unconfigure,
    second_api,
    target,
    time_machine,
    webhook_receiver,
)
