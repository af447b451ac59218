"""The output formats, checked character for character: CI tools and editors parse them."""

from __future__ import annotations

import re

import json
import os
import textwrap
from pathlib import Path

import pytest

from convlint import DOCS_URL, __version__
from convlint.diagnostics import WARNING, Diagnostic, Edit, Fix
from convlint.report import FORMATS, render, rule_url
from convlint.report.github import command
from convlint.report.sarif import FINGERPRINT_KEY, _description
from convlint.rules import ALL_RULES
from convlint.rules.base import Rule

FIXED = Diagnostic(
    "model.py", 3, 8, 3, 12, "CL001", "The file does not parse: bad",
    fix=Fix("Remove it", "safe", (Edit("", 3, 8, 3, 12),)),
)
SPANNING = Diagnostic("model.py", 5, 4, 7, 2, "CL002", "The file could not be read: gone")
ODD = Diagnostic("odd dir/a:b,c.py", 1, 1, 1, 5, "CL003", "convlint failed on this file: 100%, a:b\nnext")
WARNED = Diagnostic("pkg/net.py", 10, 1, 10, 5, "CL004", "Analysis stopped early: loop unrolling", severity=WARNING)
ALL = (FIXED, SPANNING, ODD, WARNED)

CWD = Path("/work/project")


def sarif(diagnostics):
    return json.loads(render("sarif", diagnostics, CWD))


def test_rule_url():
    assert rule_url("CL001") == f"{DOCS_URL}#cl001-syntax-error"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_and_ends_with_a_newline(fmt):
    assert render(fmt, ALL, CWD).endswith("\n")


@pytest.mark.parametrize(
    "fmt, expected",
    [("text", "All checks passed!\n"), ("json", "[]\n"), ("json-lines", ""), ("github", "")],
)
def test_no_diagnostics(fmt, expected):
    assert render(fmt, [], CWD) == expected


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render("xml", ALL, CWD)


def test_text():
    assert render("text", ALL, CWD) == (
        "model.py:3:8: CL001 [*] The file does not parse: bad\n"
        "model.py:5:4: CL002 The file could not be read: gone\n"
        "odd dir/a:b,c.py:1:1: CL003 convlint failed on this file: 100%, a:b\n"
        "next\n"
        "pkg/net.py:10:1: CL004 Analysis stopped early: loop unrolling\n"
        "Found 4 errors.\n"
        "[*] 1 fixable with the `--fix` option.\n"
    )


def test_text_singular_without_fixes():
    assert render("text", [WARNED], CWD) == (
        "pkg/net.py:10:1: CL004 Analysis stopped early: loop unrolling\n"
        "Found 1 error.\n"
    )


def test_json(tmp_path):
    filename = json.dumps(str(tmp_path / "model.py"))
    assert render("json", [FIXED], tmp_path) == textwrap.dedent(
        f"""\
        [
          {{
            "cell": null,
            "code": "CL001",
            "end_location": {{
              "column": 12,
              "row": 3
            }},
            "filename": {filename},
            "fix": {{
              "applicability": "safe",
              "edits": [
                {{
                  "content": "",
                  "end_location": {{
                    "column": 12,
                    "row": 3
                  }},
                  "location": {{
                    "column": 8,
                    "row": 3
                  }}
                }}
              ],
              "message": "Remove it"
            }},
            "location": {{
              "column": 8,
              "row": 3
            }},
            "message": "The file does not parse: bad",
            "name": "syntax-error",
            "noqa_row": 3,
            "severity": "error",
            "url": "{DOCS_URL}#cl001-syntax-error"
          }}
        ]
        """
    )


def test_json_lines(tmp_path):
    filename = json.dumps(str(tmp_path / "pkg" / "net.py"))
    lines = render("json-lines", [FIXED, WARNED], tmp_path).splitlines()
    assert lines[1] == (
        '{"cell":null,"code":"CL004","end_location":{"column":5,"row":10},'
        f'"filename":{filename},"fix":null,"location":{{"column":1,"row":10}},'
        '"message":"Analysis stopped early: loop unrolling","name":"analysis-budget",'
        f'"noqa_row":10,"severity":"warning","url":"{DOCS_URL}#cl004-analysis-budget"}}'
    )
    assert [json.loads(line) for line in lines] == json.loads(render("json", [FIXED, WARNED], tmp_path))


def test_json_filename_is_absolute_and_normalised(tmp_path):
    outside = str(tmp_path.parent / "elsewhere.py")
    diagnostics = [
        Diagnostic(outside, 1, 1, 1, 2, "CL001", "m"),
        Diagnostic("a/../b.py", 1, 1, 1, 2, "CL001", "m"),
    ]
    filenames = [entry["filename"] for entry in json.loads(render("json", diagnostics, tmp_path))]
    assert filenames == [outside, os.path.join(str(tmp_path), "b.py")]


