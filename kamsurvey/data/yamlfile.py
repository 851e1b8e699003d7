"""The YAML inputs (codebook, wave.yml, editions register, claims ledger), read and checked one way.

Each file's shape is a pydantic model: types, required and unknown keys, and the references
between entries (model validators). pydantic reports where a value is wrong as a path of
keys; to say it the way the rest of the project does (`Problem`: file, line, key, what was
got and what was expected), the text is parsed once into data *and* the line of every key
path (`Document`), and each of pydantic's errors is put into plain words with the line of
its key. A model's validator that finds a bad value raises `Invalid`, saying what was
expected and under which key, so a reference checked on a whole file still points at the
line of the key that is wrong.
"""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from kamsurvey.data.problems import MAX_SHOWN, Problem, line_order, render_problems

KeyPath = tuple[str | int, ...]
_FROM_INPUT = object()  # Invalid's value: the one found in the file at its key
_EMPTY = "key is empty"


class Schema(BaseModel):
    """A mapping in one of the YAML files: every key is declared, so a misspelt key is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _whole_number_as_text(value: Any) -> Any:
    """YAML reads an unquoted 2022 as a number; as an id (a wave, an option code) it is the text '2022'."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not value.strip():
        raise Invalid(_EMPTY, value=None)
    return value


Text = typing.Annotated[str, BeforeValidator(_text)]
"""Text that is not blank (a number or true/false is not text: quote it)."""
Id = typing.Annotated[str, BeforeValidator(_text), BeforeValidator(_whole_number_as_text)]
"""An identifier: text, or a whole number written without quotes (wave 2022, option 10)."""


class Invalid(ValueError):
    """A model validator's finding: what is wrong (`issue`) under `key` (relative to the model) and what was expected.

    `expected` None: the description of the field at `key`. `value` left out: the value in the
    file at `key`; None: no value is shown (the issue already names it, or there is none).
    """

    def __init__(self, issue: str = "", *, key: KeyPath = (), expected: str | None = None, value: Any = _FROM_INPUT):
        super().__init__(issue or expected or "invalid")
        self.issue, self.key, self.expected, self.value = issue, tuple(key), expected, value


class Invalids(ValueError):
    """Every finding of one validator, so that a file with several bad references reports them all at once."""

    def __init__(self, found: Sequence[Invalid]):
        super().__init__("; ".join(map(str, found)))
        self.found = list(found)


def raise_all(found: Sequence[Invalid]) -> None:
    if len(found) == 1:
        raise found[0]
    if found:
        raise Invalids(found)


class UnreadableFile(ValueError):
    """The file cannot be read as YAML at all (missing, not UTF-8, empty, not YAML)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: its data, and the line (1-based) of every key and list item, by key path."""

    file: str
    data: Any
    lines: Mapping[KeyPath, int]

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, or of its nearest enclosing key (a missing key: the mapping it is missing from)."""
        recorded = self._as_recorded(path)
        for end in range(len(recorded), 0, -1):
            line = self.lines.get(recorded[:end])
            if line is not None:
                return line
        return None

    def _as_recorded(self, path: KeyPath) -> KeyPath:
        """Mapping keys as text, list positions as numbers (pydantic names an unquoted key 2022 by the number)."""
        data, recorded = self.data, []
        for step in path:
            if isinstance(data, list) and isinstance(step, int):
                recorded.append(step)
                data = data[step] if 0 <= step < len(data) else None
            else:
                recorded.append(str(step))
                data = data.get(step) if isinstance(data, Mapping) else None
        return tuple(recorded)

    def value(self, path: KeyPath) -> Any:
        """The value at `path`, None if there is none."""
        data = self.data
        for step in path:
            if isinstance(data, Mapping):
                data = data.get(step)
            elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
                data = data[step]
            else:
                return None
        return data


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml where installed: 10x faster
    """SafeLoader that keeps an impossible date (2022-13-01) as text, for the model to report, instead of raising."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                here = path + (str(key.value),)
                lines.setdefault(here, key.start_mark.line + 1)
                _record_lines(value, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            lines[path + (position,)] = item.start_mark.line + 1
            _record_lines(item, path + (position,), lines)


def parse(text: str, file: str, *, expected: str) -> Document:
    """`text` as data with the line of each key; UnreadableFile if it is empty or not YAML."""
    if not text.strip():
        raise UnreadableFile(Problem(file, None, None, None, None, expected, "empty file"))
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UnreadableFile(Problem(file, line, None, None, None, "valid YAML", f"not YAML: {reason}")) from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return Document(file, data, lines)


def read(path: str | Path, *, expected: str) -> Document:
    """The YAML file at `path` (UTF-8, a byte-order mark allowed); UnreadableFile says why it cannot be read."""
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise UnreadableFile(Problem(file, None, None, None, None, expected, "file not found"))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.start + 1]
        raise UnreadableFile(Problem(file, line, None, None, bad, "UTF-8 text",
                                     f"not UTF-8: byte {data[error.start]:#04x} at byte offset {error.start}")) from None
    return parse(text, file, expected=expected)


