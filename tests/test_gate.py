"""One gate for every path a dashboard visitor can name (issue 19, item 3): a file outside the allowed folders is
neither read nor quoted, whatever form the path takes.

"Not read" is checked with a Python audit hook that records every `open` of a file in the secret folder while
the dashboard's engine (`ui.engine`, what every page and every saved workspace goes through) handles the
request; "not quoted" by looking for the secret's text in the message. The typed forms also go through the
Data & models page itself (AppTest).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from apptest_helpers import errors, open_page

from evalcore.core.errors import EvalcoreError
from evalcore.core.paths import shared_data_dir

SECRET = "root:x:0:0:TOPSECRET"
_OPENED: list[str] = []
_WATCH: list[str] = []


def _hook(event: str, args: tuple) -> None:
    if event == "open" and _WATCH and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))  # a link is an open of what it points at
        if any(path.startswith(w) for w in _WATCH):
            _OPENED.append(path)


sys.addaudithook(_hook)  # audit hooks cannot be removed: it records only while a test watches a folder


@pytest.fixture()
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An allowed root, a secret folder beside it (outside), and the secret's files in the shapes a loader
    would read: a CSV, a TweetEval split, a predictions file, an answers file."""
    root, secret = tmp_path / "root", tmp_path / "secret"
    root.mkdir()
    secret.mkdir()
    (secret / "secret.csv").write_text(f"text,label\n{SECRET},positive\nother,negative\n")
    (secret / "leak_text.txt").write_text(f"{SECRET}\n")
    (secret / "leak_labels.txt").write_text(f"{SECRET}\n")
    (secret / "mapping.txt").write_text("0\tnegative\n1\tpositive\n")
    (secret / "preds.txt").write_text(f"{SECRET}\n" * 500)
    (secret / "answers.json").write_text('{"%s": "x"}' % SECRET)
    home = tmp_path / "evalcore_home"
    monkeypatch.setenv(
        "EVALCORE_DATA_ROOTS", os.pathsep.join([str(root), str(home / "work" / "uploads"), str(shared_data_dir())])
    )
    _OPENED.clear()
    _WATCH[:] = [str(secret.resolve())]
    yield {"root": root, "secret": secret}
    _WATCH.clear()


def _refused(call) -> str:
    """Run `call`; it must raise an EvalcoreError that quotes nothing of the secret, having opened none of it."""
    with pytest.raises(EvalcoreError) as info:
        call()
    message = str(info.value)
    assert SECRET not in message and "TOPSECRET" not in message, message
    assert not _OPENED, f"opened outside the allowed folders: {_OPENED}"
    return message


def _tweeteval_folder(folder: Path, n: int = 20) -> Path:
    folder.mkdir(parents=True)
    (folder / "mapping.txt").write_text("0\tnegative\n1\tpositive\n")
    (folder / "test_text.txt").write_text("".join(f"tweet {i}\n" for i in range(n)))
    (folder / "test_labels.txt").write_text("".join(f"{i % 2}\n" for i in range(n)))
    return folder


def test_a_tweeteval_split_with_dots(world) -> None:
    from ui.engine import get_data

    up = os.path.relpath(world["secret"] / "leak", shared_data_dir() / "tweet_eval" / "sentiment")
    assert "split" in _refused(lambda: get_data({"source": f"tweeteval:{up}"}))
    folder = _tweeteval_folder(world["root"] / "task")
    _refused(lambda: get_data({"source": str(folder), "split": os.path.relpath(world["secret"] / "leak", folder)}))


@pytest.mark.parametrize("builder", ["csv", "json", "text", "parquet", "arrow", "pandas", "webdataset"])
def test_hf_ids_that_are_datasets_builders(world, builder, monkeypatch) -> None:
    from ui.engine import get_data

    monkeypatch.chdir(world["secret"])  # what `hf:csv` would read: the server's working folder
    assert "names a `datasets` builder" in _refused(lambda: get_data({"source": f"hf:{builder}"}))


def test_a_local_path_and_a_local_hf_path_outside(world) -> None:
    from ui.engine import get_data

    for source in (
        str(world["secret"] / "secret.csv"),
        f"hf:{world['secret'] / 'secret.csv'}",
        f"hf:{world['secret']}",
        str(world["secret"]),
        f"{world['root']}/../secret/secret.csv",
    ):
        assert "outside the data folders" in _refused(lambda: get_data({"source": source}))


