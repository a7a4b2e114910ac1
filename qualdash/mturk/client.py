"""The MTurk client of this process: credentials, endpoint, retries, timeouts, and the cache scope.

Credentials come from the standard AWS chain (environment, AWS_PROFILE, instance role). The
endpoint is MTurk's sandbox when QUALDASH_MTURK_SANDBOX is true, otherwise botocore's own
resolution, so the standard AWS_ENDPOINT_URL_MTURK points qualdash at any MTurk-compatible
endpoint (the emulator, a proxy).
"""

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from botocore.utils import parse_timestamp
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient
else:
    MTurkClient = Any

REGION = "us-east-1"
SANDBOX_ENDPOINT = "https://mturk-requester-sandbox.us-east-1.amazonaws.com"

CLIENT_CONFIG = Config(
    region_name=REGION,
    # Standard mode retries throttling and 5xx faults with jittered exponential backoff.
    retries={"mode": "standard", "max_attempts": 6},
    connect_timeout=5,
    # An MTurk call answers in well under a second. A call that hangs is retried like a fault
    # (7 attempts) and the walk budget cannot cut a call short, so this bounds how long a hung
    # MTurk holds a request before its clear 503: 7 x 10 s plus at most 3.2 s of backoff.
    read_timeout=10,
    max_pool_connections=10,
    # Our own code builds every request from validated values; botocore's validation of each
    # 100-row page request is CPU spent on every call for nothing.
    parameter_validation=False,
)


class MTurkNotConfigured(Exception):
    """No AWS credentials were found: qualdash cannot call MTurk at all."""


class MTurkUnavailable(Exception):
    """MTurk failed after retries (faults, throttling, network): try again later."""


class QualificationTypeNotFound(Exception):
    """MTurk does not know this Qualification type (or it is not visible to this account)."""


@dataclass(frozen=True)
class Account:
    client: "MTurkClient"
    endpoint: str
    sandbox: bool
    # A digest of the endpoint and the access key id (never the secret): every cache key starts
    # with it, so sandbox and production, or two accounts, never share an entry.
    scope: str


def epoch_or_iso_to_utc(value: Any) -> datetime:
    """botocore's timestamp parser, but cheaper and always in UTC.

    The JSON protocol sends epoch seconds; botocore's default parser goes through dateutil and
    answers in the server's local zone. This one is a single call for numbers.
    """
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return parse_timestamp(value).astimezone(UTC)


_lock = threading.Lock()
_account: Account | None = None


def account() -> Account:
    """The process's one MTurk client and its cache scope, built on first use."""
    global _account
    with _lock:
        if _account is None:
            _account = _build_account()
        return _account


def forget_account() -> None:
    """Drop the client so the next call builds one from the current environment and settings."""
    global _account
    with _lock:
        _account = None


@receiver(setting_changed)
def _forget_on_setting_change(setting: str, **kwargs: Any) -> None:
    if setting == "QUALDASH_MTURK_SANDBOX":
        forget_account()


def _build_account() -> Account:
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=epoch_or_iso_to_utc
    )
    try:
        session = boto3.session.Session(botocore_session=core, region_name=REGION)
        credentials = session.get_credentials()
    except BotoCoreError as error:
        # A named profile that does not exist, a half-set key pair, an unreadable config file.
        raise MTurkNotConfigured(f"The AWS credentials are not usable: {error}") from error
    if credentials is None:
        raise MTurkNotConfigured(
            "No AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_PROFILE, or run on a host with an instance role."
        )
    sandbox = bool(settings.QUALDASH_MTURK_SANDBOX)
    client = session.client(
        "mturk", endpoint_url=SANDBOX_ENDPOINT if sandbox else None, config=CLIENT_CONFIG
    )
    endpoint = client.meta.endpoint_url
    access_key_id = credentials.get_frozen_credentials().access_key
    scope = hashlib.sha256(f"{endpoint}\n{access_key_id}".encode()).hexdigest()[:16]
    return Account(client=client, endpoint=endpoint, sandbox=sandbox, scope=scope)
