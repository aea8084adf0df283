"""The ``sqlsynth`` command line: every command, thin over the library.

``parser`` builds the arguments and the ``RunConfig``; ``app`` runs one command and maps errors
to exit codes; ``commands`` holds one ``cmd_<name>`` per subcommand; ``ask`` and ``eval`` print
what the engine and the evaluator return. Library code never imports this package.
"""

from sqlsynth.cli.app import main, run_script
from sqlsynth.cli.parser import build_parser

__all__ = ["build_parser", "main", "run_script"]
