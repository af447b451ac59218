"""Each fixture's label, proved with real PyTorch.

``expect=runs``: building the model (and, with ``input=``, one forward pass) succeeds.
``expect=fails``: the build or the forward pass raises a model error. The fixture itself must
always import cleanly, and the build expression must name things that exist: a NameError,
ImportError, TypeError... is a broken fixture, not a proof, and errors the test.

torch is imported unconditionally: there is no skip when it is missing, on purpose.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import itertools
import sys
import warnings
from pathlib import Path

import pytest
import torch

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fixture_oracles import (  # noqa: E402
    BROKEN,
    EXPECTS,
    TORCH_FIXTURES,
    all_oracles,
    display,
    fixture_files,
    markers,
    module_location,
    oracles,
)

#: What a model with a real channel or argument mistake raises in PyTorch.
MODEL_ERRORS = (RuntimeError, ValueError, AssertionError)

ORACLES = all_oracles(TORCH_FIXTURES)
FIXTURES = fixture_files()

_unique = itertools.count()


@contextlib.contextmanager
def imported(path: Path):
    """Import a fixture in isolation; nothing it imports stays in sys.modules afterwards."""
    folder, name = module_location(path)
    saved_bytecode, saved_path = sys.dont_write_bytecode, list(sys.path)
    sys.dont_write_bytecode = True  # keep fixtures/ free of __pycache__
    if folder is None:
        unique = f"_convlint_fixture_{next(_unique)}_{name}"
        spec = importlib.util.spec_from_file_location(unique, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        try:
            spec.loader.exec_module(module)
            yield module
        finally:
            sys.modules.pop(unique, None)
            sys.dont_write_bytecode = saved_bytecode
        return

    top = name.split(".")[0]

    def ours(key: str) -> bool:
        return key == top or key.startswith(top + ".")

    shadowed = {key: sys.modules.pop(key) for key in list(sys.modules) if ours(key)}
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(name)
    finally:
        for key in [key for key in sys.modules if ours(key)]:
            del sys.modules[key]
        sys.modules.update(shadowed)
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode


def run_oracle(oracle):
    """None if the oracle's model builds and runs, else the model error it raised."""
    return evaluate(oracle)[0]


def evaluate(oracle):
    """(the model error the oracle's model raised, or None; its output, or None)."""
    with imported(oracle.path) as module:
        namespace = dict(vars(module))
        code = compile(oracle.build, f"<oracle {oracle.id}>", "eval")
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = eval(code, namespace)
                if oracle.input is not None:
                    with torch.no_grad():
                        return None, model(torch.randn(*oracle.input))
            except MODEL_ERRORS as exc:
                return exc, None
    return None, None


def test_fixtures_were_found():
    assert FIXTURES, "no fixture files under fixtures/"
    assert ORACLES, "no oracle lines in any fixture"
    assert {o.expect for o in ORACLES} == set(EXPECTS)


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda oracle: oracle.id)
def test_oracle(oracle):
    error, output = evaluate(oracle)
    if oracle.expect == "changes-batch":
        assert isinstance(output, torch.Tensor), f"{oracle.id}: labelled changes-batch, but it gave {error or output!r}"
        assert output.shape[0] != oracle.input[0], (
            f"{oracle.id}: labelled changes-batch, but the output {tuple(output.shape)} keeps the batch "
            f"of the input {oracle.input}"
        )
    elif oracle.expect == "runs":
        assert error is None, (
            f"{oracle.id}: labelled runs, but build={oracle.build} input={oracle.input} "
            f"raised {type(error).__name__}: {error}"
        )
    else:
        assert error is not None, (
            f"{oracle.id}: labelled fails, but build={oracle.build} input={oracle.input} built and ran"
        )


#: Warnings about parameter totals (CL3xx) mark models that run.
WARNING_PREFIX = "CL3"


@pytest.mark.parametrize("path", FIXTURES, ids=display)
def test_label_agrees_with_markers(path):
    expects = {oracle.expect for oracle in oracles(path)}
    marks = [(line, code) for line, code in markers(path) if not code.startswith(WARNING_PREFIX)]
    if expects & set(BROKEN):
        assert marks, f"{display(path)}: an oracle says {expects}, but no line carries '# error: CODE'"
    else:
        assert not marks, f"{display(path)}: marks {marks}, but no oracle line says expect=fails"


@pytest.mark.parametrize("path", FIXTURES, ids=display)
def test_loose_fixture_has_an_oracle(path):
    """Only files inside a fixture package (helpers such as blocks.py) may go unproved."""
    folder, _ = module_location(path)
    if folder is None:
        assert oracles(path), f"{display(path)}: no '# oracle:' line"
