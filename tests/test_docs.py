"""The examples in the README and in the public docstrings run and print what they claim."""

import doctest
import pathlib
import re

import pytest

import cconv
from cconv import _adaptive_pool, _config, _conv, _conv_transpose, _conv_weight, _fold, _pool

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@pytest.mark.parametrize("module", [cconv, _conv, _conv_transpose, _conv_weight, _config,
                                    _pool, _adaptive_pool, _fold], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0


@pytest.mark.skipif(not README.exists(), reason="tests run outside the source tree")
def test_readme_examples():
    # Fence lines would otherwise be read as part of the expected output.
    text = "\n".join(line for line in README.read_text().splitlines()
                     if not line.startswith("```"))
    test = doctest.DocTestParser().get_doctest(text, {}, "README.md", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
    assert result.attempted >= 8


# A repository path in prose: folders, then a file name with a source or documentation suffix.
_PATH = re.compile(r"(?<![\w/.<-])(?:\.?[\w-]+/)+[\w.-]*\w"
                   r"\.(?:md|py|toml|txt|sh|c|h|pyx|pxd|pyi|ini)\b")


@pytest.mark.parametrize("name", ["README.md", "pyproject.toml", "benchmarks/README.md"])
def test_files_named_in_the_docs_exist(name):
    """Every path that README.md, pyproject.toml and benchmarks/README.md name exists (relative
    to the repository root or to the naming file)."""
    doc = ROOT / name
    if not doc.exists():
        pytest.skip("tests run outside the source tree")
    named = set(_PATH.findall(doc.read_text()))
    missing = sorted(p for p in named if not (ROOT / p).exists() and not (doc.parent / p).exists())
    assert not missing, f"{name} names files that do not exist: {missing}"


def test_readme_speaks_to_users():
    """The README says what was measured and how; it does not point at the project's internal
    briefs or issue numbers, which a user cannot read."""
    if not README.exists():
        pytest.skip("tests run outside the source tree")
    text = README.read_text()
    found = re.findall(r"(?i)\bproject brief\b|\bthe brief\b|\bbrief's\b|\bissue \d+", text)
    assert not found, found
