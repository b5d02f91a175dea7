"""Change sets: a release that replaces another writes the triples removed and added and an RDF Patch that
turns the previous N-Triples into its own; they chain, are listed everywhere files are, and reruns keep them."""

from __future__ import annotations

import gzip
import os
import shutil

import pyoxigraph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import Options, run
from pipeline.changes import ADDED, FILES, PATCH, REMOVED, apply_patch, bucket_index, diff, write_change_set
from pipeline.shards import bucket_of

from .conftest import BASE, SEEDS
from .test_release import snapshot

DAY = "2026-12-01"
SEED_FILES = sorted(SEEDS.rglob("*.txt"))


def lines(path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]


def release_order(line: str) -> tuple:
    return bucket_of(line[1:line.index(">")]), line


def header(patch: str, name: str) -> str:
    return next(row.split()[2] for row in patch.splitlines() if row.startswith(f"H {name} "))


def version_of(out) -> str:
    quads = list(pyoxigraph.parse(path=str(out / "void.ttl"), format=pyoxigraph.RdfFormat.TURTLE))
    versions = {q.object.value for q in quads
                if q.subject.value == BASE + "dataset" and q.predicate.value == "http://purl.org/dc/terms/hasVersion"}
    replaced = {q.object.value for q in quads if q.predicate.value == "http://purl.org/dc/terms/replaces"}
    (current,) = versions - replaced
    return current


def check_change_set(out, before: list[str], previous_version: str) -> None:
    after = lines(out / "articles.nt")
    patch = (out / "changes" / "changes.rdfp").read_text(encoding="utf-8")
    assert apply_patch(before, patch.splitlines()) == set(after)
    assert sorted(apply_patch(before, patch.splitlines()), key=release_order) == after  # the dump itself
    removed = gzip.decompress((out / "changes" / "removed.nt.gz").read_bytes()).decode("utf-8").split("\n")[:-1]
    added = gzip.decompress((out / "changes" / "added.nt.gz").read_bytes()).decode("utf-8").split("\n")[:-1]
    assert set(removed) == set(before) - set(after) and set(added) == set(after) - set(before)
    assert removed == sorted(removed, key=release_order) and added == sorted(added, key=release_order)
    for data in ("\n".join(removed), "\n".join(added)):  # strict, blank-node free N-Triples
        quads = list(pyoxigraph.parse(data.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES))
        assert not any(isinstance(term, pyoxigraph.BlankNode) for q in quads for term in (q.subject, q.object))
    assert header(patch, "prev") == f"<{previous_version}>" and header(patch, "id") == f"<{version_of(out)}>"
    assert patch.splitlines()[2] == "TX ." and patch.splitlines()[-1] == "TC ."


def test_a_release_that_replaces_another_writes_its_change_set(tmp_path):
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE, date=DAY))
    assert not (out / "changes").exists()  # a first release has nothing to compare with
    first, first_version = lines(out / "articles.nt"), version_of(out)
    run([SEEDS], out, options=Options(base=BASE, date=DAY))
    check_change_set(out, first, first_version)
    sums = (out / "SHA256SUMS").read_text(encoding="utf-8")
    readme = (out / "README.md").read_text(encoding="utf-8")
    void = (out / "void.ttl").read_text(encoding="utf-8")
    for name in ("changes/removed.nt.gz", "changes/added.nt.gz", "changes/changes.rdfp"):
        assert f"  {name}\n" in sums and f"`{name}`" in readme and f"dumps/{name}>" in void
    # a downloader who loads every RDF file of the folder would merge the removed triples into the graph
    assert "the change set is not part of this release's graph: load the dumps and `void.ttl`, not `changes/`" in readme
    assert "prov:wasRevisionOf" in void and "dcterms:replaces" in void
    # the next one chains: its H prev is this release's H id
    second, second_version = lines(out / "articles.nt"), version_of(out)
    run([SEEDS / "rmrb", SEEDS / "whb"], out, options=Options(base=BASE, date=DAY))
    check_change_set(out, second, second_version)


