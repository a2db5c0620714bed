"""zenhire-mock: a high-fidelity offline stand-in for the ZenHire API platform.

`create_app()` (in `mockserver.app`) builds the Starlette application; the CLI in
`mockserver.cli` serves it with uvicorn.
"""

__version__ = "0.1.0"
