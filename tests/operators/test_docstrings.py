"""Every operator declares its contract in one docstring layout (issue 12, item 5).

The layout, as distilabel's task docstrings: a one-line summary, why it exists, then the
sections ``Input columns:``, ``Output columns:``, ``Reject reasons:`` and ``Example:`` in that
order; every default column name of ``default_keys`` is named in it.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from sqlsynth.operators.base import Operator

SUBPACKAGES = ("sqlsynth.operators.generate", "sqlsynth.operators.filter",
               "sqlsynth.operators.eval")
SECTIONS = ("Input columns:", "Output columns:", "Reject reasons:", "Example:")


def exported_operators() -> list[type[Operator]]:
    found: dict[str, type[Operator]] = {}
    for name in SUBPACKAGES:
        package = importlib.import_module(name)
        for attr in package.__all__:
            obj = getattr(package, attr)
            if (inspect.isclass(obj) and issubclass(obj, Operator)
                    and not inspect.isabstract(obj)):
                found[obj.__name__] = obj
    return [found[name] for name in sorted(found)]


def package_subclasses() -> set[type[Operator]]:
    """Concrete Operator subclasses defined under ``sqlsynth.operators`` (walked recursively)."""
    seen: set[type[Operator]] = set()
    stack = list(Operator.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
    return {cls for cls in seen
            if cls.__module__.startswith("sqlsynth.operators.") and not inspect.isabstract(cls)}


OPERATORS = exported_operators()


def test_every_operator_is_covered():
    names = {cls.__name__ for cls in OPERATORS}
    assert {
        "SQLGenerator", "SQLVariationGenerator", "Text2SQLQuestionGenerator",
        "Text2SQLPromptGenerator", "Text2SQLCoTGenerator", "SQLExecutabilityFilter",
        "SQLExecutionFilter", "Text2SQLCorrespondenceFilter", "Text2SQLCoTVotingGenerator",
        "Text2SQLQuestionFilter", "Text2SQLRoundTripFilter", "SQLComponentClassifier",
        "SQLExecutionClassifier",
    } <= names
    # no concrete operator in the package escapes the check by not being exported
    assert package_subclasses() <= set(OPERATORS)


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda cls: cls.__name__)
def test_docstring_sections_in_order(cls):
    assert cls.__dict__.get("__doc__"), f"{cls.__name__}: no docstring of its own"
    doc = inspect.getdoc(cls) or ""
    summary = doc.strip().splitlines()[0] if doc.strip() else ""
    assert summary and not summary.startswith(SECTIONS), f"{cls.__name__}: no one-line summary"
    positions = []
    for section in SECTIONS:
        lines = [i for i, line in enumerate(doc.splitlines()) if line.strip() == section]
        assert len(lines) == 1, f"{cls.__name__}: section {section!r} appears {len(lines)} times"
        positions.append(lines[0])
    assert positions == sorted(positions), f"{cls.__name__}: sections out of order {SECTIONS}"
    example = doc.splitlines()[positions[-1] + 1:]
    assert any(line.strip().startswith(">>>") for line in example), \
        f"{cls.__name__}: the Example section shows no call"


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda cls: cls.__name__)
def test_docstring_names_every_default_column(cls):
    doc = inspect.getdoc(cls) or ""
    missing = sorted({column for column in cls.default_keys.values() if column not in doc})
    assert not missing, f"{cls.__name__}: default columns not in the docstring: {missing}"
    unnamed = sorted(key for key in cls.default_keys if key not in doc)
    assert not unnamed, f"{cls.__name__}: keys not in the docstring: {unnamed}"
