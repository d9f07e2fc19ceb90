"""The README's Python examples run as written (with fewer epochs)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_examples_run(tmp_path):
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    script = tmp_path / "readme_examples.py"
    script.write_text("\n".join(blocks).replace("epochs=20", "epochs=2"))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       cwd=str(tmp_path),
                       env=dict({k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"},
                                PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "[12. 27.]" in r.stdout
    assert "<MatMul #" in r.stdout
    assert r.stdout.count(": ok (tolerance") == 2
