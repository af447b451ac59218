"""``convlint server``: the Language Server Protocol over stdio, with pygls 2.

Editors send the unsaved buffer; it is linted as the file it stands for, so its configuration
(the nearest ``[tool.convlint]``, as ``--stdin-filename`` finds it), its excludes and its
imports (through its package on disk) are the CLI's. Diagnostics are published on open, on
change (after a pause in typing) and on save; their fixes ride in ``data`` and come back as
quick fixes, and ``source.fixAll.convlint`` applies every safe fix. A change to a
``pyproject.toml`` (watched, or saved in the editor) reloads the configuration; a saved or
changed Python file drops the parses of imported modules, and every open buffer is linted again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from convlint import __version__
from convlint.config import ConfigError, find_config, load_settings
from convlint.diagnostics import ERROR, Diagnostic, Edit
from convlint.files import force_excluded
from convlint.fix import SAFE, applies, fix_text, line_starts, text_edit
from convlint.report import rule_url
from convlint.runner import Linter

#: Seconds without typing before a changed buffer is linted.
DEBOUNCE = 0.3
SOURCE = "convlint"
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.convlint"
_SEVERITY = {ERROR: types.DiagnosticSeverity.Error}


class ConvlintServer(LanguageServer):
    """The server's state: one linter per configuration file (which keeps the parses of the
    modules buffers import), and the timers of buffers waiting to be linted."""

    def __init__(self) -> None:
        super().__init__("convlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.linters: Dict[Optional[Path], Linter] = {}
        self.pending: Dict[str, asyncio.TimerHandle] = {}

    def folder(self) -> Path:
        """The workspace's folder: imports also resolve from it, as from the CLI's cwd."""
        root = self.workspace.root_path
        return Path(root) if root else Path.cwd()

    def linter_for(self, path: Path) -> Linter:
        """The linter of ``path``'s configuration; raises ConfigError."""
        config = find_config(path.parent)
        linter = self.linters.get(config)
        if linter is None:
            settings = load_settings(self.folder(), config_file=config)
            linter = self.linters[config] = Linter(settings, self.folder(), jobs=1, cache=None)
        return linter

    def forget(self) -> None:
        """Drop every linter: the configuration or imported files changed on disk."""
        self.linters.clear()

    # ----------------------------------------------------------------- linting

    def schedule(self, uri: str) -> None:
        self.cancel(uri)
        self.pending[uri] = asyncio.get_running_loop().call_later(DEBOUNCE, self.lint, uri)

    def cancel(self, uri: str) -> None:
        handle = self.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()

    def lint(self, uri: str) -> None:
        self.cancel(uri)
        document = self.workspace.get_text_document(uri)
        found = self.diagnostics(document)
        if found is None:
            return
        published = [lsp_diagnostic(document, d) for d in found]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=published))

    def diagnostics(self, document: TextDocument) -> Optional[List[Diagnostic]]:
        """The buffer's findings; None for a document that is not a Python file on disk."""
        path = document_path(document)
        if path is None:
            return None
        try:
            linter = self.linter_for(path)
        except ConfigError as error:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"convlint: {error}"))
            return []
        if force_excluded(path, linter.settings):
            return []
        return linter.lint_text(path, document.source)

    def lint_open_documents(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.lint(uri)

    # ----------------------------------------------------------------- fixes

    def fix_all(self, document: TextDocument) -> Optional[types.CodeAction]:
        """Every safe fix of the buffer, made and checked as ``--fix`` does, as one edit."""
        path = document_path(document)
        found = self.diagnostics(document)
        if path is None or not found or not any(applies(d, unsafe=False) for d in found):
            return None
        linter = self.linter_for(path)
        outcome = fix_text(linter, path, document.source, found, unsafe=False)
        if outcome.text == document.source:
            return None
        edit = lsp_text_edit(document, text_edit(document.source, outcome.text))
        return types.CodeAction(
            title="convlint: fix all safe fixes", kind=FIX_ALL,
            edit=types.WorkspaceEdit(changes={document.uri: [edit]}))


def document_path(document: TextDocument) -> Optional[Path]:
    if not document.uri.startswith("file:") or not document.uri.endswith((".py", ".pyi")):
        return None
    path = to_fs_path(document.uri)
    return Path(path) if path else None


def lsp_position(document: TextDocument, starts: List[int], line: int, column: int) -> types.Position:
    """A 1-based line and code-point column as LSP's 0-based position, in the units the client
    negotiated (UTF-16 unless it asked otherwise). Lines are counted as Python counts them."""
    text = document.source
    index = min(max(line, 1), len(starts)) - 1
    start = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else len(text)
    prefix = text[start:min(start + max(column, 1) - 1, end)].rstrip("\r\n")
    return types.Position(line=index, character=document.position_codec.client_num_units(prefix))


def lsp_range(document: TextDocument, line: int, column: int, end_line: int, end_column: int) -> types.Range:
    starts = line_starts(document.source)
    return types.Range(start=lsp_position(document, starts, line, column),
                       end=lsp_position(document, starts, end_line, end_column))


def lsp_text_edit(document: TextDocument, edit: Edit) -> types.TextEdit:
    return types.TextEdit(range=lsp_range(document, edit.line, edit.column, edit.end_line, edit.end_column),
                          new_text=edit.content)


def lsp_diagnostic(document: TextDocument, diagnostic: Diagnostic) -> types.Diagnostic:
    """ruff server's shape: ``code``, ``source``, ``codeDescription``; the fix in ``data``,
    with the buffer version it was computed for."""
    data: Optional[Dict[str, Any]] = None
    if diagnostic.fix is not None:
        fix = diagnostic.fix
        data = {"version": document.version, "message": fix.message, "applicability": fix.applicability,
                "edits": [[e.content, e.line, e.column, e.end_line, e.end_column] for e in fix.edits]}
    return types.Diagnostic(
        range=lsp_range(document, diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column),
        message=diagnostic.message,
        severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Warning),
        code=diagnostic.code,
        code_description=types.CodeDescription(href=rule_url(diagnostic.code)),
        source=SOURCE,
        data=data,
    )


