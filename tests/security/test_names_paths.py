"""Names are names, paths stay inside: entry, card and run names; report and board outputs; the files a
card names beside itself."""

from __future__ import annotations

import os

import pytest

from robench.core.names import check_name, inside, relative_file
from robench.errors import RobenchError
from robench.training.artifacts import RunPaths

BAD_NAMES = ["../evil", "a/b", "a\\b", "..", ".hidden", "pgd\n", "a\x1bb", "", "a" * 101, "/abs", "é", "a b"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_is_letters_digits_and_dot_underscore_plus_minus(name):
    with pytest.raises(RobenchError, match="is not a name"):
        check_name(name, "entry name")


@pytest.mark.parametrize("name", ["pgd", "fgsm-rs", "wrn_28_10+trades", "a" * 100, "v1.2"])
def test_good_names_pass(name):
    assert check_name(name, "entry name") == name


@pytest.mark.parametrize("name", ["/abs/dir/victim", "../../victim", "pgd\n"])
def test_entry_name_that_is_a_path_writes_nothing(
    entry_data, put_entry, boards, victim, cli, check_error, name
):
    """A board entry whose name is a path: report and leaderboard stop before writing anything."""
    entry_data["name"] = name.replace("/abs/dir", str(victim))
    put_entry(entry_data, file="pgd")
    check_error(cli("report"), "is not a name")
    check_error(cli("leaderboard"), "is not a name")
    assert not boards["reports"].exists()
    assert not (boards["leaderboards"] / "digits" / "linf.md").exists()


def test_entry_name_must_equal_its_file_name(entry_data, put_entry, boards, cli, check_error):
    entry_data["name"] = "standard"
    put_entry(entry_data, file="pgd")
    check_error(cli("report"), "its name 'standard' must equal the file name 'pgd'")
    assert not boards["reports"].exists()


def test_report_file_that_is_a_symlink_out_is_refused(
    entry_data, put_entry, boards, tmp_path, cli, check_error
):
    put_entry(entry_data)
    outside = tmp_path / "precious.md"
    outside.write_text("keep me\n")
    folder = boards["reports"] / "digits" / "linf"
    folder.mkdir(parents=True)
    (folder / "pgd.ladder.png").symlink_to(outside)
    check_error(cli("report"), "leads outside")
    assert outside.read_text() == "keep me\n"


def test_board_file_that_is_a_symlink_out_is_refused(
    entry_data, put_entry, boards, tmp_path, cli, check_error
):
    put_entry(entry_data)
    outside = tmp_path / "precious.csv"
    outside.write_text("keep me\n")
    (boards["leaderboards"] / "digits" / "linf.scatter.png").symlink_to(outside)
    check_error(cli("leaderboard"), "leads outside")
    assert outside.read_text() == "keep me\n"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"name": "../../victim"}, ["'name' '../../victim' is not a name"]),
        ({"checkpoint": "../tiny.safetensors"}, ["'checkpoint' '../tiny.safetensors' must be a path inside"]),
        ({"checkpoint": "/etc/passwd"}, ["'checkpoint' '/etc/passwd' must be a path inside"]),
        ({"checkpoint": "C:\\x.safetensors"}, ["must be a path inside"]),
        ({"training": {"log": "/etc/passwd"}}, ["'training.log' '/etc/passwd' must be a path inside"]),
        ({"training": {"log_json": "../../x.json"}}, ["'training.log_json'"]),
    ],
)
def test_card_files_stay_in_the_card_folder(write_card, cli, check_error, changes, words):
    path = write_card(**changes)
    check_error(cli("evaluate", "--model", path, "-n", "4"), str(path), *words)


def test_card_checkpoint_symlink_out_of_the_folder_is_refused(write_card, tmp_path, cli, check_error):
    path = write_card(checkpoint="link.safetensors")
    real = path.parent / "tiny.safetensors"
    moved = tmp_path / "elsewhere.safetensors"
    real.rename(moved)
    (path.parent / "link.safetensors").symlink_to(moved)
    check_error(cli("evaluate", "--model", path, "-n", "4"), "leads outside")


def test_a_checkpoint_given_on_the_command_line_may_lie_anywhere(write_card, tmp_path):
    """The user's own path is theirs: only paths read from a file are confined."""
    path = write_card()
    moved = tmp_path / "elsewhere.safetensors"
    (path.parent / "tiny.safetensors").rename(moved)
    from robench.models.cards import load_card
    from robench.models.loading import load_model

    assert load_model(load_card(path), checkpoint=moved).sha256 == load_card(path).sha256


def test_training_log_from_an_entry_is_read_only_inside_the_card_folder(entry_data, tmp_path):
    from robench.leaderboard.entries import Entry
    from robench.reports.build import write_report

    secret = tmp_path / "secret.csv"
    secret.write_text("epoch,val_clean_acc\n1,0.5\n")
    card_dir = tmp_path / "models" / "digits" / "linf"
    card_dir.mkdir(parents=True)
    entry_data["model_card"]["training"]["log"] = "../../../secret.csv"
    with pytest.raises(RobenchError, match="must be a path inside its folder"):
        write_report(Entry.from_dict(entry_data), card_dir=card_dir, root=tmp_path / "reports")
    assert not (tmp_path / "reports").exists()


def test_submit_name_flag_that_is_a_path_stops_before_work(
    tiny_digits_checkpoint, boards, victim, cli, check_error
):
    argv = ["submit", tiny_digits_checkpoint, "--name", f"{victim}/x", "--arch", "small_cnn", "--dataset"]
    argv += ["digits", "--threat", "linf", "--eps", "0.3", "--arch-kwargs", '{"width": 16}']
    check_error(cli(*argv), "--name", "is not a name")
    assert not boards["leaderboards"].exists() and not boards["reports"].exists()


def test_run_names_are_names(tmp_path):
    with pytest.raises(RobenchError, match="run name"):
        RunPaths(tmp_path, "../../escaped")


def test_path_helpers_resolve_symlinks(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "loop").symlink_to(tmp_path / "in" / "loop")
    with pytest.raises(RobenchError, match="symlink loop"):
        inside(tmp_path / "in", tmp_path / "in" / "loop", "file")
    os.symlink(tmp_path, tmp_path / "in" / "up")
    with pytest.raises(RobenchError, match="leads outside"):
        relative_file("up/x", tmp_path / "in", "file")
    assert relative_file("a/b.csv", tmp_path / "in", "file") == tmp_path / "in" / "a" / "b.csv"


def test_a_report_folder_symlinked_out_gets_nothing(entry_data, put_entry, boards, victim, cli, check_error):
    put_entry(entry_data)
    boards["reports"].mkdir()
    (boards["reports"] / "digits").symlink_to(victim, target_is_directory=True)
    check_error(cli("report"), "report folder", "leads outside")
