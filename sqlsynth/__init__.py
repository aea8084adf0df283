"""sqlsynth: Text-to-SQL training data from databases, and a content-aware Text-to-SQL engine."""
__version__ = "0.1.0"
