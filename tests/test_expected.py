"""Recording expected totals and guarding them: ``convlint summary --write-expected`` then CL303."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from convlint.expected import updated_text

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "torch" / "tutorial_cnn_good.py"


def test_updating_keeps_comments_other_tables_and_other_keys() -> None:
    text = (
        '[tool.convlint.models]\n'
        '# the baseline\n'
        '"m.py:Net()" = { max-params = 5 }\n'
        '"m.py:old()" = { params = 3, max-params = 9 }\n'
        '\n'
        '[tool.other]\n'
        'a = 1\n'
    )
    assert updated_text(text, {"m.py:Net()": 10, "m.py:old()": 4, 'm.py:new("x")': 7}) == (
        '[tool.convlint.models]\n'
        '# the baseline\n'
        '"m.py:Net()" = { params = 10, max-params = 5 }\n'
        '"m.py:old()" = { params = 4, max-params = 9 }\n'
        '"m.py:new(\\"x\\")" = { params = 7 }\n'
        '\n'
        '[tool.other]\n'
        'a = 1\n'
    )


def test_the_table_is_added_when_missing() -> None:
    assert updated_text('[project]\nname = "x"', {"a.py:Net()": 1}) == (
        '[project]\nname = "x"\n\n[tool.convlint.models]\n"a.py:Net()" = { params = 1 }\n'
    )


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "convlint", *args], cwd=cwd, capture_output=True, text=True)


def test_recorded_total_guards_the_architecture(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "net.py"
    shutil.copy(FIXTURE, model)
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\nselect = ["CL"]\n')
    assert run(tmp_path, "summary", "models/net.py", "--write-expected").returncode == 0
    assert '"models/net.py:Net()" = { params = 62006 }' in (tmp_path / "pyproject.toml").read_text()
    assert run(tmp_path, "models").returncode == 0
    model.write_text(model.read_text().replace("nn.Linear(84, 10)", "nn.Linear(84, 11)"))
    result = run(tmp_path, "models")
    assert result.returncode == 1
    assert "CL303 Net() has 62,091 parameters, but [tool.convlint.models] records 62,006 (+85)" in result.stdout
