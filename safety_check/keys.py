"""Every Redis key safety_check uses, in one place (pure).

All keys start with ``{yure:sc}:``, the per-user inbox streams too
(``{yure:sc}:inbox:<uid>``, a ``broadcast.timeline.Timeline``). Ids and
handles inside keys are checked for shape before they get here, so no key can be forged to
reach another namespace.

===========================  ===========  ==================================================
key                          type         holds
===========================  ===========  ==================================================
handle:<handle>              string       uid (handles are never reused)
skel:<skeleton>              string       uid holding a handle with that skeleton
skel-done                    string       "1": older handles' skeletons were backfilled
user:<uid>                   hash         handle, pw (argon2id PHC string), created_at, cohort
signups:<cohort>             string       sign-ups of one network in one window; expires
cohort:<cohort>              string       "1": that window had a burst of sign-ups (kept)
session:<sha256>             hash         uid, created_at; expires with the session
sessions:<uid>               set          sha256 of that user's sessions
recovery:<uid>               set          sha256 of that user's unused recovery codes
friends:<uid>                set          uids of mutual friends
incoming:<uid>               set          uids that asked for uid
outgoing:<uid>               hash         handle asked for → its uid ("" if nobody holds it)
invite:<sha256>              string       inviter uid; expires
checkin:<id>                 hash         one check-in; PEXPIRE at its deletion time
checkins:<uid>               zset         check-in ids by creation time
idem:<uid>:<sha256>          string       {fp, id}: Idempotency-Key → check-in, same expiry
post:<id>                    hash         one post (coarsened); expires with the timeline
reports:<id>                 set          uids that reported the post
reports:voices:<id>          set          voice tokens already counted for the post
hidden_posts                 zset         ids of hidden posts by hiding time (operator list)
felt:<pref>                  string       the current burst (JSON) of a prefecture
felt:voices:<burst key>      set          voice tokens counted in that burst
felt:dirty                   set          prefectures whose burst has unpublished growth
rate:<name>:<subject>:<win>  string       request counter of one rate-limit window
live:<uid>                   zset         open live channels → lease end (per-account cap)
guess:<scope>:<subject>      hash         n wrong passwords, until (next try allowed)
===========================  ===========  ==================================================
"""

from __future__ import annotations

#: One hash tag for every key: transactions span two users (friends), so on Redis Cluster
#: all of them must share one slot (docs/operations.md, "Redis Cluster").
HASH_TAG = "{yure:sc}"
PREFIX = HASH_TAG + ":"
FELT_DIRTY = PREFIX + "felt:dirty"


def handle(handle: str) -> str:
    return f"{PREFIX}handle:{handle}"


SKELETONS_DONE = PREFIX + "skel-done"


def skeleton(skeleton: str) -> str:
    return f"{PREFIX}skel:{skeleton}"


def user(uid: str) -> str:
    return f"{PREFIX}user:{uid}"


def session(token_hash: str) -> str:
    return f"{PREFIX}session:{token_hash}"


def recovery(uid: str) -> str:
    return f"{PREFIX}recovery:{uid}"


def user_sessions(uid: str) -> str:
    return f"{PREFIX}sessions:{uid}"


def friends(uid: str) -> str:
    return f"{PREFIX}friends:{uid}"


def incoming(uid: str) -> str:
    return f"{PREFIX}incoming:{uid}"


def outgoing(uid: str) -> str:
    return f"{PREFIX}outgoing:{uid}"


def invite(token_hash: str) -> str:
    return f"{PREFIX}invite:{token_hash}"


def checkin(cid: str) -> str:
    return f"{PREFIX}checkin:{cid}"


def user_checkins(uid: str) -> str:
    return f"{PREFIX}checkins:{uid}"


def idempotency(uid: str, key_hash: str) -> str:
    return f"{PREFIX}idem:{uid}:{key_hash}"


def post(pid: str) -> str:
    return f"{PREFIX}post:{pid}"


def post_reports(pid: str) -> str:
    return f"{PREFIX}reports:{pid}"


def felt(pref: str) -> str:
    return f"{PREFIX}felt:{pref}"


def felt_voices(burst_key: str) -> str:
    return f"{PREFIX}felt:voices:{burst_key}"


def signups(cohort: str) -> str:
    return f"{PREFIX}signups:{cohort}"


def cohort(cohort: str) -> str:
    return f"{PREFIX}cohort:{cohort}"


def post_voices(pid: str) -> str:
    return f"{PREFIX}reports:voices:{pid}"


HIDDEN_POSTS = PREFIX + "hidden_posts"


def rate(name: str, subject: str, window: int) -> str:
    return f"{PREFIX}rate:{name}:{subject}:{window}"


def live_seats(uid: str) -> str:
    return f"{PREFIX}live:{uid}"


def guess(scope: str, subject: str) -> str:
    return f"{PREFIX}guess:{scope}:{subject}"


def inbox_stream(uid: str) -> str:
    """Name of the private inbox stream (a ``broadcast.timeline.Timeline``) of ``uid``."""
    return f"{PREFIX}inbox:{uid}"
