from urllib.parse import urlsplit

from django.http import HttpRequest

from qualdash.mturk.client import MTurkNotConfigured, account


def mturk_account(request: HttpRequest) -> dict[str, object]:
    """Which MTurk every page is looking at: production or sandbox, and the account scope.

    Only for a signed-in user: the sign-in and lockout pages tell a visitor nothing of the
    account or the endpoint behind them.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"mturk": None}
    try:
        acct = account()
    except MTurkNotConfigured:
        return {"mturk": None}
    return {
        "mturk": {
            "sandbox": acct.sandbox,
            "scope": acct.scope,
            "host": urlsplit(acct.endpoint).netloc,
        }
    }
