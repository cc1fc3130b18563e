"""Where a URL goes: its host as HTTP clients read it, and whether that host is internal.

``urllib.parse`` follows RFC 3986; browsers, Node, httpx and (in part) urllib3 follow the WHATWG URL
standard, and the two disagree on exactly the inputs an attacker writes: ``https://evil.com\\@ok.com``
is ``ok.com`` to ``urlsplit`` and ``evil.com`` to a browser; ``http://loc%61lhost`` and
``http://127。0。0。1`` reach loopback; ``http:\\\\169.254.169.254`` is a metadata URL to Node. A guard
that reads one host while the client connects to another is no guard, so :func:`url_hosts` returns the
host under each reading, and the callers require every one of them to pass. A URL that either reading
refuses is *unparsable*: where it would go cannot be told, so rules that depend on it fail closed.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
# "scheme://", or a web scheme (or file:) followed by any slash or backslash ("http:\\\\x", "file:/etc"), or
# by its authority right away ("http:evil.com" is http://evil.com/ to a WHATWG parser); "note:/x" in prose
# is not a URL. Anchored, with bounded repetition, so ``re`` cannot backtrack on them, and it costs a
# tenth of RE2's wrapper on short matches.
_URL_START = re.compile(r"[a-z][a-z0-9+.\-]{1,30}://|(?:https?|wss?|ftp|file):[/\\]|(?:https?|wss?|ftp):[^\s/\\]",
                        re.IGNORECASE)
_SCHEME_PREFIX = re.compile(r"[a-z][a-z0-9+.\-]{1,30}://", re.IGNORECASE)
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # UTS-46 maps these to "."
_FORBIDDEN_HOST = re.compile(r"[\x00\t\n\r #%/:<>?@\[\\\]^|]")  # a character class: linear
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))

_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com",
                             "169.254.169.254", "fd00:ec2::254", "100.100.100.200"})
LOCAL_WORDS = frozenset({"localhost", *(h for h in _METADATA_HOSTS if h.replace("-", "").isalpha())})
"""Internal host names of one word, with no dot (``localhost``, ``metadata``)."""


@dataclass(frozen=True)
class URLParts:
    scheme: str
    hosts: tuple[str, ...]
    """The host under each reading (WHATWG first), deduplicated; empty for a URL without one."""
    query: str
    path: str = ""
    """What follows the host, up to the query (still percent-encoded)."""


def looks_like_url(value: str) -> bool:
    """``scheme://``, or a web scheme written the ways clients still accept (``http:\\\\``, ``http:/``,
    ``http:host``), read as a WHATWG parser reads it: ``"ht\\ttp://127.0.0.1/"`` is ``http://127.0.0.1/`` to a
    browser (tabs and newlines anywhere are dropped)."""
    return bool(_URL_START.match(_cleaned(value)))


def has_scheme(value: str) -> bool:
    """Starts with ``scheme://`` (two letters at least, so ``C://x`` is a Windows path)."""
    return bool(_SCHEME_PREFIX.match(value.strip()))


def parse_url(value: str, *, default_scheme: str | None = None) -> URLParts | None:
    """The scheme, the host(s) and the query of ``value``; ``None`` when a reading refuses it.

    ``default_scheme``: for a value given where a URL is expected but written without a scheme
    (``example.com/x``, ``//example.com``); it is read as ``default_scheme://value``.
    """
    v = _cleaned(value)
    if default_scheme is not None and not looks_like_url(v):
        v = f"{default_scheme}://{v.lstrip('/')}"
    whatwg = _whatwg(v)
    if whatwg is None:
        return None
    scheme, host, query, path = whatwg
    hosts = [host] if host else []
    try:
        split = urllib.parse.urlsplit(v)
        rfc_host = split.hostname
    except ValueError:
        return None
    if scheme in SPECIAL_SCHEMES and rfc_host is not None:
        other = _host(f"[{rfc_host}]" if ":" in rfc_host else rfc_host)
        if other is None:
            return None
        if other not in hosts:
            hosts.append(other)
    return URLParts(scheme, tuple(hosts), query, path)


def url_host(url: str) -> str:
    """The host a browser reads in ``url`` (WHATWG), lower case; ``""`` when there is none or it is unparsable."""
    parsed = _whatwg(_cleaned(url))
    return parsed[1] if parsed is not None else ""


def _cleaned(value: str) -> str:
    """What a WHATWG parser reads: leading and trailing C0 controls and spaces cut, tabs and newlines removed."""
    return value.strip(_C0_AND_SPACE).translate(_TAB_NEWLINE)


