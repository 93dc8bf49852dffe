"""The folders a dashboard visitor may read: the server decides, and nothing steps outside."""
from __future__ import annotations

from pathlib import Path

import pytest

from evalcore.errors import DataError
from evalcore.paths import shared_data_dir
from evalcore.roots import allowed_roots, check_allowed, store_file, store_folder, uploads_dir


def test_default_roots_are_the_shared_data_and_the_uploads() -> None:
    assert allowed_roots() == [shared_data_dir().resolve(), uploads_dir().resolve()]
    assert check_allowed(shared_data_dir() / "sst2" / "dev.tsv").name == "dev.tsv"


def test_paths_outside_are_refused_even_through_dots_and_links(tmp_path: Path, monkeypatch) -> None:
    root, outside = tmp_path / "root", tmp_path / "secret"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    monkeypatch.setenv("EVALCORE_DATA_ROOTS", str(root))
    assert check_allowed(root / "a" / "b.txt") == (root / "a" / "b.txt").resolve()
    for bad in (outside, root / ".." / "secret", root / "link", "/etc/passwd"):
        with pytest.raises(DataError, match="outside the data folders this server allows"):
            check_allowed(bad)


def test_uploads_are_kept_under_the_uploads_folder_with_safe_names() -> None:
    path = store_file("preds.txt", b"0\n1\n")
    assert path.parent == uploads_dir() and path.name.endswith("_preds.txt") and path.read_bytes() == b"0\n1\n"
    folder = store_folder({"mapping.txt": b"0\tno\n1\tyes\n", "test_text.txt": b"a\n"})
    assert folder.parent == uploads_dir() and sorted(p.name for p in folder.iterdir()) == ["mapping.txt", "test_text.txt"]
    assert store_folder({"test_text.txt": b"a\n", "mapping.txt": b"0\tno\n1\tyes\n"}) == folder  # same files, same folder
    assert store_file("../../evil.txt", b"x").parent == uploads_dir()  # only the base name is kept
    with pytest.raises(DataError, match="not allowed for an upload"):
        store_file(".hidden", b"x")
