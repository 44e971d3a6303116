"""The newsletter qualifier's logic: plain Python, no host import.

It scores a message against named rules, each with a weight, and tags the message
with the user's newsletter tag when the score reaches a threshold. `app.py` turns
the WIT message view into a `Mail`, asks the host for the user's identities and
tags, and calls `qualify`; everything here runs under plain CPython too, so
`python3 -m unittest` tests it without WebAssembly.

| rule | default weight | fires when |
|---|---|---|
| `LIST_ID` | 2.0 | the message came through a list (a `list-id` participant) |
| `MANY_RECIPIENTS` | 1.5 | To + Cc + Bcc reach `many_recipients` (10) |
| `NOT_ADDRESSED_TO_USER` | 1.0 | none of the user's addresses is in To or Cc |
| `REMOTE_CONTENT` | 1.0 | the HTML body loads remote content (tracking pixels, hosted images) |
| `BULK_SENDER` | 1.0 | the From address is a `noreply@`, `newsletter@`, `news@`... |
| `BULK_MAILER` | 1.5 | the mail agent is a known mass-mailing tool |
| `BULK_PHRASES` | 1.0 per phrase | "unsubscribe", "view in your browser", "se désabonner"...; at most `max_phrases` (3) |
| `REPLY` | -2.0 | the message answers another one (a discussion, not a newsletter) |
| `NO_SUCH_TAG` | 0 | the score reached the threshold but the user has no such tag: nothing tagged |

Config keys: `threshold` (3.0), `tag` (`newsletter`), `many_recipients` (10),
`max_phrases` (3), `weight.<RULE>` (a weight of 0 disables the rule). A value that
does not parse is ignored and reported in `Settings.warnings`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

DEFAULT_WEIGHTS = {
    "LIST_ID": 2.0,
    "MANY_RECIPIENTS": 1.5,
    "NOT_ADDRESSED_TO_USER": 1.0,
    "REMOTE_CONTENT": 1.0,
    "BULK_SENDER": 1.0,
    "BULK_MAILER": 1.5,
    "BULK_PHRASES": 1.0,
    "REPLY": -2.0,
}

DEFAULT_THRESHOLD = 3.0
DEFAULT_TAG = "newsletter"
DEFAULT_MANY_RECIPIENTS = 10
DEFAULT_MAX_PHRASES = 3

# Local parts of sender addresses that mass mailings use.
BULK_LOCAL_PARTS = (
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "newsletter",
    "newsletters",
    "news",
    "info",
    "marketing",
    "mailer",
    "mailing",
    "campaign",
    "notifications",
    "notification",
    "updates",
    "hello",
)

# Mail agents (User-Agent / X-Mailer) of mass-mailing tools, lower case.
BULK_MAILERS = (
    "mailchimp",
    "mailjet",
    "sendinblue",
    "brevo",
    "sendgrid",
    "phplist",
    "acymailing",
    "mailpoet",
    "campaign monitor",
    "constant contact",
    "hubspot",
    "klaviyo",
    "listmonk",
    "mautic",
)

# Phrases of bulk mail, lower case, English and French (Caliopen's two locales).
BULK_PHRASES = (
    "unsubscribe",
    "view this email in your browser",
    "view in browser",
    "view it in your browser",
    "manage your preferences",
    "update your preferences",
    "email preferences",
    "you are receiving this",
    "you received this email because",
    "opt out",
    "opt-out",
    "se désabonner",
    "se désinscrire",
    "désinscription",
    "désabonnement",
    "voir la version en ligne",
    "version en ligne",
    "vous recevez cet e-mail",
    "vous recevez ce message",
    "gérer vos préférences",
)


@dataclass
class Mail:
    """What the rules look at, taken from the WIT `message-view`."""

    subject: str = ""
    # (role, address): role is `from`, `to`, `cc`, `bcc`, `reply-to`, `sender`, `list-id`.
    participants: list[tuple[str, str]] = field(default_factory=list)
    body_plain: Optional[str] = None
    body_html: Optional[str] = None
    has_remote_content: bool = False
    mail_agent: Optional[str] = None
    parent_id: Optional[str] = None


@dataclass
class Rule:
    rule: str
    contribution: float
    detail: str


@dataclass
class Settings:
    threshold: float = DEFAULT_THRESHOLD
    tag: str = DEFAULT_TAG
    many_recipients: int = DEFAULT_MANY_RECIPIENTS
    max_phrases: int = DEFAULT_MAX_PHRASES
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_config(cls, get: Callable[[str], Optional[str]]) -> "Settings":
        """Reads every key through `get` (the `config` interface in the component)."""
        s = cls()
        s.threshold = _number(get, "threshold", s.threshold, s.warnings)
        s.many_recipients = int(
            _number(get, "many_recipients", s.many_recipients, s.warnings, whole=True)
        )
        s.max_phrases = int(_number(get, "max_phrases", s.max_phrases, s.warnings, whole=True))
        tag = get("tag")
        if tag is not None:
            if tag.strip():
                s.tag = tag.strip().lower()
            else:
                s.warnings.append("config `tag` is empty: using `newsletter`")
        for rule, weight in DEFAULT_WEIGHTS.items():
            s.weights[rule] = _number(get, f"weight.{rule}", weight, s.warnings)
        return s


@dataclass
class Outcome:
    score: float
    rules: list[Rule]
    add_tags: list[str]

    def summary(self, settings: Settings) -> str:
        """One line for the component's log."""
        fired = ",".join(r.rule for r in self.rules) or "none"
        tagged = ",".join(self.add_tags) or "nothing"
        return (
            f"newsletter: score {self.score:.1f} (threshold {settings.threshold:.1f}), "
            f"rules {fired}, tagged {tagged}"
        )


