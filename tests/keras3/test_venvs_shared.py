"""setup.sh keeps one copy of the files its venvs share: the same torch wheel installed in
three venvs is one set of files on the disk (hard links), not three."""

from __future__ import annotations

from keras3_harness import VENVS


def _inodes(relative: str) -> dict[str, int]:
    return {
        venv.name: path.stat().st_ino
        for venv in sorted(VENVS.iterdir())
        if venv.is_dir()
        for path in venv.glob(f"lib/python3*/site-packages/{relative}")
    }


def test_identical_wheels_share_their_files():
    torch = _inodes("torch/__init__.py")
    assert sorted(torch) == ["keras305", "tensorflow", "torch"]
    assert len(set(torch.values())) == 1, torch
    # Keras 3.15.1 in every venv but the two of Keras 3.0.5.
    keras = _inodes("keras/src/version.py")
    assert len(keras) == 6 and len({keras[name] for name in ("jax", "tensorflow", "torch", "nnx")}) == 1, keras
