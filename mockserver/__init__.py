"""zenhire-mock: a high-fidelity offline stand-in for the ZenHire API platform.

`create_app()` (in `mockserver.app`) builds the Starlette application; the CLI in
`mockserver.cli` serves it with uvicorn.

PYTEST_DONT_REWRITE: already imported when `zenhire-mock verify` starts pytest (see
`contract_tests/__init__.py`); nothing here needs pytest's assertion rewriting.
"""

__version__ = "0.1.0"