def from_data(data: Any, file: str) -> Document:
    """Data already parsed (no lines known): messages name the file and key, without a line."""
    return Document(file, data, {})


# --------------------------------------------------------------------------- checking


def validate(model: type[BaseModel], document: Document,
             context: Mapping[str, Any] | None = None) -> tuple[Any, list[Problem]]:
    """(the model's instance, []) or (None, every problem in the document), in line order."""
    try:
        return model.model_validate(document.data, context=dict(context or {})), []
    except ValidationError as error:
        return None, problems(error, document, model)


def checked(model: type[BaseModel], document: Document, error: type[Exception],
            context: Mapping[str, Any] | None = None) -> Any:
    """The model's instance, or `error` listing every problem (one a line)."""
    instance, found = validate(model, document, context)
    if found:
        raise error(describe(found))
    return instance


def describe(found: Sequence[Problem]) -> str:
    """One problem as its line; several after a line counting them, as `kam validate` lists a wave's."""
    if len(found) == 1:
        return str(found[0])
    files = ", ".join(dict.fromkeys(p.file for p in found))
    return render_problems(f"{len(found)} problems in {files}:", found, MAX_SHOWN)


def key_text(path: KeyPath) -> str:
    """('questions', 3, 'options') -> 'questions[3].options': the key path as the messages name it."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def problems(error: ValidationError, document: Document, model: type[BaseModel]) -> list[Problem]:
    """Each of pydantic's errors as a Problem naming the file, the line and the key, in line order."""
    return [problem for _, problem in findings(error, document, model)]


def findings(error: ValidationError, document: Document, model: type[BaseModel]) -> list[tuple[KeyPath, Problem]]:
    """(key path, Problem) of each error, in line order: for files whose messages name an entry by its key path."""
    found = []
    for detail in error.errors(include_url=False):
        cause = (detail.get("ctx") or {}).get("error")
        for one in cause.found if isinstance(cause, Invalids) else [cause]:
            found.append(_finding(detail, one, document, model))
    return sorted(found, key=lambda finding: line_order(finding[1]))


def _finding(detail: dict, cause: Any, document: Document, model: type[BaseModel]) -> tuple[KeyPath, Problem]:
    path = tuple(step for step in detail["loc"] if step != "[key]")
    value = detail.get("input")
    if isinstance(cause, Invalid):
        path += cause.key
        value = document.value(path) if cause.value is _FROM_INPUT else cause.value
        expected = cause.expected or _expected(model, path, detail, value)
        issue = _empty(model, path) if cause.issue == _EMPTY else cause.issue
    else:
        issue, value, expected = _explain(detail, path, value, model, document)
    column = key_text(path) if path else None
    return path, Problem(document.file, document.line(path), None, column, value, expected, issue)


