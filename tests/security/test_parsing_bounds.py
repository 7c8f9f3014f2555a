"""Bounded parsing: cards, suites and entries through one reader (size, depth, UTF-8, plain YAML); suite
field types; attack spec counts capped."""

from __future__ import annotations

import pytest

from robench.core.documents import parse_document
from robench.core.limits import DOCUMENT_BYTES, DOCUMENT_DEPTH
from robench.errors import RobenchError

# five nested alias levels under [training]: 569 bytes that once became a 31.9 MB entry
ALIAS_BOMB = """\
training:
  a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
"""


def _yaml_card(card_fields, extra: str) -> str:
    import yaml

    fields = {k: v for k, v in card_fields.items() if k != "training"}
    return yaml.safe_dump(fields, sort_keys=False) + extra


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (ALIAS_BOMB, ["anchor or alias"]),
        ("training: !!python/object/apply:os.system [echo hi]\n", ["YAML tag"]),
        ("training:\n  1: one\n", ["the key 1 under 'training' is not text"]),
        ("training:\n  null: nothing\n", ["the key null under 'training' is not text"]),
        ("training:\n  when: 2024-01-01\n", ["'training.when' holds a date"]),
        ("training: {a: 1, a: 2}\n", ["the key 'a' appears twice"]),
        ("training: [\n  1,\n  2\n  x: y\n", ["is not valid YAML", "line"]),
        ("training: " + "[" * 100_000 + "]" * 100_000 + "\n", ["is not valid YAML"]),
    ],
)
def test_hostile_yaml_cards(models_root, card_fields, cli, check_error, extra, words):
    path = models_root / "digits" / "linf" / "tiny.yaml"
    (models_root / "digits" / "linf" / "tiny.toml").unlink()
    path.write_text(_yaml_card(card_fields, extra))
    check_error(cli("evaluate", "--model", path, "-n", "4"), str(path), *words)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'name = "tiny"\nrecipe = "\xff"\n', ["is not UTF-8 text (byte 0xff at offset 24)"]),
        (b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", [f"more than {DOCUMENT_DEPTH} deep"]),
        (b"x = 1979-05-27\n", ["'x' holds a date"]),
        (b"# " + b"x" * DOCUMENT_BYTES + b"\n", [f"larger than {DOCUMENT_BYTES:,} bytes"]),
    ],
)
def test_hostile_toml_cards(write_card, cli, check_error, raw, words):
    path = write_card()
    path.write_bytes(raw)
    check_error(cli("evaluate", "--model", path, "-n", "4"), str(path), *words)


def _suite(tmp_path, name: str, raw: bytes):
    path = tmp_path / name
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("s.toml", b'name = "s\xfe"\nversion = "1"\nattacks = ["fgsm"]\n', ["is not UTF-8 text"]),
        ("s.toml", b"attacks = " + b"[" * 100_000 + b"]" * 100_000, [f"more than {DOCUMENT_DEPTH} deep"]),
        ("s.yaml", b"attacks: " + b"[" * 100_000 + b"]" * 100_000, ["is not valid YAML"]),
        ("s.yaml", b"attacks:\n" + b"- " * 1000 + b"x\n", [f"more than {DOCUMENT_DEPTH} deep"]),
        ("s.yaml", b"name: s\nversion: 1\nattacks:\n  - fgsm\n - pgd-20\n", ["is not valid YAML", "line 5"]),
        ("s.toml", b'name = ["x"]\nversion = "1"\nattacks = ["fgsm"]\n', ["name must be text", "['x']"]),
        ("s.toml", b'name = "s"\nversion = true\nattacks = ["fgsm"]\n', ["version must be text"]),
        ("s.toml", b'name = "../s"\nversion = "1"\nattacks = ["fgsm"]\n', ["name must be text"]),
        (
            "s.toml",
            b'name = "s"\nversion = "1"\nattacks = ["fgsm"]\nescalte = {}\n',
            ["unknown field 'escalte'"],
        ),
        (
            "s.toml",
            b'name = "s"\nversion = "1"\nattacks = ["pgd-99999999999999999999999999999"]\n',
            ["more steps than the cap of 100,000"],
        ),
        (
            "s.toml",
            b'name = "s"\nversion = "1"\nattacks = ["pgd-10x' + b"9" * 5000 + b'"]\n',
            ["more restarts than the cap of 1,000"],
        ),
        ("s.yaml", b"name: s\nversion: '1'\nattacks: [square-5000000]\n", ["more queries than the cap"]),
    ],
)
def test_hostile_suite_files(tiny_digits_card, tmp_path, cli, check_error, name, raw, words):
    path = _suite(tmp_path, name, raw)
    check_error(cli("evaluate", "--model", tiny_digits_card.path, "--suite", path, "-n", "4"), *words)


@pytest.mark.parametrize(
    ("raw", "kind", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "JSON", ["more than"]),
        (b'{"a": 1, "a": 2}', "JSON", ["appears twice"]),
        (b'{"a": 9' + b"9" * 5000 + b"}", "JSON", ["is not valid JSON"]),
        (b"a: 9" + b"9" * 5000 + b"\n", "YAML", ["is not valid YAML"]),
        (b"a: &x 1\nb: *x\n", "YAML", ["anchor or alias"]),
        (b"? [a, b]\n: 1\n", "YAML", ["keys must be text"]),
        (b"\xef\xbb\xbfa = 1\n", "TOML", []),  # a byte-order mark is fine
    ],
)
def test_parse_document_refuses_in_one_sentence(raw, kind, words):
    if not words:
        assert parse_document(raw, kind, "doc") == {"a": 1}
        return
    with pytest.raises(RobenchError) as info:
        parse_document(raw, kind, "doc")
    assert "\n" not in str(info.value) and all(w in str(info.value) for w in words), str(info.value)


def test_brackets_inside_strings_and_comments_do_not_count():
    text = 'a = "' + "[" * 50 + '"  # ' + "{" * 50 + "\nb = '''" + "[" * 50 + "'''\n"
    assert parse_document(text, "TOML", "doc")["a"] == "[" * 50


def test_a_legitimate_yaml_card_still_loads(models_root, card_fields, cli):
    path = models_root / "digits" / "linf" / "tiny.yaml"
    (models_root / "digits" / "linf" / "tiny.toml").unlink()
    path.write_text(_yaml_card(card_fields, "training:\n  epochs: 8\n  note: 'quoted: fine'\n"))
    code, out, err = cli("models", "--json")
    assert code == 0, err and '"id": "digits/linf/tiny"' in out
