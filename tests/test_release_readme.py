"""The release explains itself: README.md and CITATION.cff written from the release, a meaningful date,
placeholders called out, the publisher's files apart from what is published (issue 10)."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil

import pyoxigraph
from click.testing import CliRunner

from pipeline import Options, run
from pipeline.cli import main

from .conftest import BASE, SEEDS, seed_facts

REAL = dict(base=BASE, publisher="Test Archive")


def table_rows(readme: str, heading: str) -> list[list[str]]:
    section = readme.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("|") and not line.startswith("| ---") and not line.startswith("| file")
            and not line.startswith("| |")]


def test_the_readme_lists_every_file_with_its_real_size_and_checksum(seeds_release):
    out, _ = seeds_release
    readme = (out / "README.md").read_text(encoding="utf-8")
    rows = {row[0].strip("`"): row for row in table_rows(readme, "Files")}
    public = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")
              and p.relative_to(out).parts[0] != "_publisher" and p.name not in ("README.md", "SHA256SUMS")}
    assert set(rows) == public and "CITATION.cff" in rows and any(n.startswith("queries/") for n in rows)
    for name, (_, size, media, sha) in rows.items():
        data = (out / name).read_bytes()
        assert int(size.replace(",", "")) == len(data) and sha.strip("`") == hashlib.sha256(data).hexdigest(), name
        assert media


def test_the_readme_counts_are_the_graphs(seeds_release):
    out, report = seeds_release
    store = pyoxigraph.Store()
    store.load(path=str(out / "articles.nt"), format=pyoxigraph.RdfFormat.N_TRIPLES)

    def instances(*classes: str) -> int:
        values = " ".join(f"<http://schema.org/{c}>" for c in classes) if classes[0][0].isupper() else classes[0]
        (row,) = store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?c {{ {values} }} ?s a ?c }}")
        return int(row[0].value)

    counts = {row[0]: int(row[1].replace(",", "")) for row in
              table_rows((out / "README.md").read_text(encoding="utf-8"), "What is in it")}
    facts = seed_facts()
    assert counts["records read"] == counts["published"] == facts["records"] == report.read
    assert counts["articles (works)"] == facts["articles"] == instances("CreativeWork")
    assert counts["printings"] == instances("<http://purl.org/dc/terms/BibliographicResource>")
    assert counts["agents (people and organisations)"] == instances("Person", "Organization")
    assert counts["containers (books, newspapers, databases, websites)"] == instances("Book", "Periodical", "Newspaper", "Collection", "WebSite")
    assert counts["tags (topics and forms)"] == instances("<http://www.w3.org/2004/02/skos/core#Concept>")
    assert counts["triples"] == len(store) == report.triples


def test_citation_file_and_rights_are_there(tmp_path):
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(**REAL, date="2026-11-30"))
    cff = (out / "CITATION.cff").read_text(encoding="utf-8")
    assert "cff-version: 1.2.0" in cff and "date-released: 2026-11-30" in cff and '"Test Archive"' in cff
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "rightsstatements.org/vocab/CNE/1.0/" in readme and "Test Archive (2026)" in readme
    assert "Placeholder" not in readme and json.loads((out / "_publisher" / "report.json").read_text())["notices"] == []


def test_placeholders_are_called_out_everywhere(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(out)])
    assert result.exit_code == 0 and result.output.count("placeholder:") == 2
    assert (out / "README.md").read_text(encoding="utf-8").count("**Placeholder:**") == 2
    assert len(json.loads((out / "_publisher" / "report.json").read_text(encoding="utf-8"))["notices"]) == 2


def test_reruns_in_place_are_byte_identical_and_changes_are_described(tmp_path):
    from .test_release import snapshot

    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(**REAL))
    first = snapshot(out)
    assert "first release in its folder" in (out / "README.md").read_text(encoding="utf-8")
    run([SEEDS / "rmrb"], out, options=Options(**REAL))
    assert snapshot(out) == first
    run([SEEDS], out, options=Options(**REAL))
    text = (out / "README.md").read_text(encoding="utf-8")
    assert "Compared with the release of" in text and re.search(r"- published: [\d,]+ → [\d,]+", text)


def test_the_date_is_the_release_day_not_an_input_files(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    inputs = tmp_path / "in"
    shutil.copytree(SEEDS / "rmrb", inputs)
    for path in inputs.iterdir():
        os.utime(path, (978307200, 978307200))  # 2001-01-01: a fresh clone dates files to the clone
    out = tmp_path / "out"
    run([inputs], out, options=Options(**REAL))
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    assert f"| release date | {today} |" in (out / "README.md").read_text(encoding="utf-8")
    # a release made on another day, rerun with the same inputs, keeps its date (and its bytes)
    run([inputs], out, options=Options(**REAL, date="2020-05-04"))
    run([inputs], out, options=Options(**REAL))
    assert "| release date | 2020-05-04 |" in (out / "README.md").read_text(encoding="utf-8")


def test_the_publishers_files_are_apart(seeds_release):
    out, _ = seeds_release
    assert (out / "_publisher" / "report.json").is_file() and (out / "_publisher" / "rejects").is_dir()
    assert not (out / "report.json").exists() and not (out / "rejects").exists()
    assert "_publisher" not in (out / "SHA256SUMS").read_text(encoding="utf-8")


def test_a_partial_download_works_with_query_and_serve(seeds_release, tmp_path):
    """Only articles.nt.gz, void.ttl and SHA256SUMS: the store loads from the gzip dump."""
    from .test_security import post_query, start_serve

    out, report = seeds_release
    partial = tmp_path / "download"
    partial.mkdir()
    for name in ("articles.nt.gz", "void.ttl", "SHA256SUMS"):
        shutil.copy(out / name, partial / name)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    local = CliRunner().invoke(main, ["query", count, "--release", str(partial), "--store", str(tmp_path / "s"),
                                      "--format", "csv"])
    assert local.exit_code == 0 and int(local.output.split()[1]) > report.triples, local.output
    process, root = start_serve(partial, tmp_path / "s2")
    try:
        status, _, body = post_query(root, "ASK { ?s a <http://schema.org/CreativeWork> }")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert status == 200 and json.loads(body)["boolean"] is True
    (partial / "articles.nt.gz").unlink()
    missing = CliRunner().invoke(main, ["query", "ASK {}", "--release", str(partial), "--store", str(tmp_path / "s3")])
    assert missing.exit_code == 3 and "holds neither" in missing.output and "Traceback" not in missing.output
