"""The folders a dashboard visitor may read: the server decides, and nothing steps outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalcore.core.errors import DataError
from evalcore.core.paths import models_dir, shared_data_dir
from evalcore.io.allowed import allowed_roots, check_allowed, uploads_dir
from evalcore.serve.roots import check_source, check_spec, prune_uploads, store_file, store_folder


def test_default_roots_are_the_shared_data_the_uploads_and_the_models() -> None:
    assert allowed_roots() == [shared_data_dir().resolve(), uploads_dir().resolve(), models_dir().resolve()]
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
    assert folder.parent == uploads_dir() and sorted(p.name for p in folder.iterdir()) == [
        "mapping.txt",
        "test_text.txt",
    ]
    assert (
        store_folder({"test_text.txt": b"a\n", "mapping.txt": b"0\tno\n1\tyes\n"}) == folder
    )  # same files, same folder
    assert store_file("../../evil.txt", b"x").parent == uploads_dir()  # only the base name is kept
    with pytest.raises(DataError, match="not allowed for an upload"):
        store_file(".hidden", b"x")


def test_whole_data_choices_and_model_specs_are_checked(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password_hash\nroot,abc123\n")
    for settings in (
        {"source": str(secret)},
        {"source": f"hf:{secret}"},
        {"source": str(tmp_path)},
        {"source": f"{shared_data_dir()}/../../../{secret}"},
    ):
        with pytest.raises(DataError) as info:
            check_source(settings)
        assert "abc123" not in str(info.value) and "password_hash" not in str(info.value)  # never its contents
    for spec in (f"file:{secret}", f"hf:{tmp_path}"):
        with pytest.raises(DataError, match="outside the data folders"):
            check_spec(spec)
    check_source({"source": "lab"})
    check_source({"source": "tweeteval:val"})
    check_source({"source": "hf:cardiffnlp/tweet_eval"})  # a hub id reads nothing on this disk
    check_spec("vader")
    check_spec("hf:cardiffnlp/twitter-roberta-base-sentiment-latest")
    check_spec(f"file:{shared_data_dir()}/tweet_eval/sentiment/predictions_roberta_rt.txt")


def test_an_overlong_upload_name_is_a_message_not_an_oserror() -> None:
    with pytest.raises(DataError, match="not allowed for an upload"):
        store_file("x" * 300 + ".csv", b"text,label\n")


def test_uploads_are_deduplicated_and_capped(monkeypatch) -> None:
    import os
    import time

    first = store_file("a.csv", b"1" * 1000)
    assert store_file("a.csv", b"1" * 1000) == first  # the same content is stored once
    old = time.time() - 3600
    os.utime(first, (old, old))
    second = store_file("b.csv", b"2" * 1000)
    monkeypatch.setenv("EVALCORE_UPLOADS_MB", "0.0015")  # 1,500 bytes: one file fits
    store_file("c.csv", b"3" * 10)
    assert not first.exists() and second.exists()  # the least recently used went first
    assert prune_uploads(0) and not any(uploads_dir().iterdir())


def test_the_cap_evicts_by_last_use_and_spares_what_a_workspace_uses(monkeypatch) -> None:
    """Issue 19: eviction went by upload time, took a file a workspace had just used, and said nothing."""
    import os
    import time

    from evalcore.serve import workspace as store
    from evalcore.serve.roots import touch_upload

    old = time.time() - 3600
    early = store_file("early.csv", b"e" * 1000)
    late = store_file("late.csv", b"l" * 1000)
    os.utime(early, (old - 60, old - 60))  # uploaded first...
    os.utime(late, (old, old))
    touch_upload(str(early))  # ...but used since (the dashboard loaded it)
    monkeypatch.setenv("EVALCORE_UPLOADS_MB", "0.0025")  # 2,500 bytes: two of the three fit
    store_file("third.csv", b"t" * 1000)
    assert early.exists() and not late.exists()  # the least recently *used* went, not the oldest upload

    monkeypatch.setenv("EVALCORE_UPLOADS_MB", "100")
    for f in uploads_dir().iterdir():
        f.unlink()
    kept = store_file("kept.csv", b"k" * 1000)
    os.utime(kept, (old, old))  # the oldest, but a workspace refers to it
    store.save_workspace(store.Workspace(data={"source": str(kept)}), store.workspace_path("team"))
    spare = store_file("spare.csv", b"s" * 1000)
    monkeypatch.setenv("EVALCORE_UPLOADS_MB", "0.0025")
    store_file("new.csv", b"n" * 1000)
    assert kept.exists() and not spare.exists()  # unreferenced uploads go first, however recent
    assert store.load("team").notices == []
    monkeypatch.setenv("EVALCORE_UPLOADS_MB", "0.0015")  # the referenced one must go now: its workspace is told
    store_file("newer.csv", b"m" * 1400)
    assert not kept.exists()
    notices = " ".join(n["text"] for n in store.load("team").notices)
    assert kept.name in notices and "was removed to keep the server's uploads under their cap" in notices


def test_an_upload_larger_than_the_cap_is_refused_and_evicts_nothing(monkeypatch) -> None:
    current = store_file("current.csv", b"c" * 500)
    monkeypatch.setenv("EVALCORE_UPLOADS_MB", "0.001")  # 1,000 bytes
    with pytest.raises(DataError, match="larger than the 0.0 MB this server keeps for all uploads"):
        store_file("huge.csv", b"h" * 5000)
    with pytest.raises(DataError, match="larger than"):
        store_folder({"test_text.txt": b"x" * 3000})
    assert current.exists() and sorted(p.name for p in uploads_dir().iterdir()) == [current.name]
