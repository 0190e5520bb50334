"""Safe loading of a JMA 防災情報XML document and namespace-aware lookups.

The document is parsed with defusedxml with DTDs, entities and external references
forbidden, after a size check, so that a hostile document (billion laughs, external
entities, a huge body) costs at most :data:`MAX_TELEGRAM_BYTES` of parsing.

JMA uses one namespace per section (JMA 技術資料 「XMLの構成」): the envelope and
``Control`` in ``jmaxml1``, ``Head`` in ``informationBasis1``, seismic ``Body`` in
``body/seismology1`` and values (``Coordinate``, ``Magnitude``) in ``elementBasis1``.
Lookups here match on namespace URI and local name, never on prefixes. Core module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from yure.ingest.errors import TelegramError

#: Largest telegram accepted, in bytes. The biggest real ones (VXSE53 with every
#: station of a large earthquake, VTSE51 with every tide station) stay well below 1 MiB.
MAX_TELEGRAM_BYTES = 2 * 1024 * 1024

#: The report envelope and ``Control``.
NS_REPORT = "http://xml.kishou.go.jp/jmaxml1/"
#: ``Head`` (情報ヘッダ部).
NS_HEAD = "http://xml.kishou.go.jp/jmaxml1/informationBasis1/"
#: ``Body`` of earthquake, tsunami and related notices (地震・津波).
NS_SEISMOLOGY = "http://xml.kishou.go.jp/jmaxml1/body/seismology1/"
#: Basic value elements (``Coordinate``, ``Magnitude``, ``TsunamiHeight``).
NS_ELEMENT = "http://xml.kishou.go.jp/jmaxml1/elementBasis1/"


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    """The three parts of a JMA report. ``body`` is None unless it is a seismic body."""

    control: Element
    head: Element
    body: Element | None


def qualified(namespace: str, local: str) -> str:
    """The ElementTree tag of ``local`` in ``namespace`` (``{uri}local``)."""
    return f"{{{namespace}}}{local}"


def child(parent: Element | None, namespace: str, local: str) -> Element | None:
    """The first child of ``parent`` named ``local`` in ``namespace``, if any."""
    if parent is None:
        return None
    tag = qualified(namespace, local)
    for element in parent:
        if element.tag == tag:
            return element
    return None


def children(parent: Element | None, namespace: str, local: str) -> Iterator[Element]:
    """Every child of ``parent`` named ``local`` in ``namespace``, in document order."""
    if parent is None:
        return
    tag = qualified(namespace, local)
    for element in parent:
        if element.tag == tag:
            yield element


def descend(parent: Element | None, namespace: str, *path: str) -> Element | None:
    """Follow ``path`` (local names in one namespace), taking the first match each step."""
    element = parent
    for local in path:
        element = child(element, namespace, local)
    return element


def text(element: Element | None) -> str:
    """The stripped text of ``element``; ``""`` when it is absent or empty."""
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def load_report(data: bytes) -> Report:
    """Parse ``data`` as a JMA report, safely.

    Raises:
        TelegramError: too large, not well-formed XML, a DTD or entity declaration,
            or not a JMA ``Report`` with ``Control`` and ``Head``.
    """
    if len(data) > MAX_TELEGRAM_BYTES:
        raise TelegramError(f"document larger than MAX_TELEGRAM_BYTES={MAX_TELEGRAM_BYTES}")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise TelegramError(
            f"forbidden XML construct ({type(err).__name__}): DTDs, entity declarations and"
            " external references are not accepted"
        ) from err
    except ParseError as err:
        raise TelegramError(f"not well-formed XML: {err}") from err
    except (ValueError, LookupError) as err:
        # pyexpat refuses unknown or multi-byte declared encodings with these.
        raise TelegramError(f"unreadable XML: {err}") from err
    if root.tag != qualified(NS_REPORT, "Report"):
        raise TelegramError(f"root element {root.tag!r} is not a JMA Report ({NS_REPORT})")
    control = child(root, NS_REPORT, "Control")
    if control is None:
        raise TelegramError("JMA Report without Control")
    head = child(root, NS_HEAD, "Head")
    if head is None:
        raise TelegramError("JMA Report without Head (informationBasis1)")
    return Report(control=control, head=head, body=child(root, NS_SEISMOLOGY, "Body"))
