"""The dataset description is true: every count, size and checksum is recomputed here from the files."""

from __future__ import annotations

import gzip
from pathlib import Path
import hashlib
import json
import subprocess
from collections import Counter

import pyoxigraph

from pipeline.sources import discover
from pipeline.release import MARKER
from pipeline.serialize import DUMPS

from .conftest import BASE, SEEDS

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def triples(path, fmt=pyoxigraph.RdfFormat.N_TRIPLES) -> set:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return {(q.subject, q.predicate, q.object) for q in pyoxigraph.parse(data, format=fmt)}


def store(path):
    s = pyoxigraph.Store()
    s.load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    return s


def one(store, query):
    (row,) = list(store.query(query))
    return [term.value if term is not None else None for term in row]


def test_gzip_dump_holds_the_nt_graph(seeds_release):
    out, report = seeds_release
    assert gzip.decompress((out / "articles.nt.gz").read_bytes()) == (out / "articles.nt").read_bytes()
    assert len(triples(out / "articles.nt.gz")) == report.triples


def test_void_counts_are_true(seeds_release):
    out, _ = seeds_release
    graph = triples(out / "articles.nt")
    void = store(out / "void.ttl")
    dataset = f"<{BASE}dataset>"
    count, entities, classes, properties = one(void, f"""
        SELECT ?t ?e ?c ?p WHERE {{ {dataset} <{VOID}triples> ?t ; <{VOID}entities> ?e ;
                                              <{VOID}classes> ?c ; <{VOID}properties> ?p }}""")
    subjects = {s for s, _, _ in graph}
    assert int(count) == len(graph)
    assert int(entities) == len(subjects)
    by_class = Counter(o.value for s, p, o in graph if p.value == RDF_TYPE)
    by_property = Counter(p.value for _, p, _ in graph)
    assert int(classes) == len(by_class) and int(properties) == len(by_property)
    partitions = {row[0].value: int(row[1].value) for row in void.query(
        f"SELECT ?c ?n WHERE {{ {dataset} <{VOID}classPartition> [ <{VOID}class> ?c ; <{VOID}entities> ?n ] }}")}
    assert partitions == dict(by_class)
    partitions = {row[0].value: int(row[1].value) for row in void.query(
        f"SELECT ?p ?n WHERE {{ {dataset} <{VOID}propertyPartition> [ <{VOID}property> ?p ; <{VOID}triples> ?n ] }}")}
    assert partitions == dict(by_property)
    (example,) = one(void, f"SELECT ?x WHERE {{ {dataset} <{VOID}exampleResource> ?x }}")
    assert (pyoxigraph.NamedNode(example), pyoxigraph.NamedNode(RDF_TYPE),
            pyoxigraph.NamedNode("http://schema.org/CreativeWork")) in graph
    (space,) = one(void, f"SELECT ?x WHERE {{ {dataset} <{VOID}uriSpace> ?x }}")
    assert space == BASE and all(s.value.startswith(BASE) for s in subjects)


def test_distributions_sizes_and_checksums_are_true(seeds_release):
    out, _ = seeds_release
    void = store(out / "void.ttl")
    rows = list(void.query(f"""
        SELECT ?title ?size ?sha ?url ?media WHERE {{
          <{BASE}dataset> <{DCAT}distribution> ?d .
          ?d <http://purl.org/dc/terms/title> ?title ; <{DCAT}byteSize> ?size ; <{DCAT}downloadURL> ?url ;
             <{DCAT}mediaType> ?media ; <{SPDX}checksum> [ <{SPDX}checksumValue> ?sha ] }}"""))
    assert {row[0].value for row in rows} == {dump.name for dump in DUMPS}
    for title, size, sha, url, media in rows:
        data = (out / title.value).read_bytes()
        assert int(size.value) == len(data)
        assert sha.value == hashlib.sha256(data).hexdigest()
        assert url.value == f"{BASE}dumps/{title.value}"
        assert media.value.startswith("https://www.iana.org/assignments/media-types/")
    dumps = {row[0].value for row in void.query(f"SELECT ?u WHERE {{ <{BASE}dataset> <{VOID}dataDump> ?u }}")}
    assert dumps == {row[3].value for row in rows}


def test_provenance_names_software_input_checksum_and_count(seeds_release):
    out, report = seeds_release
    void = store(out / "void.ttl")
    version, documents, sha = one(void, f"""
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?v ?n ?sha WHERE {{ <{BASE}dataset> prov:wasGeneratedBy ?run .
          ?run prov:wasAssociatedWith [ <http://schema.org/softwareVersion> ?v ] ; prov:used ?input .
          ?input <{VOID}documents> ?n ; <{SPDX}checksum> [ <{SPDX}checksumValue> ?sha ] }}""")
    from pipeline import __version__
    assert version == __version__ and int(documents) == report.read
    manifest = "".join(json.dumps([hashlib.sha256(Path(f.path).read_bytes()).hexdigest(), f.name], ensure_ascii=False)
                       + "\n" for f in discover([SEEDS]))
    assert sha == hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def test_dataset_jsonld_agrees_with_the_files(seeds_release):
    out, report = seeds_release
    document = json.loads((out / "dataset.jsonld").read_text(encoding="utf-8"))
    assert document["@type"] == "Dataset" and document["@id"] == f"{BASE}dataset"
    assert document["@context"] == {"@vocab": "http://schema.org/"}
    for download in document["distribution"]:
        name = download["contentUrl"]["@id"].rsplit("/", 1)[1]
        data = (out / name).read_bytes()
        assert download["contentSize"] == f"{len(data)} B"
        assert download["sha256"] == hashlib.sha256(data).hexdigest()
    assert str(report.triples) in document["description"]
    dataset = triples(out / "dataset.jsonld", pyoxigraph.RdfFormat.JSON_LD)
    assert any(s.value == f"{BASE}dataset" and o.value == "http://schema.org/Dataset" for s, p, o in dataset)


