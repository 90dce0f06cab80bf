"""Scrub secrets from text bound for logs: API keys, webhook signing secrets, passwords in URLs."""

from __future__ import annotations

import re

API_KEY_PATTERN = re.compile(r"tdg_[0-9A-Za-z]{8,}")
_PATTERNS = (
    (API_KEY_PATTERN, "tdg_[redacted]"),
    (re.compile(r"whsec_[0-9A-Za-z+/=]{8,}"), "whsec_[redacted]"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1[redacted]"),
    (re.compile(r"(\w+://[^:/@\s]*:)[^@/\s]+@"), r"\1[redacted]@"),
)
SENSITIVE_NAMES = ("authorization", "api_key", "apikey", "x-api-key", "password", "secret", "token")


def redact(text: str) -> str:
    """The text with every secret-shaped substring replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_sensitive_name(name: str) -> bool:
    lowered = name.lower()
    return any(s in lowered for s in SENSITIVE_NAMES)
