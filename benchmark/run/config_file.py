"""YAML files of run settings (sweep files, system files), read so that every fault names its line.

:func:`read_config_file` parses with PyYAML's safe loader and remembers the line of every key of
the top two levels; :meth:`ConfigDocument.error` makes a :class:`ConfigFileError` at the line of a
key path. Parsing is bounded in time and memory: the file's size, the nesting of flow collections,
and no YAML anchors or aliases (``&a`` / ``*a``), whose expansion grows exponentially with the
file ("billion laughs"). :func:`run_settings` checks a mapping of
:class:`~benchmark.run.config.RunConfig` fields: known names, values of the field's type, in the
setting's range and, for names, in its table (:mod:`benchmark.run.setting_rules`), so that what a
file says reaches a run as it meant or is refused here, before anything is trained.
"""
from __future__ import annotations

import enum
import math
import re
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from backbones import BACKBONES
from benchmark.run.config import RunConfig
from benchmark.run.setting_rules import setting_problem, shown
from datamodules.id_paths import id_problem

KeyPath = tuple[str, ...]
# PyYAML's pure-Python parser takes seconds on large inputs and time quadratic in the nesting of
# flow collections ("[[[["), so both are bounded before parsing: a settings file is a few kB.
MAX_BYTES = 256 * 1024
MAX_FLOW_DEPTH = 64
_FLOW_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\n]|\'\')*\'|#[^\n]*|[\[\]{}]')


class ConfigFileError(ValueError):
    """A sweep or system file that cannot be read as one; the message names the file and the line."""

    def __init__(self, path: str | Path, line_number: int, reason: str) -> None:
        super().__init__(f"{path}:{line_number}: {reason}")
        self.path = str(path)
        self.line_number = line_number
        self.reason = reason