def test_sha256sums_checks_with_sha256sum(seeds_release):
    out, _ = seeds_release
    names = {line.split("  ", 1)[1] for line in (out / "SHA256SUMS").read_text().splitlines()}
    public = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()
              and p.name not in ("SHA256SUMS", MARKER) and p.relative_to(out).parts[0] != "_publisher"}
    assert names == public and "README.md" in names and any(n.startswith("queries/") for n in names)
    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == len(names)


def test_description_options_and_reproducible_date(tmp_path, monkeypatch):
    from pipeline import Options, run

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")  # 2000-01-01
    run([SEEDS / "rmrb"], tmp_path / "a", options=Options(base=BASE, publisher="某档案馆",
                                                          sparql_endpoint="http://127.0.0.1:7878/query"))
    void = store(tmp_path / "a" / "void.ttl")
    created, endpoint, publisher = one(void, f"""
        SELECT ?c ?e ?n WHERE {{ <{BASE}dataset> <http://purl.org/dc/terms/created> ?c ;
            <{VOID}sparqlEndpoint> ?e ; <http://purl.org/dc/terms/publisher> [ <http://xmlns.com/foaf/0.1/name> ?n ] }}""")
    assert (created, endpoint, publisher) == ("2000-01-01", "http://127.0.0.1:7878/query", "某档案馆")
    run([SEEDS / "rmrb"], tmp_path / "b", options=Options(base=BASE, date="2026-01-31"))
    assert '"2026-01-31"^^xsd:date' in (tmp_path / "b" / "void.ttl").read_text(encoding="utf-8")


def test_download_base_without_slash_and_bad_iris(tmp_path):
    from click.testing import CliRunner

    from pipeline import Options, run
    from pipeline.cli import EXIT_USAGE, main

    run([SEEDS / "rmrb"], tmp_path / "a", options=Options(base=BASE, download_base="https://dl.example.org/v1"))
    assert "<https://dl.example.org/v1/articles.nt.gz>" in (tmp_path / "a" / "void.ttl").read_text(encoding="utf-8")
    for option in ("--license", "--download-base", "--sparql-endpoint"):
        result = CliRunner().invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(tmp_path / "b"), option, "not an iri"])
        assert result.exit_code == EXIT_USAGE and option in result.output, result.output
        assert not (tmp_path / "b").exists()


def test_rights_version_and_sources_say_where_each_printing_came_from(tmp_path):
    """Issue 12: every printing has a rights statement for its text and the record it came from."""
    from click.testing import CliRunner

    from pipeline.cli import main

    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "run", str(SEEDS / "rmrb"), "-o", str(out), "--base", BASE, "--version-label", "v1.2",
        "--rights", "http://rightsstatements.org/vocab/UND/1.0/",
        "--source-url", "https://archive.example/{container}/articles/{id}"])
    assert result.exit_code == 0, result.output
    graph = store(out / "articles.nt")
    rows = list(graph.query("""SELECT ?printing ?rights ?source ?identifier WHERE {
        ?printing a <http://purl.org/dc/terms/BibliographicResource> ; <http://purl.org/dc/terms/rights> ?rights ;
                  <http://www.w3.org/ns/prov#wasDerivedFrom> ?source ; <http://schema.org/isBasedOn> ?source .
        ?source <http://purl.org/dc/terms/identifier> ?identifier }"""))
    ids = sorted(p.stem for p in (SEEDS / "rmrb").glob("*.txt"))
    assert sorted(row["identifier"].value for row in rows) == [f"rmrb/{i}" for i in ids]
    assert {row["rights"].value for row in rows} == {"http://rightsstatements.org/vocab/UND/1.0/"}
    datasets = {row["d"].value for row in graph.query(
        "SELECT ?d WHERE { ?p <http://rdfs.org/ns/void#inDataset> ?d }")}
    assert datasets == {f"{BASE}dataset"} and len(rows) == len(ids)
    assert sorted(row["source"].value for row in rows) == [f"https://archive.example/rmrb/articles/{i}" for i in ids]
    void = store(out / "void.ttl")
    assert one(void, "SELECT ?v WHERE { ?d <http://schema.org/version> ?v }") == ["v1.2"]
    assert one(void, "SELECT ?r WHERE { ?d <http://purl.org/dc/terms/rights> ?r }") == \
        ["http://rightsstatements.org/vocab/UND/1.0/"]
    assert json.loads((out / "dataset.jsonld").read_text(encoding="utf-8"))["version"] == "v1.2"
    assert "UND/1.0/> (Copyright Undetermined)" in (out / "README.md").read_text(encoding="utf-8")


def test_a_source_url_template_must_be_one(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import main

    for template in ("https://archive.example/{title}", "https://archive.example/fixed", "ftp://x/{id}", "{id",
                     "https://archive.example/{id}?q=<script>"):
        result = CliRunner().invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(tmp_path / "out"),
                                           "--source-url", template])
        assert result.exit_code == 2 and "--source-url" in result.output, (template, result.output)
        assert not (tmp_path / "out").exists()
