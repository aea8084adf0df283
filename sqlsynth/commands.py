"""Kept for pipeline scripts written by earlier ``sqlsynth init`` (``from sqlsynth.commands
import close_run``): the names now live in the library; the commands in :mod:`sqlsynth.cli`."""

from sqlsynth.pipelines.finish import close_run
from sqlsynth.storage.final import FINAL_FIELDS, FINAL_FILE, order_fields, write_final

__all__ = ["FINAL_FIELDS", "FINAL_FILE", "close_run", "order_fields", "write_final"]