class SettingsLoader(yaml.SafeLoader):
    """PyYAML's safe loader refusing anchors and aliases: a settings file's size bounds its content."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            problem = "YAML anchors and aliases (&name, *name) are not allowed in a settings file; write the values out"
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ConfigDocument:
    """A parsed file: its top-level mapping and the 1-based line of each key of the top two levels."""

    path: Path
    data: dict[str, Any]
    lines: dict[KeyPath, int]

    def line(self, where: KeyPath) -> int:
        """The line of the longest known prefix of ``where`` (1 when none is known)."""
        for end in range(len(where), 0, -1):
            if where[:end] in self.lines:
                return self.lines[where[:end]]
        return 1

    def error(self, where: KeyPath, reason: str) -> ConfigFileError:
        return ConfigFileError(self.path, self.line(where), reason)


def read_config_file(path: str | Path) -> ConfigDocument:
    """The top-level mapping of a YAML file; anything else (invalid UTF-8 or YAML, a list, keys that
    are not strings) is a :class:`ConfigFileError`."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise ConfigFileError(path, 1, f"{len(data):,} bytes; a settings file has at most {MAX_BYTES:,}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigFileError(path, data.count(b"\n", 0, error.start) + 1, "not UTF-8 text") from None
    _check_flow_depth(path, text)
    loader = None
    try:
        loader = SettingsLoader(text)
        node = loader.get_single_node()
        document = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigFileError(path, line, f"invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:  # e.g. a ReaderError: a character YAML does not allow
        position = getattr(error, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigFileError(path, line, f"invalid YAML: {reason}") from None
    except RecursionError:
        raise ConfigFileError(path, 1, "invalid YAML: nested too deeply") from None
    except ValueError as error:  # a value PyYAML's constructors cannot build, e.g. an integer of 5,000 digits
        raise ConfigFileError(path, 1, f"invalid YAML: {str(error).splitlines()[0][:200]}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(document, dict):
        raise ConfigFileError(path, 1, f"expected a mapping of settings, found {_kind(document)}")
    lines = _key_lines(node)
    for key in document:
        if not isinstance(key, str):
            raise ConfigFileError(path, lines.get((str(key),), 1), f"setting names are text, found {key!r}")
    return ConfigDocument(path, document, lines)


def _check_flow_depth(path: Path, text: str) -> None:
    """Refuse ``[``/``{`` nested deeper than :data:`MAX_FLOW_DEPTH` (quoted text and comments skipped)."""
    depth = 0
    for token in _FLOW_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                raise ConfigFileError(path, line, f"invalid YAML: nested deeper than {MAX_FLOW_DEPTH} levels")
        elif bracket in "]}":
            depth = max(depth - 1, 0)


def _key_lines(node: yaml.Node, prefix: KeyPath = (), depth: int = 2) -> dict[KeyPath, int]:
    lines: dict[KeyPath, int] = {}
    if depth == 0 or not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            where = (*prefix, str(key.value))
            lines.setdefault(where, key.start_mark.line + 1)
            for inner, line in _key_lines(value, where, depth - 1).items():
                lines.setdefault(inner, line)
    return lines


def _kind(value: object) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


def section(document: ConfigDocument, key: str, default: Any = None) -> dict[str, Any]:
    """The mapping under ``key`` (``default`` when absent or empty), refused when not a mapping of names."""
    value = document.data.get(key)
    if value is None:
        return {} if default is None else default
    if not isinstance(value, dict) or not all(isinstance(name, str) for name in value):
        raise document.error((key,), f"'{key}' must be a mapping of setting names to values, found {_kind(value)}")
    return value


RUN_FIELDS: dict[str, Any] = typing.get_type_hints(RunConfig)


def value_problem(hint: Any, value: Any) -> str | None:
    """None when ``value`` (as YAML gives it) fits the type ``hint``; else what is wrong."""
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    options = typing.get_args(hint) if union else (hint,)
    problems = [_one_problem(option, value) for option in options]
    return None if any(problem is None for problem in problems) else problems[0]


def _one_problem(hint: Any, value: Any) -> str | None:
    if hint is type(None):
        return None if value is None else "expected nothing"
    if hint is bool:
        return None if isinstance(value, bool) else f"expected true or false, found {_shown(value)}"
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected a whole number, found {_shown(value)}"
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else f"expected a finite number, found {_shown(value)}"
    if hint is str:
        return None if isinstance(value, str) else f"expected text, found {_shown(value)}"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        known = [str(member.value) for member in hint]
        if isinstance(value, str) and value in known:
            return None
        return f"expected one of {', '.join(known)}, found {_shown(value)}"
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, (list, tuple)):
            return f"expected a list, found {_shown(value)}"
        inner = next((problem for v in value if (problem := _one_problem(item, v)) is not None), None)
        return None if inner is None else f"in the list: {inner}"
    return None  # a type without a rule here (a field added later): RunConfig checks it, if at all


def _shown(value: object) -> str:
    return shown(value)


def run_settings(
    document: ConfigDocument, values: dict[str, Any], where: KeyPath, grid: bool = False
) -> dict[str, Any]:
    """``values`` checked as RunConfig fields (a grid's values are lists of them); a YAML number
    given as a ``split`` becomes its text ("1")."""
    known = {f.name for f in fields(RunConfig)}
    checked: dict[str, Any] = {}
    for name, value in values.items():
        at = (*where, str(name))
        if name not in known:
            raise document.error(at, f"unknown run settings [{name!r}]; known: {sorted(known)}")
        candidates = value if grid and isinstance(value, list) else [value]
        converted = [_split_text(v) if name == "split" else v for v in candidates]
        for candidate in converted:
            problem = _setting_problem(name, candidate)
            if problem is not None:
                raise document.error(at, f"{name}: {problem}")
        checked[name] = converted if grid and isinstance(value, list) else converted[0]
    return checked


def _split_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _setting_problem(name: str, value: Any) -> str | None:
    """The value's type (:func:`value_problem`), then its range or table (:func:`setting_problem`)."""
    if name == "backbone_weights" and isinstance(value, dict):  # one weight file per backbone
        for backbone, path in value.items():
            if backbone not in BACKBONES:
                return f"unknown backbone {_shown(backbone)}; valid: {', '.join(BACKBONES)}"
            problem = setting_problem(name, path)
            if problem is not None:
                return f"{backbone}: {problem}"
        return None
    return value_problem(RUN_FIELDS[name], value) or setting_problem(name, value)


def plain_name(document: ConfigDocument, key: str, default: str) -> str:
    """A ``name`` that can name a file (a report): text without separators or control characters."""
    if key not in document.data:
        return default
    value = document.data[key]
    problem = id_problem(value) if isinstance(value, str) else f"is {_kind(value)}, not text"
    if problem is None and ("/" in value or "\\" in value or value.startswith(".")):
        problem = "has a path separator or starts with '.'"
    if problem is not None:
        raise document.error((key,), f"'{key}' must be a plain file name: {_shown(value)} {problem}")
    return value
