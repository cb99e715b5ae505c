"""`kerasfix check --fix` writes only the files it checked, safely, and reads only source files.

The trees below are hostile the way a cloned repository can be: a planted temporary-file name
that is a symlink, symlinked files and folders pointing out of the tree, a FIFO and a device
named like source.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from kerasfix.server.cli import main
from kerasfix.server.files import SourceError, read_source

KERAS2 = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
FIXED = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"
ONLY = ["--select", "KER601", "--jobs", "1"]
WAIT = 30.0


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    root = tmp_path / "outside"
    root.mkdir()
    return root


def test_a_planted_temporary_file_symlink_is_never_written_through(repo, outside):
    secret = outside / "authorized_keys"
    secret.write_text("ssh-ed25519 AAAA owner\n")
    (repo / "model.py").write_text(KERAS2)
    planted = repo / ".model.py.kerasfix-tmp"
    os.symlink(secret, planted)
    assert main(["check", str(repo), "--fix", *ONLY]) == 0
    assert secret.read_text() == "ssh-ed25519 AAAA owner\n"
    assert not (repo / "model.py").is_symlink()
    assert (repo / "model.py").read_text() == FIXED
    assert os.readlink(planted) == str(secret)


def test_a_failed_write_removes_its_temporary_file_and_keeps_the_original(repo, monkeypatch, capsys):
    (repo / "model.py").write_text(KERAS2)

    def refuse(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    assert main(["check", str(repo), "--fix", *ONLY]) == 2
    assert "model.py: cannot write the fix" in capsys.readouterr().err
    assert sorted(p.name for p in repo.iterdir()) == ["model.py"]
    assert (repo / "model.py").read_text() == KERAS2


def test_the_fix_is_on_disk_before_it_replaces_the_file(repo, monkeypatch):
    (repo / "model.py").write_text(KERAS2)
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    assert main(["check", str(repo), "--fix", *ONLY]) == 0
    assert "replace" in events and "fsync" in events[: events.index("replace")]


def test_a_checked_symlink_stays_a_symlink_and_its_target_is_fixed(repo):
    data = repo / "data"
    data.mkdir()
    target = data / "model.txt"  # not a walked name: only the link selects it
    target.write_text(KERAS2)
    link = repo / "model.py"
    os.symlink(Path("data") / "model.txt", link)
    assert main(["check", str(repo), "--fix", *ONLY]) == 0
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "model.txt")
    assert target.read_text() == FIXED


def test_a_symlinked_file_out_of_the_tree_is_skipped_unless_named(repo, outside, capsys):
    target = outside / "shared.py"
    target.write_text(KERAS2)
    link = repo / "shared.py"
    os.symlink(target, link)
    assert main(["check", str(repo), "--fix", *ONLY]) == 0
    assert "All checks passed!" in capsys.readouterr().out
    assert link.is_symlink() and target.read_text() == KERAS2
    # Named on the command line, the link is the user's choice: it is fixed through the link.
    assert main(["check", str(link), "--fix", *ONLY]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == FIXED


def test_a_symlinked_folder_out_of_the_tree_is_not_walked_unless_named(repo, outside, capsys):
    (outside / "m.py").write_text(KERAS2)
    os.symlink(outside, repo / "vendor")
    (repo / "own.py").write_text(KERAS2)
    assert main(["check", str(repo), "--fix", "--output-format", "concise", *ONLY]) == 0
    assert "1 fixed, 0 remaining" in capsys.readouterr().out
    assert (outside / "m.py").read_text() == KERAS2
    assert main(["check", str(repo / "vendor"), "--fix", *ONLY]) == 0
    assert (outside / "m.py").read_text() == FIXED
    assert (repo / "vendor").is_symlink()


def test_a_file_reached_by_a_symlink_and_by_its_name_is_checked_once(repo, capsys):
    (repo / "model.py").write_text(KERAS2)
    os.symlink("model.py", repo / "alias.py")
    assert main(["check", str(repo), "--fix", *ONLY]) == 0
    assert "1 fixed, 0 remaining" in capsys.readouterr().out
    assert (repo / "alias.py").is_symlink() and (repo / "model.py").read_text() == FIXED


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_fixed_file_keeps_its_owner_and_mode(repo):
    path = repo / "model.py"
    path.write_text(KERAS2)
    os.chown(path, 4321, 4321)
    os.chmod(path, 0o640)
    assert main(["check", str(repo), "--fix", *ONLY]) == 0
    info = path.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 4321, 0o640)
    assert path.read_text() == FIXED


def test_a_hard_linked_file_stays_one_file(repo, outside):
    path = repo / "model.py"
    path.write_text(KERAS2)
    other = outside / "model.py"
    os.link(path, other)
    assert main(["check", str(repo), "--fix", *ONLY]) == 0
    assert path.read_text() == FIXED
    assert os.path.samefile(path, other) and path.stat().st_nlink == 2


def test_a_device_is_not_read_as_source():
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(Path("/dev/zero"))


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "x.py"
    os.mkfifo(fifo)
    outcome: list[BaseException | object] = []
    reader = threading.Thread(target=lambda: outcome.append(_read_or_error(fifo)), daemon=True)
    reader.start()
    reader.join(WAIT)
    if reader.is_alive():
        _release(fifo)  # a blocked open returns once a writer comes and goes
    assert len(outcome) == 1 and isinstance(outcome[0], SourceError)
    assert "not a regular file" in str(outcome[0])


def test_a_file_past_the_size_limit_is_refused_with_the_limit_named(tmp_path):
    path = tmp_path / "big.py"
    with path.open("wb") as stream:
        stream.truncate(64 * 1024 * 1024 + 1)  # sparse: no disk space used
    with pytest.raises(SourceError, match="larger than 64 MiB"):
        read_source(path)


def _read_or_error(path: Path) -> object:
    try:
        return read_source(path)
    except SourceError as error:
        return error


def _release(fifo: Path) -> None:
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass
