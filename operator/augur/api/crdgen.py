"""Generate ``CustomResourceDefinition`` manifests from the pydantic models.

``crds/*.yaml`` in the repository is the output of :func:`render_all`; a unit test fails when the
checked-in files differ, so the models stay the single source of truth (as in kubebuilder).

The pydantic JSON Schema (draft 2020-12) is turned into a *structural* OpenAPI v3 schema:
references are inlined, ``anyOf`` with ``null`` becomes the plain optional type, titles and
``additionalProperties: false`` (not allowed next to ``properties``) are dropped, and exclusive bounds
become OpenAPI 3.0 booleans.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from augur.api.meta import GROUP, VERSION, Kind

Schema = dict[str, Any]

_DROP = {"title", "$defs"}


def _resolve(schema: Schema, defs: dict[str, Schema]) -> Schema:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    target = dict(defs[ref.rsplit("/", 1)[-1]])
    target.update({k: v for k, v in schema.items() if k != "$ref"})
    return target


def _tidy(text: str) -> str:
    """Docstrings become one-line Markdown descriptions (``kubectl explain`` shows them verbatim)."""
    return " ".join(text.replace("``", "`").split())


def _non_null(options: list[Schema]) -> list[Schema]:
    return [o for o in options if o.get("type") != "null"]


def _convert(schema: Schema, defs: dict[str, Schema]) -> Schema:
    schema = _resolve(schema, defs)
    for combinator in ("anyOf", "allOf", "oneOf"):
        if combinator in schema:
            options = _non_null(schema[combinator])
            rest = {k: v for k, v in schema.items() if k != combinator and k not in _DROP}
            if len(options) == 1:
                merged = _convert(options[0], defs)
                merged.update({k: v for k, v in rest.items() if not (k == "default" and v is None)})
                return _convert(merged, defs) if "$ref" in merged else merged
            return _merge_string_options([_convert(o, defs) for o in options], rest)
    out: Schema = {}
    for key, value in schema.items():
        if key in _DROP or (key == "default" and value is None):
            continue
        if key == "additionalProperties" and value is False:
            continue
        if key == "properties":
            out[key] = {name: _convert(sub, defs) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _convert(value, defs)
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out[key.replace("exclusive", "").lower()] = value
            out[key] = True
        else:
            out[key] = value
    if "const" in out:
        out["enum"] = [out.pop("const")]
    return out


def _merge_string_options(options: list[Schema], rest: Schema) -> Schema:
    """``Duration | Literal["auto"]``: a string that matches the pattern or is one of the enum values."""
    if not all(o.get("type") == "string" for o in options):
        raise ValueError(f"cannot express a union of {options} in a structural schema")
    patterns = [o["pattern"] for o in options if "pattern" in o]
    literals = [v for o in options for v in o.get("enum", [])]
    alternatives = patterns + [f"^{v}$" for v in literals]
    merged: Schema = {"type": "string", "pattern": "|".join(f"({p})" for p in alternatives)}
    lengths = [o["maxLength"] for o in options if "maxLength" in o]
    merged["maxLength"] = max(lengths + [len(v) for v in literals]) if lengths else 253
    merged.update(rest)
    return merged


def openapi_schema(model: type[Any]) -> Schema:
    """The structural OpenAPI v3 schema of one pydantic model."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _tidy_descriptions(_convert(raw, raw.get("$defs", {})))


def _tidy_descriptions(schema: Schema) -> Schema:
    out: Schema = {}
    for key, value in schema.items():
        if key == "description" and isinstance(value, str):
            out[key] = _tidy(value)
        elif key == "properties":
            out[key] = {name: _tidy_descriptions(sub) for name, sub in value.items()}
        elif isinstance(value, dict) and key in ("items", "additionalProperties"):
            out[key] = _tidy_descriptions(value)
        else:
            out[key] = value
    return out


def _root_schema(kind: Kind) -> Schema:
    spec = openapi_schema(kind.spec)
    status = openapi_schema(kind.status)
    return {
        "type": "object",
        "description": kind.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": "APIVersion of this representation of the object."},
            "kind": {"type": "string", "description": "Kind of the REST resource this object represents."},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }


def _printer_columns(kind: Kind) -> list[Schema]:
    columns = []
    for c in kind.info.printer_columns:
        column: Schema = {"name": c.name, "type": c.type, "jsonPath": c.json_path}
        if c.description:
            column["description"] = c.description
        if c.priority:
            column["priority"] = c.priority
        if c.format:
            column["format"] = c.format
        columns.append(column)
    return columns


def crd(kind: Kind) -> Schema:
    """The full ``CustomResourceDefinition`` of one kind."""
    info = kind.info
    version: Schema = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": _root_schema(kind)},
        "additionalPrinterColumns": _printer_columns(kind),
    }
    if info.status_subresource:
        version["subresources"] = {"status": {}}
    names: Schema = {
        "kind": info.kind,
        "listKind": f"{info.kind}List",
        "plural": info.plural,
        "singular": info.singular,
        "shortNames": list(info.short_names),
        "categories": list(info.categories),
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": info.crd_name,
            "labels": {"app.kubernetes.io/part-of": "augur"},
            "annotations": {"augur.dev/generated-by": "augur crds generate (from augur.api)"},
        },
        "spec": {"group": GROUP, "scope": info.scope, "names": names, "versions": [version]},
    }


HEADER = "# Generated from augur.api by `augur crds generate`. Do not edit by hand.\n"


def render(kind: Kind) -> str:
    """YAML text of one CRD, as checked in under ``crds/``."""
    return HEADER + yaml.safe_dump(crd(kind), sort_keys=False, width=100, allow_unicode=True)


def file_name(kind: Kind) -> str:
    return f"{GROUP}_{kind.info.plural}.yaml"


def render_all(kinds: Iterable[Kind]) -> dict[str, str]:
    """File name → YAML text for every kind."""
    return {file_name(k): render(k) for k in kinds}
