"""The repairs rules offer, built only where one edit is the obvious one.

A repair rewrites one node of the linted file (``Replacement``); the runner turns it into a text
edit and ``convlint.fix`` applies it only after checking that the repaired file parses and no
longer has the finding. What makes a repair unambiguous is decided here, from the facts.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from convlint.analysis.facts import FileFacts, FlowFact
from convlint.analysis.objects import Layer
from convlint.analysis.values import provably_different
from convlint.rules.base import Replacement


def literal_count(facts: FileFacts, flow: FlowFact) -> Optional[Replacement]:
    """Write the count that arrives in place of the literal the layer was built with.

    Only when the argument is a plain integer literal of this file, the count that arrives is a
    known int, and every tensor the analysis saw reaching that call brought that count or a
    symbolic one that may equal it (a layer built in a loop or a helper used in several places
    may be right elsewhere). A grouped
    layer is left alone unless its groups still divide the new count and it is not per-channel
    (``groups == in_channels``, where the groups would have to change too)."""
    layer, received = flow.consumer, flow.received
    if layer.module is not facts.module or type(received) is not int or received <= 0:
        return None
    literal = layer.argument_node(flow.parameter)
    if type(literal) is not cst.Integer or literal.evaluated_value != flow.expected:
        return None
    arrivals = [other.received for other in facts.flows
                if other.consumer.node is layer.node and other.parameter == flow.parameter]
    # A symbolic arrival (the forward run on an input of any size: 32 × ? after a flatten) may
    # take the known count; only a known other count, or one provably different, forbids it.
    if any(type(other) is int and other != received or provably_different(other, received) for other in arrivals):
        return None
    for name in ("groups", "num_groups"):
        groups = layer.argument(name) if name in layer.spec.param_names else 1
        if type(groups) is not int or groups > 1 and (received % groups or groups == flow.expected):
            return None
    return Replacement(literal, literal.with_changes(value=str(received)),
                       f"Replace {flow.parameter}={flow.expected} with {received}")


def bias_off(facts: FileFacts, conv: Layer) -> Optional[Replacement]:
    """``bias=False`` on a convolution of this file whose every use the analysis saw feeds a
    norm that cancels the bias. Unsafe: a checkpoint saved with the bias no longer loads."""
    if conv.module is not facts.module or type(conv.node) is not cst.Call:
        return None
    uses = [fact.consumer for fact in facts.adjacencies if fact.producer.node is conv.node]
    if not uses or not all(consumer.spec.cancels_bias for consumer in uses):
        return None
    call = conv.node
    if any(arg.star for arg in call.args):
        return None
    written = conv.argument_node("bias")
    message = "Pass bias=False (changes the checkpoint format)"
    if written is not None:
        if type(written) is not cst.Name or written.value != "True":
            return None
        return Replacement(written, written.with_changes(value="False"), message, safe=False)
    if not call.args:
        return None
    last = call.args[-1]
    # The new argument goes on the last one's line; a trailing comma (and the line break after
    # it) moves behind the new argument, so that no line is added.
    trailing = last.comma
    before = trailing.whitespace_before if isinstance(trailing, cst.Comma) else cst.SimpleWhitespace("")
    added = cst.Arg(value=cst.Name("False"), keyword=cst.Name("bias"),
                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")), comma=trailing)
    separator = cst.Comma(whitespace_before=before, whitespace_after=cst.SimpleWhitespace(" "))
    new_call = call.with_changes(args=[*call.args[:-1], last.with_changes(comma=separator), added])
    return Replacement(call, new_call, message, safe=False)
