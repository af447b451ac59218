"""The speed machinery changes no result: the prefilter, the cache, the process pool and the
per-file time limit (CL005); on small projects here, and on the real-code corpus at the end
(marked ``real_code``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import convlint.analysis.imports as imports
import convlint.analysis.roots as roots
import convlint.runner as runner
from convlint.cache import Cache, settings_fingerprint
from convlint.config import load_settings
from convlint.files import discover
from convlint.prefilter import Prefilter, imported_tops
from convlint.runner import Linter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


#: Every rule, the ones off by default included (they must be named by their full code).
EVERY_RULE = ("ALL", "CL004", "CL005", "CL302")


def settings_for(root: Path, select=EVERY_RULE):
    return load_settings(root, isolated=True, overrides={"select": list(select)})


#: For the small projects below: the channel rules and CL005.
CHANNELS = ("CL1", "CL005")


def lint(root: Path, select=EVERY_RULE, **options):
    settings = settings_for(root, select)
    linter = Linter(settings, root, **options)
    files = discover([root], settings)
    return linter, linter.lint_paths(files)


@pytest.fixture
def parses(monkeypatch):
    """Counts libcst parses made in this process."""
    count = {"n": 0}
    original = imports.parse_source

    def counting(text):
        count["n"] += 1
        return original(text)

    monkeypatch.setattr(imports, "parse_source", counting)
    return count


@pytest.fixture
def small_pool(monkeypatch):
    """A pool even for a handful of files."""
    monkeypatch.setattr(runner, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(runner, "POOL_MIN_CHARACTERS", 0)
    monkeypatch.setattr(runner, "CHUNK_FILES", 2)


# --------------------------------------------------------------------- the prefilter


@pytest.mark.parametrize(
    "text, relative, tops",
    [
        ("from . import x", True, ["x"]),
        ("from.blocks import A", True, ["A"]),
        ("from ..a.b import c", True, ["c"]),
        ("import os, sys as s, torch.nn as nn", False, ["os", "sys", "torch"]),
        ("x = 1; import foo", False, ["foo"]),
        ("def f():\n    import bar  # baz", False, ["bar"]),
        ("import a, \\\n   b", False, ["a", "b"]),
        ("from os.path import (\n join, exists)", False, ["os"]),
        ("fromage = 1\nimportant = 2", False, []),
        ("import módulo", False, ["módulo"]),
    ],
)
def test_imported_tops(text, relative, tops):
    assert imported_tops(text)[0] == relative
    assert set(tops) <= set(imported_tops(text)[1])


def test_prefilter_decisions(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": "", "nsfolder/mod.py": "", "top.py": ""})
    prefilter = Prefilter([tmp_path])
    here = tmp_path / "scripts" / "a.py"
    assert prefilter.needs_analysis(here, "import torch\n")[0]
    assert prefilter.needs_analysis(here, "x = 'torchvision'\n")[0]  # a needle anywhere counts
    assert prefilter.needs_analysis(here, "from .blocks import ConvBlock\n")[0]
    assert prefilter.needs_analysis(here, "from pkg.blocks import ConvBlock\n")[0]
    assert prefilter.needs_analysis(here, "import nsfolder.mod\n")[0]  # a folder without __init__.py
    assert prefilter.needs_analysis(here, "import top\n")[0]
    needed, consulted = prefilter.needs_analysis(here, "import os\nimport json as j\nprint(os.sep)\n")
    assert not needed
    assert str(tmp_path / "os.py") in consulted and str(tmp_path / "json") in consulted
    assert prefilter.needs_analysis(here, "print('hello')\n") == (False, frozenset())


def test_prefiltered_file_still_reports_syntax_errors(tmp_path, parses):
    write(tmp_path, {"broken.py": "def f(:\n    pass\n", "fine.py": "import os\nprint(os.sep)\n"})
    _, found = lint(tmp_path)
    _, unfiltered = lint(tmp_path, prefilter=False)
    assert [(d.path, d.code, d.line) for d in found] == [("broken.py", "CL001", 1)]
    assert found == unfiltered


def test_prefilter_parses_nothing_without_a_layer(tmp_path, parses):
    write(tmp_path, {f"util{i}.py": f"import os\n\ndef f{i}(x):\n    return os.path.join(x, 'a')\n"
                     for i in range(5)})
    linter, found = lint(tmp_path)
    assert found == [] and parses["n"] == 0 and linter.stats["prefiltered"] == 5


def test_file_importing_project_code_is_analysed_without_torch(tmp_path):
    """No 'torch' in net.py, yet its findings are its own: it passes the wrong channels."""
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/blocks.py": """
            import torch.nn as nn
            class Block(nn.Module):
                def __init__(self, a, b):
                    super().__init__()
                    self.conv = nn.Conv2d(a, b, 3)
                def forward(self, x):
                    return self.conv(x)
            def stack(*blocks):
                import torch.nn as nn
                return nn.Sequential(*blocks)
            """,
        "pkg/net.py": """
            from .blocks import Block, stack
            model = stack(Block(3, 16), Block(32, 8))
            """,
    })
    linter, found = lint(tmp_path, CHANNELS)
    assert linter.stats["prefiltered"] == 1  # only the empty __init__.py
    assert [(d.path, d.code) for d in found] == [("pkg/net.py", "CL101")]
    assert found == lint(tmp_path, CHANNELS, prefilter=False)[1]


# --------------------------------------------------------------------- identical results


def test_fixtures_same_with_and_without_the_speed_machinery(tmp_path, small_pool):
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    _, plain = lint(root, jobs=1, prefilter=False, cache=None)
    assert len(plain) > 20
    cache = Cache.for_run(settings_for(root), root)
    linter, pooled = lint(root, jobs=2, cache=cache)
    assert linter.stats["processes"] == 2 and linter.stats["cached"] == 0
    assert pooled == plain
    warm, again = lint(root, jobs=2, cache=Cache.for_run(settings_for(root), root))
    assert warm.stats["cached"] == warm.stats["files"] and again == plain


def test_results_do_not_depend_on_the_files_linted_before(tmp_path):
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    settings = settings_for(root)
    files = discover([root], settings)
    together = Linter(settings, root).lint_paths(files)
    backwards = Linter(settings, root).lint_paths(list(reversed(files)))
    alone = sorted((d for path in files for d in Linter(settings, root).lint_paths([path])),
                   key=lambda d: d.sort_key())
    assert together == backwards == alone


def test_output_order_is_deterministic(tmp_path, small_pool):
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    first = lint(root, jobs=2)[1]
    assert first == sorted(first, key=lambda d: d.sort_key())
    assert lint(root, jobs=2)[1] == first


# --------------------------------------------------------------------- the cache

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/blocks.py": """
        import torch.nn as nn
        WIDTH = 16
        """,
    "pkg/net.py": """
        import torch.nn as nn
        from .blocks import WIDTH
        model = nn.Sequential(nn.Conv2d(3, WIDTH, 3), nn.Conv2d(16, 8, 3))
        """,
}


def cached_lint(root: Path, select=CHANNELS, **options):
    return lint(root, select, cache=Cache.for_run(settings_for(root, select), root), **options)


def test_warm_run_parses_nothing(tmp_path, parses):
    write(tmp_path, PROJECT)
    cold, first = cached_lint(tmp_path)
    assert cold.stats["cached"] == 0 and parses["n"] > 0
    parses["n"] = 0
    warm, second = cached_lint(tmp_path)
    assert second == first and parses["n"] == 0
    assert warm.stats["cached"] == warm.stats["files"] == 3


def test_warm_command_does_not_load_the_interpreter(tmp_path):
    """A run served wholly from the cache stays near Python's start-up: the interpreter (and the
    summary built on it) is imported only when a file is analysed."""
    write(tmp_path, {**PROJECT, "pkg/bad.py": "import torch.nn as nn\nbad = nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 6))\n"})
    probe = ("import sys; from convlint.cli import main; code = main(['--cache-dir', 'cache', '.']); "
             "print(code, 'convlint.analysis.interpreter' in sys.modules)")
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(tmp_path.parent))
    env.pop("CONVLINT_NO_CACHE", None)

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.stderr == ""
        return done.stdout.splitlines()[-1]

    assert run() == "1 True"  # cold: the files are analysed, and pkg/bad.py has a finding
    assert run() == "1 False"


def test_cache_folder_is_marked_and_ignored(tmp_path):
    write(tmp_path, PROJECT)
    cached_lint(tmp_path)
    folder = tmp_path / ".convlint_cache"
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert not list(folder.rglob("*.part"))


def test_changed_import_invalidates_the_importer(tmp_path):
    write(tmp_path, PROJECT)
    _, before = cached_lint(tmp_path)
    assert before == []
    (tmp_path / "pkg" / "blocks.py").write_text("import torch.nn as nn\nWIDTH = 32\n")
    linter, after = cached_lint(tmp_path)
    assert [(d.path, d.code) for d in after] == [("pkg/net.py", "CL101")]
    assert linter.stats["cached"] == 1  # only __init__.py: net.py imported blocks.py, which changed
    assert after == lint(tmp_path, CHANNELS)[1]


def test_new_file_where_an_import_was_not_found_invalidates(tmp_path):
    write(tmp_path, {"app/__init__.py": "", "app/net.py": """
        import torch.nn as nn
        from .widths import WIDTH
        model = nn.Sequential(nn.Conv2d(3, WIDTH, 3), nn.Conv2d(16, 8, 3))
        """})
    assert cached_lint(tmp_path)[1] == []
    write(tmp_path, {"app/widths.py": "WIDTH = 32\n"})
    assert [(d.path, d.code) for d in cached_lint(tmp_path)[1]] == [("app/net.py", "CL101")]


def test_corrupt_entry_is_ignored_and_rewritten(tmp_path):
    write(tmp_path, PROJECT)
    _, first = cached_lint(tmp_path)
    entries = sorted((tmp_path / ".convlint_cache").rglob("*.json"))
    assert len(entries) == 3
    for number, entry in enumerate(entries):
        entry.write_bytes([b"", b"{not json", b'{"format": 1, "path": 3}'][number])
    linter, second = cached_lint(tmp_path)
    assert second == first and linter.stats["cached"] == 0
    for entry in entries:
        json.loads(entry.read_bytes())  # rewritten whole
    assert cached_lint(tmp_path)[0].stats["cached"] == 3


@pytest.mark.parametrize("corrupt", [
    b"\x00\xff" * 10,
    b"[]",
    b'{"format": 1, "path": "%(path)s", "content": "%(content)s", "dependencies": [], "diagnostics": []}',
    b'{"format": 1, "path": "%(path)s", "content": "%(content)s", "dependencies": {}, "diagnostics": [[1]]}',
    b'{"format": 1, "path": "%(path)s", "content": "%(content)s", "dependencies": {}, '
    b'"diagnostics": [[1, 1, 1, 2, "CL999", "no such rule", "error", null]]}',
    b'{"format": 1, "path": "%(path)s", "content": "%(content)s", "dependencies": {}, '
    b'"diagnostics": [[1, 1, 1, 2, "CL101", "a severity no format knows", "fatal", null]]}',
    b'{"format": 1, "path": "%(path)s", "content": "%(content)s", "dependencies": {}, '
    b'"diagnostics": [[1, 1, 1, 2, "CL101", "a fix of the wrong shape", "error", [1]]]}',
], ids=["binary", "not-an-object", "dependencies-not-a-mapping", "short-diagnostic", "unknown-code",
        "unknown-severity", "bad-fix"])
def test_entry_of_the_wrong_shape_is_ignored_and_rewritten(tmp_path, corrupt):
    """Entries that parse but hold what no run writes (a disk error, an edit, another tool):
    each is a miss, never a crash later in a report format, and is rewritten."""
    write(tmp_path, PROJECT)
    _, first = cached_lint(tmp_path)
    net = tmp_path / "pkg" / "net.py"
    cache = Cache.for_run(settings_for(tmp_path, CHANNELS), tmp_path)
    entry = cache._entry(str(net.resolve()))
    stored = json.loads(entry.read_bytes())
    entry.write_bytes(corrupt % {b"path": stored["path"].encode(), b"content": stored["content"].encode()})
    linter, second = cached_lint(tmp_path)
    assert second == first and linter.stats["cached"] == 2
    assert json.loads(entry.read_bytes()) == stored


def _convlint(root: Path, *args: str) -> "subprocess.Popen[str]":
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]),
               GIT_CEILING_DIRECTORIES=str(root.parent))
    env.pop("CONVLINT_NO_CACHE", None)
    return subprocess.Popen([sys.executable, "-m", "convlint", "--select", ",".join(EVERY_RULE), *args],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_runs_at_once_share_one_cache(tmp_path):
    """Two processes on one tree with one cache folder, several times (cold, warm, half of the
    entries gone, a file changed): each prints what a run without the cache prints, and the
    cache is left whole, every entry readable and used by the next run."""
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    cache_dir = tmp_path / "cache"

    def expected() -> str:
        plain = _convlint(root, "--no-cache", ".")
        out, err = plain.communicate(timeout=120)
        assert err == "" and plain.returncode == 1
        return out

    def together(want: str) -> None:
        runs = [_convlint(root, "--cache-dir", str(cache_dir), ".") for _ in range(2)]
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert (err, run.returncode) == ("", 1) and out == want

    want = expected()
    assert want.count("\n") > 20
    together(want)  # both cold: every entry written twice, at once
    together(want)  # both warm
    entries = sorted(cache_dir.rglob("*.json"))
    for entry in entries[::2]:
        entry.unlink()
    together(want)
    changed = root / "torch" / "mlp_good.py"
    changed.write_text(changed.read_text() + "bad = nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 6))\n")
    want = expected()
    together(want)
    assert not list(cache_dir.rglob("*.part")), "a temporary file was left behind"
    entries = sorted(cache_dir.rglob("*.json"))
    assert len(entries) == len(discover([root], settings_for(root)))
    for entry in entries:
        assert json.loads(entry.read_bytes())["format"] == 1
    settings = load_settings(root, isolated=True, overrides={"select": list(EVERY_RULE), "cache-dir": str(cache_dir)})
    warm = Linter(settings, root, cache=Cache.for_run(settings, root))
    warm.lint_paths(discover([root], settings))
    assert warm.stats["cached"] == warm.stats["files"]


def test_settings_and_code_pick_the_cache_folder(tmp_path):
    write(tmp_path, PROJECT)
    one = settings_fingerprint(settings_for(tmp_path), tmp_path)
    assert one == settings_fingerprint(settings_for(tmp_path), tmp_path)
    assert one != settings_fingerprint(settings_for(tmp_path, select=("CL1",)), tmp_path)
    assert one != settings_fingerprint(settings_for(tmp_path), tmp_path / "pkg")
    output = load_settings(tmp_path, isolated=True, overrides={"select": list(EVERY_RULE), "output-format": "json"})
    assert one == settings_fingerprint(output, tmp_path)


def test_cache_dir_setting(tmp_path):
    write(tmp_path, PROJECT)
    settings = load_settings(tmp_path, isolated=True, overrides={"cache-dir": "elsewhere/cache"})
    Linter(settings, tmp_path, cache=Cache.for_run(settings, tmp_path)).lint_paths(discover([tmp_path], settings))
    assert (tmp_path / "elsewhere" / "cache" / "CACHEDIR.TAG").is_file()
    assert not (tmp_path / ".convlint_cache").exists()


# --------------------------------------------------------------------- the time limit


def test_timeout_skips_the_file_with_cl005(tmp_path, slow_file):
    write(tmp_path, PROJECT)
    write(tmp_path, {"pkg/slow.py": "import torch\n"})
    started = time.monotonic()
    linter, found = cached_lint(tmp_path, timeout=0.3)
    assert time.monotonic() - started < 4
    assert [(d.path, d.code) for d in found] == [("pkg/slow.py", "CL005")]
    assert "skipped" in found[0].message and "0.3 s" in found[0].message
    # Not cached: the next run tries again (and, with time enough, analyses it).
    slow_file()
    linter, again = cached_lint(tmp_path, timeout=0.3)
    assert again == [] and linter.stats["cached"] == 3


def test_timeout_is_off_by_default_in_selection(tmp_path, monkeypatch):
    write(tmp_path, {"slow.py": "import torch\n"})
    monkeypatch.setattr(roots, "analyse", lambda *a, **k: time.sleep(5))
    settings = load_settings(tmp_path, isolated=True)
    assert Linter(settings, tmp_path, timeout=0.2).lint_paths([tmp_path / "slow.py"]) == []


def test_timeout_in_a_worker(tmp_path, small_pool, slow_file):
    write(tmp_path, PROJECT)
    write(tmp_path, {"pkg/slow.py": "import torch\n"})
    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("needs fork")
    write(tmp_path, {f"pkg/more{i}.py": "import torch\n" for i in range(3)})
    linter, found = lint(tmp_path, CHANNELS, jobs=2, timeout=0.3)
    assert linter.stats["processes"] == 2
    assert [(d.path, d.code) for d in found] == [("pkg/slow.py", "CL005")]


# --------------------------------------------------------------------- memory

#: Two packages, each in a folder of its own, whose files build classes (a class and its methods hold each other, as in
#: Python) and branch on returns (kept signals once held their frames in cycles).
TWO_PACKAGES = {
    "one/alpha/__init__.py": "",
    "one/alpha/blocks.py": """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, c, deep=False):
                super().__init__()
                if deep:
                    self.conv = nn.Conv2d(c, c, 3)
                else:
                    self.conv = nn.Conv2d(c, c, 1)
            def forward(self, x):
                if x.size(0) > 1:
                    return self.conv(x)
                return self.conv(x) * 2
        """,
    "one/alpha/net.py": """
        import torch.nn as nn
        from .blocks import Block
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(Block(8), nn.Conv2d(16, 4, 3))
            def forward(self, x):
                return self.body(x)
        """,
    "two/beta/__init__.py": "",
    "two/beta/sizes.py": "WIDTH = 4",
    "two/beta/head.py": """
        import torch.nn as nn
        from .sizes import WIDTH
        class Head(nn.Module):
            def __init__(self, c=WIDTH):
                super().__init__()
                self.fc = nn.Linear(c, 2)
            def forward(self, x):
                return self.fc(x)
        """,
}


@pytest.fixture
def no_automatic_collection():
    import gc

    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_run_lets_go_of_each_file_it_has_linted(tmp_path, monkeypatch, no_automatic_collection):
    """A linted file's parse and interpreter state, held in reference cycles, are freed once
    the file is done, not at the next full collection (which a long run may never reach); what
    the run froze out of the collector's sight is given back at its end."""
    import gc
    import weakref

    write(tmp_path, TWO_PACKAGES)
    loaded = {}
    original = imports.Project.load

    def load(project, path, text=None):
        source = original(project, path, text)
        loaded[source.path.name] = weakref.ref(source)
        return source

    monkeypatch.setattr(imports.Project, "load", load)
    linter, found = lint(tmp_path, CHANNELS, jobs=1, cache=None, prefilter=False)
    assert [d.code for d in found] == ["CL101"]
    assert {"net.py", "head.py", "blocks.py"} <= set(loaded)
    assert loaded["net.py"]() is None and loaded["head.py"]() is None
    assert gc.get_freeze_count() == 0


