"""Row files of a pipeline run: ``FileStorage``, readers/writers, manifest and rejects file.

Nothing heavy is imported here; pyarrow is loaded only when a parquet file is read or written.
"""

from sqlsynth.storage.errors import InputFormatError
from sqlsynth.storage.file_storage import FileStorage, StorageStep
from sqlsynth.storage.formats import (
    FORMATS,
    has_rows,
    read_numbered_rows,
    read_rows,
    strict_json,
    write_rows_atomic,
)

__all__ = [
    "FORMATS",
    "FileStorage",
    "InputFormatError",
    "StorageStep",
    "has_rows",
    "read_numbered_rows",
    "read_rows",
    "strict_json",
    "write_rows_atomic",
]
