"""Random PyTorch model programs whose verdict is known by construction.

A program is ``class Net(nn.Module)``: a chain of stages (convolutions, strided and transposed
ones too, grouped convolutions and GroupNorm, norms, activations, helper functions, custom
blocks, ResNet's ``_make_layer`` with ``self.inplanes``, loops, comprehensions, branches on
known and unknown conditions, a layer called twice, concatenated branches, a classifier head
with or without pooling) and, in ``forward``, operations that change the channel count
(``torch.cat``, slicing, ``chunk``, ``pixel_shuffle``, ``mean``) or keep it. It is checked on
its own and as instantiated (at module level, in a builder, by a subclass's ``__init__``). Every
channel count is a ``Width``: a literal, a linear form of the constructor parameter ``c`` (a
positive symbol when ``c`` has no default), or a value the analysis cannot see (an unresolvable
import, an environment variable), written out in one of many ways (module constants, lists,
dicts, locals, attributes, arithmetic).

Every layer that reads the channels reaching it is a *consumer*; a grouped one also declares
widths that must be multiples of its groups (CL201, which reports known widths only). For each
consumer and each configuration convlint checks (the class with its defaults, each call that
instantiates it), the generator knows whether the declared width provably differs from the one
reaching it (convlint must report it), agrees or may agree (convlint must stay silent), or
differs in a way convlint is allowed but not required to see (an operation it need not model, or
a difference that no positive ``c`` closes although signs alone do not prove it). It also knows
what PyTorch does with the values a run would give.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

from hypothesis import strategies as st

#: What the values the analysis cannot see are when the program runs.
RUNTIME_UNKNOWN = 16
STUB_MODULE = "mystery_config"
CLASSES = 10
INPUT_SIZE = 8

EQUAL, PROVABLE, MAYBE, EITHER, UNSEEN = "equal", "provable", "maybe", "either", "unseen"
#: How far convlint can see a width: it must, it may (an operation it need not model), it cannot;
#: or the width is past a failing operation (a residual sum of different widths), where any
#: verdict goes.
MUST, MAY, CANNOT, BROKEN = 2, 1, 0, -1


@dataclass(frozen=True)
class Width:
    """``coeff * c + const``, and how far the analysis can see it. A width it cannot see still
    has its value at run time."""

    coeff: int
    const: int
    seen: int = MUST

    def at(self, c: int) -> int:
        return self.coeff * c + self.const

    def hidden(self, seen: int) -> "Width":
        return replace(self, seen=min(self.seen, seen))


def relation(flow: Width, declared: Width, c: Optional[int]) -> str:
    """What convlint may say about ``declared`` receiving ``flow``, with ``c`` bound (an int) or
    a positive symbol (None)."""
    seen = min(flow.seen, declared.seen)
    if seen == BROKEN:
        return EITHER
    if seen == CANNOT:
        return UNSEEN
    p, q = flow.coeff - declared.coeff, flow.const - declared.const
    if c is not None:
        p, q = 0, p * c + q
    if p == 0:
        found = EQUAL if q == 0 else PROVABLE
    elif (p > 0 and p + q > 0) or (p < 0 and p + q < 0):
        found = PROVABLE
    elif -q % p == 0 and -q // p >= 1:
        found = MAYBE
    else:
        found = EITHER
    return EITHER if found == PROVABLE and seen == MAY else found


Ref = Tuple[str, int]  # (section, index): a line, numbered when the program is assembled


@dataclass
class Consumer:
    line: Ref
    flow: Width
    declared: Width
    #: Other lines where a finding about it may land (the helper that built the layer).
    via: Tuple[Ref, ...] = ()
    what: str = ""
    #: False when the consumer sits in a branch the run does not take.
    runs: bool = True
    #: False when it sits in a branch convlint knows is not taken (nor does the run take it).
    analysed: bool = True
    #: For a grouped layer, its groups, and the widths it declares that must be multiples of them.
    groups: int = 0
    grouped: Tuple[Width, ...] = ()
    #: For a Linear after a flatten without pooling: the channels flattened (``flow`` is the
    #: features, channels times the spatial size, which convlint does not know).
    channels: Optional[Width] = None


def flattened(channels: Width, declared: Width, c: Optional[int]) -> str:
    """What convlint may say about ``declared`` features after a flatten of ``channels`` times an
    unknown spatial size: nothing when they are a multiple of the channels; when they are not,
    it may say so (the spatial size is a whole number), but need not."""
    seen = min(channels.seen, declared.seen)
    if seen == CANNOT:
        return UNSEEN
    if c is not None:
        count, features = channels.at(c), declared.at(c)
        return UNSEEN if seen != BROKEN and features % count == 0 else EITHER
    multiple = any(declared.coeff == k * channels.coeff and declared.const == k * channels.const
                   for k in range(1, declared.coeff + declared.const + 1))
    return UNSEEN if seen != BROKEN and multiple else EITHER


def divisibility(count: Width, groups: int, c: Optional[int]) -> str:
    """What convlint may say about ``count`` channels in ``groups`` groups (CL201 reports known
    counts only)."""
    if count.seen == CANNOT:
        return UNSEEN
    if count.seen == BROKEN:
        return EITHER
    if c is None and count.coeff:
        if count.coeff % groups == 0 and count.const % groups == 0:
            return EQUAL
        return MAYBE if any(count.at(value) % groups == 0 for value in range(1, groups + 1)) else EITHER
    if count.at(c if c is not None else 0) % groups == 0:
        return EQUAL
    return EITHER if count.seen == MAY else PROVABLE


@dataclass(frozen=True)
class Check:
    """One layer's check, numbered: the width it declares against the one reaching it, and, for a
    grouped layer, the divisibility of its channels by its groups."""

    line: int
    others: Tuple[int, ...]
    flow: Width
    declared: Width
    what: str
    #: Whether the run (in an environment that sets none of the variables read) reaches it.
    runs: bool
    groups: int = 0
    grouped: Tuple[Width, ...] = ()
    channels: Optional[Width] = None

    def verdicts(self, c: Optional[int]) -> Tuple[str, ...]:
        found = (relation(self.flow, self.declared, c) if self.channels is None
                 else flattened(self.channels, self.declared, c))
        return (found, *(divisibility(width, self.groups, c) for width in self.grouped))

    def fails_at(self, c: int) -> bool:
        """Whether PyTorch fails to build the layer (groups) or to run it (widths) with ``c``."""
        if not self.runs:
            return False
        return self.flow.at(c) != self.declared.at(c) or any(width.at(c) % self.groups for width in self.grouped)


@dataclass
class Program:
    source: str
    #: The checks of the layers convlint analyses.
    checks: List[Check]
    #: What convlint checks: (c or None for a symbol, the line of the call that made it, or None).
    configs: List[Tuple[Optional[int], Optional[int]]]
    #: The value of ``c`` to build the model with in PyTorch.
    runtime_c: int
    #: Input channels for PyTorch.
    in_channels: int = 3

    def must_report(self) -> List[Tuple[int, FrozenSet[int], str, str]]:
        """Checks that provably fail in some configuration: (line, lines where a report may
        land, what, the code or code prefix the report must have: CL1 for widths that differ,
        CL201 for groups that do not divide)."""
        return [(check.line, self._lines(check), check.what, code) for check, code, verdicts in self._verdicts()
                if PROVABLE in verdicts]

    def may_report_lines(self) -> Dict[str, FrozenSet[int]]:
        """Per code (CL1: widths, CL201: groups), the lines where a report may land."""
        lines: Dict[str, set] = {"CL1": set(), "CL201": set()}
        for check, code, verdicts in self._verdicts():
            if {PROVABLE, EITHER} & verdicts:
                lines[code] |= self._lines(check)
        return {code: frozenset(found) for code, found in lines.items()}

    def _verdicts(self) -> List[Tuple["Check", str, FrozenSet[str]]]:
        """Each check's verdicts over the configurations, per code it may be reported under."""
        found = []
        for check in self.checks:
            verdicts = [check.verdicts(c) for c, _ in self.configs]
            for index, code in enumerate(("CL1", *("CL201" for _ in check.grouped))):
                found.append((check, code, frozenset(verdict[index] for verdict in verdicts)))
        return found

    def fails_at(self, c: int) -> bool:
        """Whether PyTorch fails to build or run the model with ``c``."""
        return any(check.fails_at(c) for check in self.checks)

    @property
    def has_untaken_paths(self) -> bool:
        """Some check is analysed on a path the run does not take (an unknown condition)."""
        return any(not check.runs for check in self.checks)

    def _lines(self, check: Check) -> FrozenSet[int]:
        return frozenset((check.line, *check.others, *(call for _, call in self.configs if call is not None)))


