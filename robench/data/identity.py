"""Board-safe names for datasets that are not registered (folder:, file:, user loaders)."""

from __future__ import annotations

import re

MAX_NAME = 48


def board_name(kind: str, label: str) -> str:
    """``<kind>-<label>`` lower-cased, runs of other characters than ``a-z 0-9 . _ -`` made one ``-``.

    ``folder:/data/My Set`` -> ``folder-my-set``; ``file:digits_test.npz`` -> ``file-digits_test``;
    ``my_pkg.data:load`` -> ``user-my_pkg.data-load``. Names can collide; the fingerprint cannot.
    """
    slug = re.sub(r"[^a-z0-9._-]+", "-", label.lower()).strip("-.")[:MAX_NAME].strip("-.")
    return f"{kind}-{slug or 'data'}"
