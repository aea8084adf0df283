"""Seeing a run: the review web app (``sqlsynth view``) and the HTML data card (``sqlsynth report``).

Both read a run folder through :class:`~sqlsynth.viewer.run_folder.RunFolder`; neither writes
anything but the reviewer's marks (``review.jsonl``) and the card itself.
"""

from sqlsynth.viewer.run_folder import RunFolder

__all__ = ["RunFolder"]
