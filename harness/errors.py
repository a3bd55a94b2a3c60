"""The harness's error types: each says what went wrong and how to fix it."""


class HarnessError(Exception):
    """Base class: an error the user can act on. The CLI prints it without a traceback."""


class DataError(HarnessError):
    """A reference file or record is unusable. Names the file, the record and the field."""

    def __init__(self, message: str, *, file: str | None = None, record: str | None = None,
                 field: str | None = None):
        where = ", ".join(f"{k} {v!r}" for k, v in (("file", file), ("record", record), ("field", field)) if v)
        super().__init__(f"{message} ({where})" if where else message)
        self.file, self.record, self.field = file, record, field


class ModelLoadError(HarnessError):
    """A model could not be found or loaded; the message names the fix."""


class ConfigError(HarnessError):
    """A configuration value is invalid."""


class RunDirError(HarnessError):
    """The run directory cannot be used (for example it holds a finished run)."""
