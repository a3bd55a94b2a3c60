"""harness review answers every failure with an HTTP error the page shows (issue 32, item 5):
a lone surrogate in a note, a full disk, an unwritable directory, any other failure; ``--port``
checked (0..65535, in use, not allowed) naming ``--port``; a marks.json of a newer version refused,
never rewritten."""

from __future__ import annotations

import errno
import json
import socket

import pytest

from harness.errors import StorageError
from harness.review import ReviewError, open_server

from .helpers.review_pages import body, get, mark, post


def test_a_lone_surrogate_in_a_note_is_saved_as_the_replacement_character(server):  # noqa: F811
    directory, start = server
    url = start()
    raw = body("alice", mark("bad", "a1", "reject", "NOTE")).replace(b"NOTE", b"bad \\ud800 city")
    status, answer = post(url, raw)
    assert status == 200, answer
    assert json.loads((directory / "marks.json").read_text())["marks"][0]["note"] == "bad \ufffd city"


@pytest.mark.parametrize("error, status, said", [
    (StorageError("marks.json", OSError(errno.ENOSPC, "No space left on device"), fix="Free space"), 507,
     "No space left on device"),
    (OSError(errno.EROFS, "Read-only file system", "marks.json.tmp"), 500, "Read-only file system"),
    (RuntimeError("boom"), 500, "RuntimeError: boom"),
])
def test_a_failed_save_is_an_http_error_with_the_reason_and_the_server_goes_on(server, monkeypatch,  # noqa: F811
                                                                               error, status, said):
    directory, start = server
    url = start()

    def fail(*args, **kwargs):
        if isinstance(error, StorageError):  # as harness.io raises it: from the OSError
            raise error from OSError(errno.ENOSPC, "No space left on device")
        raise error

    monkeypatch.setattr("harness.results.marks.write_json_atomic", fail)
    got, answer = post(url, body("alice", mark("bad", "a1", "reject")))
    assert got == status and said in answer and answer.strip()
    assert not (directory / "marks.json").exists()
    assert get(url)["marks"] == []  # still serving


@pytest.mark.parametrize("port", [-1, 65536, 10 ** 6])
def test_a_port_out_of_range_is_one_line_naming_port(tmp_path, capsys, port):
    from harness.cli import main

    assert main(["review", str(tmp_path), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--port must be a port number from 1 to 65535 (or 0: any free one), got {port}" \
        in err


def test_a_port_in_use_names_port(server):  # noqa: F811
    directory, _ = server
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ReviewError, match=f"--port {port} is in use .*--port 0: any free one"):
            open_server(directory, port)


def test_a_newer_marks_version_is_refused_and_never_rewritten(server):  # noqa: F811
    directory, start = server
    url = start()
    newer = json.dumps({"version": 4, "saved_at": "x", "marks": [], "reviews": ["kept"]}, indent=1)
    (directory / "marks.json").write_text(newer)
    status, answer = post(url, body("alice", mark("bad", "a1", "reject")))
    assert status == 409 and "marks version 4, newer than this harness's 3" in answer
    assert (directory / "marks.json").read_text() == newer
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as refused:
        get(url)
    assert refused.value.code == 409