def test_a_run_leaves_what_its_host_froze_frozen(tmp_path):
    import gc

    write(tmp_path, TWO_PACKAGES)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        lint(tmp_path, CHANNELS, jobs=1, cache=None)
        assert gc.get_freeze_count() >= frozen > 0
    finally:
        gc.unfreeze()


def test_the_analysis_leaves_no_frames_in_cycles(tmp_path, no_automatic_collection):
    import gc
    import types

    write(tmp_path, TWO_PACKAGES)
    settings = settings_for(tmp_path, CHANNELS)
    linter = Linter(settings, tmp_path, jobs=1, cache=None, prefilter=False)
    linter.lint_text(tmp_path / "one/alpha/net.py", (tmp_path / "one/alpha/net.py").read_text())
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        frames = [o for o in gc.garbage if isinstance(o, types.FrameType) and "convlint" in o.f_code.co_filename]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert frames == []


def test_a_run_holds_the_modules_of_one_import_root_at_a_time(tmp_path):
    write(tmp_path, TWO_PACKAGES)
    settings = settings_for(tmp_path, CHANNELS)
    linter = Linter(settings, tmp_path, jobs=1, cache=None)
    net = tmp_path / "one/alpha/net.py"
    found = linter.lint_paths([net, tmp_path / "two/beta/head.py"])
    assert linter.project.namespaces and not any("one" in path.parts for path in linter.project.namespaces)
    alone = Linter(settings, tmp_path, jobs=1, cache=None).lint_paths([net])
    assert found == alone and [d.code for d in found] == ["CL101"]