def test_github():
    assert render("github", ALL, CWD) == (
        "::error title=convlint (CL001),file=model.py,line=3,col=8,endLine=3,endColumn=12"
        "::model.py:3:8: CL001 The file does not parse: bad\n"
        "::error title=convlint (CL002),file=model.py,line=5,endLine=7"
        "::model.py:5:4: CL002 The file could not be read: gone\n"
        "::error title=convlint (CL003),file=odd dir/a%3Ab%2Cc.py,line=1,col=1,endLine=1,endColumn=5"
        "::odd dir/a:b,c.py:1:1: CL003 convlint failed on this file: 100%25, a:b%0Anext\n"
        "::warning title=convlint (CL004),file=pkg/net.py,line=10,col=1,endLine=10,endColumn=5"
        "::pkg/net.py:10:1: CL004 Analysis stopped early: loop unrolling\n"
    )


def test_github_escapes_carriage_returns():
    diagnostic = Diagnostic("a\r.py", 1, 1, 1, 2, "CL003", "x\r\ny")
    assert command(diagnostic) == (
        "::error title=convlint (CL003),file=a%0D.py,line=1,col=1,endLine=1,endColumn=2::a%0D.py:1:1: CL003 x%0D%0Ay"
    )


def test_sarif_has_what_github_requires():
    log = sarif(ALL)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("convlint", __version__)
    assert run["columnKind"] == "unicodeCodePoints"
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in ALL_RULES]
    for descriptor, rule in zip(driver["rules"], ALL_RULES):
        assert descriptor["name"] == rule.name
        for key in ("shortDescription", "fullDescription", "help"):
            assert descriptor[key]["text"].strip()
            # No message placeholder left unfilled (braces in code examples are fine).
            assert not re.search(r"\{[a-z_]+\}", descriptor[key]["text"])
        assert descriptor["help"]["markdown"] == rule.documentation()
        assert descriptor["helpUri"] == rule_url(rule.code)
        assert descriptor["defaultConfiguration"]["level"] == rule.severity
        assert descriptor["properties"]["tags"]
    assert len(run["results"]) == len(ALL)
    for result, diagnostic in zip(run["results"], ALL):
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"] == diagnostic.code
        assert result["level"] == diagnostic.severity
        assert result["message"]["text"] == diagnostic.message
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not location["artifactLocation"]["uri"].startswith("file:")
        region = location["region"]
        assert set(region) == {"startLine", "startColumn", "endLine", "endColumn"}
        assert all(value >= 1 for value in region.values())
        assert result["partialFingerprints"][FINGERPRINT_KEY]


def test_sarif_rule_descriptions():
    rules = {rule["id"]: rule for rule in sarif([])["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["CL003"]["shortDescription"]["text"] == "Reports that convlint itself failed on this file."
    assert rules["CL003"]["fullDescription"]["text"] == (
        "Reports that convlint itself failed on this file. The rest of the run goes on."
    )
    # Off by default, yet still a warning or error once enabled: never "note".
    assert rules["CL004"]["defaultConfiguration"] == {"level": "error"}


def test_sarif_description_of_an_undocumented_rule():
    class Undocumented(Rule):
        code = "CL999"
        name = "undocumented"
        summary = "Something went wrong: {detail}"

    assert _description(Undocumented) == "Something went wrong"


def test_sarif_result():
    (result,) = sarif([ODD])["runs"][0]["results"]
    fingerprint = result.pop("partialFingerprints")[FINGERPRINT_KEY]
    assert result == {
        "ruleId": "CL003",
        "ruleIndex": 2,
        "level": "error",
        "message": {"text": "convlint failed on this file: 100%, a:b\nnext"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "odd%20dir/a%3Ab%2Cc.py", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 5},
                }
            }
        ],
    }
    assert fingerprint.endswith(":1")


def test_sarif_clamps_columns_to_one():
    zero = Diagnostic("model.py", 2, 0, 3, 0, "CL001", "m")
    region = sarif([zero])["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 2, "startColumn": 1, "endLine": 3, "endColumn": 1}


def test_sarif_file_outside_the_working_directory():
    outside = Path("/elsewhere/model.py").resolve()
    diagnostic = Diagnostic(str(outside), 1, 1, 1, 2, "CL001", "m")
    location = sarif([diagnostic])["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": outside.as_uri()}


def test_sarif_fingerprints():
    def fingerprints(*diagnostics):
        return [result["partialFingerprints"][FINGERPRINT_KEY] for result in sarif(diagnostics)["runs"][0]["results"]]

    moved = Diagnostic("model.py", 40, 1, 40, 9, "CL002", SPANNING.message)
    reworded = Diagnostic("model.py", 5, 4, 7, 2, "CL002", "The file could not be read: other")
    (original,) = fingerprints(SPANNING)
    assert fingerprints(moved) == [original]
    assert fingerprints(reworded) != [original]
    first, second = fingerprints(SPANNING, moved)
    assert (first, second) == (original, original[:-2] + ":2")
