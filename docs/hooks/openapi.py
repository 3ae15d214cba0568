"""MkDocs hook: renders the function's OpenAPI document into docs/http-api.md at build time.

The page holds a marker line, `<!-- openapi: PATH -->` (PATH from the repository root);
the marker is replaced by the operations, the shared responses and the schemas as
Markdown, so the page can never disagree with the file the function serves and the
tests validate against. Offline: it reads one local YAML file and nothing else. A marker
naming a missing file, or a `$ref` to nothing, stops the build (the error says which).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

MARKER = re.compile(r"^<!-- openapi: (?P<path>\S+) -->$", re.MULTILINE)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace each OpenAPI marker of a page with the document it names, rendered."""
    root = Path(config.config_file_path).parent

    def render_marker(match: re.Match[str]) -> str:
        path = root / match.group("path")
        if not path.is_file():
            raise PluginError(f"{page.file.src_uri}: the OpenAPI file {path} does not exist.")
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        return _Renderer(spec, match.group("path")).render()

    return MARKER.sub(render_marker, markdown)


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"


def _cell(text: object) -> str:
    """Text that fits in one table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


class _Renderer:
    def __init__(self, spec: dict[str, Any], source: str) -> None:
        self.spec = spec
        self.source = source
        self.schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
        self.responses: dict[str, Any] = spec.get("components", {}).get("responses", {})

    def render(self) -> str:
        info = self.spec.get("info", {})
        out = [
            f"*Rendered from `{self.source}` (OpenAPI {self.spec.get('openapi', '?')}, "
            f"API version {info.get('version', '?')}) when the site is built.*",
            "",
            info.get("description", "").strip(),
            "",
        ]
        out += self._security()
        out += ["## Operations", ""]
        for path, item in self.spec.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    out += self._operation(path, method, item[method])
        if self.responses:
            out += ["## Shared responses", ""]
            for name, response in self.responses.items():
                out += self._shared_response(name, response)
        if self.schemas:
            out += ["## Schemas", ""]
            for name, schema in self.schemas.items():
                out += self._schema(name, schema)
        return "\n".join(out).rstrip() + "\n"

    def _security(self) -> list[str]:
        schemes = self.spec.get("components", {}).get("securitySchemes", {})
        out: list[str] = []
        if schemes:
            out += ["## Authentication", ""]
            for name, scheme in schemes.items():
                kind = " ".join(str(scheme.get(k, "")) for k in ("type", "scheme")).strip()
                out += [f"**{name}** ({kind}): {scheme.get('description', '').strip()}", ""]
        return out

    def _operation(self, path: str, method: str, op: dict[str, Any]) -> list[str]:
        title = f"{method.upper()} {path}"
        out = [f"### `{title}` {{#{_anchor('op', op.get('operationId', title))}}}", ""]
        if op.get("summary"):
            out += [f"**{op['summary']}**", ""]
        if op.get("description"):
            out += [op["description"].strip(), ""]
        if op.get("security") == []:
            out += ["No credentials needed.", ""]
        body = op.get("requestBody")
        if body:
            for media, content in body.get("content", {}).items():
                schema = content.get("schema", {})
                out += [f"Request body ({media}): {self._type(schema)}.", ""]
                for example_name, example in content.get("examples", {}).items():
                    out += [
                        f"Example *{example_name}*: {example.get('summary', '')}",
                        "",
                        "```json",
                        json.dumps(example.get("value"), indent=2, ensure_ascii=False),
                        "```",
                        "",
                    ]
        out += ["| status | meaning | body |", "|---|---|---|"]
        for status, response in op.get("responses", {}).items():
            ref = response.get("$ref")
            if ref:
                name = self._ref_name(ref, "responses")
                resolved = self.responses[name]
                meaning = f"[{name}](#{_anchor('response', name)}): " + _cell(
                    resolved.get("description", "")
                )
                response = resolved
            else:
                meaning = _cell(response.get("description", ""))
            out.append(f"| {status} | {meaning} | {self._body(response)} |")
        return [*out, ""]

    def _shared_response(self, name: str, response: dict[str, Any]) -> list[str]:
        out = [f"### {name} {{#{_anchor('response', name)}}}", ""]
        out += [" ".join(response.get("description", "").split()), ""]
        for header, spec in response.get("headers", {}).items():
            out += [f"Header `{header}`: {spec.get('description', '')}", ""]
        out += [f"Body: {self._body(response)}.", ""]
        return out

    def _body(self, response: dict[str, Any]) -> str:
        kinds = [self._type(c.get("schema", {})) for c in response.get("content", {}).values()]
        return ", ".join(kinds) or "none"

    def _schema(self, name: str, schema: dict[str, Any]) -> list[str]:
        out = [f"### {name} {{#{_anchor('schema', name)}}}", ""]
        if schema.get("description"):
            out += [" ".join(schema["description"].split()), ""]
        properties: dict[str, Any] = schema.get("properties", {})
        if properties:
            required = set(schema.get("required", []))
            out += ["| field | type | required | meaning |", "|---|---|---|---|"]
            for field, spec in properties.items():
                out.append(
                    f"| `{field}` | {self._type(spec)} | {'yes' if field in required else ''} "
                    f"| {_cell(self._description(spec))} |"
                )
            out.append("")
            extra = schema.get("additionalProperties")
            if extra is False:
                out += ["No other field is accepted.", ""]
            elif isinstance(extra, dict):
                out += [f"Other fields: {self._type(extra)}.", ""]
        else:
            out += [f"Type: {self._type(schema)}.", ""]
        return out

    def _description(self, spec: dict[str, Any]) -> str:
        text = str(spec.get("description", ""))
        if "$ref" in spec and not text:
            text = str(self.schemas[self._ref_name(spec["$ref"], "schemas")].get("description", ""))
        examples = spec.get("examples")
        if examples:
            shown = ", ".join(f"`{json.dumps(e, ensure_ascii=False)}`" for e in examples)
            text = f"{text} Example: {shown}." if text else f"Example: {shown}."
        return text

    def _ref_name(self, ref: str, section: str) -> str:
        prefix = f"#/components/{section}/"
        name = ref.removeprefix(prefix)
        known = self.schemas if section == "schemas" else self.responses
        if not ref.startswith(prefix) or name not in known:
            raise PluginError(f"{self.source}: $ref {ref!r} points at nothing.")
        return name

    def _type(self, spec: dict[str, Any]) -> str:
        """A schema in a few words, with links to named schemas."""
        if "$ref" in spec:
            name = self._ref_name(spec["$ref"], "schemas")
            return f"[{name}](#{_anchor('schema', name)})"
        for combinator in ("oneOf", "anyOf", "allOf"):
            if combinator in spec:
                joiner = " and " if combinator == "allOf" else " or "
                return joiner.join(self._type(s) for s in spec[combinator])
        if "const" in spec:
            return f"`{json.dumps(spec['const'])}`"
        kinds = spec.get("type")
        names = kinds if isinstance(kinds, list) else [kinds] if kinds else []
        words = []
        for kind in names:
            if kind == "array":
                words.append(f"array of {self._type(spec.get('items', {}))}")
            elif kind == "object" and isinstance(spec.get("additionalProperties"), dict):
                words.append(f"object of {self._type(spec['additionalProperties'])}")
            else:
                words.append(str(kind))
        text = " or ".join(words) or "any JSON value"
        if "enum" in spec:
            text += ": " + ", ".join(f"`{v}`" for v in spec["enum"])
        bounds = [
            f"{label} {spec[key]}"
            for key, label in (
                ("minimum", "≥"),
                ("exclusiveMinimum", ">"),
                ("maximum", "≤"),
                ("minItems", "at least"),
                ("maxItems", "at most"),
            )
            if key in spec
        ]
        if bounds:
            text += f" ({', '.join(bounds)})"
        return text