def test_files_inside_an_allowed_folder_that_link_outside(world) -> None:
    """The folder is allowed; its files are resolved one by one."""
    from ui.engine import get_data

    folder = world["root"] / "linked"
    folder.mkdir()
    (folder / "mapping.txt").write_text("0\tnegative\n1\tpositive\n")
    (folder / "test_text.txt").symlink_to(world["secret"] / "leak_text.txt")
    (folder / "test_labels.txt").symlink_to(world["secret"] / "leak_labels.txt")
    assert "outside the data folders" in _refused(lambda: get_data({"source": str(folder), "split": "test"}))
    hf = world["root"] / "hf"
    hf.mkdir()
    (hf / "train.csv").symlink_to(world["secret"] / "secret.csv")
    assert "outside the data folders" in _refused(lambda: get_data({"source": f"hf:{hf}", "split": "train"}))
    link = world["root"] / "data.csv"
    link.symlink_to(world["secret"] / "secret.csv")
    assert "outside the data folders" in _refused(lambda: get_data({"source": str(link)}))


def test_a_shipped_predictions_file_that_links_outside_is_skipped_unread(world) -> None:
    from ui.engine import get_data

    folder = _tweeteval_folder(world["root"] / "task", n=500)
    (folder / "predictions_leak.txt").symlink_to(world["secret"] / "preds.txt")
    data = get_data({"source": str(folder)})
    assert "leak" not in data.precomputed and not _OPENED


def test_file_models_and_answers_files(world) -> None:
    from ui.engine import data_key, get_data, get_predictions, get_predictor

    lab = get_data({"source": "lab"})
    link = world["root"] / "preds.txt"
    link.symlink_to(world["secret"] / "preds.txt")
    for spec in (f"file:{world['secret'] / 'preds.txt'}", f"file:{link}", f"file:{world['root']}/../secret/preds.txt"):
        assert "outside the data folders" in _refused(lambda: get_predictor(spec, lab, data_key({"source": "lab"})))
    squad = get_data({"source": "squad"})
    answers = world["root"] / "answers.json"
    answers.symlink_to(world["secret"] / "answers.json")
    for spec in (f"file:{world['secret'] / 'answers.json'}", f"file:{answers}"):
        assert "outside the data folders" in _refused(
            lambda: get_predictions(squad, data_key({"source": "squad"}), spec)
        )


def test_uploads_stay_in_the_uploads_folder(world) -> None:
    from evalcore.io.allowed import uploads_dir
    from evalcore.serve.roots import store_file, store_folder

    path = store_file("../../secret/secret.csv", b"text,label\nhi,positive\n")
    assert path.parent == uploads_dir() and (world["secret"] / "secret.csv").read_text().startswith("text,label\nroot")
    folder = store_folder({"../mapping.txt": b"0\tno\n1\tyes\n"})
    assert folder.parent == uploads_dir() and [p.name for p in folder.iterdir()] == ["mapping.txt"]


def test_the_typed_forms_on_the_page(world) -> None:
    """What a visitor types on Data & models: a folder, an HF id, a predictions file; each refused, unquoted, unread."""
    shown: list[str] = []
    at = open_page()
    at.radio(key="dm_source").set_value("folder").run()
    at.selectbox(key="dm_folder_pick").set_value("(type a path)").run()
    at.text_input(key="dm_folder_path").set_value(str(world["secret"])).run()
    shown += errors(at)
    assert any("outside the data folders" in e for e in errors(at)), errors(at)
    at.radio(key="dm_source").set_value("hf").run()
    for target, expected in (
        ("csv", "names a `datasets` builder"),
        ("text", "names a `datasets` builder"),
        (str(world["secret"] / "secret.csv"), "outside the data folders"),
    ):
        at.text_input(key="dm_hf_id").set_value(target).run()
        at.button(key="dm_hf_load").click().run()
        shown += errors(at)
        assert any(expected in e for e in errors(at)), (target, errors(at))
    at.radio(key="dm_source").set_value("lab").run()
    at.selectbox(key="dm_candidate_choice").set_value("file").run()
    at.text_input(key="dm_candidate_file_path").set_value(str(world["secret"] / "preds.txt")).run()
    shown += errors(at)
    assert any("outside the data folders" in e for e in errors(at)), errors(at)
    assert not at.exception and not _OPENED, _OPENED
    assert not any("TOPSECRET" in e for e in shown)
