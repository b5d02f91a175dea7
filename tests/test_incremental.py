"""Incremental runs: a rerun takes unchanged records from the previous release's record cache and writes the
same release, byte for byte, as processing every record would; a cache that cannot be trusted is not used."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import Options, run
from pipeline.cli import main
from pipeline.problems import PipelineError

from .conftest import BASE, ROOT, SEEDS
from .test_release import snapshot

DAY = "2026-12-01"
OPTIONS = Options(base=BASE, date=DAY, workers=1)
CORPUS = sorted(SEEDS.glob("rmrb/*.txt"))[:4] + sorted(SEEDS.glob("CCRD-*/*.txt"))[:4]
SPARE = sorted(SEEDS.glob("whb/*.txt"))[:3]  # records an edit script may add
BOOKS = ("rmrb", "whb", "CCRD-fanyou", "extra")  # folders an edit script may move a record to


def copy_corpus(folder: Path, files) -> Path:
    for path in files:
        target = folder / path.relative_to(SEEDS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return folder


def release_as_published(out: Path) -> dict:
    """Every file, the report without the run's own timing facts (reused records are not in it anyway) and
    the marker without the report's size (compared through the report itself)."""
    files = snapshot(out)
    marker = json.loads(files.pop(".zh-articles-release.json"))
    marker["files"].pop("_publisher/report.json")
    return {**files, "marker": marker}


