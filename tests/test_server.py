"""``convlint server`` driven as an editor drives it: the real server in a subprocess, JSON-RPC
messages over its stdin and stdout. Every wait has a timeout, and the process is killed at the
end of each test whatever happened."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

pytest.importorskip("pygls")

from convlint.report import rule_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "torch"
TIMEOUT = 30

HEADER = "import torch.nn as nn\n"
BAD = HEADER + "m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(16, 8, 3))\n"
GOOD = HEADER + "m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(32, 8, 3))\n"


class Client:
    """A minimal LSP client: Content-Length framing, a reader thread, requests matched by id,
    notifications kept in order; requests from the server are answered with null."""

    def __init__(self, cwd: Path) -> None:
        env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(cwd.parent))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "convlint", "server"], cwd=cwd, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.notifications: List[Dict[str, Any]] = []
        self.server_requests: List[Dict[str, Any]] = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            self.messages.put(json.loads(stream.read(length)))

    def send(self, message: Dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def _next(self, deadline: float) -> Dict[str, Any]:
        """The next message, before ``deadline`` (a ``time.monotonic`` value)."""
        try:
            message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no answer from the server in {TIMEOUT} s; "
                                 f"notifications so far: {self.notifications}") from None
        if "method" in message and "id" in message:  # a request from the server
            self.server_requests.append(message)
            self.send({"id": message["id"], "result": None})
        elif "method" in message:
            self.notifications.append(message)
        return message

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("id") == ident and "method" not in message:
                assert "error" not in message, message
                return message.get("result")

    def wait_for(self, predicate: Callable[[Dict[str, Any]], bool]) -> Dict[str, Any]:
        """The first notification (already received or to come) that satisfies ``predicate``;
        it is consumed, so the next wait sees only later ones."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for index, message in enumerate(self.notifications):
                if predicate(message):
                    del self.notifications[: index + 1]
                    return message
            self._next(deadline)

    def diagnostics(self, uri: str) -> List[Dict[str, Any]]:
        message = self.wait_for(lambda m: m["method"] == "textDocument/publishDiagnostics"
                                and m["params"]["uri"] == uri)
        return message["params"]["diagnostics"]

    def close(self) -> int:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            return self.process.wait(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=TIMEOUT)


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


@pytest.fixture
def project(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.convlint]\n")
    return tmp_path


@pytest.fixture
def client(project: Path):
    client = Client(project)
    capabilities = {
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}},
        "general": {"positionEncodings": ["utf-16"]},
    }
    result = client.request("initialize", {"processId": os.getpid(), "rootUri": project.as_uri(),
                                           "capabilities": capabilities})
    client.capabilities = result["capabilities"]
    client.notify("initialized", {})
    yield client
    if client.process.poll() is None:
        client.close()


def open_document(client: Client, path: Path, text: Optional[str] = None) -> str:
    uri = uri_of(path)
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1,
        "text": path.read_text(encoding="utf-8") if text is None else text}})
    return uri


def apply(text: str, edits: List[Dict[str, Any]]) -> str:
    """LSP text edits on ``text`` (ASCII here, so UTF-16 units are characters)."""
    lines = text.splitlines(keepends=True)

    def offset(position: Dict[str, int]) -> int:
        return sum(len(line) for line in lines[: position["line"]]) + position["character"]

    for edit in sorted(edits, key=lambda e: offset(e["range"]["start"]), reverse=True):
        start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
        text = text[:start] + edit["newText"] + text[end:]
    return text


def test_capabilities_and_clean_exit(client):
    capabilities = client.capabilities
    assert capabilities["textDocumentSync"]["openClose"] is True
    assert capabilities["codeActionProvider"]["codeActionKinds"] == ["quickfix", "source.fixAll.convlint"]
    assert client.close() == 0


def test_diagnostics_on_open_with_lsp_fields(client, project):
    path = project / "net.py"
    path.write_text(BAD)
    uri = open_document(client, path)
    (diagnostic,) = client.diagnostics(uri)
    assert diagnostic["range"] == {"start": {"line": 1, "character": 39}, "end": {"line": 1, "character": 58}}
    assert diagnostic["code"] == "CL101" and diagnostic["source"] == "convlint" and diagnostic["severity"] == 1
    assert diagnostic["codeDescription"]["href"] == rule_url("CL101")
    assert diagnostic["message"].startswith("Conv2d expects 16 input channels but receives 32")
    # The watchers were registered, since the client can take them.
    assert [r["method"] for r in client.server_requests] == ["client/registerCapability"]


def test_quick_fix_and_fix_all(client, project):
    path = project / "net.py"
    path.write_text(BAD)
    uri = open_document(client, path)
    diagnostics = client.diagnostics(uri)
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostics[0]["range"],
        "context": {"diagnostics": diagnostics}})
    (action,) = actions
    assert action["kind"] == "quickfix" and action["isPreferred"] is True
    assert action["title"] == "convlint (CL101): Replace in_channels=16 with 32"
    assert apply(BAD, action["edit"]["changes"][uri]) == GOOD
    (fix_all,) = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": [], "only": ["source.fixAll"]}})
    assert fix_all["kind"] == "source.fixAll.convlint"
    assert apply(BAD, fix_all["edit"]["changes"][uri]) == GOOD


