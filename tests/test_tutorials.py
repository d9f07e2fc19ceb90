"""Every tutorial in docs/tutorials runs top to bottom: its ```python blocks, in order, as one
script in a fresh interpreter, from a scratch folder. A block may assert what the text
claims (an accuracy, a shape, a gradient check), so a tutorial that drifts from the code
fails here."""
import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = sorted(glob.glob(os.path.join(ROOT, "docs", "tutorials", "[0-9]*.md")))


def test_there_are_tutorials():
    assert TUTORIALS, "docs/tutorials/ has no numbered tutorial"


@pytest.mark.parametrize("path", TUTORIALS, ids=[os.path.basename(p) for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    text = open(path, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"{os.path.basename(path)} has no ```python block"
    script = tmp_path / "tutorial.py"
    script.write_text("\n\n".join(blocks), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       cwd=str(tmp_path), env=env)
    assert r.returncode == 0, f"{os.path.basename(path)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
