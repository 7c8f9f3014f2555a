"""Suites: built-in ones, user files on disk (TOML and YAML), and clear errors."""

from __future__ import annotations

import pytest
import tomli_w
import yaml

from robench.attacks.suites import SUITES, load_suite
from robench.errors import RobenchError


def test_builtin_suites():
    standard = load_suite("standard")
    assert standard.attacks == ("fgsm", "pgd-7", "pgd-20", "pgd-100x1", "cw", "autoattack")
    assert standard.version and load_suite("quick").attacks == ("fgsm", "pgd-20", "cw")
    assert set(SUITES.names()) >= {"standard", "quick"}
    assert standard.to_dict()["attacks"] == list(standard.attacks)


def test_user_suite_from_toml_and_yaml(tmp_path):
    content = {"name": "mine", "version": 3, "attacks": ["fgsm-rs", "pgd-50x10", "square-1000"]}
    toml_path = tmp_path / "mine.toml"
    toml_path.write_text(tomli_w.dumps(content))
    yaml_path = tmp_path / "mine.yaml"
    yaml_path.write_text(yaml.safe_dump(content))
    for path in (toml_path, str(yaml_path)):
        suite = load_suite(path)
        assert (suite.name, suite.version, suite.attacks) == (
            "mine",
            "3",
            ("fgsm-rs", "pgd-50x10", "square-1000"),
        )


def test_unknown_suite_name_suggests():
    with pytest.raises(RobenchError, match="did you mean 'standard'"):
        load_suite("standrd")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nversion = "1"\n', "lacks attacks"),
        ('name = "x"\nversion = "1"\nattacks = "pgd-20"\n', "must be a list"),
        ('name = "x"\nversion = "1"\nattacks = []\n', "lists no attacks"),
        ('name = "x"\nversion = "1"\nattacks = ["pgd-20", "pdg-7"]\n', "did you mean 'pgd-7'"),
        ("name = \n", "not valid TOML"),
    ],
)
def test_bad_suite_files_are_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(RobenchError, match=message):
        load_suite(path)


def test_missing_and_malformed_yaml_files(tmp_path):
    with pytest.raises(RobenchError, match="does not exist"):
        load_suite(tmp_path / "absent.yaml")
    path = tmp_path / "bad.yml"
    path.write_text("attacks: [pgd-20\n")
    with pytest.raises(RobenchError, match="not valid YAML"):
        load_suite(path)
    path.write_text("- pgd-20\n")
    with pytest.raises(RobenchError, match="must hold a table"):
        load_suite(path)
