"""Who counts as one voice when people are counted (pure; issue 10 #6).

A felt burst or a post's reports must count people, not accounts: accounts are free to
make. A report is described by its **voice tokens**:

* the client's network (IPv4 /24, IPv6 /64, as a keyed hash: :mod:`.network`);
* the account's standing: every account younger than :data:`NEW_ACCOUNT_S` shares the
  one token ``new`` (fresh accounts count once, together); an account made in a burst
  of sign-ups — :data:`COHORT_MIN_SIGNUPS` or more from one network in one
  :data:`COHORT_WINDOW_S` window — shares its cohort's token; any other account is its
  own token.

A report counts only when **none** of its tokens was counted before (in that burst, for
that post): 30 accounts from one network count once, as do 3 accounts made a minute
ago on 3 networks. The price: people behind one shelter's Wi-Fi count once too; the
per-account dedupe still lets each of them report.
"""

from __future__ import annotations

import math
from collections.abc import Collection

#: Accounts younger than this count once, together.
NEW_ACCOUNT_S = 3600.0
#: Sign-ups from one network are grouped in windows of this length…
COHORT_WINDOW_S = 3600.0
#: …and that many or more in one window make the accounts of that window one voice.
COHORT_MIN_SIGNUPS = 3
#: The token of every new account.
NEW_TOKEN = "new"  # noqa: S105 - a label, not a secret


def cohort_of(signup_network: str, created_at: float) -> str:
    """The sign-up cohort of an account: its sign-up network and window."""
    return f"{signup_network}:{math.floor(created_at / COHORT_WINDOW_S)}"


def account_token(
    uid: str, *, created_at: float, cohort: str, cohort_signups: int, now: float
) -> str:
    """The token that stands for an account (see the module docstring)."""
    if now - created_at < NEW_ACCOUNT_S:
        return NEW_TOKEN
    if cohort and cohort_signups >= COHORT_MIN_SIGNUPS:
        return f"cohort:{cohort}"
    return f"acct:{uid}"


def voice(network: str, account: str) -> tuple[str, str]:
    """The tokens of one report: its network and its account's token."""
    return (network, account)


def counts(already: Collection[str], tokens: Collection[str]) -> bool:
    """Whether a report with ``tokens`` adds a voice to those ``already`` counted."""
    return not any(token in already for token in tokens)
