"""Missing servers skip locally but fail under CI=true."""

from __future__ import annotations

import pytest

from tests import servers


def test_skip_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        servers.skip_or_fail("no server")


def test_fail_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        servers.skip_or_fail("no server")