def _whatwg(v: str) -> tuple[str, str, str, str] | None:
    """(scheme, host, query, path) as the WHATWG URL parser reads an absolute URL, or None when it fails."""
    colon = v.find(":")
    scheme = v[:colon].lower() if colon > 0 else ""
    if not scheme or not scheme[0].isalpha() or not all(c.isalnum() or c in "+-." for c in scheme):
        return None
    rest = v[colon + 1:]
    query = ""
    q = rest.find("?")
    if q >= 0:
        query = rest[q + 1:].split("#", 1)[0]
    if scheme in SPECIAL_SCHEMES:
        rest = rest.lstrip("/\\")  # any run of slashes and backslashes starts the authority
        end = min((i for i in (rest.find(c) for c in "/\\?#") if i >= 0), default=len(rest))
    elif rest.startswith("//"):
        rest = rest[2:]
        end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    else:
        return scheme, "", query, _path_of(rest)
    authority = rest[:end]
    path = _path_of(rest[end:])
    hostport = authority.rsplit("@", 1)[-1]
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            return None
        raw_host, port = hostport[:close + 1], hostport[close + 1:]
        if port and not port.startswith(":"):
            return None
        port = port[1:]
    else:
        raw_host, _, port = hostport.partition(":")
    if port and not port.isdigit():
        return None
    if not raw_host:
        return (scheme, "", query, path) if scheme not in SPECIAL_SCHEMES or scheme == "file" else None
    host = _host(raw_host)
    if host is None:
        return None
    return scheme, host, query, path


def _path_of(rest: str) -> str:
    return rest[:min((i for i in (rest.find(c) for c in "?#") if i >= 0), default=len(rest))]


def _host(raw: str) -> str | None:
    """A URL's host, percent-decoded and mapped as UTS-46 maps it (NFKC, lower case, ideographic full
    stops as dots, punycode for what is left), or None when the result cannot be a host."""
    if raw.startswith("["):
        if not raw.endswith("]"):
            return None
        try:
            return str(ipaddress.IPv6Address(raw[1:-1].split("%", 1)[0]))
        except ValueError:
            return None
    try:
        decoded = urllib.parse.unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    host = unicodedata.normalize("NFKC", decoded.translate(_DOTS)).translate(_DOTS).lower()
    if not host or _FORBIDDEN_HOST.search(host):
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host


def domain_match(host: str, domains: Sequence[str]) -> bool:
    """``host`` is one of ``domains`` (``*.`` or a leading dot allowed) or a subdomain of one."""
    h = host.lower().rstrip(".")
    for domain in domains:
        d = _listed(domain)
        if h == d or h.endswith("." + d):
            return True
    return False


@lru_cache(maxsize=1024)
def _listed(domain: str) -> str:
    """A policy's domain mapped as hosts are (:func:`_host`): ``bücher.example`` on a deny list is the
    ``xn--bcher-kva.example`` a URL's host is read as, or it would never match."""
    d = domain.strip().lstrip("*").lstrip(".").rstrip(".")
    return (_host(d) or d.lower()).rstrip(".")


def parse_ip_host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse a URL host as an IP, including decimal, hex, octal and short IPv4 forms."""
    h = host.strip("[]").lower().rstrip(".")
    if not h:
        return None
    try:
        ip = ipaddress.ip_address(h.split("%", 1)[0])
    except ValueError:
        pass
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        return ip
    parts = h.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    nums: list[int] = []
    for part in parts:
        try:
            if part.startswith("0x"):
                # WHATWG reads a bare "0x" as 0: "http://0x/" is 0.0.0.0 to a browser, this machine to its OS
                nums.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                nums.append(int(part, 8))
            else:
                nums.append(int(part, 10))
        except ValueError:
            return None
    # inet_aton rules: the last part fills the remaining bytes
    value = 0
    for n in nums[:-1]:
        if n > 255:
            return None
        value = value * 256 + n
    rest = 4 - (len(nums) - 1)
    if nums[-1] >= 256 ** rest:
        return None
    value = value * (256 ** rest) + nums[-1]
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        return None


def private_host(host: str) -> str | None:
    """Why ``host`` is internal (loopback, private, metadata…), or None when it looks public."""
    h = host.strip("[]").lower().rstrip(".")
    if h in _METADATA_HOSTS:
        return "cloud metadata endpoint"
    if h == "localhost" or h.endswith((".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".svc")):
        return "local host name"
    ip = parse_ip_host(h)
    if ip is None:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        # 6to4 and Teredo addresses carry an IPv4 address that a relay may route to
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and private_host(str(embedded)):
            return f"private network address (in {ip})"
    if str(ip) in _METADATA_HOSTS:
        return "cloud metadata endpoint"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or ip.is_multicast:
        return "private network address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.IPv4Network("100.64.0.0/10"):
        return "carrier-grade NAT address"
    return None
