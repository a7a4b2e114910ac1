"""The browser tests run in Debian's Chromium, or say clearly why they cannot."""

import subprocess
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM

pytestmark = pytest.mark.e2e


def test_it_drives_debians_chromium(browser: Any) -> None:
    installed = subprocess.run(  # noqa: S603 - a fixed path, no shell
        [str(CHROMIUM), "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert browser.browser_type.name == "chromium"
    assert browser.version in installed