def test_unsafe_quick_fix_is_offered_not_preferred_and_warns(client, project):
    path = project / "stem.py"
    shutil.copy(FIXTURES / "conv_bias_before_batchnorm.py", path)
    uri = open_document(client, path)
    (diagnostic,) = client.diagnostics(uri)
    assert diagnostic["code"] == "CL301" and diagnostic["severity"] == 2
    (action,) = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}})
    assert action["isPreferred"] is False
    fixed = apply(path.read_text(), action["edit"]["changes"][uri])
    assert "padding=1, bias=False)  # error: CL301" in fixed
    # fixAll applies safe fixes only: there is none.
    assert client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostic["range"],
        "context": {"diagnostics": [], "only": ["source.fixAll.convlint"]}}) == []


def test_change_lints_the_unsaved_buffer_and_stale_fixes_are_not_offered(client, project):
    path = project / "net.py"
    path.write_text(GOOD)
    uri = open_document(client, path)
    assert client.diagnostics(uri) == []
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": BAD}]})
    diagnostics = client.diagnostics(uri)
    assert [d["code"] for d in diagnostics] == ["CL101"]
    assert path.read_text() == GOOD  # the buffer, not the file
    # An incremental change that repairs it: 16 becomes 32.
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3}, "contentChanges": [
        {"range": {"start": {"line": 1, "character": 49}, "end": {"line": 1, "character": 51}}, "text": "32"}]})
    assert client.diagnostics(uri) == []
    # The fix computed for version 2 no longer applies to version 3.
    assert client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostics[0]["range"],
        "context": {"diagnostics": diagnostics}}) == []


def test_changes_are_debounced(client, project):
    path = project / "net.py"
    path.write_text(GOOD)
    uri = open_document(client, path)
    client.diagnostics(uri)
    for version in range(2, 12):
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [{"text": BAD if version % 2 else GOOD}]})
    published = []
    while not published or published[-1]["version"] != 11:
        published.append(client.wait_for(lambda m: m["method"] == "textDocument/publishDiagnostics")["params"])
    assert len(published[-1]["diagnostics"]) == 1
    client.request("shutdown", None)  # everything sent before is handled by now
    published += [m["params"] for m in client.notifications if m["method"] == "textDocument/publishDiagnostics"]
    # Ten changes typed in a burst are linted once (a loaded machine may add a lint or two).
    assert len(published) < 5 and published[-1]["version"] == 11
    client.notify("exit", None)
    assert client.process.wait(timeout=TIMEOUT) == 0


def test_imports_resolve_through_the_package_on_disk(client, project):
    package = project / "pkg"
    shutil.copytree(FIXTURES / "pkg", package)
    path = package / "net_bad.py"
    uri = open_document(client, path)
    (diagnostic,) = client.diagnostics(uri)
    assert diagnostic["code"] == "CL101" and "blocks.py:8" in diagnostic["message"]


def test_configuration_reloads_when_pyproject_changes(client, project):
    path = project / "net.py"
    path.write_text(BAD)
    uri = open_document(client, path)
    assert len(client.diagnostics(uri)) == 1
    config = project / "pyproject.toml"
    config.write_text('[tool.convlint]\nignore = ["CL101"]\n')
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": uri_of(config), "type": 2}]})
    assert client.diagnostics(uri) == []
    config.write_text("[tool.convlint]\n")
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri_of(config)}})
    assert len(client.diagnostics(uri)) == 1


def test_a_bad_configuration_is_shown_not_fatal(client, project):
    (project / "pyproject.toml").write_text("[tool.convlint]\ntab-size = 4\n")
    path = project / "net.py"
    path.write_text(BAD)
    uri = open_document(client, path)
    message = client.wait_for(lambda m: m["method"] == "window/showMessage")
    assert "unknown key `tab-size`" in message["params"]["message"]
    assert client.diagnostics(uri) == []
    assert client.close() == 0


def test_columns_are_utf16_units(client, project):
    path = project / "net.py"
    text = HEADER + 'm = ("\U0001F600", nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(16, 8, 3)))\n'
    path.write_text(text, encoding="utf-8")
    uri = open_document(client, path)
    (diagnostic,) = client.diagnostics(uri)
    code_points = text.splitlines()[1].index("nn.Conv2d(16")
    assert diagnostic["range"]["start"] == {"line": 1, "character": code_points + 1}


def test_close_clears_the_diagnostics(client, project):
    path = project / "net.py"
    path.write_text(BAD)
    uri = open_document(client, path)
    assert client.diagnostics(uri)
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []


def test_server_without_pygls_is_a_one_line_error(tmp_path):
    code = "import sys; sys.modules['pygls'] = None; from convlint.cli import main; sys.exit(main(['server']))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "convlint: error: `convlint server` needs pygls: pip install 'convlint[server]'\n"


def test_saving_an_imported_file_lints_the_open_buffers_again(client, project):
    package = project / "pkg"
    shutil.copytree(FIXTURES / "pkg", package)
    uri = open_document(client, package / "net_bad.py")
    before = client.diagnostics(uri)
    assert [d["code"] for d in before] == ["CL101"]
    blocks = package / "blocks.py"
    text = blocks.read_text()
    conv = "nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)"
    assert conv in text
    blocks.write_text(text.replace(conv, "nn.Identity()"))
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri_of(blocks)}})
    # The block no longer has a convolution that expects its in_channels: the buffer's CL101 is
    # gone, so the block was read again from disk.
    assert client.diagnostics(uri) == []
