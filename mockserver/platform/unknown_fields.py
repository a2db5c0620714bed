"""Request-body fields the contract does not declare: found, then ignored or refused.

The docs never say that an unknown field is an error, and their one precedent — CV
DeepMatch's retired `source` — is "ignored (not an error)", so the contract's request bodies
leave undeclared fields open and the mock ignores them by default: they are removed from the
input before a handler sees it. A scenario switch restores the strict reading per module
(`settings: {<module>: {unknownFields: reject}}`, or a client's own settings): every
undeclared field is then a 400 with "Unknown field." at its path, reported together with the
body's other problems.

A field is undeclared when its object schema lists `properties` and says nothing about other
keys (no `additionalProperties`, no `patternProperties`); free-form objects (a metadata map,
CV DeepSearch `position_metadata`) have no undeclared fields. Schemas are followed through
`$ref`, `allOf` and array `items`.
"""

from __future__ import annotations

from typing import Any

IGNORE, REJECT = "ignore", "reject"
SETTING = "unknownFields"
MODES = (IGNORE, REJECT)


def _resolve(node: Any, components: dict) -> Any:
    while isinstance(node, dict) and str(node.get("$ref", "")).startswith("#/components/"):
        section, name = node["$ref"][len("#/components/"):].split("/", 1)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = dict(components[section][name], **siblings)
    return node


def _declared(node: dict, components: dict) -> tuple[dict, bool]:
    """(declared properties, whether other keys are left unconstrained by the schema itself)."""
    props: dict = dict(node.get("properties") or {})
    described = "additionalProperties" in node or "patternProperties" in node or "unevaluatedProperties" in node
    for branch in node.get("allOf") or []:
        sub = _resolve(branch, components)
        if isinstance(sub, dict):
            inner, inner_described = _declared(sub, components)
            props.update(inner)
            described = described or inner_described
    return props, described


def undeclared_paths(schema: Any, instance: Any, components: dict, prefix: list | None = None) -> list[list]:
    """Paths (lists of keys and indexes) of the fields of ``instance`` ``schema`` does not declare."""
    path = list(prefix or [])
    node = _resolve(schema, components)
    if not isinstance(node, dict):
        return []
    found: list[list] = []
    if isinstance(instance, dict):
        props, described = _declared(node, components)
        for key, value in instance.items():
            if key in props:
                found += undeclared_paths(props[key], value, components, path + [key])
            elif props and not described:
                found.append(path + [key])
    elif isinstance(instance, list) and "items" in node:
        for index, item in enumerate(instance):
            found += undeclared_paths(node["items"], item, components, path + [index])
    return found


def strip(instance: Any, paths: list[list]) -> None:
    """Remove every field at ``paths`` from ``instance`` (deepest first, so indexes hold)."""
    for path in sorted(paths, key=len, reverse=True):
        parent = instance
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
