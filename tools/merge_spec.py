"""Assemble openapi.yaml from spec_parts/*.yaml (used while modules are written in parallel)."""
import sys
from pathlib import Path

import yaml

root = Path(__file__).resolve().parent.parent
parts = sorted((root / "spec_parts").glob("*.yaml"))
spec = yaml.safe_load(parts[0].read_text())
for part in parts[1:]:
    frag = yaml.safe_load(part.read_text()) or {}
    for path, item in (frag.get("paths") or {}).items():
        if path in spec["paths"]:
            sys.exit(f"{part.name}: duplicate path {path}")
        spec["paths"][path] = item
    for section, entries in (frag.get("components") or {}).items():
        target = spec["components"].setdefault(section, {})
        for name, value in entries.items():
            if name in target and target[name] != value:
                sys.exit(f"{part.name}: duplicate component {section}/{name}")
            target[name] = value
    for name, hook in (frag.get("webhooks") or {}).items():
        spec.setdefault("webhooks", {})[name] = hook


class Dumper(yaml.SafeDumper):
    pass


def _str(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


Dumper.add_representer(str, _str)
text = yaml.dump(spec, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
(root / "openapi.yaml").write_text(text)
print(f"openapi.yaml: {len(spec['paths'])} paths from {len(parts)} parts")
