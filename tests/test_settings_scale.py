"""Settings at a scale people reach by generating them: thousands of `exclude` and
`per-file-ignores` entries, and a pyproject.toml nested deeper than TOML parsers recurse.

The command line runs as a subprocess with a timeout, so a lint that stalls fails the test; the
server runs for real through pytest-lsp.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import subprocess
import sys
from pathlib import Path, PurePath

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from kerasfix.rules.engine.patterns import PathPatterns

CHECK = [sys.executable, "-m", "kerasfix.server", "check"]
SERVER = [sys.executable, "-m", "kerasfix.server", "server"]
# Generous: a fixed lint takes seconds; before, these projects took minutes or never finished.
TIMEOUT = 120
SOURCE = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"  # KER101, KER107 and KER601
DEEP = 100_000


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def check(project: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    # An absolute path, run from elsewhere: relative patterns must match from the project root.
    return subprocess.run(
        [*CHECK, str(project), "--output-format", "concise", "--jobs", "1", *flags],
        cwd=project.parent, capture_output=True, text=True, timeout=TIMEOUT,
    )


def findings(result: subprocess.CompletedProcess[str], project: Path) -> dict[str, list[str]]:
    """{relative path: sorted codes} from concise output."""
    found: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^(.+?):\d+:\d+: (KER\d+) ", line)
        if match:
            name = Path(match[1]).relative_to(project).as_posix()
            found.setdefault(name, []).append(match[2])
    return {name: sorted(codes) for name, codes in found.items()}


# ----- per-file-ignores: 1,000 entries, a finding-heavy file, exactly the right findings kept -----


def test_a_thousand_per_file_ignores_apply_exactly_and_quickly(tmp_path):
    project = tmp_path / "project"
    meaningful = {
        "ignored_all.py": ["KER"],  # a file name: every code ignored there
        "tests/*": ["KER601"],  # a glob relative to the project root
        "vendor": ["KER101"],  # a folder name: everything below it
        "src/pkg/mod_[0-9].py": ["KER6"],  # a character class and a prefix of codes
        "scripts/*.py": ["KER2"],  # matches, but ignores codes these files do not have
        "src/pkg/special.py": ["KER101"],  # a literal path relative to the project root
    }
    noise = {}
    for i in range(1000 - len(meaningful)):
        pattern = (f"unrelated_{i}/*.py", f"never_{i}.py", f"folder_{i}", f"src/*/gen_{i}_*.py")[i % 4]
        noise[pattern] = [("KER101", "KER601", "KER6", "KER")[i % 4]]
    table = "\n".join(f'"{p}" = {toml_list(c)}' for p, c in {**noise, **meaningful}.items())
    many = "import tensorflow as tf\n" + "opt = tf.keras.optimizers.Adam(lr=1e-3)\n" * 500
    write(project, {
        "pyproject.toml": (
            f'[tool.kerasfix]\nselect = ["KER101", "KER601"]\n\n[tool.kerasfix.per-file-ignores]\n{table}\n'
        ),
        "ignored_all.py": SOURCE,
        "tests/t.py": SOURCE,
        "vendor/deep/v.py": SOURCE,
        "src/pkg/mod_1.py": SOURCE,
        "src/pkg/mod_x.py": SOURCE,
        "src/pkg/special.py": SOURCE,
        "scripts/s.py": SOURCE,
        "keep.py": SOURCE,
        "many.py": many,
    })
    result = check(project)
    assert result.returncode == 1, result.stderr
    assert "warning" not in result.stderr
    assert findings(result, project) == {
        "keep.py": ["KER101", "KER601"],
        "many.py": ["KER101"] * 500 + ["KER601"] * 500,
        "scripts/s.py": ["KER101", "KER601"],
        "src/pkg/mod_1.py": ["KER101"],
        "src/pkg/mod_x.py": ["KER101", "KER601"],
        "src/pkg/special.py": ["KER601"],
        "tests/t.py": ["KER101"],
        "vendor/deep/v.py": ["KER601"],
    }


# ----- exclude: 20,000 entries, the excluded files skipped and the others checked --------------


def test_twenty_thousand_excludes_skip_exactly_the_excluded_files(tmp_path):
    project = tmp_path / "project"
    meaningful = ["skipped", "gen/*_pb2.py", "legacy/old.py"]
    noise = [
        (f"nothing_{i}", f"gen/never_{i}.py", f"build_{i}/*.py", f"src/*/generated_{i}.py")[i % 4]
        for i in range(20_000 - len(meaningful) - 10)
    ]
    # A few patterns that start with a wildcard, as people write them.
    noise += [f"*_generated_{i}.py" for i in range(10)]
    extend = [f"also_{i}/*" for i in range(4_999)] + ["extra/*"]
    write(project, {
        "pyproject.toml": (
            f'[tool.kerasfix]\nselect = ["KER601"]\nexclude = {toml_list(noise + meaningful)}\n'
            f"extend-exclude = {toml_list(extend)}\n"
        ),
        "skipped/a.py": SOURCE,
        "skipped/inner/b.py": SOURCE,
        "gen/x_pb2.py": SOURCE,
        "gen/y.py": SOURCE,
        "legacy/old.py": SOURCE,
        "legacy/new.py": SOURCE,
        "extra/e.py": SOURCE,
        "src/pkg/mod_3.py": SOURCE,
        "main.py": SOURCE,
    })
    result = check(project)
    assert result.returncode == 1, result.stderr
    assert findings(result, project) == {
        "gen/y.py": ["KER601"],
        "legacy/new.py": ["KER601"],
        "src/pkg/mod_3.py": ["KER601"],
        "main.py": ["KER601"],
    }


# ----- a pyproject.toml nested too deeply to parse: reported like any unreadable pyproject ------


def deep_pyproject(depth: int = DEEP) -> str:
    return f"[tool.kerasfix]\nselect = {'[' * depth}{']' * depth}\n"


# Deeper than Python's recursion limit, and shallow enough to parse but deeper than any setting.
@pytest.mark.parametrize("depth", [DEEP, 300])
def test_deeply_nested_pyproject_is_reported_like_invalid_toml(tmp_path, depth):
    outcomes = {}
    for name, pyproject in {"deep": deep_pyproject(depth), "not-toml": '[tool.kerasfix]\nselect = ["KER601"\n'}.items():
        project = tmp_path / name
        write(project, {"pyproject.toml": pyproject, "a.py": SOURCE})
        outcomes[name] = (project, check(project))
    # The same policy as a pyproject.toml that is not TOML: the run stops before checking
    # anything, with exit status 2 and one line naming the file.
    project, deep = outcomes["deep"]
    assert (deep.returncode, deep.stdout, deep.stderr) == (
        2,
        "",
        f"kerasfix: error: invalid setting `tool.kerasfix`: cannot read {project / 'pyproject.toml'}:"
        " arrays or inline tables are nested too deeply to read\n",
    )
    project, not_toml = outcomes["not-toml"]
    assert (not_toml.returncode, not_toml.stdout, not_toml.stderr) == (
        2,
        "",
        f"kerasfix: error: invalid setting `tool.kerasfix`: cannot read {project / 'pyproject.toml'},"
        " line 3, column 1: not valid TOML: Unclosed array\n",
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def deep_client(lsp_client: LanguageClient, tmp_path: Path):
    root = tmp_path / "project"
    write(root, {"pyproject.toml": deep_pyproject()})
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None  # the server asks to watch pyproject.toml files; nothing to do here

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual_studio_code"),
            root_uri=from_fs_path(str(root)),
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name=root.name)],
            initialization_options={"select": ["KER601"]},
        )
    )
    lsp_client.root = root
    yield
    await lsp_client.shutdown_session()


async def test_server_shows_a_deeply_nested_pyproject_and_keeps_linting(deep_client: LanguageClient):
    client = deep_client
    uri = from_fs_path(str(client.root / "train.py"))
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=SOURCE))
    )

    async def published() -> list[types.Diagnostic]:
        while uri not in client.diagnostics:
            await asyncio.sleep(0.01)
        return client.diagnostics[uri]

    async def shown() -> str:
        while not any("pyproject.toml" in m.message for m in client.messages):
            await asyncio.sleep(0.01)
        return next(m.message for m in client.messages if "pyproject.toml" in m.message)

    # The editor's `select` still applies over the defaults.
    assert [d.code for d in await asyncio.wait_for(published(), 30)] == ["KER601"]
    message = await asyncio.wait_for(shown(), 30)
    assert message == (
        f"kerasfix: invalid setting `tool.kerasfix`: cannot read {client.root / 'pyproject.toml'}:"
        " arrays or inline tables are nested too deeply to read"
    )
    # Still answering requests.
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(1, 32))
        ),
        30,
    )
    assert hover is not None


# ----- the compiled patterns mean what fnmatch meant ---------------------------------------------


def fnmatch_reference(path: str, pattern: str, root: str | None) -> bool:
    """What a pattern matched when each was tried with fnmatch in turn."""
    pure = PurePath(path)
    candidates = {str(pure), pure.name, pure.as_posix()}
    if root:
        try:
            candidates.add(Path(path).resolve().relative_to(Path(root).resolve()).as_posix())
        except ValueError:
            pass
    for candidate in candidates:
        if fnmatch.fnmatch(candidate, pattern) or fnmatch.fnmatch(candidate, pattern.rstrip("/") + "/*"):
            return True
        if "/" not in pattern and pattern in PurePath(candidate).parts:
            return True
    return False


PATTERNS = [
    "a.py", "*.py", "src", "src/", "src/*", "src/*.py", "*/b.py", "s?c/a.py", "src/[ab].py", "src/[!a].py",
    "[", "src/[", "b", "src/a", "/", "*", "**/a.py", "sr*", "x/y/z", "pkg/sub", "tests/*/c.py",
    "s*c/", "*/", "x/*/z", "p?g/*", "*/sub/b.py", "*.pyi", "[]a]", "src/[]ab].py",
]
PATHS = [
    "a.py", "src/a.py", "src/b.py", "src/c.pyi", "pkg/sub/b.py", "tests/x/c.py", "src[/a.py", "b", "x/y/z/q.py",
    "]", "src/]/x.py", "sxc/a/b.py",
]


@pytest.mark.parametrize("relative", PATHS)
def test_compiled_patterns_match_as_fnmatch_did(tmp_path, relative):
    for path in (relative, str(tmp_path / relative)):
        expected = {p for p in PATTERNS if fnmatch_reference(path, p, str(tmp_path))}
        assert {p for p in PATTERNS if PathPatterns([p], str(tmp_path)).matches(path)} == expected, path
        assert PathPatterns(PATTERNS, str(tmp_path)).matches(path) == bool(expected), path
