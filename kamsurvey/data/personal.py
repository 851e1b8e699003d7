"""Personal data at the door: which columns of an export are about the person, and why they are dropped.

A survey tool's export carries, beside the answers, who answered and when: timestamps, IP
addresses, locations, e-mails, names, recipient and panel fields, external references,
custom (embedded) data, user agents, the tool's own response id. None of it is stored,
published or echoed: the importer keeps only the answers to the codebook's questions and
gives each respondent a new neutral id. This module says, without ever looking at a value
in a message, what such a column is:

- `metadata_role(name)`: the role of a column the tools themselves add, known by its name
  (Qualtrics' `IPAddress`, SurveyMonkey's `Email Address`, Google Forms' `Timestamp`,
  Microsoft Forms' `Completion time`, ...); names are compared without case, spaces or
  punctuation, so `IP Address`, `IPAddress` and `ip_address` are one column.
- `content_reason(values)`: what an unmapped column holds, judged from its distinct values
  (e-mail addresses, IP addresses, web addresses, phone numbers, coordinates, timestamps,
  free text), so that the import report says why a column was dropped.
- `may_be_personal(value)`: whether a value must not be shown in an error message.
"""

from __future__ import annotations

import re
from typing import Iterable

# Roles of the columns survey tools add. Timestamps, completion markers and ids are also
# used (fieldwork dates, completeness) before they are dropped.
STARTED, ENDED, SUBMITTED, RECORDED = "started", "ended", "submitted", "recorded"
FINISHED, PROGRESS = "finished", "progress"
TOOL_ID = "id"
TIMESTAMPS = (STARTED, ENDED, SUBMITTED, RECORDED, "modified")

REASONS = {
    TOOL_ID: "the survey tool's respondent id (personal data: replaced by a new neutral id)",
    STARTED: "timestamp (personal data)",
    ENDED: "timestamp (personal data)",
    SUBMITTED: "timestamp (personal data)",
    RECORDED: "timestamp (personal data)",
    "modified": "timestamp (personal data)",
    "email": "e-mail address (personal data)",
    "name": "name (personal data)",
    "ip": "IP address (personal data)",
    "location": "location (personal data)",
    "external": "external reference (personal data)",
    "recipient": "recipient or panel field (personal data)",
    "custom": "custom or embedded data (may identify a person)",
    "agent": "browser, device or user agent (personal data)",
    "phone": "phone number (personal data)",
    "url": "web address (may identify a person)",
    FINISHED: "completion marker (survey tool metadata)",
    PROGRESS: "completion marker (survey tool metadata)",
    "tool": "survey tool metadata",
    "free text": "free text (typed answers are never stored)",
    "timestamp": "timestamp (personal data)",
    "unknown": "not a question of the codebook",
}

# Column names the tools use, compacted (see `compact`), with their role. From the tools'
# documentation and public parsers of their exports (see tests/fixtures/builders.py).
_KNOWN = {
    # Qualtrics "Download Data" (and its SPSS file)
    "startdate": STARTED, "enddate": ENDED, "status": "tool", "ipaddress": "ip", "progress": PROGRESS,
    "durationinseconds": "tool", "finished": FINISHED, "recordeddate": RECORDED, "responseid": TOOL_ID,
    "recipientlastname": "name", "recipientfirstname": "name", "recipientemail": "email",
    "externalreference": "external", "externaldatareference": "external", "locationlatitude": "location",
    "locationlongitude": "location", "distributionchannel": "tool", "userlanguage": "tool",
    "qrecaptchascore": "tool", "qrelevantidduplicate": "tool", "qrelevantidduplicatescore": "tool",
    "qrelevantidfraudscore": "tool", "qrelevantidlaststartdate": "timestamp", "qballotboxstuffing": "tool",
    "qurl": "url", "responseset": "tool",
    # SurveyMonkey "All individual responses"
    "respondentid": TOOL_ID, "collectorid": "recipient", "emailaddress": "email", "firstname": "name",
    "lastname": "name", "datecreated": STARTED, "datemodified": ENDED,
    # Google Forms' responses sheet
    "timestamp": SUBMITTED, "score": "tool",
    # Microsoft Forms' Excel download
    "id": TOOL_ID, "starttime": STARTED, "completiontime": ENDED, "email": "email", "name": "name",
    "lastmodifiedtime": "modified", "totalpoints": "tool", "quizfeedback": "tool",
    # names an analyst's own spreadsheet uses
    "respondent": TOOL_ID, "responseno": TOOL_ID, "submittedat": SUBMITTED, "submissiondate": SUBMITTED,
    "startedat": STARTED, "endedat": ENDED, "completedat": ENDED, "ip": "ip", "latitude": "location",
    "longitude": "location", "location": "location", "useragent": "agent", "browser": "agent",
    "operatingsystem": "agent", "device": "agent", "resolution": "agent", "phone": "phone",
    "phonenumber": "phone", "emailaddr": "email", "e-mail": "email", "fullname": "name", "surname": "name",
    "panelid": "recipient", "recipientid": "recipient", "externalid": "external", "externalref": "external",
}
_KNOWN_PATTERNS = (
    (re.compile(r"^custom(data)?\d*$"), "custom"),
    (re.compile(r"^(points|feedback)-"), "tool"),  # Microsoft Forms quiz columns: "Points - <question>"
    (re.compile(r"^browsermetainfo"), "agent"),
    (re.compile(r"^(recipient|panel)"), "recipient"),
)