def kept_buckets(out: Path) -> list[list]:
    """The bucket table a release keeps (kept.py), one entry per bucket it wrote."""
    with gzip.open(out / "_publisher" / "buckets.json.gz", "rt", encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


def rewrite(path: Path, field: str, value: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(rf"^{field}：.*$", f"{field}：{value}", text, count=1, flags=re.M), encoding="utf-8")


# one edit: (what, which file by index, a value)
EDITS = st.one_of(
    st.tuples(st.just("title"), st.integers(0, 99), st.sampled_from(("修订", "又一题", "毛泽东"))),
    st.tuples(st.just("tags"), st.integers(0, 99), st.sampled_from(("文章", "毛泽东,指示", "新标签"))),
    st.tuples(st.just("author"), st.integers(0, 99), st.sampled_from(("", "郝斌", "人民日报编辑部"))),
    st.tuples(st.just("date"), st.integers(0, 99), st.sampled_from(("1966-5-16", "1970", ""))),
    st.tuples(st.just("body"), st.integers(0, 99), st.sampled_from(("又及。", "“引文”"))),
    st.tuples(st.just("break"), st.integers(0, 99), st.just("")),      # an id line the parser refuses
    st.tuples(st.just("remove"), st.integers(0, 99), st.just("")),
    st.tuples(st.just("move"), st.integers(0, 99), st.sampled_from(BOOKS)),
    st.tuples(st.just("reprint"), st.integers(0, 99), st.sampled_from(BOOKS)),  # the same id in another book
    st.tuples(st.just("add"), st.integers(0, len(SPARE) - 1), st.just("")),
)


def apply(edit, corpus: Path) -> None:
    what, index, value = edit
    files = sorted(corpus.rglob("*.txt"))
    if what == "add":
        copy_corpus(corpus, [SPARE[index]])
        return
    if not files:
        return
    path = files[index % len(files)]
    if what in ("move", "reprint"):
        target = corpus / value / path.name
        if target.exists():
            return
        target.parent.mkdir(exist_ok=True)
        (shutil.move if what == "move" else shutil.copyfile)(path, target)
    elif what == "remove":
        path.unlink()
    elif what == "break":
        path.write_text("id: not valid!\n" + path.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    elif what == "body":
        path.write_text(path.read_text(encoding="utf-8").replace("正文：\n", f"正文：\n{value}", 1), encoding="utf-8")
    else:
        rewrite(path, {"title": "标题", "tags": "标签", "author": "作者", "date": "日期"}[what], value)


def unchanged_published(previous: Path, after: Path) -> int:
    """Records published by the previous release whose file (same name, same bytes) is still an input."""
    entries = [json.loads(line) for line in (previous / "_publisher" / "inputs.jsonl").read_text().splitlines()]
    kept = {(e["file"], e["sha256"]) for e in entries if e["outcome"] == "published"}
    return sum((str(Path("corpus") / p.relative_to(after)), hashlib.sha256(p.read_bytes()).hexdigest()) in kept
               for p in after.rglob("*.txt"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(EDITS, min_size=1, max_size=6))
def test_a_rerun_after_any_edit_script_is_the_full_run_byte_for_byte(tmp_path_factory, monkeypatch, script):
    folder = tmp_path_factory.mktemp("incremental")
    monkeypatch.chdir(folder)  # inputs named relatively, as users name them: the cache is keyed by that name
    corpus = copy_corpus(folder / "corpus", CORPUS)
    run(["corpus"], folder / "incremental", options=OPTIONS)
    shutil.copytree(folder / "incremental", folder / "full")  # the same previous release for both
    previous = folder / "previous"
    shutil.copytree(folder / "incremental", previous)
    for edit in script:
        apply(edit, corpus)
    report = run(["corpus"], folder / "incremental", options=OPTIONS)
    full = run(["corpus"], folder / "full", options=OPTIONS, reuse=False)
    assert release_as_published(folder / "incremental") == release_as_published(folder / "full")
    assert (report.read, report.published, report.rejected) == (full.read, full.published, full.rejected)
    assert full.reused == 0 and report.reused == unchanged_published(previous, corpus)
    assert report.read == report.published + report.rejected


def test_unchanged_records_are_taken_from_the_cache_in_worker_processes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy_corpus(tmp_path / "corpus", sorted(SEEDS.rglob("*.txt")))
    options = Options(base=BASE, date=DAY, workers=2, batch_size=5)
    run(["corpus"], tmp_path / "out", options=options)
    shutil.copytree(tmp_path / "out", tmp_path / "full")
    rewrite(sorted((tmp_path / "corpus").rglob("*.txt"))[7], "标题", "改过的标题")
    report = run(["corpus"], tmp_path / "out", options=options)
    assert report.reused == report.published - 1 > 10
    assert 0 < report.copied_buckets < len(kept_buckets(tmp_path / "out"))  # the changed title's are rendered
    run(["corpus"], tmp_path / "full", options=options, reuse=False)
    assert release_as_published(tmp_path / "out") == release_as_published(tmp_path / "full")
    assert "改过的标题" in (tmp_path / "out" / "articles.nt").read_text(encoding="utf-8")


def test_the_manifest_names_every_input_with_its_size_checksum_and_record_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = copy_corpus(tmp_path / "corpus", CORPUS)
    (corpus / "rmrb" / "bad.txt").write_text("not a record\n", encoding="utf-8")
    report = run(["corpus"], tmp_path / "out", options=OPTIONS)
    entries = [json.loads(line) for line in (tmp_path / "out/_publisher/inputs.jsonl").read_text().splitlines()]
    assert len(entries) == report.read == report.published + report.rejected
    for entry in entries:
        data = (tmp_path / entry["file"]).read_bytes()
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert {e["outcome"] for e in entries} == {"published", "rejected"}
    assert {e["id"] for e in entries if e["outcome"] == "published"} == {p.stem for p in CORPUS}


def test_a_release_made_with_other_options_is_not_reused_and_the_run_says_why(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy_corpus(tmp_path / "corpus", CORPUS)
    run(["corpus"], tmp_path / "out", options=OPTIONS)
    report = run(["corpus"], tmp_path / "out", options=Options(base=BASE, date=DAY, workers=1, lang="zh"))
    assert report.reused == 0 and "other options" in report.cache_note
    assert report.copied_buckets == 0  # its buckets were written under other options too


def test_a_cache_edited_behind_the_release_check_is_not_used(tmp_path, monkeypatch):
    """Bytes that were not read as a record never reach a release: a piece rewritten in the cache, with the
    file's size and time kept so that the release check cannot see it, makes the cache unusable."""
    monkeypatch.chdir(tmp_path)
    copy_corpus(tmp_path / "corpus", CORPUS)
    out = tmp_path / "out"
    run(["corpus"], out, options=OPTIONS)
    clean = snapshot(out)
    cache = out / "_publisher" / "records.sqlite"
    stat = cache.stat()
    connection = sqlite3.connect(cache)
    from pipeline.cache import decode, encode

    name, sha, blob = connection.execute("SELECT key, sha256, piece FROM pieces LIMIT 1").fetchone()
    piece = decode(blob)
    # the body's line, its text replaced by a shorter one: the row shrinks, the file keeps its size
    longest = max(range(len(piece.chunks)), key=lambda i: len(piece.chunks[i][1]))
    bucket, chunk = piece.chunks[longest]
    lines = chunk.decode("utf-8").split("\n")[:-1]
    body = max(range(len(lines)), key=lambda i: len(lines[i]))
    lines[body] = lines[body][:lines[body].index('"')] + '"FORGED" .'
    forged = list(piece.chunks)
    forged[longest] = (bucket, ("\n".join(lines) + "\n").encode("utf-8"))
    connection.execute("UPDATE pieces SET piece = ? WHERE key = ?", (encode(type(piece)(
        piece.outcome, forged, piece.container_claims, piece.targets, piece.agents)), name))
    connection.commit()
    connection.close()
    assert cache.stat().st_size == stat.st_size  # what the release check sees is unchanged
    os.utime(cache, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = run(["corpus"], out, options=OPTIONS)
    assert report.reused == 0 and "changed since" in report.cache_note
    assert b"FORGED" not in (out / "articles.nt").read_bytes()
    assert snapshot(out)["articles.nt"] == clean["articles.nt"]


def test_since_takes_records_from_another_release_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy_corpus(tmp_path / "corpus", CORPUS)
    run(["corpus"], tmp_path / "one", options=OPTIONS)
    report = run(["corpus"], tmp_path / "two", options=OPTIONS, since=tmp_path / "one")
    assert report.reused == len(CORPUS)
    assert report.copied_buckets == len(kept_buckets(tmp_path / "one")) > 0
    assert snapshot(tmp_path / "two")["articles.nt"] == snapshot(tmp_path / "one")["articles.nt"]
    with pytest.raises(PipelineError, match="holds no release"):
        run(["corpus"], tmp_path / "three", options=OPTIONS, since=tmp_path / "nothing")


def test_the_cli_reports_reuse_and_refuses_since_with_full(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy_corpus(tmp_path / "corpus", CORPUS)
    runner = CliRunner()
    first = runner.invoke(main, ["run", "corpus", "-o", "out", "--base", BASE, "-q", "--workers", "1"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["run", "corpus", "-o", "out", "--base", BASE, "-q", "--workers", "1"])
    assert f"{len(CORPUS)} unchanged records taken from the previous release, 0 processed" in second.output
    both = runner.invoke(main, ["run", "corpus", "-o", "out", "--since", "out", "--full"])
    assert both.exit_code == 2 and "contradict" in both.output


def test_since_names_what_is_wrong_with_a_folder_that_is_not_a_release(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy_corpus(tmp_path / "corpus", CORPUS)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("a user's file", encoding="utf-8")
    with pytest.raises(PipelineError, match="--since .* is not a release"):
        run(["corpus"], tmp_path / "out", options=OPTIONS, since=tmp_path / "mine")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(PipelineError, match="holds no release"):
        run(["corpus"], tmp_path / "out", options=OPTIONS, since=tmp_path / "file")
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "a user's file"


def test_a_cache_that_is_gone_when_a_worker_opens_it_costs_only_speed(tmp_path):
    from pipeline.cache import Reader
    from pipeline.sources import Source

    reader = Reader(str(tmp_path / "gone" / "records.sqlite"))
    assert reader.pieces([Source("corpus/a.txt", b"x")], ["0" * 64]) == {}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_release_may_keep_no_record_cache(tmp_path, workers):
    """--no-record-cache: the same published files without _publisher/records.sqlite; the next run processes
    every record and says why; a run that keeps none still takes records from a previous release's cache."""
    options = dataclasses.replace(OPTIONS, workers=workers)
    plain, bare = tmp_path / "plain", tmp_path / "bare"
    run([SEEDS], plain, options=options)
    run([SEEDS], bare, options=dataclasses.replace(options, record_cache=False))
    assert not (bare / "_publisher" / "records.sqlite").exists()
    published = {name: data for name, data in snapshot(plain).items() if not name.startswith(("_publisher/", "."))}
    assert published == {name: data for name, data in snapshot(bare).items() if name in published}
    again = run([SEEDS], bare, options=options)
    assert again.reused == 0 and "--no-record-cache" in again.cache_note
    assert (bare / "_publisher" / "records.sqlite").exists()
    taken = run([SEEDS], plain, options=dataclasses.replace(options, record_cache=False))
    assert taken.reused == taken.published > 0 and not (plain / "_publisher" / "records.sqlite").exists()
    assert {name: data for name, data in snapshot(plain).items() if name in published} == published


def test_the_cli_keeps_no_record_cache_when_asked(tmp_path):
    result = CliRunner().invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(tmp_path / "out"), "--base", BASE,
                                       "--no-record-cache", "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "out" / "_publisher" / "records.sqlite").exists()
    assert (tmp_path / "out" / "articles.nt").stat().st_size > 0


def test_a_rerun_counts_as_reused_every_record_it_did_not_process_again(tmp_path, monkeypatch):
    """A printing the parent leaves out as conflicting was taken from the cache too: reused counts it, so
    that 'N processed' (read - reused) is the records that really were, here the rejected ones."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "tests" / "fixtures" / "bad", tmp_path / "corpus")
    first = run(["corpus"], tmp_path / "out", options=OPTIONS)
    conflicting = sum(r.problems[0].code == "conflict.same-book" for r in first.rejects)
    assert conflicting >= 1
    again = run(["corpus"], tmp_path / "out", options=OPTIONS)
    assert again.reused == first.published + conflicting
    assert again.read - again.reused == first.rejected - conflicting


def test_a_renamed_input_folder_still_takes_unchanged_records_under_their_new_names(tmp_path, monkeypatch):
    """The cache is keyed by what a piece depends on, the file's book folder, name and bytes, not by the input
    as typed: after corpus-11 is renamed corpus-12, a rerun takes every record in a book folder from the cache,
    reported (warnings included) under its new name, and publishes what a full run does. A record directly in
    the input folder has that folder as its container, so its IRIs change and it is processed again."""
    monkeypatch.chdir(tmp_path)
    copy_corpus(tmp_path / "corpus-11", sorted(SEEDS.rglob("*.txt")))
    loose = len(list(SEEDS.glob("*.txt")))
    first = run(["corpus-11"], tmp_path / "out", options=OPTIONS)
    assert first.warnings and loose >= 1
    shutil.copytree(tmp_path / "out", tmp_path / "full")
    (tmp_path / "corpus-11").rename(tmp_path / "corpus-12")
    report = run(["corpus-12"], tmp_path / "out", options=OPTIONS)
    assert report.reused == report.published - loose
    run(["corpus-12"], tmp_path / "full", options=OPTIONS, reuse=False)
    assert release_as_published(tmp_path / "out") == release_as_published(tmp_path / "full")
    told = (tmp_path / "out" / "_publisher" / "report.json").read_text(encoding="utf-8")
    assert "corpus-11" not in told and "corpus-12/" in told
    again = run(["corpus-12"], tmp_path / "out", options=OPTIONS)  # the new cache holds the new names
    assert again.reused == again.published


def test_a_bucket_whose_bytes_changed_behind_the_release_is_rendered_not_copied(tmp_path, monkeypatch):
    """Bytes that were not read as a record never reach a release: an unchanged bucket's Turtle is copied from
    the previous release only if it still has the digest the bucket table gives; a dump edited since (its size
    kept) gets that bucket rendered again, and a table that is not the one its run wrote is not used at all."""
    monkeypatch.chdir(tmp_path)
    copy_corpus(tmp_path / "corpus", CORPUS)
    out = tmp_path / "out"
    run(["corpus"], out, options=OPTIONS)
    clean, table = snapshot(out), kept_buckets(out)
    turtle = out / "articles.ttl"
    data = bytearray(turtle.read_bytes())
    number, _, ((start, length, _), _), _ = max(table, key=lambda entry: entry[2][0][1])
    at = data.index(b'"', start, start + length)  # the first literal of the bucket's Turtle
    data[at + 1:at + 7] = b"FORGED"
    stat = turtle.stat()
    turtle.write_bytes(bytes(data))
    os.utime(turtle, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # so that the release check cannot see it
    report = run(["corpus"], out, options=OPTIONS)
    assert report.reused == len(CORPUS) and report.copied_buckets == len(table) - 1
    assert b"FORGED" not in turtle.read_bytes() and snapshot(out)["articles.ttl"] == clean["articles.ttl"]

    from pipeline import kept
    from pipeline.release import inspect

    about = inspect(out).about
    assert len(kept.read_table(out, about, about["buckets"]["fingerprint"])) == len(table)
    assert kept.read_table(out, about, "another fingerprint") == {}
    edited = {**about, "buckets": {**about["buckets"], "sha256": "0" * 64}}  # as a table edited since would be
    assert kept.read_table(out, edited, about["buckets"]["fingerprint"]) == {}
