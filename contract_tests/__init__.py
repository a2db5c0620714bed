"""The ZenHire contract suite: Schemathesis + Hypothesis + pytest, speaking only HTTP to a
base URL. Run it with ``zenhire-mock verify --base-url URL --api-key KEY`` or
``pytest contract_tests --base-url URL --api-key KEY``. See README.md.

PYTEST_DONT_REWRITE: pytest marks every package of a distribution with a ``pytest11`` plugin
for assertion rewriting; `zenhire-mock verify` has imported this package (for its options)
before pytest starts, and this marker spares that the "already imported" warning, which
the suite's ``error::UserWarning`` would make fatal. The test modules are still rewritten."""
