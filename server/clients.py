"""Who is at the other end: the client's address, and whether it came over https.

X-Forwarded-For and X-Forwarded-Proto are anyone's to send, so they are believed only on
connections from the addresses in ``trusted_proxy`` (and then only the hop that proxy
added), and removed from every other request. Both servers leave the decision to the app:
`kb serve` tells waitress not to act on them, and gunicorn trusts no forwarder
(server/gunicorn_conf.py). What limits count by is :func:`client_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDING = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")


def proxy_networks(setting: str) -> list[Network]:
    """The addresses or networks of a comma-separated setting; ValueError names a bad one."""
    found = []
    for item in (i.strip() for i in setting.split(",") if i.strip()):
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return found


class TrustedProxy:
    """WSGI middleware: the trusted proxy's word for the client's address and scheme."""

    def __init__(self, app: WSGIApplication, proxies: Iterable[Network]) -> None:
        self.app = app
        self.proxies = tuple(proxies)
        self.forwarded = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)
        self.warned = False

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        if self._trusted(peer):
            return self.forwarded(environ, start_response)
        if not self.warned and "HTTP_X_FORWARDED_FOR" in environ:
            self.warned = True  # once: a client can send the header too
            log.warning(
                "X-Forwarded-For from %s ignored: it is not in trusted_proxy. Behind "
                "a proxy, set KB_TRUSTED_PROXY to its address, or every client counts "
                "as that one address in limits and logs",
                peer,
            )
        for name in FORWARDING:
            environ.pop(name, None)
        return self.app(environ, start_response)

    def _trusted(self, address: str) -> bool:
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in network for network in self.proxies)


def client_address() -> str:
    """The client's address as the WSGI server, or the trusted proxy, reports it."""
    return request.remote_addr or ""


def client_id() -> str:
    """The client's address as limits store it: keyed with the app's secret, so the
    activity file holds no addresses (an unkeyed hash of an IPv4 address is easily undone)."""
    key = str(current_app.secret_key).encode()
    digest = hmac.new(key, b"client\0" + client_address().encode(), hashlib.sha256)
    return "c:" + digest.hexdigest()[:24]