def quick_fix(document: TextDocument, diagnostic: types.Diagnostic) -> Optional[types.CodeAction]:
    """The fix a published diagnostic carries, if the buffer has not changed since."""
    data = diagnostic.data
    if diagnostic.source != SOURCE or not isinstance(data, dict) or data.get("version") != document.version:
        return None
    edits = [lsp_text_edit(document, Edit(*edit)) for edit in data.get("edits", ())]
    return types.CodeAction(
        title=f"convlint ({diagnostic.code}): {data.get('message')}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes={document.uri: edits}),
        is_preferred=data.get("applicability") == SAFE,
    )


def _wanted(only: Optional[List[str]], kind: str) -> bool:
    """Whether a code action request restricted to ``only`` kinds asks for ``kind``."""
    return only is None or any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


def build() -> ConvlintServer:
    server = ConvlintServer()

    @server.feature(types.INITIALIZED)
    def initialized(ls: ConvlintServer, params: types.InitializedParams) -> None:
        watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
        if watched and watched.dynamic_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=pattern) for pattern in ("**/pyproject.toml", "**/*.py")]
            ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="convlint-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ConvlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ConvlintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ConvlintServer, params: types.DidSaveTextDocumentParams) -> None:
        # The saved file may be imported by other buffers, or be the configuration.
        ls.forget()
        ls.lint_open_documents()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ConvlintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.cancel(params.text_document.uri)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: ConvlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.endswith(("pyproject.toml", ".py", ".pyi")) for change in params.changes):
            ls.forget()
            ls.lint_open_documents()

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False))
    def code_action(ls: ConvlintServer, params: types.CodeActionParams) -> List[types.CodeAction]:
        document = ls.workspace.get_text_document(params.text_document.uri)
        only = params.context.only
        actions: List[types.CodeAction] = []
        if _wanted(only, types.CodeActionKind.QuickFix.value):
            actions.extend(action for action in (quick_fix(document, d) for d in params.context.diagnostics)
                           if action is not None)
        if only is not None and _wanted(only, FIX_ALL):
            fix_all = ls.fix_all(document)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    return server


def serve() -> int:
    build().start_io()
    return 0
