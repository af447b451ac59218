"""convlint: a static linter for neural-network model code."""

__version__ = "0.1.0"

DOCS_URL = "https://github.com/convlint/convlint/blob/main/docs/rules.md"
