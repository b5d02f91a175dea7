"""The record cache a release keeps for the next run, and the manifest of its inputs: each published record's
piece (batch.Piece) by its file's key and SHA-256, valid only under the same code, options, shapes and authorities.

A cache changes how fast a run is, never what it publishes: a piece is a pure function of the file's key (its
container and name), bytes and the name it is reported under, under one fingerprint; a cached piece gets the name
of the file it is taken for, so a record taken from the cache is what processing it again would give. A cache
that is missing, damaged, edited since its run (its SHA-256 is in the release marker) or made under another
fingerprint is not used, and the run says why (Report.cache_note)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from array import array
from dataclasses import asdict, fields, replace
from importlib import metadata
from pathlib import Path

from isal.isal_zlib import compress, decompress, error as CompressionError

from .batch import BatchSetup, Outcome, Piece
from .iris import container_and_name
from .problems import Problem
from .terms import Lit

FILE = "records.sqlite"   # in the publisher's folder of a release
INPUTS = "inputs.jsonl"   # ibid.: the manifest, one JSON line per input file
_SCHEMA = "CREATE TABLE pieces (key TEXT NOT NULL, sha256 TEXT NOT NULL, piece BLOB NOT NULL, PRIMARY KEY (key, sha256))"
_LEVEL = 1  # ISA-L's zlib at level 1: 48 us a record against zlib's 158, ~4x smaller (21 KB -> 5.5 KB a record)


# --------------------------------------------------------------------------- what a cache is valid for

def fingerprint(setup: BatchSetup) -> str:
    """The SHA-256 of everything besides a file's name and bytes that shapes its piece: the pipeline's own
    files (code, vocabularies), the setup's options, the shapes and the authorities file, the versions of
    rdflib and pyshacl. Any change to one of them makes every record be processed again."""
    from .validate import default_shapes_dir

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(f"{path.relative_to(package).as_posix()}\0".encode("utf-8"))
            digest.update(path.read_bytes())
    # pyshacl_batch is left out: how many records pyshacl validates at a time changes no result (the
    # release tests compare outputs across batch sizes), and a rerun with another --batch-size may reuse;
    # so is keep_pieces: whether this release keeps a cache changes no piece
    options = {field.name: getattr(setup, field.name) for field in fields(setup)
               if field.name not in ("cache", "pyshacl_batch", "keep_pieces")}
    digest.update(json.dumps(options, sort_keys=True, default=str).encode("utf-8"))
    shapes = Path(setup.shapes) if setup.shapes else default_shapes_dir()
    for path in sorted(shapes.glob("*.ttl")):
        digest.update(f"shape {path.name}\0".encode("utf-8") + path.read_bytes())
    if setup.authorities:
        digest.update(b"authorities\0" + Path(setup.authorities).read_bytes())
    for package_name in ("rdflib", "pyshacl"):
        try:
            digest.update(f"{package_name} {metadata.version(package_name)}\0".encode("utf-8"))
        except metadata.PackageNotFoundError:
            digest.update(f"{package_name} absent\0".encode("utf-8"))
    return digest.hexdigest()


def usable(folder: Path, about: dict, wanted: str) -> tuple[Path | None, str | None]:
    """The cache of the release in folder if this run may take records from it, else (None, why not)."""
    from .metadata import sha256_of
    from .release import PUBLISHER

    kept = about.get("cache") or {}
    path = folder / PUBLISHER / FILE
    if not kept or not path.is_file():
        return None, (f"the release in '{folder}' keeps no record cache (made with --no-record-cache, or by an "
                      "earlier version)")
    if kept.get("fingerprint") != wanted:
        return None, (f"the release in '{folder}' was made with other options, shapes, authorities or another "
                      "version of the pipeline")
    if sha256_of(path) != kept.get("sha256"):
        return None, f"the record cache of '{folder}' changed since its run wrote it"
    return path, None


# --------------------------------------------------------------------------- what a piece is filed under

def key(name: str) -> str:
    """The part of a reported name a piece depends on: the file's container and name (iris.container_and_name;
    the rest is the input as typed). Keyed by it, a rerun from a renamed or moved input folder, or one named
    from another working folder (corpus-11 -> corpus-12, data/corpus -> corpus), still takes unchanged records."""
    container, file = container_and_name(name)
    return file if container is None else f"{container}/{file}"


def renamed(piece: Piece, name: str) -> Piece:
    """A cached piece as the file reported under name gives it: the name in its outcome and its warnings."""
    old = piece.outcome
    warnings = tuple(replace(w, file=name) if w.file == old.file else w for w in old.warnings)
    return replace(piece, outcome=replace(old, file=name, warnings=warnings))


# --------------------------------------------------------------------------- one piece as bytes

def encode(piece: Piece) -> bytes:
    """The number of chunks, their buckets (16-bit) and lengths (32-bit), the chunks as they are, then one
    JSON text of everything else: a cached piece's lines reach its shard as stored bytes, never decoded."""
    o = piece.outcome
    head = [o.file, o.id, [asdict(w) for w in o.warnings], o.printing, o.content, o.work, o.title, o.dates,
            [_plain(t) for t in o.claims], o.container, o.container_text, list(o.container_note),
            [[_plain(t), own] for t, own in piece.container_claims], piece.targets, piece.agents]
    buckets = array("H", [bucket for bucket, _ in piece.chunks]).tobytes()
    lengths = array("I", [len(chunk) for _, chunk in piece.chunks]).tobytes()
    return compress(b"".join([len(piece.chunks).to_bytes(4, "little"), buckets, lengths,
                              *(chunk for _, chunk in piece.chunks),
                              json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")]), _LEVEL)


def decode(blob: bytes) -> Piece:
    data = decompress(blob)
    count = int.from_bytes(data[:4], "little")
    buckets = array("H", data[4:4 + 2 * count])
    lengths = array("I", data[4 + 2 * count:4 + 6 * count])
    if len(buckets) != count or len(lengths) != count:
        raise ValueError("a cached piece cut short")
    chunks, position = [], 4 + 6 * count
    for bucket, length in zip(buckets, lengths):
        chunks.append((bucket, data[position:position + length]))
        position += length
    (file, record_id, warnings, printing, content, work, title, dates, claims, container, container_text, note,
     container_claims, targets, agents) = json.loads(data[position:].decode("utf-8"))
    outcome = Outcome("published", file, record_id, tuple(Problem(**w) for w in warnings), printing=printing,
                      content=content, work=work, title=title, dates=dates, claims=tuple(map(_triple, claims)),
                      container=container, container_text=container_text, container_note=tuple(note))
    return Piece(outcome, tuple(chunks), tuple((_triple(line), own) for line, own in container_claims),
                 tuple(map(tuple, targets)), tuple(agents))


def _plain(triple) -> list:
    """A triple as JSON: an IRI object as its string, a literal as [value, language, datatype]."""
    subject, predicate, obj = triple
    return [subject, predicate, obj if type(obj) is str else list(obj)]


def _triple(plain: list):
    subject, predicate, obj = plain
    return subject, predicate, obj if type(obj) is str else Lit(*obj)


# --------------------------------------------------------------------------- reading and writing

class Reader:
    """A previous release's cache, read-only, in whichever process a batch runs. A read that fails counts as
    a miss: the record is processed again."""

    def __init__(self, path: str):
        try:
            self.connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True,
                                              check_same_thread=False)
        except sqlite3.Error:
            self.connection = None  # gone since the run checked it (a --since release replaced meanwhile)

    def pieces(self, sources: list, shas: list[str]) -> dict[int, tuple[Piece, bytes | None]]:
        """position -> (the cached piece, as decoded and as stored) of each source the cache holds (by its
        key and SHA-256); as stored is None when the piece was renamed, since the stored bytes name another file."""
        found = {}
        if self.connection is None:
            return found
        for position, (source, sha) in enumerate(zip(sources, shas)):
            if sha == "unread":
                continue
            try:
                blob = self._blob(key(source.file), sha)
                if blob is not None:
                    piece = decode(blob)
                    found[position] = (piece, blob) if piece.outcome.file == source.file else \
                        (renamed(piece, source.file), None)
            except (sqlite3.Error, ValueError, TypeError, CompressionError):
                continue
        return found

    def _blob(self, key: str, sha: str) -> bytes | None:
        row = self.connection.execute("SELECT piece FROM pieces WHERE key = ? AND sha256 = ?", (key, sha)).fetchone()
        return row[0] if row else None


class Writer:
    """The cache of the release being made, written by the run's parent in input order, each piece as the
    batch sent it (processed, or as read from the previous cache): a rerun's cache is byte-identical to a
    full run's."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.connection = sqlite3.connect(path)
        self.connection.execute("PRAGMA journal_mode = OFF")  # a staging file: the release swap is the commit
        self.connection.execute("PRAGMA synchronous = OFF")
        self.connection.execute(_SCHEMA)

    def add(self, pieces) -> None:
        """pieces: (reported name, sha256, encoded piece, taken from the previous cache?)."""
        self.connection.executemany("INSERT OR REPLACE INTO pieces VALUES (?, ?, ?)",
                                    ((key(name), sha, blob) for name, sha, blob, _ in pieces))

    def close(self) -> None:
        self.connection.commit()
        self.connection.close()


class Inputs:
    """The release's manifest of its inputs: each file's name, size, SHA-256, the record id it produced and
    what became of it (published, rejected, excluded), one JSON line each, in input order."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.stream = open(path, "w", encoding="utf-8")

    def add(self, batch) -> None:
        for entry, size, outcome in zip(batch.manifest.split("\n"), batch.sizes, batch.outcomes):  # a name may hold U+2028
            sha, name = json.loads(entry)
            self.stream.write(json.dumps({"file": name, "size": None if size < 0 else size,
                                          "sha256": None if sha == "unread" else sha, "id": outcome.id,
                                          "outcome": outcome.kind}, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.stream.close()
