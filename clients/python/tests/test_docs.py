"""Every ```python example of docs/python.md runs against the real broker
(its address 127.0.0.1:5679 replaced with the test broker's)."""

import os
import re

import pytest

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "python.md")


def examples():
    with open(DOC) as f:
        text = f.read()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_doc_has_examples():
    assert len(examples()) >= 5


@pytest.mark.parametrize("index", range(len(examples())))
def test_doc_example(broker, index, capsys):
    code = examples()[index].replace("127.0.0.1:5679", broker.endpoint)
    exec(compile(code, f"docs/python.md example {index}", "exec"), {})
