"""CL005: a file whose analysis took longer than the per-file time limit. The runner reports it;
like the CL0xx file rules, it has no facts to read."""

from __future__ import annotations

from convlint.rules.base import Rule


class AnalysisTimeoutRule(Rule):
    """
    ## What it does
    Reports a file that was skipped because its analysis took longer than the per-file time
    limit (`--timeout`, 60 seconds by default). Nothing else is reported for that file: what
    the analysis found before the limit depends on the speed of the machine, and a result that
    changes from one run to the next would be worse than none. The rest of the run goes on.

    Off by default, and then a skipped file neither prints a diagnostic nor fails the run; but
    `--statistics` still counts it under CL005, so that a run that quietly checked less than
    it was given says so. Select CL005 (`--extend-select CL005`) to report each skipped file
    and fail the run on it; `ignore` or `per-file-ignores` naming CL005 (or a prefix of it)
    stop the count too.

    ## Why is this bad?
    The file was not checked. It is usually a sign of code the analysis explores too eagerly
    (many nested undecidable branches, huge generated tables): please report it with the file.
    Raise the limit, or exclude the file, to make the skip go away.
    """

    code = "CL005"
    name = "analysis-timeout"
    summary = "The file was skipped: its analysis took {detail}"
    enabled_by_default = False
