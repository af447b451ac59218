"""Fixtures shared by several test modules."""

from __future__ import annotations

import time

import pytest

import convlint.analysis.roots as roots


@pytest.fixture
def slow_file(monkeypatch):
    """Any file named ``slow.py`` takes five seconds to analyse, past any small time limit
    (forked workers inherit it); ``slow_file()`` makes analyses fast again."""
    real = roots.analyse

    def slow_for_one(project, source, **options):
        if source.path.name == "slow.py":
            time.sleep(5)
        return real(project, source, **options)

    monkeypatch.setattr(roots, "analyse", slow_for_one)
    return lambda: monkeypatch.setattr(roots, "analyse", real)
