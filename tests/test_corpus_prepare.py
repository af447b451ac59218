"""benchmarks/corpus.py's pure parts: wheel filtering, caching and torchvision metadata.

No network: wheels are made here with zipfile and the download is replaced.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

# benchmarks/ is no package and need not be on sys.path: load the script by path.
_SPEC = importlib.util.spec_from_file_location(
    "convlint_benchmarks_corpus", Path(__file__).resolve().parents[1] / "benchmarks" / "corpus.py"
)
corpus = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = corpus  # dataclasses look their module up there
_SPEC.loader.exec_module(corpus)


WHEEL_NAMES = [
    "pkg/__init__.py",
    "pkg/models/",
    "pkg/models/__init__.py",
    "pkg/models/net.py",
    "pkg/_C.so",
    "pkg/data/info.txt",
    "pkg-1.0.dist-info/METADATA",
    "pkg-1.0.dist-info/hook.py",
    "pkg-1.0.data/scripts/tool.py",
    "../escape.py",
    "pkg/../../escape.py",
    "/etc/escape.py",
    "C:/escape.py",
    "pkg\\windows.py",
]


def test_python_members_keeps_only_package_sources_inside_the_target():
    assert corpus.python_members(WHEEL_NAMES) == [
        "pkg/__init__.py",
        "pkg/models/__init__.py",
        "pkg/models/net.py",
    ]


def make_wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in WHEEL_NAMES:
            archive.writestr(name, "" if name.endswith("/") else f"# {name}\n")
    return path


def test_unpack_keeps_the_package_layout(tmp_path):
    root = tmp_path / "pkg-1.0"
    assert corpus.unpack_python_files(make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl"), root) == 3
    unpacked = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert unpacked == ["pkg/__init__.py", "pkg/models/__init__.py", "pkg/models/net.py"]
    assert (root / "pkg/models/net.py").read_text() == "# pkg/models/net.py\n"
    assert not (tmp_path / "escape.py").exists()


@pytest.fixture
def fake_pkg(tmp_path, monkeypatch):
    """A one-entry corpus in a temporary cache whose download counts its calls."""
    monkeypatch.setenv("CONVLINT_CORPUS_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(corpus.CORPUS, "pkg", corpus.CorpusEntry("pkg", "1.0", ("pkg/models",)))
    downloads = []

    def download(entry, dest):
        downloads.append(entry.name)
        return make_wheel(dest / "pkg-1.0-py3-none-any.whl")

    monkeypatch.setattr(corpus, "download_wheel", download)
    return downloads


def test_prepare_downloads_once_and_redoes_an_interrupted_unpack(fake_pkg, tmp_path):
    root = corpus.prepare("pkg")
    assert root == tmp_path / "cache" / "pkg-1.0"
    assert (root / corpus.MARKER).is_file()
    assert corpus.lint_roots("pkg") == [root / "pkg" / "models"]
    assert fake_pkg == ["pkg"]

    (root / corpus.MARKER).unlink()  # as if the previous run died mid-unpack
    (root / "pkg" / "stale.py").write_text("")
    assert corpus.prepare("pkg") == root
    assert fake_pkg == ["pkg", "pkg"]
    assert not (root / "pkg" / "stale.py").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["pkg-1.0"]


def test_unknown_corpus_names_the_known_ones():
    with pytest.raises(KeyError, match="torchvision"):
        corpus.prepare("no-such-library")


def test_count_python_counts_files_and_lines(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_text("one\ntwo\n")
    (tmp_path / "a" / "y.py").write_text("three")
    (tmp_path / "a" / "z.txt").write_text("not python\n")
    assert corpus.count_python([tmp_path / "a"]) == (2, 3)


SOURCE = textwrap.dedent(
    '''
    from typing import Any, Optional

    _COMMON_META: dict[str, Any] = {"categories": [], "num_params": 1}
    _COMMON_SWAG_META = {**_COMMON_META, "recipe": "swag"}


    class Net_Weights(WeightsEnum):
        IMAGENET1K_V1 = Weights(url="a", meta={**_COMMON_META, "num_params": 100, "min_size": (224, 224)})
        IMAGENET1K_V2 = Weights(url="b", meta={**_COMMON_META, "num_params": 100, "min_size": (224, 224)})
        DEFAULT = IMAGENET1K_V2


    class Big_Weights(WeightsEnum):
        SWAG_E2E_V1 = Weights(url="c", meta={**_COMMON_SWAG_META, "num_params": 300, "min_size": (518, 518)})
        SWAG_LINEAR_V1 = Weights(url="d", meta={**_COMMON_SWAG_META, "num_params": 200, "min_size": (224, 224)})
        DEFAULT = SWAG_E2E_V1


    class Inherited_Weights(WeightsEnum):
        V1 = Weights(url="e", meta=_COMMON_META)


    class Legacy_Weights(WeightsEnum):
        HIGH_RES = Weights(url="f", meta={"num_params": 7, "min_size": (384, 384)})
        LOW_RES = Weights(url="g", meta={"num_params": 5, "min_size": (224, 224)})


    def _net(weights: Optional[WeightsEnum], progress: bool) -> Net:
        return Net()


    @register_model()
    @handle_legacy_interface(weights=("pretrained", Net_Weights.IMAGENET1K_V1))
    def net(*, weights: Optional[Net_Weights] = None, progress: bool = True) -> Net:
        return _net(weights, progress)


    @handle_legacy_interface(weights=("pretrained", None))
    def big(*, weights: Optional[Big_Weights] = None) -> Net:
        return _net(weights, True)


    def inherited(weights: Optional[Inherited_Weights] = None) -> Net:
        return _net(weights, True)


    @handle_legacy_interface(weights=("pretrained", Legacy_Weights.HIGH_RES))
    def legacy(**kwargs: Any) -> Net:
        return _net(None, True)


    def not_a_builder(weights=None) -> None:
        pass
    '''
)


def test_weights_metadata_resolves_merged_common_meta_and_aliases():
    enums = corpus.weights_metadata(SOURCE)
    assert set(enums) == {"Net_Weights", "Big_Weights", "Inherited_Weights", "Legacy_Weights"}
    assert enums["Net_Weights"]["DEFAULT"] is enums["Net_Weights"]["IMAGENET1K_V2"]
    assert enums["Big_Weights"]["SWAG_LINEAR_V1"] == corpus.WeightsEntry(200, (224, 224))
    assert enums["Inherited_Weights"] == {"V1": corpus.WeightsEntry(1, ())}


def test_reference_params_maps_each_public_builder_to_its_weights_count():
    assert corpus.reference_params_from_source(SOURCE) == {
        "net": 100,
        "big": 200,  # no legacy member: the smallest min_size, the builder's default
        "inherited": 1,
        "legacy": 7,  # the member pretrained=True loads wins over min_size
    }
