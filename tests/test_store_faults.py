"""The embedding store (harness/models/vector_store.py) keeps its promise for every damaged file:
truncated, empty, not an archive, a member missing, arrays of the wrong shape, width or values.
The file is moved aside with one warning and its texts are embedded again (never BadZipFile,
IndexError or a RecursionError), and the rerun's vectors are the stored ones from then on."""

import io
import logging
import zipfile

import numpy as np
import pytest

from harness.models.vector_store import VectorStore

ENCODER = "enc"
TEXTS = ["Police arrived.", "Eight officers died.", "The mayor spoke."]
DIM = 4


def stored(tmp_path) -> tuple[VectorStore, object]:
    store = VectorStore(tmp_path)
    vectors = np.arange(len(TEXTS) * DIM, dtype=np.float32).reshape(len(TEXTS), DIM) / 10
    store.put(ENCODER, TEXTS, vectors)
    (path,) = (tmp_path / ENCODER).glob("*.npz")
    return vectors, path


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _keys(path):
    with np.load(path) as data:
        return data["keys"]


DAMAGE = {  # name -> (bytes of the damaged file from the good file's path, the reason the warning gives)
    "truncated": (lambda p: p.read_bytes()[: len(p.read_bytes()) // 2], "BadZipFile"),
    "empty": (lambda p: b"", "EOFError"),
    "not an archive": (lambda p: b"not a zip file at all\n", "ValueError"),
    "one .npy array": (lambda p: _npy(np.zeros(3)), "one .npy array, not an .npz archive"),
    "no vectors": (lambda p: npz(keys=_keys(p)), "KeyError"),
    "fewer rows than keys": (lambda p: npz(keys=_keys(p), vectors=np.zeros((1, DIM), np.float32)),
                             "'vectors' has shape (1, 4) for 3 keys"),
    "vectors one-dimensional": (lambda p: npz(keys=_keys(p), vectors=np.zeros(3, np.float32)),
                                "'vectors' has shape (3,) for 3 keys"),
    "keys two-dimensional": (lambda p: npz(keys=np.array([list(_keys(p))]), vectors=np.zeros((3, DIM))),
                             "'keys' is a 2-dimensional"),
    "keys numbers": (lambda p: npz(keys=np.arange(3), vectors=np.zeros((3, DIM))), "'keys' is a 1-dimensional int"),
    "another width": (lambda p: npz(keys=_keys(p), vectors=np.zeros((3, DIM + 1), np.float32)),
                      "vectors of width 5, the encoder's are 4"),
    "not finite": (lambda p: npz(keys=_keys(p), vectors=np.full((3, DIM), np.nan, np.float32)),
                   "'vectors' is not all finite numbers"),
    "pickled objects": (lambda p: npz(keys=_keys(p), vectors=np.array([{"a": 1}] * 3, dtype=object)),
                        "ValueError"),
}


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_store_file_is_set_aside_once_and_recomputed(tmp_path, caplog, damage):
    vectors, path = stored(tmp_path)
    make, reason = DAMAGE[damage]
    path.write_bytes(make(path))
    store = VectorStore(tmp_path)  # a new process: only the files on disk
    with caplog.at_level(logging.WARNING):
        assert store.get(ENCODER, TEXTS, DIM) == {}  # nothing usable: every text is embedded again
    (warning,) = caplog.messages
    assert warning.startswith(f"unreadable embedding file {path} (") and reason in warning, warning
    assert warning.endswith(f"moved to {path.with_suffix('.corrupt')}, its texts are embedded again")
    assert not path.exists() and path.with_suffix(".corrupt").exists()
    store.put(ENCODER, TEXTS, vectors)  # the encoder's new call, written whole
    again = VectorStore(tmp_path).get(ENCODER, TEXTS, DIM)
    assert all(np.array_equal(again[t], v) for t, v in zip(TEXTS, vectors, strict=True))


def test_a_directory_named_like_a_store_file_is_set_aside(tmp_path, caplog):
    (tmp_path / ENCODER / "x.npz" / "junk").mkdir(parents=True)
    with caplog.at_level(logging.WARNING):
        assert VectorStore(tmp_path).get(ENCODER, TEXTS, DIM) == {}
    assert len(caplog.messages) == 1 and "IsADirectoryError" in caplog.messages[0]


def test_a_damaged_file_that_cannot_be_moved_is_skipped_not_reread(tmp_path, caplog, monkeypatch):
    """A read-only cache: the file stays where it is, is skipped for the rest of the process (one
    warning), and get() does not recurse on it."""
    _, path = stored(tmp_path)
    path.write_bytes(npz(keys=_keys(path), vectors=np.zeros((1, DIM), np.float32)))
    real_replace = type(path).replace

    def read_only(self, target):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_replace(self, target)

    monkeypatch.setattr(type(path), "replace", read_only)
    store = VectorStore(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert store.get(ENCODER, TEXTS, DIM) == {}
        assert store.get(ENCODER, TEXTS, DIM) == {}
    (warning,) = caplog.messages
    assert "could not move it aside" in warning and path.exists()


def test_a_good_file_beside_a_damaged_one_is_still_used(tmp_path, caplog):
    vectors, path = stored(tmp_path)
    VectorStore(tmp_path).put(ENCODER, ["Other text."], np.ones((1, DIM), np.float32))
    path.write_bytes(path.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        found = VectorStore(tmp_path).get(ENCODER, [*TEXTS, "Other text."], DIM)
    assert list(found) == ["Other text."] and len(caplog.messages) == 1


def test_a_truncated_member_inside_a_whole_archive_is_set_aside(tmp_path, caplog):
    """The zip directory is intact but the vectors member is cut short (a partial copy): np.load
    fails when the member is read, in get(), and the file is set aside there."""
    _, path = stored(tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("keys.npy", members["keys.npy"])
        archive.writestr("vectors.npy", members["vectors.npy"][:-8])
    with caplog.at_level(logging.WARNING):
        assert VectorStore(tmp_path).get(ENCODER, TEXTS, DIM) == {}
    assert len(caplog.messages) == 1 and "ValueError" in caplog.messages[0]


def test_the_encoder_recomputes_what_a_damaged_file_held(tmp_path, caplog):
    """End to end with the real encoder: a truncated store file gives one warning and the vectors an
    undamaged store gives (same batch: bit-identical)."""
    import harness.models.sentence_encoder as se

    encoder = se.SentenceEncoder()
    try:
        encoder._cache.clear()
        with se.vector_store(tmp_path / "embeddings"):
            first = encoder.encode(TEXTS)
        (path,) = (tmp_path / "embeddings").rglob("*.npz")
        path.write_bytes(path.read_bytes()[:200])
        se._STORES.clear()
        encoder._cache.clear()
        with caplog.at_level(logging.WARNING), se.vector_store(tmp_path / "embeddings"):
            again = encoder.encode(TEXTS)
    finally:
        encoder._cache.clear()
        se._STORES.clear()
    assert np.array_equal(first, again)
    assert [m for m in caplog.messages if "embedding file" in m] == [
        f"unreadable embedding file {path} (BadZipFile: File is not a zip file): moved to "
        f"{path.with_suffix('.corrupt')}, its texts are embedded again"]
