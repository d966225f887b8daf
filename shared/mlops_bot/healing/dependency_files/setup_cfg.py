"""setup.cfg: `[options] install_requires`."""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass

from mlops_bot.healing.dependency_files._core import (
    DependencyEdit,
    _attached_start,
    _bare,
    _edit,
    _eol,
    _insert_line,
    _is_sorted,
    _lines,
    _Requested,
)
from mlops_bot.healing.dependency_files.requirements import (
    _requirement_name,
)

# --------------------------------------------------------------------------------------------------
# setup.cfg


@dataclass(frozen=True)
class _CfgValueLine:
    index: int
    name: str  # canonical, "" for a `file:` directive


def _setup_cfg(content: str) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(content)
    except configparser.Error:
        return None
    return parser


def _cfg_requirements(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def _setup_cfg_declared(parser: configparser.ConfigParser) -> set[str]:
    requirements: list[str] = []
    for section, option in (("options", "install_requires"), ("options", "tests_require")):
        requirements += _cfg_requirements(parser.get(section, option, fallback=""))
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            requirements += _cfg_requirements(value)
    return {n for n in map(_requirement_name, requirements) if n}


def _add_to_setup_cfg(path: str, content: str, requested: _Requested) -> DependencyEdit | None:
    parser = _setup_cfg(content)
    if parser is None or not parser.has_option("options", "install_requires"):
        return None
    if requested.canonical in _setup_cfg_declared(parser):
        return None
    old_value = _cfg_requirements(parser.get("options", "install_requires"))
    if any(v.startswith(("file:", "attr:")) for v in old_value):
        return None
    lines = _lines(content)
    section = None
    key_index = None
    for index, line in enumerate(lines):
        text = _bare(line)
        if header := re.match(r"^\[(?P<name>[^\]]+)\]", text):
            section = header["name"].strip()
        elif section == "options" and re.match(r"^install_requires\s*[=:]", text):
            key_index = index
            break
    if key_index is None:
        return None
    values: list[_CfgValueLine] = []
    inline = re.sub(r"^install_requires\s*[=:]", "", _bare(lines[key_index])).strip()
    if inline:
        values.append(_CfgValueLine(key_index, _requirement_name(inline) or ""))
    last = key_index
    indent = "    "
    for index in range(key_index + 1, len(lines)):
        text = _bare(lines[index])
        if text.strip() and not text[0].isspace():
            break
        if text.strip():
            last = index
            if not text.strip().startswith("#"):
                if len(values) == (1 if inline else 0):
                    indent = text[: len(text) - len(text.lstrip())]
                values.append(_CfgValueLine(index, _requirement_name(text.strip()) or ""))
    names = [v.name for v in values]
    position = len(values)
    index = last + 1
    if _is_sorted(names):
        position = next((i for i, v in enumerate(values) if v.name > requested.canonical), len(values))
        if position < len(values):
            index = max(_attached_start(lines, values[position].index, {v.index for v in values}), key_index + 1)
            position = max(position, 1 if inline else 0)
    new_content = _insert_line(lines, index, f"{indent}{requested.requirement}", _eol(content))
    new_parser = _setup_cfg(new_content)
    if new_parser is None:
        return None
    expected_value = [*old_value[:position], requested.requirement, *old_value[position:]]
    if _cfg_requirements(new_parser.get("options", "install_requires")) != expected_value:
        return None
    if _cfg_without(new_parser) != _cfg_without(parser):
        return None
    return _edit(path, content, new_content, requested.requirement)


def _cfg_without(parser: configparser.ConfigParser) -> dict[str, dict[str, str]]:
    """Every option but `[options] install_requires`: what an edit must leave alone."""
    return {
        section: {k: v for k, v in parser.items(section) if (section, k) != ("options", "install_requires")}
        for section in parser.sections()
    }
