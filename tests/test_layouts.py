"""Input and output layouts that must never lose a user's file or leak one into a release (issue 8).

Each case builds a layout in a temporary folder (symlinks, FIFOs and odd names cannot live in git), runs
`pipeline run` as a user would, and checks what happened: the exit code, a phrase of the message, that
every file the user had is still there byte for byte, and that no temporary folder is left behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from pipeline import Options, run
from pipeline.release import MARKER, Lock, OutputError

from .conftest import BASE, ROOT, SEEDS

RMRB = SEEDS / "rmrb"
SECRET = "TOP-SECRET-7c1f"


@dataclass
class Layout:
    """What a case set up: the command's arguments (relative to the folder) and the files to keep."""

    args: list[str]
    keep: list[str] = field(default_factory=list)  # user files that must survive unchanged
    cwd: str = "."


def copy_records(folder: Path, count: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(RMRB.glob("*.txt"))[:count]:
        shutil.copy(path, folder / path.name)


def release_in(folder: Path) -> None:
    """A real earlier release in folder."""
    run([RMRB], folder, options=Options(base=BASE))


def input_inside_output(tmp: Path) -> Layout:
    release_in(tmp / "rel")
    copy_records(tmp / "rel" / "records")
    return Layout(["rel/records", "-o", "rel"], keep=["rel/records"])


def user_file_beside_a_report(tmp: Path) -> Layout:
    (tmp / "photos").mkdir()
    (tmp / "photos" / "report.json").write_text("{}")
    (tmp / "photos" / "a.jpg").write_bytes(b"\xff\xd8 a photo")
    copy_records(tmp / "in")
    return Layout(["in", "-o", "photos"], keep=["photos/a.jpg", "photos/report.json", "in"])


def only_a_readme(tmp: Path) -> Layout:
    (tmp / "docs").mkdir()
    (tmp / "docs" / "README.md").write_text("my notes")
    copy_records(tmp / "in")
    return Layout(["in", "-o", "docs"], keep=["docs/README.md"])


def user_file_added_to_a_release(tmp: Path) -> Layout:
    release_in(tmp / "out")
    (tmp / "out" / "notes.txt").write_text("mine")
    copy_records(tmp / "in")
    return Layout(["in", "-o", "out"], keep=["out/notes.txt"])


def output_inside_input(tmp: Path) -> Layout:
    copy_records(tmp / "in")
    return Layout(["in", "-o", "in/release"], keep=["in"])


def current_folder(tmp: Path) -> Layout:
    copy_records(tmp / "in")
    (tmp / "work").mkdir()
    return Layout(["../in", "-o", "."], cwd="work", keep=["in", "work"])


def secret_symlink(tmp: Path) -> Layout:
    (tmp / "private").mkdir()
    (tmp / "private" / "secret.txt").write_text(f"id: s1\n标题：{SECRET}\n")
    copy_records(tmp / "in")
    os.symlink(tmp / "private" / "secret.txt", tmp / "in" / "link.txt")
    return Layout(["in", "-o", "out"], keep=["private/secret.txt"])


def empty_input_over_a_release(tmp: Path) -> Layout:
    release_in(tmp / "out")
    (tmp / "empty").mkdir()
    return Layout(["empty", "-o", "out"])


def all_symlinks_over_a_release(tmp: Path) -> Layout:
    release_in(tmp / "out")
    (tmp / "elsewhere").mkdir()
    copy_records(tmp / "elsewhere")
    (tmp / "links").mkdir()
    for path in (tmp / "elsewhere").iterdir():
        os.symlink(path, tmp / "links" / path.name)
    return Layout(["links", "-o", "out"])


def fifo_argument(tmp: Path) -> Layout:
    os.mkfifo(tmp / "pipe.txt")
    return Layout(["pipe.txt", "-o", "out"])


@dataclass(frozen=True)
class Case:
    build: Callable[[Path], Layout]
    exit_code: int
    says: str
    release_untouched: bool = True  # OUT (if it existed) is byte-identical afterwards


CASES = {
    "input-inside-output": Case(input_inside_output, 3, "is inside the output folder"),
    "user-file-beside-report-json": Case(user_file_beside_a_report, 3, "holds files that no run wrote"),
    "folder-with-only-a-readme": Case(only_a_readme, 3, "holds files that no run wrote"),
    "user-file-added-to-a-release": Case(user_file_added_to_a_release, 3, "notes.txt"),
    "output-inside-input": Case(output_inside_input, 3, "is inside the input folder"),
    "current-folder-as-output": Case(current_folder, 3, "is the current folder"),
    "symlink-out-of-the-inputs": Case(secret_symlink, 1, "outside the input folders", release_untouched=False),
    "empty-input-over-a-release": Case(empty_input_over_a_release, 3, "--allow-empty"),
    "all-symlinks-over-a-release": Case(all_symlinks_over_a_release, 3, "--allow-empty"),
    "fifo-on-the-command-line": Case(fifo_argument, 3, "is a FIFO"),
}


def snapshot(folder: Path) -> dict[str, bytes]:
    if folder.is_file():
        return {"": folder.read_bytes()}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def pipeline(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "run", *args, "--base", BASE, "-q"], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("name", sorted(CASES))
def test_layout(name, tmp_path):
    case = CASES[name]
    layout = case.build(tmp_path)
    kept = {path: snapshot(tmp_path / path) for path in layout.keep}
    out = (tmp_path / layout.cwd / layout.args[layout.args.index("-o") + 1]).resolve()
    before = snapshot(out) if out.is_dir() else None
    done = pipeline(layout.args, tmp_path / layout.cwd)
    assert done.returncode == case.exit_code, done.stdout + done.stderr
    assert case.says in done.stdout + done.stderr, done.stdout + done.stderr
    for path, content in kept.items():
        assert snapshot(tmp_path / path) == content, f"{path} changed"
    if case.release_untouched and before is not None:
        assert snapshot(out) == before
    leftovers = [p.name for p in out.parent.iterdir() if ".tmp-" in p.name or p.name.endswith(".lock")]
    assert not leftovers


def test_a_symlinked_file_never_reaches_the_release(tmp_path):
    """The target's bytes are in no file of the release (the quarantine copies only what was read)."""
    secret_symlink(tmp_path)
    report = run([tmp_path / "in"], tmp_path / "out", options=Options(base=BASE))
    (reject,) = report.rejects
    assert reject.file == "in/link.txt" and reject.data is None and "not read" in reject.problems[0].message
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
            assert str(tmp_path).encode() not in path.read_bytes(), f"{path} names a local absolute path"


def test_symlinks_inside_the_inputs_are_followed_and_folders_reported(tmp_path):
    copy_records(tmp_path / "in" / "a", 2)
    os.symlink(tmp_path / "in" / "a" / sorted(os.listdir(tmp_path / "in" / "a"))[0], tmp_path / "in" / "b.txt")
    os.symlink(tmp_path / "in" / "a", tmp_path / "in" / "c")
    (tmp_path / "in" / "UPPER.TXT").write_bytes((RMRB / sorted(os.listdir(RMRB))[5]).read_bytes())
    os.mkfifo(tmp_path / "in" / "pipe.txt")
    report = run([tmp_path / "in"], tmp_path / "out", options=Options(base=BASE))
    assert report.read == report.published == 4  # two in a/, the link to one of them, UPPER.TXT
    assert sorted((s.name, s.reason.split(";")[0]) for s in report.skipped) == [
        ("in/c", "a symlinked folder is not followed"), ("in/pipe.txt", "a FIFO (named pipe), not a record file")]
    listed = json.loads((tmp_path / "out" / "_publisher" / "report.json").read_text(encoding="utf-8"))
    assert listed["skipped"] == 2 and {s["file"] for s in listed["skipped_list"]} == {"in/c", "in/pipe.txt"}


def test_odd_file_names_are_reported_not_fatal(tmp_path):
    """Bytes that are not UTF-8 and newlines in names: escaped in the report, conflicts name the right file."""
    folder = tmp_path / "in"
    folder.mkdir()
    record = (RMRB / sorted(os.listdir(RMRB))[0]).read_bytes()
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as stream:
        stream.write(record)
    (folder / "first\nline.txt").write_bytes(record.replace("正文：".encode(), "正文：\n另一个版本".encode(), 1))
    report = run([folder], tmp_path / "out", options=Options(base=BASE, batch_size=1, workers=2))
    assert report.read == 2 and report.published == 1 and report.rejected == 1
    (reject,) = report.rejects
    names = {"in/caf\\xe9.txt", "in/first\\x0aline.txt"}
    assert reject.file in names and (names - {reject.file}).pop() in reject.problems[0].message
    listed = json.loads((tmp_path / "out" / "_publisher" / "report.json").read_text(encoding="utf-8"))
    assert listed["rejects"][0]["file"] == reject.file


def test_a_second_run_on_the_same_output_says_who_holds_it(tmp_path):
    copy_records(tmp_path / "in")
    with Lock(tmp_path / "out"):
        with pytest.raises(OutputError, match=r"another run .* is writing"):
            run([tmp_path / "in"], tmp_path / "out", options=Options(base=BASE))
        holder = subprocess.run([sys.executable, "-m", "pipeline", "run", str(tmp_path / "in"), "-o",
                                 str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
        assert holder.returncode == 3 and f"pid {os.getpid()}" in holder.stderr
    run([tmp_path / "in"], tmp_path / "out", options=Options(base=BASE))  # free again
    assert (tmp_path / "out" / MARKER).is_file()


def test_an_empty_release_replaces_one_only_when_asked(tmp_path):
    release_in(tmp_path / "out")
    (tmp_path / "empty").mkdir()
    report = run([tmp_path / "empty"], tmp_path / "out", options=Options(base=BASE, allow_empty=True))
    assert report.read == 0 and (tmp_path / "out" / "articles.nt").read_bytes() == b""


def test_a_symlinked_output_is_followed_and_kept(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    for _ in range(2):
        run([RMRB], tmp_path / "link", options=Options(base=BASE))
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_a_stale_staging_folder_is_removed_even_if_its_pid_is_alive(tmp_path):
    """Staging folders are stale by definition when the lock is free: no PID (which may be reused) decides."""
    stale = tmp_path / f".out.tmp-{os.getpid()}-x"
    stale.mkdir()
    (stale / ".zh-articles-staging").write_text("staging")
    foreign = tmp_path / ".out.tmp-someone-elses"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("not ours")
    run([RMRB], tmp_path / "out", options=Options(base=BASE))
    assert not stale.exists() and (foreign / "keep.txt").read_text() == "not ours"


def test_a_release_of_the_earlier_format_is_still_replaced(tmp_path):
    """Releases written before the marker existed (a top-level report.json listing its top-level files,
    and rejects/) stay replaceable; one with a file its report does not list is not."""
    old = tmp_path / "out"
    (old / "rejects").mkdir(parents=True)
    files = {"articles.nt": b"<http://x/a> <http://x/b> <http://x/c> .\n", "README.md": b"# output/\n"}
    for name, data in files.items():
        (old / name).write_bytes(data)
    (old / "rejects" / "0001-r.txt.reason.txt").write_text("file: r.txt\n")
    (old / "report.json").write_text(json.dumps({"published": 1, "files": {n: len(d) for n, d in files.items()}}))
    (old / "SHA256SUMS").write_text("")
    (old / "mine.txt").write_text("not listed")
    with pytest.raises(OutputError, match="mine.txt"):
        run([RMRB], old, options=Options(base=BASE))
    (old / "mine.txt").unlink()
    run([RMRB], old, options=Options(base=BASE))
    assert (old / MARKER).is_file() and not (old / "rejects").exists()


def test_a_release_missing_a_file_is_still_replaced_but_an_edited_one_is_not(tmp_path):
    release_in(tmp_path / "out")
    (tmp_path / "out" / "articles.ttl").unlink()  # deleted by its user: nothing of theirs to lose
    run([RMRB], tmp_path / "out", options=Options(base=BASE))
    assert (tmp_path / "out" / "articles.ttl").is_file()
    with open(tmp_path / "out" / "README.md", "a", encoding="utf-8") as stream:
        stream.write("my notes\n")  # edited: the run must not overwrite it
    with pytest.raises(OutputError, match="changed since the run wrote them: README.md"):
        run([RMRB], tmp_path / "out", options=Options(base=BASE))