def _explain(detail: dict, path: KeyPath, value: Any, model: type[BaseModel], document: Document) -> tuple[str, Any, str]:
    """(issue, value shown, expected) of one of pydantic's own errors, in plain words."""
    kind = detail["type"]
    if kind == "missing":
        return "required key missing", None, _expected(model, path, detail, None)
    if kind == "extra_forbidden":
        known = _keys(_type_at(model, path[:-1]))
        present = document.value(path[:-1]) or {}
        near = difflib.get_close_matches(str(path[-1]), [k for k in known if k not in present], n=1, cutoff=0.6)
        if near:
            return f"unknown key (a misspelling of '{near[0]}'?)", None, f"'{near[0]}'"
        return "unknown key", None, "one of the keys " + ", ".join(known)
    if "[key]" in detail["loc"]:
        return "bad key", value, "text (" + _generic(detail) + ")"
    if value is None and path and isinstance(path[-1], str):
        return _empty(model, path), None, _expected(model, path, detail, value)
    issue = ""
    if kind in ("model_type", "dict_type", "model_attributes_type") and isinstance(value, (list, Mapping)):
        issue, value = f"not a mapping (got a {type(value).__name__})", None  # not the whole list in one line
    elif kind == "string_type" and isinstance(value, bool):
        issue = "YAML reads unquoted yes, no, on, off as true or false; quote text"
    elif kind == "value_error":
        issue = str(detail.get("ctx", {}).get("error", "")) or detail["msg"]
    return issue, value, _expected(model, path, detail, value)


def _empty(model: type[BaseModel], path: KeyPath) -> str:
    field = _field_at(model, path)
    if field is None:  # a list item or a mapping's value
        return "empty value"
    return ("required " if field.is_required() else "") + _EMPTY


def _expected(model: type[BaseModel], path: KeyPath, detail: dict, value: Any) -> str:
    """The description of the field at `path` if it has one, else what pydantic's check wanted, in words."""
    field = _field_at(model, path)
    if field is not None and field.description:
        return field.description
    here = _type_at(model, path)
    if inspect.isclass(here) and issubclass(here, BaseModel):
        required = [k for k, f in _fields(here).items() if f.is_required()]
        return "a YAML mapping of keys: " + ", ".join(required or _keys(here))
    return _generic(detail)


_GENERIC = {
    "string_type": "text",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
}


def _generic(detail: dict) -> str:
    kind, context = detail["type"], detail.get("ctx") or {}
    if kind in _GENERIC:
        return _GENERIC[kind]
    if kind == "literal_error":
        return "one of " + context["expected"]
    if kind == "too_short":
        return f"at least {context['min_length']} item{'s' if context['min_length'] != 1 else ''}"
    if kind == "too_long":
        return f"at most {context['max_length']} item{'s' if context['max_length'] != 1 else ''}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "over"),
                 "less_than_equal": ("le", "at most"), "less_than": ("lt", "under")}[kind]
        return f"a number {words[1]} {context[words[0]]}"
    return "a valid value" if kind == "value_error" else detail["msg"]


# --------------------------------------------------------------------------- the model at a key path


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the key that names them in the file (`if` for a field `if_`)."""
    return {(field.alias or name): field for name, field in model.model_fields.items()}


def _keys(here: Any) -> list[str]:
    return list(_fields(here)) if inspect.isclass(here) and issubclass(here, BaseModel) else []


def _unwrap(annotation: Any) -> Any:
    """The type inside Annotated[...] and X | None."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(inner) != 1:
                return annotation
            annotation = inner[0]
        else:
            return annotation


def _step(here: Any, step: str | int) -> tuple[Any, FieldInfo | None]:
    here = _unwrap(here)
    if inspect.isclass(here) and issubclass(here, BaseModel):
        field = _fields(here).get(str(step))
        return (field.annotation, field) if field is not None else (None, None)
    origin, args = typing.get_origin(here), typing.get_args(here)
    if origin in (list, Sequence) and args and isinstance(step, int):
        return args[0], None
    if origin is tuple and args and isinstance(step, int):  # tuple[X, ...] or tuple[X, Y]
        return (args[0] if args[-1] is ... else args[min(step, len(args) - 1)]), None
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1], None
    return None, None


def _type_at(model: type[BaseModel], path: KeyPath) -> Any:
    here: Any = model
    for step in path:
        here, _ = _step(here, step)
        if here is None:
            return None
    return _unwrap(here)


def _field_at(model: type[BaseModel], path: KeyPath) -> FieldInfo | None:
    """The field declared for the last key of `path` (None for a list item or a mapping's value)."""
    if not path:
        return None
    parent = _type_at(model, path[:-1])
    return _step(parent, path[-1])[1] if parent is not None else None
