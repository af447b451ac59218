"""Prepare the real-code corpus that convlint is measured on.

convlint has to be judged on real model libraries, not only on fixtures, but
their code must never enter this repository. So each library is pinned here by
name and version, its wheel is fetched from PyPI on demand with pip, and only
its ``.py`` files are unpacked (no install, no torch) into a git-ignored cache.

    python benchmarks/corpus.py [NAME ...]       # prepare, print one line each
    python benchmarks/corpus.py --reference-params   # torchvision num_params JSON
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent

# Written last into an unpacked folder: a folder without it is a broken run, redone.
MARKER = ".convlint-corpus-complete"

# Pin the wheel's target instead of taking the running interpreter's: every host
# (any OS, Python 3.9 included) then fetches the very same files, and pinned
# releases that ship only cp311 wheels stay reachable from older interpreters.
WHEEL_TARGET = (
    "--python-version", "3.11",
    "--implementation", "cp",
    "--abi", "cp311",
    "--platform", "manylinux_2_28_x86_64",
)


@dataclass(frozen=True)
class CorpusEntry:
    """One pinned library and the package folders of it that get linted."""

    name: str
    version: str
    subtrees: Tuple[str, ...]

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


CORPUS: Dict[str, CorpusEntry] = {
    entry.name: entry
    for entry in (
        CorpusEntry("torchvision", "0.29.1", ("torchvision/models",)),
        # timm models are thin wrappers around timm.layers: lint both.
        CorpusEntry("timm", "1.0.31", ("timm/models", "timm/layers")),
        # keras/applications/ only re-exports; the code lives under keras/src/.
        CorpusEntry("keras", "3.15.1", ("keras/src/applications",)),
        CorpusEntry("torchaudio", "2.11.0", ("torchaudio/models",)),
        CorpusEntry(
            "segmentation-models-pytorch",
            "0.6.0",
            (
                "segmentation_models_pytorch/base",
                "segmentation_models_pytorch/decoders",
                "segmentation_models_pytorch/encoders",
            ),
        ),
        CorpusEntry("monai", "1.6.1", ("monai/networks/nets", "monai/networks/blocks")),
    )
}


def corpus_dir() -> Path:
    """The cache folder, read at call time so tests and CI can redirect it."""
    configured = os.environ.get("CONVLINT_CORPUS_DIR")
    return Path(configured) if configured else REPO_ROOT / "corpus"


def python_members(names: Iterable[str]) -> List[str]:
    """Wheel members worth unpacking: package ``.py`` files that stay inside the target.

    Metadata folders are dropped, and so is any name that is absolute or climbs
    with ``..``, since a wheel is untrusted input written onto this disk.
    """
    kept = []
    for name in names:
        parts = PurePosixPath(name).parts
        if not name.endswith(".py") or not parts or "\\" in name:
            continue
        if name.startswith("/") or ".." in parts or ":" in parts[0]:
            continue
        if parts[0].endswith((".dist-info", ".data")):
            continue
        kept.append(name)
    return sorted(kept)


def download_wheel(entry: CorpusEntry, dest: Path) -> Path:
    """Fetch the pinned wheel with pip (which knows this machine's index setup)."""
    command = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:", *WHEEL_TARGET,
        "-d", str(dest), f"{entry.name}=={entry.version}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise RuntimeError(
            f"pip download of {entry.name}=={entry.version} failed "
            f"(exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return wheels[0]


def unpack_python_files(wheel: Path, root: Path) -> int:
    """Write the wheel's package ``.py`` files under ``root`` in their package layout."""
    with zipfile.ZipFile(wheel) as archive:
        members = python_members(archive.namelist())
        for member in members:
            target = root.joinpath(*PurePosixPath(member).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    return len(members)


def prepare(name: str) -> Path:
    """Return the unpacked root of ``name``, downloading and unpacking it once."""
    entry = _entry(name)
    cache = corpus_dir()
    root = cache / entry.folder
    if (root / MARKER).is_file():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    if root.exists():
        shutil.rmtree(root)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        wheel = download_wheel(entry, Path(scratch))
        count = unpack_python_files(wheel, root)
    (root / MARKER).write_text(f"{wheel.name}\n{count} .py files\n", encoding="utf-8")
    return root


def lint_roots(name: str) -> List[Path]:
    """The folders of ``name`` that get linted, inside its unpacked package tree."""
    root = prepare(name)
    roots = [root.joinpath(*PurePosixPath(sub).parts) for sub in _entry(name).subtrees]
    missing = [str(path) for path in roots if not path.is_dir()]
    if missing:
        raise FileNotFoundError(f"{name}: subtrees missing from the wheel: {missing}")
    return roots


def _entry(name: str) -> CorpusEntry:
    try:
        return CORPUS[name]
    except KeyError:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(CORPUS)}") from None


# --- torchvision reference parameter counts ----------------------------------
# torchvision states each weight's parameter count in its metadata. Read from
# the sources with ``ast``, these give convlint's parameter totals a ground
# truth that needs neither torch nor a network download of weights.


def _module_dicts(tree: ast.Module) -> Dict[str, ast.Dict]:
    """Module-level ``NAME = {...}`` literals, which ``**NAME`` in a meta may merge."""
    found: Dict[str, ast.Dict] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and isinstance(value, ast.Dict):
            found[target.id] = value
    return found


def _resolve_dict(node: ast.expr, env: Dict[str, ast.Dict]) -> Dict[str, ast.expr]:
    """Flatten a dict literal and its ``**NAME`` merges; later keys win, as in Python."""
    if isinstance(node, ast.Name) and node.id in env:
        node = env[node.id]
    if not isinstance(node, ast.Dict):
        return {}
    merged: Dict[str, ast.expr] = {}
    for key, value in zip(node.keys, node.values):
        if key is None:
            merged.update(_resolve_dict(value, env))
        elif isinstance(key, ast.Constant) and isinstance(key.value, str):
            merged[key.value] = value
    return merged


@dataclass(frozen=True)
class WeightsEntry:
    """What one ``Weights(...)`` member of a ``*_Weights`` enum says about its model."""

    num_params: int
    min_size: Tuple[int, ...]


def weights_metadata(source: str) -> Dict[str, Dict[str, WeightsEntry]]:
    """``{enum class: {member: WeightsEntry}}`` for the ``*_Weights`` enums in ``source``."""
    tree = ast.parse(source)
    env = _module_dicts(tree)
    enums: Dict[str, Dict[str, WeightsEntry]] = {}
    for cls in tree.body:
        if not (isinstance(cls, ast.ClassDef) and cls.name.endswith("_Weights")):
            continue
        members: Dict[str, WeightsEntry] = {}
        for stmt in cls.body:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                continue
            if isinstance(stmt.value, ast.Name) and stmt.value.id in members:
                # ``DEFAULT = IMAGENET1K_V1``: an alias a builder may name.
                members[stmt.targets[0].id] = members[stmt.value.id]
                continue
            if not isinstance(stmt.value, ast.Call):
                continue
            meta = next((kw.value for kw in stmt.value.keywords if kw.arg == "meta"), None)
            fields = _resolve_dict(meta, env) if meta is not None else {}
            if "num_params" not in fields:
                continue
            min_size = fields.get("min_size")
            members[stmt.targets[0].id] = WeightsEntry(
                num_params=ast.literal_eval(fields["num_params"]),
                min_size=tuple(ast.literal_eval(min_size)) if min_size is not None else (),
            )
        if members:
            enums[cls.name] = members
    return enums


def _builder_weights(func: ast.FunctionDef, enums: Iterable[str]) -> Tuple[Optional[str], Optional[str]]:
    """The enum a builder takes (from its ``weights`` annotation and decorators) and
    the member its legacy ``pretrained=True`` loads, if the decorator names one."""
    enum_names = set(enums)
    arguments = func.args.posonlyargs + func.args.args + func.args.kwonlyargs
    scanned = [arg.annotation for arg in arguments if arg.arg == "weights" and arg.annotation]
    scanned += func.decorator_list
    referenced = {
        node.id
        for root in scanned
        for node in ast.walk(root)
        if isinstance(node, ast.Name) and node.id in enum_names
    }
    if len(referenced) != 1:
        return None, None
    legacy = next(
        (
            node.attr
            for decorator in func.decorator_list
            for node in ast.walk(decorator)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in referenced
        ),
        None,
    )
    return referenced.pop(), legacy


def reference_params_from_source(source: str) -> Dict[str, int]:
    """``{builder function: num_params}`` for the model builders defined in ``source``.

    Members of one enum usually agree. Where they do not (ViT weights fine-tuned
    at a larger resolution carry bigger position embeddings), the count is that
    of the member ``pretrained=True`` loads, else of the member with the smallest
    ``min_size``, which is the resolution the builder's defaults are made for.
    """
    tree = ast.parse(source)
    enums = weights_metadata(source)
    params: Dict[str, int] = {}
    for func in tree.body:
        if not isinstance(func, ast.FunctionDef) or func.name.startswith("_"):
            continue
        enum, legacy = _builder_weights(func, enums)
        if enum is None:
            continue
        members = enums[enum]
        chosen = members.get(legacy) if legacy else None
        if chosen is None:
            chosen = min(members.values(), key=lambda member: member.min_size)
        params[func.name] = chosen.num_params
    return params


def torchvision_reference_params() -> Dict[str, int]:
    """``{builder: num_params}`` for torchvision's classification models (top of models/).

    The counts are those of the models as their weights load them: ``googlenet()``
    built without weights keeps its two auxiliary heads and so has 13004888
    parameters, not the 6624904 its metadata states.
    """
    models = prepare("torchvision") / "torchvision" / "models"
    params: Dict[str, int] = {}
    for path in sorted(models.glob("*.py")):
        params.update(reference_params_from_source(path.read_text(encoding="utf-8")))
    return dict(sorted(params.items()))


# --- command line --------------------------------------------------------------


def count_python(roots: Sequence[Path]) -> Tuple[int, int]:
    """Number of ``.py`` files and of their lines under ``roots``."""
    files = lines = 0
    for root in roots:
        for path in root.rglob("*.py"):
            files += 1
            lines += len(path.read_bytes().splitlines())
    return files, lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"default: all of {', '.join(CORPUS)}")
    parser.add_argument(
        "--reference-params",
        action="store_true",
        help="print torchvision's {builder: num_params} as JSON instead",
    )
    args = parser.parse_args(argv)
    if args.reference_params:
        print(json.dumps(torchvision_reference_params(), indent=2))
        return 0
    unknown = [name for name in args.names if name not in CORPUS]
    if unknown:
        parser.error(f"unknown corpus {', '.join(unknown)}; known: {', '.join(CORPUS)}")
    for name in args.names or list(CORPUS):
        root = prepare(name)
        files, lines = count_python(lint_roots(name))
        print(f"{name}\t{CORPUS[name].version}\t{files} files\t{lines} lines\t{root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
