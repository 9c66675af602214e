"""Every caption of `snakemake --report` is valid reStructuredText: no docutils error or warning box."""

import io
import re

import pytest
from docutils.core import publish_parts

from fairl.report.outputs import LM_REPORT
from tests.conftest import REPO

CAPTIONS = sorted((REPO / "report").glob("*.rst"))


def problems(text: str) -> str:
    """docutils' messages at warning level and above ('' when the text renders cleanly)."""
    stream = io.StringIO()
    publish_parts(text, writer="html", settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": stream})
    return stream.getvalue()


def test_a_substitution_typo_is_caught():
    """Negative control: the `|F_t|` that once put error boxes in the report."""
    assert "Undefined substitution" in problems("the failure set size |F_t| per round")


def test_every_rule_caption_exists():
    named = {m for path in (REPO / "rules").glob("*.smk") for m in re.findall(r"report/(\w+)\.rst", path.read_text())}
    named |= {output.caption for output in LM_REPORT}  # the generated report rules' captions
    assert len(named) >= len(LM_REPORT) + 3 and named <= {path.stem for path in CAPTIONS}
    assert {path.stem for path in CAPTIONS} <= named  # and no caption is left over from a removed output


@pytest.mark.parametrize("caption", CAPTIONS, ids=[path.name for path in CAPTIONS])
def test_caption_renders_without_messages(caption):
    assert problems(caption.read_text()) == ""
