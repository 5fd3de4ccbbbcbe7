"""`placement demo --html DIR` wrote index.html and act-N.svg into DIR over whatever files of those names the
user had there (a user's ~/Desktop/index.html was replaced unsaid). It now refuses a DIR holding such files
that it did not write, before telling the story, and still rewrites its own earlier pictures."""
from __future__ import annotations

from click.testing import CliRunner

from placement import cli


def test_demo_html_keeps_a_users_index_html(tmp_path):
    (tmp_path / "index.html").write_text("my notes")
    result = CliRunner().invoke(cli.main, ["demo", "--html", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "index.html" in result.output and "not written by placement demo" in result.output
    assert (tmp_path / "index.html").read_text() == "my notes"
    assert not (tmp_path / "act-1.svg").exists()


def test_demo_html_keeps_a_users_svg(tmp_path):
    (tmp_path / "act-2.svg").write_text("<svg/>")
    result = CliRunner().invoke(cli.main, ["demo", "--html", str(tmp_path)])
    assert result.exit_code == 2 and (tmp_path / "act-2.svg").read_text() == "<svg/>"


def test_demo_html_rewrites_its_own_pictures(tmp_path):
    assert CliRunner().invoke(cli.main, ["demo", "--html", str(tmp_path)]).exit_code == 0
    (tmp_path / "other.txt").write_text("kept")
    assert CliRunner().invoke(cli.main, ["demo", "--html", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "other.txt").read_text() == "kept" and (tmp_path / "act-5.svg").exists()