def compact(name: str) -> str:
    """A column name without case, spaces or punctuation: 'IP Address' and 'ip_address' -> 'ipaddress'.

    A hyphen between words survives as '-' at a word edge only for the quiz prefixes
    ('Points - Q1' -> 'points-q1'); everything else is letters and digits.
    """
    text = str(name).strip().casefold()
    prefix = re.match(r"^(points|feedback)\s+-\s+", text)
    if prefix:
        return f"{prefix.group(1)}-" + re.sub(r"[^0-9a-z]+", "", text[prefix.end():])
    return re.sub(r"[^0-9a-z]+", "", text)


def metadata_role(name: str) -> str | None:
    """The role of a column a survey tool adds, known by its name; None for any other column."""
    key = compact(name)
    if key in _KNOWN:
        return _KNOWN[key]
    for pattern, role in _KNOWN_PATTERNS:
        if pattern.search(key):
            return role
    return None


def reason(role: str) -> str:
    return REASONS.get(role, REASONS["unknown"])


# --------------------------------------------------------------------------- judging values (never shown)

EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[a-z]{2,}", re.IGNORECASE)
IPV4 = re.compile(r"^\s*\d{1,3}(\.\d{1,3}){3}\s*$")
IPV6 = re.compile(r"^\s*[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}\s*$", re.IGNORECASE)
URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
PHONE = re.compile(r"^\s*\+?[\d\s().-]{7,}\s*$")
COORDINATE = re.compile(r"^\s*-?\d{1,3}\.\d{3,}\s*$")
TIMESTAMP = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4})[ T]\d{1,2}:\d{2}")
FREE_TEXT_WORDS = 6  # a value of this many words or more reads as typed text


def value_kind(value: str) -> str | None:
    """What a single value is, when it is personal: 'email', 'ip', 'url', 'phone', 'location', 'timestamp'."""
    if not value or not value.strip():
        return None
    if EMAIL.search(value):
        return "email"
    if IPV4.match(value) or (":" in value and IPV6.match(value) and value.count(":") >= 2 and not TIMESTAMP.match(value)):
        return "ip"
    if URL.search(value):
        return "url"
    if TIMESTAMP.match(value):
        return "timestamp"
    if COORDINATE.match(value):
        return "location"
    if PHONE.match(value) and sum(ch.isdigit() for ch in value) >= 7:
        return "phone"
    return None


def content_reason(values: Iterable[str]) -> str:
    """Why an unmapped column is dropped, from its distinct values: the most telling kind found."""
    kinds: dict[str, int] = {}
    texts = 0
    total = 0
    for value in values:
        if not value or not str(value).strip():
            continue
        total += 1
        kind = value_kind(str(value))
        if kind:
            kinds[kind] = kinds.get(kind, 0) + 1
        elif len(str(value).split()) >= FREE_TEXT_WORDS:
            texts += 1
    for kind in ("email", "ip", "phone", "url", "location", "timestamp"):
        if kinds.get(kind):
            return reason(kind)
    if texts:
        return reason("free text")
    return reason("unknown")


def may_be_personal(value: str) -> bool:
    """Whether a value must be kept out of messages: it looks like personal data or typed free text."""
    text = str(value)
    return value_kind(text) is not None or len(text.split()) >= FREE_TEXT_WORDS or len(text) > 80
