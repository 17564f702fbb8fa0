"""The README's code runs as printed, and the case-study table lists exactly the notebooks there are."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_code_runs(i):
    exec(compile(BLOCKS[i], f"README block {i}", "exec"), {})


def test_case_study_table_matches_the_notebooks():
    listed = set(re.findall(r"^\| `(\d\d_[a-z0-9_]+)` \|", README, re.M))
    present = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert listed == present