def test_a_rerun_of_the_same_release_keeps_its_change_set_byte_for_byte(tmp_path):
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE, date=DAY))
    run([SEEDS], out, options=Options(base=BASE, date=DAY))
    before = snapshot(out)
    run([SEEDS], out, options=Options(base=BASE, date=DAY))
    assert snapshot(out) == before and "changes/changes.rdfp" in before


def test_no_change_set_against_a_previous_dump_that_was_edited(tmp_path):
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE, date=DAY))
    # an edit that the release check cannot see (same size, same time) must not pass into a change set
    dump = out / "articles.nt"
    stat, data = dump.stat(), dump.read_bytes()
    at = data.index(b'"') + 1
    dump.write_bytes(data[:at] + (b"x" if data[at:at + 1] != b"x" else b"y") + data[at + 1:])
    os.utime(dump, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    run([SEEDS], out, options=Options(base=BASE, date=DAY))
    assert not (out / "changes").exists()
    assert "dcterms:replaces" not in (out / "void.ttl").read_text(encoding="utf-8")


def test_the_diff_streams_buckets_in_the_dumps_order(tmp_path):
    old, new = tmp_path / "old.nt", tmp_path / "new.nt"
    a = [f"<https://example.org/s{i}> <https://example.org/p> \"{i}\" ." for i in range(300)]
    b = a[50:] + [f"<https://example.org/t{i}> <https://example.org/p> <https://example.org/o> ." for i in range(40)]
    old.write_text("".join(f"{line}\n" for line in sorted(a, key=release_order)), encoding="utf-8")
    new.write_text("".join(f"{line}\n" for line in sorted(b, key=release_order)), encoding="utf-8")
    removed = [line for lost, _ in diff(old, new) for line in lost]
    added = [line for _, gained in diff(old, new) for line in gained]
    assert removed == sorted(a[:50], key=release_order) and added == sorted(b[250:], key=release_order)


def test_the_indexed_diff_is_the_streaming_diff(tmp_path):
    from pipeline.changes import bucket_index, diff_indexed

    old, new = tmp_path / "old.nt", tmp_path / "new.nt"
    a = [f"<https://example.org/s{i}> <https://example.org/p> \"{i} 文\" ." for i in range(400)]
    b = a[60:] + [f"<https://example.org/t{i}> <https://example.org/p> <https://example.org/o> ." for i in range(50)]
    indexes = []
    for path, chosen in ((old, a), (new, b)):
        ordered = sorted(chosen, key=release_order)
        path.write_text("".join(f"{line}\n" for line in ordered), encoding="utf-8")
        indexes.append(bucket_index((release_order(line)[0], len(line.encode("utf-8")) + 1) for line in ordered))
    assert list(diff_indexed(old, new, *indexes)) == list(diff(old, new)) != []


def _two_dumps(tmp_path, a: list[str], b: list[str]):
    """Two dumps in the release's order, and their bucket indexes."""
    paths, indexes = [tmp_path / "old.nt", tmp_path / "new.nt"], []
    for path, chosen in zip(paths, (a, b)):
        ordered = sorted(chosen, key=release_order)
        path.write_text("".join(f"{line}\n" for line in ordered), encoding="utf-8")
        indexes.append(bucket_index((release_order(line)[0], len(line.encode("utf-8")) + 1) for line in ordered))
    return paths, tuple(indexes)


def test_the_workers_write_the_parents_change_set_and_the_line_by_line_one(tmp_path):
    """The change set is written in parts (ranges of buckets); the parts are the same whoever writes them:
    two worker processes, the parent with the bucket indexes, or the parent line by line."""
    from pipeline.engine import PoolEngine

    a = [f"<https://example.org/s{i}> <https://example.org/p> \"{i} 文\" ." for i in range(3000)]
    b = a[:1000] + a[1100:] + [f"<https://example.org/t{i}> <https://example.org/p> <https://example.org/o> ."
                               for i in range(70)]
    (old, new), indexes = _two_dumps(tmp_path, a, b)
    written = {}
    with PoolEngine(2) as engine:
        for name, kwargs in (("workers", {"indexes": indexes, "engine": engine}), ("parent", {"indexes": indexes}),
                             ("lines", {})):
            write_change_set(tmp_path / name, old, new, version="urn:v2", previous="urn:v1", **kwargs)
            written[name] = snapshot(tmp_path / name)
    assert written["workers"] == written["parent"] == written["lines"]
    assert sorted(written["parent"]) == sorted(FILES)  # the parts are joined and gone
    removed = gzip.decompress(written["parent"][REMOVED]).decode("utf-8").splitlines()
    added = gzip.decompress(written["parent"][ADDED]).decode("utf-8").splitlines()
    assert removed == sorted(a[1000:1100], key=release_order)
    assert added == sorted(b[-70:], key=release_order)
    assert apply_patch(a, written["parent"][PATCH].decode("utf-8").splitlines()) == set(b)


def test_a_change_set_that_removes_nothing_still_has_a_gzip_file_of_nothing(tmp_path):
    a = [f"<https://example.org/s{i}> <https://example.org/p> \"{i}\" ." for i in range(50)]
    (old, new), indexes = _two_dumps(tmp_path, a, a + ["<https://example.org/x> <https://example.org/p> \"x\" ."])
    change = write_change_set(tmp_path / "changes", old, new, version="urn:v2", previous="urn:v1", indexes=indexes)
    assert (change.removed, change.added) == (0, 1)
    assert gzip.decompress((tmp_path / "changes" / REMOVED).read_bytes()) == b""


def test_a_rerun_diffs_by_bucket_index_and_an_edited_index_falls_back(tmp_path, monkeypatch):
    import pipeline.changes as changes

    calls = []
    streaming = changes.diff_buckets
    monkeypatch.setattr(changes, "diff_buckets", lambda old, new: calls.append(old) or streaming(old, new))
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE, date=DAY))
    first, first_version = lines(out / "articles.nt"), version_of(out)
    run([SEEDS], out, options=Options(base=BASE, date=DAY))
    assert calls == []  # both dumps had their index: no line-by-line pass
    check_change_set(out, first, first_version)
    index = out / "_publisher" / "articles.nt.buckets"  # edited behind the release check: not trusted
    stat, data = index.stat(), bytearray(index.read_bytes())
    data[8 * 100] ^= 1
    index.write_bytes(bytes(data))
    os.utime(index, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second, second_version = lines(out / "articles.nt"), version_of(out)
    run([SEEDS / "rmrb", SEEDS / "whb"], out, options=Options(base=BASE, date=DAY))
    assert len(calls) == 1
    check_change_set(out, second, second_version)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.sets(st.sampled_from(SEED_FILES), min_size=1), second=st.sets(st.sampled_from(SEED_FILES), min_size=1))
