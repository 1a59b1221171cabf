"""YAML files the engine reads (mappings, risk profiles, training configs), with dates as text.

PyYAML builds a date out of anything shaped like one, and an impossible date (``2024-13-01``,
``2024-02-30``) raised a bare ValueError that stopped the command with a traceback. Kept as text,
a date reaches the model that reads the file, whose error names the entry and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["load_yaml", "load_yaml_file"]

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class _DatesAsText(yaml.SafeLoader):
    """`yaml.SafeLoader` without the implicit timestamp resolver, refusing a key given twice
    in one mapping: PyYAML keeps the last silently, and a mapping file listing ``bl_number``
    twice read every B/L number from the container column, exit 0."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE:
                    continue  # a merge (<<) may be overridden; a complex key is SafeLoader's
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                try:
                    twice = key in seen
                except TypeError:  # an unhashable key: SafeLoader's own error tells it
                    continue
                first = seen.setdefault(key, line)
                if twice:  # a set, not line numbers: {a: 1, a: 2} is on one line
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"{key!r} is given twice in one mapping ("
                        + (f"line {line}" if first == line else f"lines {first} and {line}")
                        + "): keep one",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """``text`` read as YAML, dates left as text; `yaml.YAMLError` when it is not YAML."""
    return yaml.load(text, Loader=_DatesAsText)  # noqa: S506 - a SafeLoader


def load_yaml_file(path: Path) -> Any:
    """A YAML file read as UTF-8 (a leading BOM allowed), dates left as text. A file in another
    encoding is a `yaml.YAMLError` naming the byte, its line and the fix: a mapping typed on
    Windows ("N° Connaissement") stopped the command with a UnicodeDecodeError traceback."""
    return load_yaml_bytes(Path(path).read_bytes())


def load_yaml_bytes(data: bytes) -> Any:
    """`load_yaml_file` of a file's bytes, read once (a caller that records their hash)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise yaml.YAMLError(
            f"not UTF-8: byte 0x{data[error.start]:02x} on line {line}; save the file as "
            "UTF-8 (one typed on Windows is often cp1252)"
        ) from None
    return load_yaml(text)
