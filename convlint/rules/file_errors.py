"""The CL0xx group: the file itself could not be analysed. The runner reports these; they
have no facts to read."""

from __future__ import annotations

from convlint.rules.base import Rule


class SyntaxErrorRule(Rule):
    """
    ## What it does
    Reports a file that does not parse as Python 3, at the place the parser stopped.

    ## Why is this bad?
    Nothing in a file that does not parse can be checked, and Python will refuse to import it.

    ## Example
    ```python
    print "hello"
    ```

    ## Use instead
    ```python
    print("hello")
    ```
    """

    code = "CL001"
    name = "syntax-error"
    summary = "The file does not parse: {detail}"
    invalid = ('print "hello"  # error: CL001\n',)
    valid = ('print("hello")\n',)


class UnreadableFileRule(Rule):
    """
    ## What it does
    Reports a file that could not be read or decoded (a permission error, a file that vanished
    during the run, bytes that are not valid in the file's declared encoding).

    ## Why is this bad?
    The file was not checked at all; a silent skip would hide that.
    """

    code = "CL002"
    name = "unreadable-file"
    summary = "The file could not be read: {detail}"


class InternalErrorRule(Rule):
    """
    ## What it does
    Reports that convlint itself failed on this file. The rest of the run goes on.

    ## Why is this bad?
    It is a bug in convlint: please report it with the file that triggers it.
    """

    code = "CL003"
    name = "internal-error"
    summary = "convlint failed on this file: {detail}"


class AnalysisBudgetRule(Rule):
    """
    ## What it does
    Reports that the analysis of a file stopped at one of its budgets (interpreter steps, loop
    unrolling, call depth, wall-clock time). What lies beyond the budget is treated as unknown,
    which is always silent, so nothing false is reported; this rule only says that some checks
    could not be made. Off by default.

    ## Why is this bad?
    It is not: enable it to see where convlint gave up.
    """

    code = "CL004"
    name = "analysis-budget"
    summary = "Analysis stopped early: {detail}"
    enabled_by_default = False
