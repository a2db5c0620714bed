"""The ZenHire contract suite: Schemathesis + Hypothesis + pytest, speaking only HTTP to a
base URL. Run it with ``zenhire-mock verify --base-url URL --api-key KEY`` or
``pytest contract_tests --base-url URL --api-key KEY``. See README.md."""
