"""Canonical URLs: one spelling per page, so the same article reached by different links compares equal."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "ocid", "cmpid", "icid", "ito", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname",
    "ns_fee", "sr_share", "smid", "cid", "ref", "ref_src", "spm", "mkt_tok", "oly_anon_id", "oly_enc_id",
    "rss", "feature", "xtor", "amp", "outputtype",
}  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "vero_", "__twitter")
_AMP_CACHE_PATH = re.compile(r"^/(?:c|v|i)/(?P<secure>s/)?(?P<rest>[^/]+\.[^/]+(?:/.*)?)$")
_GOOGLE_AMP_PATH = re.compile(r"^/amp/(?P<secure>s/)?(?P<rest>[^/]+\.[^/]+(?:/.*)?)$")
_AMP_PATH = re.compile(r"(?:/amp/?$|/amp(?=/)|\.amp(?=\.html?$|$))")


def _is_tracking(name: str) -> bool:
    n = name.lower()
    return n in _TRACKING_PARAMS or n.startswith(_TRACKING_PREFIXES)


def _amp_cache_target(host: str, path: str, query: str) -> str | None:
    """The publisher's URL behind an AMP cache link (``*.cdn.ampproject.org/c/s/host/path``,
    ``google.com/amp/s/host/path``), or None."""
    if host.endswith(".cdn.ampproject.org"):
        m = _AMP_CACHE_PATH.match(path)
    elif host in ("google.com", "www.google.com"):
        m = _GOOGLE_AMP_PATH.match(path)
    else:
        return None
    if not m or not m.group("rest"):
        return None
    scheme = "https" if m.group("secure") else "http"
    return f"{scheme}://{m.group('rest')}" + (f"?{query}" if query else "")


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme and host, default port, fragment, trailing slash, tracking parameters and AMP
    variants removed; the remaining query parameters sorted. ``None`` for what is not an http(s) URL."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if inner := _amp_cache_target(host, parts.path, parts.query):
        return canonical_url(inner)
    if host.startswith("amp."):
        host = host[4:]
    if host.startswith("www."):
        host = host[4:]
    if port and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = _AMP_PATH.sub("", parts.path) or "/"
    path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k))
    # http and https serve the same article on news sites: compare them alike.
    return urlunsplit(("https", host, path, urlencode(query), ""))
