"""Whether the Hugging Face Hub can be reached, asked once before a hub download so that an
offline machine gets our error with its fix at once instead of minutes of retries."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hub endpoint answers a TCP connection (fails fast where DNS or the network is down)."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def offline_message(spec: str, setting: str) -> str:
    """What to do when hub id ``spec`` (configured at ``setting``) is neither cached nor reachable."""
    return (f"model {spec!r} is not in the local Hugging Face cache and the Hub cannot be reached (offline). "
            f"Fix: on a connected machine run `hf download {spec}` and copy the cache (HF_HOME), or save "
            f"the model to a directory and set {setting}=/path/to/dir.")
