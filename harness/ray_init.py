"""Ray's ``ray.init`` arguments for ``+launcher=ray`` (conf/launcher/ray.yaml).

``${ray_local:ADDRESS,VALUE}`` gives VALUE only when ADDRESS is ``local`` (start a new local Ray
instance: ``num_cpus`` and the like apply) and None otherwise, since Ray refuses ``num_cpus``,
``num_gpus`` and ``object_store_memory`` when it connects to an existing cluster (``HOST:PORT``,
``ray://HOST:10001``, ``auto`` or the ``RAY_ADDRESS`` environment variable).

``${ray_job_env:}``: the job's runtime environment, carrying this process's values of the
variables the harness's configs read (``HARNESS_CACHE_DIR``, ``HARNESS_THREADS``, offline and
tracker settings). A job
on a cluster runs in a worker that the node's ``ray start`` began, with that node's environment,
and resolves its config there: without this, ``HARNESS_CACHE_DIR=/shared/cache harness run -m
+launcher=ray ...`` would cache under each worker's own ``runs/.cache``. Keys and tokens are not
carried (Ray shows a job's runtime environment to anyone who can see the cluster): set them on the
nodes."""

from __future__ import annotations

import os
from typing import Any

from omegaconf import OmegaConf

LOCAL = "local"  # Ray's address for "start a new instance here, even when a cluster runs on this machine"
CARRIED = ("HARNESS_CACHE_DIR", "HARNESS_THREADS", "HARNESS_JUDGE_BASE_URL", "HARNESS_JUDGE_MODEL",
           "HARNESS_JUDGE_API_KEY_ENV", "HF_HUB_OFFLINE", "HF_ENDPOINT", "TRANSFORMERS_OFFLINE",
           "MLFLOW_TRACKING_URI", "WANDB_MODE")


def local_only(address: Any, value: Any) -> Any:
    """VALUE when ADDRESS starts a new local instance, else None (Ray's "not given")."""
    return value if address == LOCAL else None


def job_env() -> dict | None:
    """Ray's ``runtime_env`` with the CARRIED variables set here (None: none is set)."""
    carried = {name: os.environ[name] for name in CARRIED if name in os.environ}
    return {"env_vars": carried} if carried else None


def register_ray_resolver() -> None:
    if not OmegaConf.has_resolver("ray_local"):
        OmegaConf.register_new_resolver("ray_local", local_only)
    if not OmegaConf.has_resolver("ray_job_env"):
        OmegaConf.register_new_resolver("ray_job_env", job_env)