def test_the_patch_turns_any_release_into_any_other(tmp_path_factory, first, second):
    folder = tmp_path_factory.mktemp("edits")
    out = folder / "out"
    for name, chosen in (("a", first), ("b", second)):
        inputs = folder / name
        for path in chosen:
            target = inputs / path.relative_to(SEEDS)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    run([folder / "a"], out, options=Options(base=BASE, date=DAY))
    before, version = lines(out / "articles.nt"), version_of(out)
    run([folder / "b"], out, options=Options(base=BASE, date=DAY))
    if lines(out / "articles.nt") == before:
        assert not (out / "changes").exists()  # the same triples: the same release, nothing changed
    else:
        check_change_set(out, before, version)


def test_the_change_set_is_downloadable_where_void_says(tmp_path):
    """void.ttl gives dumps/changes/… as download URLs: the server and the static site list and serve them,
    and nothing SHA256SUMS names outside the release."""
    from pipeline.pages import Release

    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE, date=DAY))
    run([SEEDS], out, options=Options(base=BASE, date=DAY))
    names = Release.read(out).names()
    assert {"changes/changes.rdfp", "changes/added.nt.gz", "changes/removed.nt.gz", "articles.nt"} <= names
    assert any(name.startswith("queries/") for name in names)
    (tmp_path / "secret.txt").write_text("not the release's", encoding="utf-8")
    sums = out / "SHA256SUMS"
    sums.write_text(sums.read_text(encoding="utf-8") + "0" * 64 + "  ../secret.txt\n", encoding="utf-8")
    assert "../secret.txt" not in Release.read(out).names()