_HELPERS: Dict[str, List[str]] = {
    "conv_bn": [
        "def conv_bn(cin, cout, kernel=3):",
        "    return nn.Sequential(",
        "        nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False),",
        "        nn.BatchNorm2d(cout),",
        "        nn.ReLU(inplace=True),",
        "    )",
    ],
    "Block": [
        "class Block(nn.Module):",
        "    expansion = 1",
        "",
        "    def __init__(self, cin, cout, stride=1):",
        "        super().__init__()",
        "        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)",
        "        self.bn = nn.BatchNorm2d(cout)",
        "        self.act = nn.ReLU(inplace=True)",
        "",
        "    def forward(self, x):",
        "        return self.act(self.bn(self.conv(x)))",
    ],
    "Residual": [
        "class Residual(nn.Module):",
        "    def __init__(self, width):",
        "        super().__init__()",
        "        self.conv1 = nn.Conv2d(width, width, 3, padding=1)",
        "        self.conv2 = nn.Conv2d(width, width, 1)",
        "",
        "    def forward(self, x):",
        "        return x + self.conv2(torch.relu(self.conv1(x)))",
    ],
}
_HELPERS["make_stage"] = [
    "def make_stage(cin, cout, blocks=2):",
    "    layers = [nn.Conv2d(cin, cout, 3, padding=1)]",
    "    for _ in range(blocks - 1):",
    "        layers.append(nn.Conv2d(cout, cout, 3, padding=1))",
    "    return layers",
]
_MAKE_LAYER = [
    "    def _make_layer(self, planes, blocks):",
    "        layers = [Block(self.inplanes, planes)]",
    "        self.inplanes = planes * Block.expansion",
    "        for _ in range(1, blocks):",
    "            layers.append(Block(self.inplanes, planes))",
    "        return nn.Sequential(*layers)",
]


