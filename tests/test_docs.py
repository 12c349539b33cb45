"""The examples in the README and in the public docstrings run and print what they claim."""

import doctest
import pathlib

import pytest

import cconv
from cconv import _config, _conv

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("module", [cconv, _conv, _config], ids=lambda m: m.__name__)
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