def qualify(
    mail: Mail,
    settings: Settings,
    identities: list[str],
    user_tags: Optional[list[str]],
) -> Outcome:
    """Scores `mail`; tags it with `settings.tag` when the score reaches the threshold
    and `user_tags` (the names of the user's tags) has it. `user_tags` is None when the
    host could not answer: then nothing is tagged."""
    rules: list[Rule] = []

    def fire(name: str, detail: str, times: int = 1) -> None:
        weight = settings.weights.get(name, 0.0)
        if weight != 0.0:
            rules.append(Rule(name, weight * times, detail))

    lists = [a for role, a in mail.participants if role == "list-id"]
    if lists:
        fire("LIST_ID", f"came through the list {lists[0]}")

    recipients = [a for role, a in mail.participants if role in ("to", "cc", "bcc")]
    if len(recipients) >= settings.many_recipients:
        fire("MANY_RECIPIENTS", f"{len(recipients)} recipients")

    mine = {i.strip().lower() for i in identities if i.strip()}
    addressed = {a.lower() for role, a in mail.participants if role in ("to", "cc")}
    if mine and not (mine & addressed):
        fire("NOT_ADDRESSED_TO_USER", "none of the user's addresses is in To or Cc")

    if mail.body_html and mail.has_remote_content:
        fire("REMOTE_CONTENT", "the HTML body loads remote content")

    sender = next((a for role, a in mail.participants if role == "from"), None)
    if sender and bulk_sender(sender):
        fire("BULK_SENDER", f"sent from {sender}")

    mailer = bulk_mailer(mail.mail_agent)
    if mailer:
        fire("BULK_MAILER", f"sent with {mailer}")

    phrases = bulk_phrases(mail, settings.max_phrases)
    if phrases:
        fire("BULK_PHRASES", "says " + ", ".join(f"“{p}”" for p in phrases), len(phrases))

    if mail.parent_id:
        fire("REPLY", "answers another message")

    score = round(sum(r.contribution for r in rules), 3)
    add_tags: list[str] = []
    if rules and score >= settings.threshold:
        if user_tags is not None and settings.tag in user_tags:
            add_tags.append(settings.tag)
        else:
            why = "the user's tags are unavailable" if user_tags is None else "the user has no such tag"
            rules.append(Rule("NO_SUCH_TAG", 0.0, f"not tagged `{settings.tag}`: {why}"))
    return Outcome(score, rules, add_tags)


def bulk_sender(address: str) -> bool:
    local = address.split("@", 1)[0].lower()
    # `news+fr@`, `newsletter-weekly@`: the part before a separator counts.
    head = re.split(r"[+.]", local, maxsplit=1)[0]
    return local in BULK_LOCAL_PARTS or head in BULK_LOCAL_PARTS or local.startswith("newsletter")


def bulk_mailer(agent: Optional[str]) -> Optional[str]:
    if not agent:
        return None
    lowered = agent.lower()
    return next((m for m in BULK_MAILERS if m in lowered), None)


def bulk_phrases(mail: Mail, limit: int) -> list[str]:
    """The bulk phrases the body says, in table order, at most `limit`."""
    text = body_text(mail)
    found = [p for p in BULK_PHRASES if p in text]
    # "view in browser" and "view this email in your browser" are one signal.
    found = [p for p in found if not any(p != q and p in q for q in found)]
    return found[: max(limit, 0)]


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def body_text(mail: Mail) -> str:
    """The lower-case text of both bodies, HTML markup left out."""
    parts = []
    if mail.body_plain:
        parts.append(mail.body_plain)
    if mail.body_html:
        parts.append(html.unescape(_TAG.sub(" ", mail.body_html)))
    return _SPACE.sub(" ", " ".join(parts)).lower()


def _number(get, key, default, warnings, whole=False):
    raw = get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")) or (whole and (value < 0 or value != int(value))):
        warnings.append(f"config `{key}` = `{raw}` is not {'a count' if whole else 'a number'}: using {default}")
        return default
    return value
