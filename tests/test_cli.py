"""The command line through click's CliRunner: exit codes, summary, help examples."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from pipeline.cli import EXIT_FAILED, EXIT_REJECTS, EXIT_USAGE, main

from .conftest import BASE, ROOT, SEEDS, seed_facts


@pytest.fixture
def runner():
    return CliRunner()


def test_run_publishes_seeds(runner, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(SEEDS), "-o", str(out), "--base", BASE])
    assert result.exit_code == 0, result.output
    facts = seed_facts()
    assert f"read {facts['records']} records: {facts['records']} published, 0 rejected" in result.output
    report = json.loads((out / "_publisher" / "report.json").read_text(encoding="utf-8"))
    assert report["read"] == report["published"] + report["rejected"] == facts["records"]
    assert {"articles.ttl", "articles.jsonld", "articles.nt", "context.jsonld"} <= set(report["files"])
    assert report["warnings"] == len(report["warning_list"]) == facts["warnings"]
    no_date = [w for w in report["warning_list"] if w["id"] == "003d3951a8"]
    assert no_date[0]["field"] == "日期" and no_date[0]["stage"] == "validate" and no_date[0]["severity"] == "warning"


def test_run_with_a_reject_exits_1_and_quarantines(runner, tmp_path):
    inputs = tmp_path / "in"
    shutil.copytree(SEEDS / "rmrb", inputs)
    (inputs / "broken.txt").write_text("id: broken1\n标题：\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(inputs), "-o", str(out)])
    assert result.exit_code == EXIT_REJECTS, result.output
    assert "1 rejected" in result.output and "broken.txt" in result.output
    report = json.loads((out / "_publisher" / "report.json").read_text(encoding="utf-8"))
    assert report["read"] == 13 and report["published"] == 12 and report["rejected"] == 1
    (reject,) = report["rejects"]
    assert reject["id"] == "broken1" and reject["stage"] == "parse" and reject["file"].endswith("broken.txt")
    reasons = list((out / "_publisher" / "rejects").glob("*.reason.txt"))
    assert len(reasons) == 1 and "broken1" in reasons[0].read_text(encoding="utf-8")
    assert (out / "_publisher" / "rejects" / reasons[0].name.replace(".reason.txt", ".record")).read_bytes() == \
        (inputs / "broken.txt").read_bytes()


def test_missing_input_fails_without_touching_output(runner, tmp_path):
    out = tmp_path / "out"
    runner.invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(out)])
    before = (out / "articles.nt").read_bytes()
    result = runner.invoke(main, ["run", str(tmp_path / "nope"), "-o", str(out)])
    assert result.exit_code == EXIT_FAILED
    assert "does not exist" in result.output and "untouched" in result.output
    assert (out / "articles.nt").read_bytes() == before


def test_refuses_to_replace_a_folder_it_did_not_write(runner, tmp_path):
    out = tmp_path / "home"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    result = runner.invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(out)])
    assert result.exit_code == EXIT_FAILED
    assert (out / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("option,value,says", [("--base", "not an iri", "base IRI"),
                                               ("--lang", "zh_CN!", "language tag"),
                                               ("--license", "cc-by", "--license")])
def test_a_bad_option_value_is_exit_2_with_a_clear_error(runner, tmp_path, option, value, says):
    result = runner.invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(tmp_path / "o"), option, value])
    assert result.exit_code == EXIT_USAGE and says in result.output and "untouched" not in result.output


def test_validate_good_and_bad_files(runner, tmp_path):
    out = tmp_path / "out"
    runner.invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(out)])
    good = runner.invoke(main, ["validate", str(out / "articles.ttl"), str(out / "articles.jsonld")])
    assert good.exit_code == 0 and "conforms" in good.output
    bad = tmp_path / "bad.ttl"
    bad.write_text('<http://x/a> a <http://schema.org/Article> ; <http://purl.org/dc/terms/title> "plain" .\n')
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1 and "does not conform" in result.output and "Violation" in result.output
    broken = tmp_path / "broken.ttl"
    broken.write_text("<http://x/a> <b> .")
    result = runner.invoke(main, ["validate", str(broken)])
    assert result.exit_code == EXIT_FAILED and "does not parse" in result.output and "broken.ttl" in result.output


@pytest.mark.parametrize("command", [[], ["run"], ["validate"], ["query"], ["serve"], ["publish"]])
def test_every_help_has_an_example(runner, command):
    result = runner.invoke(main, command + ["--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "pipeline " in result.output.split("Example", 1)[1]


def test_python_dash_m_works():
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "pipeline" in result.stdout


def test_strict_turns_warnings_into_rejects(runner, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(SEEDS), "-o", str(out), "--strict"])
    assert result.exit_code == EXIT_REJECTS, result.output
    report = json.loads((out / "_publisher" / "report.json").read_text(encoding="utf-8"))
    facts = seed_facts()
    warned = facts["warned_ids"]
    assert report["rejected"] == len(warned) and report["published"] == facts["records"] - len(warned)
    assert {r["id"] for r in report["rejects"]} == warned
    assert all("--strict" in r["message"] for r in report["rejects"])


def test_max_rejects_stops_and_publishes_nothing(runner, tmp_path):
    from pipeline.cli import EXIT_STOPPED
    out = tmp_path / "out"
    runner.invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(out)])
    before = (out / "articles.nt").read_bytes()
    bad = ROOT / "tests" / "fixtures" / "bad"
    result = runner.invoke(main, ["run", str(bad), "-o", str(out), "--max-rejects", "2"])
    assert result.exit_code == EXIT_STOPPED, result.output
    assert "stopped early" in result.output
    assert re.search(r"read \d+ records: \d+ published, 3 rejected", result.output), result.output
    assert not (out / "rejects.jsonl").exists() and not list(tmp_path.glob(".out.*"))
    assert (out / "articles.nt").read_bytes() == before


def test_other_language_tag_is_used(runner, tmp_path):
    out = tmp_path / "o"
    result = runner.invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(out), "--lang", "zh-Hans"])
    assert result.exit_code == 0
    assert '@zh-Hans .' in (out / "articles.nt").read_text(encoding="utf-8")


def test_progress_bar_shows_records_rate_and_eta(capsys):
    import time as clock

    from pipeline.cli import ProgressBar

    bar = ProgressBar(clock.monotonic() - 2)
    bar("records", 500, 1000)
    bar("writing", 3, 3)
    bar.clear()
    err = capsys.readouterr().err
    assert "500/1,000" in err and "/s" in err and "ETA" in err and "3/3" in err


def test_no_progress_bar_in_pipes(runner, tmp_path):
    result = runner.invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(tmp_path / "o")])
    assert "\r" not in result.output and "ETA" not in result.output


def test_short_options_and_the_version_match_the_package_metadata(runner):
    import importlib.metadata

    from pipeline import __version__

    assert importlib.metadata.version("zh-articles-pipeline") == __version__
    for flag in ("-V", "--version"):
        result = runner.invoke(main, [flag])
        assert result.exit_code == 0 and result.output.strip() == f"pipeline, version {__version__}"
    for command in ([], ["run"], ["serve"]):
        assert runner.invoke(main, command + ["-h"]).output == runner.invoke(main, command + ["--help"]).output


def test_the_packaged_files_are_found(tmp_path):
    """Shapes and queries are read through the package, not relative paths."""
    from pipeline.resources import queries_dir, shapes_dir

    assert list(shapes_dir().glob("*.ttl")) and len(list(queries_dir().glob("*.rq"))) >= 12


def test_validate_caps_what_it_lists_and_counts_the_rest(runner, tmp_path):
    bad = tmp_path / "many.ttl"
    bad.write_text("".join(f'<http://x/a{i}> a <http://schema.org/Article> ; <http://purl.org/dc/terms/title> "t" .\n'
                           for i in range(30)))
    capped = runner.invoke(main, ["validate", str(bad), "--show", "5"])
    listed = [line for line in capped.output.splitlines() if line.startswith("Violation")]
    assert capped.exit_code == 1 and len(listed) == 5
    total = int(re.search(r"(\d+) violations", capped.output).group(1))
    assert f"... and {total - 5:,} more violations" in capped.output
    everything = runner.invoke(main, ["validate", str(bad), "--show", "0"])
    assert len([line for line in everything.output.splitlines() if line.startswith("Violation")]) == total
