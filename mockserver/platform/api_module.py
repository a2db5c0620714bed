"""The declaration every API module exports (`ApiModule`), and the start-up check that the
declared modules and the contract agree: every operation has exactly one handler, in the
module its tag names, and no handler serves an operation the contract does not have.

A module is a sub-package of `mockserver.modules`; its `__init__` exports `MODULE`, and
`mockserver/modules/__init__.py` lists the modules with static imports, so a module that
fails to import stops the start instead of disappearing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping

if TYPE_CHECKING:
    from starlette.routing import Route

    from ..contract import Contract
    from ..scenarios import Scenarios
    from .context import Ctx, Platform, Reply
    from .request_input import BodyLimit


@dataclass(frozen=True)
class ApiModule:
    name: str  # the scenario/facts name ("speech"); also the key of its settings
    tag: str  # the contract tag its operations carry ("Speech")
    handlers: Mapping[str, Callable[["Ctx"], Awaitable["Reply"]]]
    # Refuse (at start and on every reload) scenario rules this module cannot honour.
    check_scenarios: Callable[["Scenarios"], None]
    body_limits: Mapping[str, "BodyLimit"] = field(default_factory=dict)
    control_routes: Callable[["Platform"], list["Route"]] | None = None  # under /__mock
    public_routes: Callable[["Platform"], list["Route"]] | None = None  # e.g. the candidate page
    startup: Callable[["Platform"], None] | None = None
    state: Callable[["Platform"], Any] | None = None  # → platform.module_state[name]


class ModuleWiringError(RuntimeError):
    """The declared modules and the contract disagree (a programming error: fail at start)."""


def check_modules(modules: tuple[ApiModule, ...], contract: "Contract") -> None:
    names = [m.name for m in modules]
    if len(set(names)) != len(names):
        raise ModuleWiringError(f"two modules share a name: {names}")
    by_tag = {m.tag: m for m in modules}
    problems = []
    served: dict[str, str] = {}
    for module in modules:
        for op_id in module.handlers:
            if op_id in served:
                problems.append(f"{op_id} has handlers in {served[op_id]} and {module.name}")
            served[op_id] = module.name
            op = contract.operations.get(op_id)
            if op is None:
                problems.append(f"{module.name} serves {op_id}, which the contract does not have")
            elif op.tag != module.tag:
                problems.append(f"{op_id} is tagged {op.tag!r} but served by {module.name} ({module.tag!r})")
        for op_id in module.body_limits:
            if op_id not in module.handlers:
                problems.append(f"{module.name} limits the body of {op_id}, which it does not serve")
    for op_id, op in contract.operations.items():
        if op_id not in served:
            owner = by_tag.get(op.tag)
            problems.append(f"{op_id} ({op.tag}) has no handler" + ("" if owner else f": no module has tag {op.tag!r}"))
    if problems:
        raise ModuleWiringError("; ".join(problems))