# --------------------------------------------------------------------- the real-code corpus


@pytest.mark.real_code
@pytest.mark.parametrize("name", ["torchvision", "segmentation-models-pytorch", "keras"])
def test_speed_tricks_change_nothing_on_real_code(name, tmp_path):
    """A pinned release linted plainly (one process, no prefilter, no cache) and with every
    speed trick (pool, prefilter, cold cache, then warm cache) gives the same diagnostics,
    off-by-default rules included."""
    import sys

    benchmarks = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if benchmarks not in sys.path:
        sys.path.insert(0, benchmarks)
    import real_code

    root, paths = real_code.corpus_files(name)
    settings = load_settings(root, isolated=True, overrides={"select": list(EVERY_RULE),
                                                             "cache-dir": str(tmp_path / "cache")})
    plain = Linter(settings, root, jobs=1, prefilter=False, cache=None).lint_paths(paths)
    cold = Linter(settings, root, jobs=2, cache=Cache.for_run(settings, root))
    assert cold.lint_paths(paths) == plain
    assert cold.stats["processes"] == 2 and cold.stats["cached"] == 0
    warm = Linter(settings, root, jobs=2, cache=Cache.for_run(settings, root))
    assert warm.lint_paths(paths) == plain
    assert warm.stats["cached"] == len(paths)


def test_layer_facts_are_told_apart_without_printing_their_arguments():
    """Telling layers built alike apart must not print an argument that is an object (a layer
    passed to ``nn.TransformerDecoder``, a class): its repr holds whole syntax trees (5 s for
    one file of timm). Plain values still tell 1 from 1.0."""
    from convlint.analysis.facts import _freeze

    class Unprintable:
        def __repr__(self) -> str:
            raise AssertionError("printed")

    shared = Unprintable()
    assert _freeze({"layer": shared, "n": 2}) == _freeze({"n": 2, "layer": shared})
    assert _freeze({"layer": shared}) != _freeze({"layer": Unprintable()})
    assert _freeze({"size": 1}) != _freeze({"size": 1.0}) != _freeze({"size": True})
    assert _freeze({"sizes": (shared, 3)}) == _freeze({"sizes": (shared, 3)})