class _Writer:
    """One program being written: its sections of lines, the names defined so far, its consumers."""

    def __init__(self, draw: Callable, runtime_c: int) -> None:
        self.draw = draw
        self.runtime_c = runtime_c
        self.sections: Dict[str, List[str]] = {name: [] for name in
                                               ("head", "constants", "helpers", "init", "methods", "forward",
                                                "footer")}
        self.constants: Dict[str, str] = {}
        self.widths_list: List[int] = []
        self.config_dict: Dict[str, int] = {}
        #: Fields of a dataclass: (default, whether SETTINGS overrides it with the real value).
        self.settings_fields: Dict[str, Tuple[int, bool]] = {}
        self.helpers: Dict[str, int] = {}
        self.counter = 0
        self.imports: set = set()
        self.consumers: List[Consumer] = []
        self.indent = 2
        #: Past a gap the analysis cannot see through, nothing further along the chain is required.
        self.chain_lost = False

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def init(self, line: str) -> Ref:
        self.sections["init"].append("    " * self.indent + line)
        return ("init", len(self.sections["init"]) - 1)

    def consumer(self, line: Ref, flow: Width, declared: Width, what: str, via: Tuple[Ref, ...] = (),
                 groups: int = 0, grouped: Tuple[Width, ...] = (), channels: Optional[Width] = None) -> None:
        if self.chain_lost:
            declared = declared.hidden(MAY)
        self.consumers.append(Consumer(line, flow, declared, via, what, groups=groups, grouped=grouped,
                                       channels=channels))

    # -- widths and how they are written ---------------------------------------------------------

    def new_width(self) -> Width:
        kind = self.draw(st.sampled_from(["known"] * 4 + ["symbolic"] * 3 + ["unseen"]))
        if kind == "known":
            return Width(0, self.draw(st.sampled_from([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64])))
        if kind == "symbolic":
            return Width(self.draw(st.integers(1, 3)), self.draw(st.sampled_from([0, 0, 0, 1, 4, 8])))
        return Width(0, RUNTIME_UNKNOWN * self.draw(st.sampled_from([1, 1, 2])), seen=CANNOT)

    def declared_for(self, flow: Width, plant: bool) -> Width:
        """The width a consumer declares: the one reaching it, or (when planting) most likely another."""
        if not plant:
            return flow if flow.seen != MAY else replace(flow, seen=MUST)
        choice = self.draw(st.sampled_from(["shift", "scale", "other"]))
        if choice == "shift" and flow.seen != CANNOT:
            const = flow.const + self.draw(st.sampled_from([-8, -1, 1, 2, 16]))
            return Width(flow.coeff, max(const, 0 if flow.coeff else 1))
        if choice == "scale" and flow.seen != CANNOT and flow.coeff:
            return Width(flow.coeff * 2, flow.const * 2)
        return self.new_width()

    def expr(self, width: Width, local_ok: bool = True) -> str:
        """Python code for ``width`` inside ``Net.__init__`` (may add constants and locals)."""
        if width.seen == CANNOT:
            return self._unseen(width)
        if width.coeff:
            return self._symbolic(width, local_ok)
        return self._known(width.const, local_ok)

    def _known(self, value: int, local_ok: bool) -> str:
        options = ["literal", "constant", "list", "dict", "arithmetic", "tuple", "dataclass"] + (
            ["local", "attribute"] if local_ok else [])
        how = self.draw(st.sampled_from(options))
        if how == "constant":
            name = self.fresh("WIDTH_")
            self.constants[name] = str(value)
            return name
        if how == "list":
            if value not in self.widths_list:
                self.widths_list.append(value)
            return f"WIDTHS[{self.widths_list.index(value)}]"
        if how == "dict":
            key = self.fresh("stage")
            self.config_dict[key] = value
            return self.draw(st.sampled_from([f'CFG["{key}"]', f'CFG.get("{key}", {value + 1})']))
        if how == "dataclass":
            name = self.fresh("field")
            overridden = self.draw(st.booleans())
            self.settings_fields[name] = (value + 1 if overridden else value, overridden)
            return f"SETTINGS.{name}"
        if how == "tuple":
            name = self.fresh("PAIR_")
            self.constants[name] = f"({value + 3}, {value})"
            return f"{name}[1]"
        if how == "arithmetic":
            if value % 2 == 0:
                name = self.fresh("BASE_")
                self.constants[name] = str(value // 2)
                return self.draw(st.sampled_from([f"{name} * 2", f"2 * {name}", f"{name} + {name}"]))
            return self.draw(st.sampled_from([f"{value + 8} - 8", f"({value * 2}) // 2", f"max({value}, 1)"]))
        if how == "local":
            name = self.fresh("w")
            self.init(f"{name} = {self._known(value, local_ok=False)}")
            return name
        if how == "attribute":
            name = self.fresh("width")
            self.init(f"self.{name} = {self._known(value, local_ok=False)}")
            return f"self.{name}"
        return str(value)

    def _symbolic(self, width: Width, local_ok: bool) -> str:
        product = "c" if width.coeff == 1 else self.draw(st.sampled_from([f"{width.coeff} * c", f"c * {width.coeff}"]))
        text = product if not width.const else f"{product} + {width.const}"
        how = self.draw(st.sampled_from(["inline", "inline"] + (["local", "attribute"] if local_ok else [])))
        if how == "local":
            name = self.fresh("mid")
            self.init(f"{name} = {text}")
            return name
        if how == "attribute":
            name = self.fresh("planes")
            self.init(f"self.{name} = {text}")
            return f"self.{name}"
        return text

    def _unseen(self, width: Width) -> str:
        """A width the analysis cannot see; at run time its value is ``width.at(runtime c)``."""
        if width.coeff:  # an unseen function of c: c plus something the analysis cannot see
            self.imports.add("zero")
            return f"{self._symbolic(replace(width, seen=MUST), local_ok=False)} + ZERO"
        factor = width.const // RUNTIME_UNKNOWN
        if width.const % RUNTIME_UNKNOWN == 0 and factor in (1, 2) and self.draw(st.booleans()):
            self.imports.add("width")
            base = "WIDTH"
        else:
            self.imports.add("os")
            return f'int(os.environ.get("NET_WIDTH", "{width.const}"))'
        return base if factor == 1 else f"{base} * {factor}"

    # -- helpers ---------------------------------------------------------------------------------------

    def helper(self, name: str) -> Tuple[Ref, ...]:
        """Define helper ``name`` once; returns the lines of its definition."""
        if name not in self.helpers:
            self.helpers[name] = len(self.sections["helpers"])
            self.sections["helpers"] += _HELPERS[name] + ["", ""]
        start = self.helpers[name]
        return tuple(("helpers", start + index) for index in range(len(_HELPERS[name])))


#: The stages a chain is built of ("conv" twice: the plain case is the most common in real code).
STAGES = ("conv", "conv", "bn", "partial_bn", "act", "conv_bn", "block", "residual", "make_layer", "make_stage",
          "loop", "unknown_loop", "zip_loop", "branch", "op", "depthwise", "popped", "side", "groupnorm",
          "grouped_conv", "reuse", "inception")
#: The stages with grouped layers (CL201), and what commonly surrounds them.
GROUPED_STAGES = ("groupnorm", "grouped_conv", "depthwise", "conv", "act")


@st.composite
def model_programs(draw: Callable, max_stages: int = 6, plant: Optional[bool] = None,
                   kinds: Sequence[str] = STAGES) -> Program:
    """A model program and its verdict. ``plant``: force (True) or forbid (False) one
    deliberately different declared width (or, in a grouped layer, groups that do not divide);
    by default either. ``kinds``: the stages to build the chain of."""
    symbolic = draw(st.booleans())
    default = None if symbolic else draw(st.sampled_from([8, 16, 32]))
    instantiate = draw(st.sampled_from(["none", "module", "builder", "subclass"]))
    call_c = draw(st.sampled_from([4, 8, 16, 32])) if instantiate != "none" else None
    runtime_c = call_c or default or draw(st.sampled_from([4, 8, 16]))
    w = _Writer(draw, runtime_c)
    style = draw(st.sampled_from(["sequential", "module_list", "attributes", "ordered_dict"]))
    stages = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=max_stages))
    head = draw(st.booleans())
    plant = draw(st.booleans()) if plant is None else plant
    consumers_count = sum(stage not in ("act", "op", "popped") for stage in stages) + head
    plant_at = draw(st.integers(0, consumers_count - 1)) if plant and consumers_count else None
    use_bn = draw(st.booleans())  # the default of a ``use_bn`` parameter
    attributes: List[str] = []
    forward: List[str] = []

    if style in ("sequential", "module_list"):
        w.init("layers = []")
    elif style == "ordered_dict":
        w.imports.add("ordered_dict")
        w.init("layers = OrderedDict()")

    def add_layer(code: str) -> Ref:
        """Put one module into the chain; returns the line that built it."""
        if style in ("sequential", "module_list"):
            form = draw(st.sampled_from(["append", "append", "plus", "extend"]))
            if form == "plus":
                return w.init(f"layers += [{code}]")
            if form == "extend":
                return w.init(f"layers.extend([{code}])")
            return w.init(f"layers.append({code})")
        name = w.fresh("stage")
        if style == "ordered_dict":
            return w.init(f'layers["{name}"] = {code}')
        attributes.append(name)
        forward.append(f"        x = self.{name}(x)")
        return w.init(f"self.{name} = {code}")

    consumer_index = 0

    def next_declared(current: Width) -> Width:
        nonlocal consumer_index
        declared = w.declared_for(current, plant_at == consumer_index)
        consumer_index += 1
        return declared

    # The stem: the input's channel count is not known, so the stem is not a consumer.
    stem_out = w.new_width()
    add_layer(f"nn.Conv2d(in_channels, {w.expr(stem_out)}, 3, padding=1)")
    flow = stem_out

    spatial = INPUT_SIZE

    def grouping(*widths: Width) -> int:
        """Groups for a layer with these widths (CL201): dividing them for every c, unless this
        is the planted consumer, which may get any."""
        dividing = [g for g in (1, 2, 3, 4, 8) if all(w.coeff % g == 0 and w.const % g == 0 for w in widths)]
        if plant_at != consumer_index - 1:
            return draw(st.sampled_from(dividing))
        return draw(st.sampled_from([g for g in (2, 3, 4, 8) if g not in dividing] or dividing))

    def one_stage(stage: str, flow: Width) -> Width:
        nonlocal spatial
        if stage in ("reuse", "inception") and style != "attributes":
            stage = "conv"
        if stage == "act":
            add_layer(draw(st.sampled_from(["nn.ReLU(inplace=True)", "nn.Identity()", "nn.Dropout(0.1)",
                                            "nn.GELU()", "nn.Hardswish()", "nn.Upsample(scale_factor=1)"])))
            return flow
        if stage == "op":
            return forward_op(flow)
        if stage == "popped":
            # A layer put in and taken out again: it must leave no trace.
            if style in ("sequential", "module_list"):
                bogus = w.new_width()
                w.init(f"layers.append(nn.Conv2d({w.expr(Width(0, 7))}, {w.expr(bogus)}, 1))")
                removal = draw(st.sampled_from(["layers.pop()", "del layers[-1]", "layers = layers[:-1]"]))
                w.init(removal)
                if removal.startswith("del"):
                    # convlint leaves a gap where ``del`` struck (a miss, not a guess).
                    w.chain_lost = w.chain_lost or style == "module_list"
                    return flow.hidden(MAY)
            return flow
        declared = next_declared(flow)
        if stage == "conv":
            out = w.new_width()
            kernel = draw(st.sampled_from([1, 3]))
            keywords = draw(st.booleans())
            text_in, text_out = w.expr(declared), w.expr(out)
            shape = draw(st.sampled_from(["same", "same", "strided", "transposed"]))
            if shape == "strided":
                code = f"nn.Conv2d({text_in}, {text_out}, {kernel}, stride=2, padding={kernel // 2})"
                spatial = (spatial - 1) // 2 + 1
            elif shape == "transposed" and spatial <= 32:
                code = f"nn.ConvTranspose2d({text_in}, {text_out}, 2, stride=2)"
                spatial *= 2
            elif keywords:
                code = (f"nn.Conv2d(in_channels={text_in}, out_channels={text_out}, kernel_size={kernel}, "
                        f"padding={kernel // 2})")
            else:
                code = f"nn.Conv2d({text_in}, {text_out}, {kernel}, padding={kernel // 2})"
            w.consumer(add_layer(code), flow, declared, "conv")
            return out
        if stage == "bn":
            w.consumer(add_layer(f"nn.BatchNorm2d({w.expr(declared)})"), flow, declared, "bn")
            return flow
        if stage == "partial_bn":
            w.imports.add("partial")
            name = w.fresh("norm")
            w.init(f"{name} = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)")
            w.consumer(add_layer(f"{name}({w.expr(declared)})"), flow, declared, "partial_bn")
            return flow
        if stage in ("conv_bn", "block"):
            out = w.new_width()
            name = "conv_bn" if stage == "conv_bn" else "Block"
            lines = w.helper(name)
            text_in, text_out = w.expr(declared), w.expr(out)
            call = draw(st.sampled_from([f"{name}(cin={text_in}, cout={text_out})", f"{name}({text_in}, {text_out})",
                                         f"{name}(*({text_in}, {text_out}))",
                                         f'{name}(**{{"cin": {text_in}, "cout": {text_out}}})']))
            w.consumer(add_layer(call), flow, declared, name, lines)
            return out
        if stage == "residual":
            lines = w.helper("Residual")
            w.consumer(add_layer(f"Residual({w.expr(declared)})"), flow, declared, "Residual", lines)
            # ``x + conv2(...)``: past a mismatch the sum broadcasts or fails.
            return declared if declared == flow else declared.hidden(BROKEN)
        if stage == "make_layer":
            lines = w.helper("Block")
            if not w.sections["methods"]:
                w.sections["methods"] += ["", *_MAKE_LAYER]
            w.init(f"self.inplanes = {w.expr(declared)}")
            planes = w.new_width()
            line = add_layer(f"self._make_layer({w.expr(planes)}, {draw(st.integers(1, 3))})")
            method = tuple(("methods", index + 1) for index in range(len(_MAKE_LAYER)))
            w.consumer(line, flow, declared, "make_layer", lines + method)
            return planes
        if stage == "groupnorm":
            groups = grouping(declared)
            line = add_layer(f"nn.GroupNorm({groups}, {w.expr(declared)})")
            w.consumer(line, flow, declared, "groupnorm", groups=groups, grouped=(declared,))
            return flow
        if stage == "grouped_conv":
            out = w.new_width()
            groups = grouping(declared, out)
            line = add_layer(f"nn.Conv2d({w.expr(declared)}, {w.expr(out)}, 3, padding=1, groups={groups})")
            w.consumer(line, flow, declared, "grouped conv", groups=groups, grouped=(declared, out))
            return out
        if stage == "reuse":
            # One layer called twice: its input must also be its output (unless planted).
            out = w.new_width() if plant_at == consumer_index - 1 else declared
            name = w.fresh("shared")
            line = w.init(f"self.{name} = nn.Conv2d({w.expr(declared)}, {w.expr(out)}, 3, padding=1)")
            forward.append(f"        x = self.{name}(self.{name}(x))")
            w.consumer(line, flow, declared, "shared", (("forward", len(forward) - 1),))
            w.consumer(line, out, declared, "shared again", (("forward", len(forward) - 1),))
            return out
        if stage == "inception":
            # Branches concatenated: their widths add up.
            outs = [w.new_width() for _ in range(draw(st.integers(2, 3)))]
            names = []
            for index, out in enumerate(outs):
                here = declared if index == 0 or draw(st.booleans()) else next_declared(flow)
                names.append(w.fresh("branch"))
                line = w.init(f"self.{names[-1]} = nn.Conv2d({w.expr(here)}, {w.expr(out)}, 1)")
                w.consumer(line, flow, here, "inception branch")
            forward.append(f"        x = torch.cat([{', '.join(f'self.{name}(x)' for name in names)}], dim=1)")
            return Width(sum(o.coeff for o in outs), sum(o.const for o in outs), min(o.seen for o in outs))
        if stage == "make_stage":
            out = w.new_width()
            lines = w.helper("make_stage")
            call = f"make_stage({w.expr(declared)}, {w.expr(out)}, {draw(st.integers(1, 3))})"
            if style in ("sequential", "module_list"):
                line = w.init(draw(st.sampled_from([f"layers += {call}", f"layers.extend({call})"])))
            else:
                line = add_layer(f"nn.Sequential(*{call})")
            w.consumer(line, flow, declared, "make_stage", lines)
            return out
        if stage == "depthwise":
            text = w.expr(declared)
            w.consumer(add_layer(f"nn.Conv2d({text}, {text}, 3, padding=1, groups={text})"), flow, declared,
                       "depthwise")
            return declared
        if stage == "unknown_loop":
            # A loop the analysis cannot unroll: what it builds is forgotten, nothing is required.
            w.imports.add("os")
            count = 'int(os.environ.get("NET_DEPTH", "2"))'
            text = w.expr(declared)
            if style in ("sequential", "module_list"):
                # convlint forgets the whole list, the layers already in it too (a miss, not a guess).
                for item in w.consumers:
                    item.declared = item.declared.hidden(MAY)
                # And ``for layer in self.body`` cannot be unrolled past the gap: nothing after it either.
                w.chain_lost = w.chain_lost or style == "module_list"
                w.init(f"for _ in range({count}):")
                line = w.init(f"    layers.append(nn.Conv2d({text}, {text}, 3, padding=1))")
            else:
                line = add_layer(f"nn.Sequential(*[nn.Conv2d({text}, {text}, 3, padding=1) for _ in range({count})])")
            w.consumer(line, flow, declared.hidden(MAY), "unknown_loop")
            return declared.hidden(MAY) if declared == flow else declared.hidden(BROKEN)
        if stage == "side":
            # forward: a residual projection or a concatenated side branch (attributes only).
            text = w.expr(declared)
            if style != "attributes":
                w.consumer(add_layer(f"nn.Conv2d({text}, {text}, 1)"), flow, declared, "conv")
                return declared
            name = w.fresh("side")
            if draw(st.booleans()):
                line = w.init(f"self.{name} = nn.Conv2d({text}, {text}, 1)")
                forward.append(f"        x = x + self.{name}(x)")
                # Besides the projection's input, the sum itself may be reported.
                w.consumer(line, flow, declared, "residual projection", (("forward", len(forward) - 1),))
                return declared if declared == flow else declared.hidden(BROKEN)
            extra = w.new_width()
            line = w.init(f"self.{name} = nn.Conv2d({text}, {w.expr(extra)}, 1)")
            forward.append(f"        x = torch.cat([x, self.{name}(x)], dim=1)")
            w.consumer(line, flow, declared, "side branch")
            seen = min(flow.seen, extra.seen)
            return Width(flow.coeff + extra.coeff, flow.const + extra.const, seen)
        if stage == "loop":
            repeat = draw(st.integers(1, 3))
            text = w.expr(declared)
            if style in ("sequential", "module_list"):
                w.init(f"for _ in range({repeat}):")
                line = w.init(f"    layers.append(nn.Conv2d({text}, {text}, 3, padding=1))")
            else:
                line = add_layer(f"nn.Sequential(*[nn.Conv2d({text}, {text}, 3, padding=1) for _ in range({repeat})])")
            w.consumer(line, flow, declared, "loop")
            return declared
        if stage == "zip_loop":
            widths = [declared] + [w.new_width() for _ in range(draw(st.integers(1, 3)))]
            name = w.fresh("widths")
            w.init(f"{name} = [{', '.join(w.expr(width) for width in widths)}]")
            if style in ("sequential", "module_list"):
                w.init(f"for cin, cout in zip({name}[:-1], {name}[1:]):")
                line = w.init("    layers.append(nn.Conv2d(cin, cout, 3, padding=1))")
            else:
                line = add_layer(f"nn.Sequential(*[nn.Conv2d(cin, cout, 3, padding=1) "
                                 f"for cin, cout in zip({name}[:-1], {name}[1:])])")
            w.consumer(line, flow, declared, "zip_loop")
            return widths[-1]
        if stage == "branch":
            return branch(flow, declared)
        raise AssertionError(stage)

    def branch(flow: Width, declared: Width) -> Width:
        """``if``: on a parameter with a default (known to convlint: only the branch taken is
        analysed), or on the environment (unknown: both are, and what they disagree on
        becomes unknown; convlint may lose the chain there, so nothing in it is required)."""
        known = draw(st.booleans())
        out_then, out_else = w.new_width(), w.new_width()
        declared_else = declared if draw(st.booleans()) else next_declared(flow)
        if known:
            w.init("if use_bn:")
        else:
            w.imports.add("os")
            w.init('if os.environ.get("NET_WIDE"):')  # not set when the program runs
        taken_then = use_bn if known else False
        name = w.fresh("stage")
        for label, declared_here, out, taken in (("then", declared, out_then, taken_then),
                                                 ("else", declared_else, out_else, not taken_then)):
            if label == "else":
                w.init("else:")
            w.indent += 1
            code = f"nn.Conv2d({w.expr(declared_here)}, {w.expr(out)}, 3, padding=1)"
            if style == "attributes":
                line = w.init(f"self.{name} = {code}")
            elif style == "ordered_dict":
                line = w.init(f'layers["{name}"] = {code}')
            else:
                line = w.init(f"layers.append({code})")
            w.indent -= 1
            w.consumers.append(Consumer(line, flow, declared_here.hidden(MUST if known else MAY), (), "branch",
                                        runs=taken, analysed=taken or not known))
        if style == "attributes":
            forward.append(f"        x = self.{name}(x)")
        taken = out_then if taken_then else out_else
        if known:
            return taken
        return taken.hidden(MAY) if out_then == out_else else taken.hidden(CANNOT)

    def forward_op(flow: Width) -> Width:
        """An operation in ``forward`` (attributes style), or a module that does the same."""
        nonlocal spatial
        if style != "attributes":
            options = ["same"] + (["shuffle"] if flow.seen != CANNOT and flow.coeff == 0 and flow.const % 4 == 0 else [])
            kind = draw(st.sampled_from(options))
            if kind == "shuffle":
                add_layer("nn.PixelShuffle(2)")
                spatial *= 2
                return Width(0, flow.const // 4, MAY)
            add_layer(draw(st.sampled_from(["nn.ReLU()", "nn.Sigmoid()", "nn.Softmax(dim=1)", "nn.ChannelShuffle(1)"])))
            return flow
        options = ["same", "cat", "repeat", "mean"]
        if flow.seen != CANNOT and flow.coeff == 0:
            options += ["slice"] * (flow.const > 1) + ["chunk"] * (flow.const % 2 == 0) + \
                       ["shuffle"] * (flow.const % 4 == 0)
        kind = draw(st.sampled_from(options))
        if kind == "same":
            forward.append("        " + draw(st.sampled_from([
                "x = F.relu(x)", "x = torch.sigmoid(x) * x", "x = x * 0.5 + 1", "x = F.dropout(x, 0.1, self.training)",
                "x = F.interpolate(x, scale_factor=1.0)", "x = x.contiguous()", "x = torch.tanh(x)",
                "x = x.permute(0, 2, 3, 1).permute(0, 3, 1, 2)", "x = F.normalize(x, dim=1)",
            ])))
            w.imports.add("functional")
            return flow
        if kind == "cat":
            forward.append("        x = torch.cat([x, x], dim=1)" if draw(st.booleans()) else "        x = torch.cat((x, x), 1)")
            return Width(flow.coeff * 2, flow.const * 2, flow.seen)
        if kind == "repeat":
            forward.append("        x = x.repeat(1, 2, 1, 1)")
            return Width(flow.coeff * 2, flow.const * 2, min(flow.seen, MAY))
        if kind == "mean":
            forward.append("        x = x.mean(dim=1, keepdim=True)")
            # One channel, whatever came before: an unseen width becomes visible again.
            return Width(0, 1, BROKEN if flow.seen == BROKEN else MAY)
        if kind == "slice":
            keep = draw(st.integers(1, flow.const - 1))
            forward.append(f"        x = x[:, :{keep}]")
            return Width(0, keep, MAY)
        if kind == "chunk":
            forward.append("        x = x.chunk(2, dim=1)[0]")
            return Width(0, flow.const // 2, MAY)
        w.imports.add("functional")
        forward.append("        x = F.pixel_shuffle(x, 2)")
        spatial *= 2
        return Width(0, flow.const // 4, MAY)

    for stage in stages:
        flow = one_stage(stage, flow)
    if head and draw(st.integers(0, 3)) == 0:
        # Flattened without pooling: the features are channels times a spatial size that
        # depends on the input, which convlint does not know. Nothing may be claimed.
        features = Width(flow.coeff * spatial * spatial, flow.const * spatial * spatial, CANNOT)
        declared = next_declared(features)
        declared = declared if declared.seen != CANNOT else replace(declared, seen=MUST)
        if style == "attributes":
            line = w.init(f"self.fc = nn.Linear({w.expr(declared)}, {CLASSES})")
            forward += ["        x = torch.flatten(x, 1)", "        x = self.fc(x)"]
        else:
            add_layer("nn.Flatten()")
            line = add_layer(f"nn.Linear({w.expr(declared)}, {CLASSES})")
        w.consumer(line, features, declared, "flattened linear", channels=flow)
    elif head:
        declared = next_declared(flow)
        if style == "attributes":
            w.init("self.pool = nn.AdaptiveAvgPool2d(1)")
            line = w.init(f"self.fc = nn.Linear({w.expr(declared)}, {CLASSES})")
            forward += ["        x = torch.flatten(self.pool(x), 1)", "        x = self.fc(x)"]
        else:
            add_layer("nn.AdaptiveAvgPool2d((1, 1))")
            add_layer("nn.Flatten()")
            line = add_layer(f"nn.Linear({w.expr(declared)}, {CLASSES})")
        w.consumer(line, flow, declared, "linear")

    if style in ("sequential", "ordered_dict"):
        w.init(f"self.features = nn.Sequential({'*' if style == 'sequential' else ''}layers)")
        w.sections["forward"] += ["        return self.features(x)"]
    elif style == "module_list":
        w.init("self.body = nn.ModuleList(layers)")
        w.sections["forward"] += ["        for layer in self.body:", "            x = layer(x)", "        return x"]
    else:
        how = draw(st.sampled_from(["plain", "plain", "getattr"]))
        if how == "getattr" and forward and all(line.startswith("        x = self.stage") for line in forward):
            names = [line.split("self.")[1].split("(")[0] for line in forward]
            w.sections["forward"] += [f"        for name in {names!r}:", "            x = getattr(self, name)(x)",
                                      "        return x"]
        else:
            w.sections["forward"] += forward + ["        return x"]

    configs: List[Tuple[Optional[int], Optional[Ref]]] = [(default, None)]
    if call_c is not None:
        call = draw(st.sampled_from([f"Net(c={call_c})", f"Net({call_c})"]))
        if instantiate == "module":
            w.sections["footer"] += ["", f"model = {call}"]
        elif instantiate == "subclass":
            w.sections["footer"] += ["", "", "class Wide(Net):", "    def __init__(self):",
                                     f"        super().__init__({call[4:-1]})"]
        else:
            w.sections["footer"] += ["", "", "def build():", f"    return {call}"]
        configs.append((call_c, ("footer", len(w.sections["footer"]) - 1)))

    head_lines = ["import os", "from collections import OrderedDict", "from dataclasses import dataclass",
                  "from functools import partial", "",
                  "import torch", "import torch.nn as nn", "import torch.nn.functional as F"]
    if "width" in w.imports:
        head_lines.append(f"from {STUB_MODULE} import WIDTH")
    if "zero" in w.imports:
        head_lines.append(f"from {STUB_MODULE} import ZERO")
    w.sections["head"] = head_lines + ["", ""]
    constants = [f"{name} = {value}" for name, value in w.constants.items()]
    if w.widths_list:
        constants.append(f"WIDTHS = [{', '.join(map(str, w.widths_list))}]")
    if w.config_dict:
        constants.append("CFG = {" + ", ".join(f'"{k}": {v}' for k, v in w.config_dict.items()) + "}")
    if w.settings_fields:
        constants += ["", "", "@dataclass", "class Settings:"]
        constants += [f"    {name}: int = {default}" for name, (default, _) in w.settings_fields.items()]
        overrides = ", ".join(f"{name}={default - 1}" for name, (default, over) in w.settings_fields.items() if over)
        constants += ["", "", f"SETTINGS = Settings({overrides})"]
    w.sections["constants"] = constants + (["", ""] if constants else [])
    signature = "c" if default is None else f"c={default}"
    class_lines = ["class Net(nn.Module):", f"    def __init__(self, {signature}, in_channels=3, use_bn={use_bn}):",
                   "        super().__init__()"]
    offsets: Dict[str, int] = {}
    lines: List[str] = []
    for section in ("head", "constants", "helpers", "init", "methods", "forward", "footer"):
        if section == "init":
            lines += class_lines
        if section == "forward":
            lines += ["", "    def forward(self, x):"]
        offsets[section] = len(lines)
        lines += w.sections[section]

    def number(ref: Ref) -> int:
        return offsets[ref[0]] + ref[1] + 1

    checks = [Check(number(item.line), tuple(number(ref) for ref in item.via), item.flow, item.declared, item.what,
                    item.runs, item.groups, item.grouped, item.channels) for item in w.consumers if item.analysed]
    return Program("\n".join(lines) + "\n", checks,
                   [(c, number(call) if call else None) for c, call in configs], runtime_c)


