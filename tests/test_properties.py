"""Property tests: no input makes convlint raise or hang, and on generated model programs its
verdict is the ground truth the generator knows (and, sampled, what PyTorch does).

* Any bytes, generated valid Python (hypothesmith, from the grammar and from libcst nodes) and
  half-typed edits of the fixtures are linted without an internal error (CL003), each within a
  per-file time budget.
* Generated model programs (``model_programs``: chains of layers with literal, symbolic and
  unseen widths written through constants, containers, dataclasses, helpers, blocks, loops,
  branches, grouped layers and forward operations) get exactly the verdict their construction
  implies: a provable mismatch is reported on its line (or the call that made it concrete) with
  its kind of code (CL1 for widths, CL201 for groups), a chain built consistent (or only
  possibly wrong) is silent. This is the "never guess" promise.
* A sample of them is built and run in PyTorch, which must fail (to build or to run) exactly
  when the generator says.

On CI (``CI`` set) the examples are derandomized so that every run checks the same ones.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import List, Optional, Tuple

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from convlint.config import Settings
from convlint.diagnostics import Diagnostic
from convlint.runner import Linter

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from model_programs import (  # noqa: E402
    GROUPED_STAGES, INPUT_SIZE, RUNTIME_UNKNOWN, STUB_MODULE, Program, model_programs)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures" / "torch").glob("*.py"))
#: A file that takes longer than this counts as a hang (generated files take milliseconds).
PER_FILE_SECONDS = 5.0
#: Diagnostics about the code itself; the generated models are judged on these.
MODEL_CODES = ("CL1", "CL2")

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

_FOLDER = Path(tempfile.mkdtemp(prefix="convlint-properties-"))


def lint(data: bytes, extend: Tuple[str, ...] = ("CL004",)) -> List[Diagnostic]:
    """Lint ``data`` as a file of an empty project; fails on an internal error or a hang."""
    linter = Linter(Settings(select=("CL",), extend_select=extend, root=_FOLDER), _FOLDER)
    started = time.perf_counter()
    diagnostics = linter.lint_bytes(_FOLDER / "generated.py", data)
    elapsed = time.perf_counter() - started
    internal = [d.message for d in diagnostics if d.code == "CL003"]
    assert not internal, f"internal error: {internal}"
    assert elapsed < PER_FILE_SECONDS, f"{elapsed:.1f} s for one file"
    return diagnostics


# -- no input crashes or hangs ----------------------------------------------------------------------

_PREFIXES = st.sampled_from([b"", b"\xef\xbb\xbf", b"# -*- coding: latin-1 -*-\n", b"# coding: utf-8\n",
                             b"# coding: cp1252\n", b"import torch.nn as nn\n"])


@settings(max_examples=150, deadline=None)
@given(_PREFIXES, st.binary(max_size=400))
def test_any_bytes_never_crash(prefix, data):
    lint(prefix + data)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles what it generates
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_generated_python_never_crashes(source):
    lint(source.encode("utf-8", "surrogatepass"))


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_generated_libcst_modules_never_crash(source):
    lint(source.encode("utf-8", "surrogatepass"))


_EDITS = st.sampled_from(["(", ")", "[", "]", ":", ",", "=", "*", "**", ".", "def ", "class ", "self.", "lambda ",
                          "\n", "\n    ", "\t", '"', "'''", "#", "\\", "yield ", "return ", "super()", "nn.Conv2d(",
                          "None", "0", "-1", "x", "@", "async ", "await ", "\x0c", "\r"])


@st.composite
def half_typed(draw) -> str:
    """A fixture with a few edits: text cut off, deleted or typed in at random places."""
    text = draw(st.sampled_from(FIXTURES)).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "insert", "delete", "truncate"]))
        if kind == "insert":
            text = text[:at] + draw(_EDITS) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            text = text[:at]
    return text


@settings(max_examples=150, deadline=None)
@given(half_typed())
def test_half_typed_model_code_never_crashes(source):
    lint(source.encode("utf-8"))


# -- generated models: the verdict is the ground truth ------------------------------------------------


def _listing(program: Program, diagnostics: List[Diagnostic]) -> str:
    numbered = "\n".join(f"{number:3} {line}" for number, line in enumerate(program.source.splitlines(), 1))
    found = "\n".join(f"  {d.line}:{d.column} {d.code} {d.message}" for d in diagnostics) or "  (nothing)"
    return f"{numbered}\nconfigurations (c, call line): {program.configs}\nconvlint:\n{found}"


def check_verdict(program: Program) -> List[Diagnostic]:
    """convlint on ``program`` reports every provable mismatch and nothing it cannot prove."""
    diagnostics = [d for d in lint(program.source.encode()) if d.code.startswith(MODEL_CODES)]
    note(_listing(program, diagnostics))
    allowed = program.may_report_lines()
    guessed = [d for d in diagnostics if d.line not in allowed.get("CL201" if d.code == "CL201" else d.code[:3], ())]
    assert not guessed, f"reported what the program does not prove: {[(d.line, d.code) for d in guessed]}"
    missed = [(line, what, code) for line, lines, what, code in program.must_report()
              if not any(d.line in lines and d.code.startswith(code) for d in diagnostics)]
    assert not missed, f"provable mismatches not reported: {missed}"
    return diagnostics


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_programs())
def test_generated_models_get_the_verdict_their_construction_implies(program):
    check_verdict(program)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_programs(plant=False))
def test_generated_models_built_consistent_are_silent(program):
    assert not check_verdict(program)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_programs(plant=True, kinds=GROUPED_STAGES))
def test_generated_grouped_layers_get_the_verdict_their_construction_implies(program):
    """Grouped convolutions and GroupNorm, one of them (or another layer) planted wrong: groups
    that do not divide a known width are CL201, on the layer or the call that made it known."""
    check_verdict(program)


# -- and PyTorch agrees -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch_runtime():
    """torch, with the module the generated programs import their unseen widths from."""
    torch = pytest.importorskip("torch")
    stub = types.ModuleType(STUB_MODULE)
    stub.WIDTH, stub.ZERO = RUNTIME_UNKNOWN, 0  # type: ignore[attr-defined]
    saved = sys.modules.get(STUB_MODULE)
    sys.modules[STUB_MODULE] = stub
    environment = {name: os.environ.pop(name) for name in ("NET_WIDTH", "NET_DEPTH", "NET_WIDE") if name in os.environ}
    yield torch
    os.environ.update(environment)
    if saved is None:
        sys.modules.pop(STUB_MODULE, None)
    else:
        sys.modules[STUB_MODULE] = saved


def _fails_in_torch(torch, program: Program, c: int) -> Optional[str]:
    module = types.ModuleType("generated_model")
    sys.modules[module.__name__] = module  # for @dataclass, which looks its module up
    try:
        exec(compile(program.source, "generated_model.py", "exec"), module.__dict__)  # the generator's own code
        model = module.Net(c=c)
        with torch.no_grad():
            model(torch.randn(2, program.in_channels, INPUT_SIZE, INPUT_SIZE))
    except (RuntimeError, ValueError) as error:  # ValueError: GroupNorm's groups, on construction
        return str(error).splitlines()[0]
    finally:
        del sys.modules[module.__name__]
    return None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=st.one_of(model_programs(), model_programs(plant=True, kinds=GROUPED_STAGES)))
def test_generated_models_agree_with_pytorch(torch_runtime, program):
    diagnostics = check_verdict(program)
    checked = sorted({c if c is not None else program.runtime_c for c, _ in program.configs} | {program.runtime_c})
    failures = {c: _fails_in_torch(torch_runtime, program, c) for c in checked}
    note(f"PyTorch: {failures}")
    for c, failure in failures.items():
        assert (failure is not None) == program.fails_at(c), f"the generator is wrong about c={c}: {failure}"
    if diagnostics and not program.has_untaken_paths:
        assert any(failures.values()), "convlint reports an error that PyTorch does not raise"


# -- false positives found on the way (reported to the interpreter's owner) ---------------------------
#
# A constructor parameter without a default is bound to a positive integer symbol when a class
# is checked on its own. Arithmetic of a tensor with such a symbol is taken to keep the tensor's
# shape, as a scalar would; but the parameter may be a tensor, which broadcasts (``*``) or
# contracts (``@``) the shape. Each snippet runs in PyTorch; convlint reports a mismatch.

_PARAMETER_OPERAND_SNIPPETS = {
    "matmul-with-a-parameter": (
        "import torch.nn as nn\n"
        "\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, table):\n"
        "        super().__init__()\n"
        "        self.fc1 = nn.Linear(32, 64)\n"
        "        self.table = table  # a (64, 10) tensor\n"
        "        self.fc2 = nn.Linear(10, 5)\n"
        "\n"
        "    def forward(self, x):\n"
        "        x = self.fc1(x)\n"
        "        x = x @ self.table\n"
        "        return self.fc2(x)\n",
        "torch.randn(64, 10)", (2, 32),
    ),
    "broadcast-with-a-parameter": (
        "import torch.nn as nn\n"
        "\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, gate):\n"
        "        super().__init__()\n"
        "        self.conv1 = nn.Conv2d(3, 1, 1)\n"
        "        self.gate = gate  # a (1, 16, 1, 1) tensor\n"
        "        self.conv2 = nn.Conv2d(16, 8, 1)\n"
        "\n"
        "    def forward(self, x):\n"
        "        return self.conv2(self.conv1(x) * self.gate)\n",
        "torch.ones(1, 16, 1, 1)", (2, 3, 8, 8),
    ),
}


@pytest.mark.parametrize("name", sorted(_PARAMETER_OPERAND_SNIPPETS))
def test_arithmetic_with_a_parameter_that_may_be_a_tensor_is_silent(name):
    source, _, _ = _PARAMETER_OPERAND_SNIPPETS[name]
    assert [(d.line, d.code) for d in lint(source.encode()) if d.code.startswith(MODEL_CODES)] == []


@pytest.mark.parametrize("name", sorted(_PARAMETER_OPERAND_SNIPPETS))
def test_the_parameter_operand_snippets_run_in_pytorch(torch_runtime, name):
    source, argument, shape = _PARAMETER_OPERAND_SNIPPETS[name]
    namespace: dict = {}
    exec(compile(source, f"{name}.py", "exec"), namespace)
    model = namespace["Net"](eval(argument, {"torch": torch_runtime}))
    assert model(torch_runtime.randn(*shape)).shape[0] == shape[0]
