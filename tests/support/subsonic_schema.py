"""The schemas a Subsonic XML answer is checked against.

``SUBSONIC`` is the Subsonic 1.16.1 schema (``subsonic-1.16.1.xsd``), strict: an attribute it
does not have fails. ``OPEN_SUBSONIC`` is that schema plus the OpenSubsonic additions, written
here type by type from OpenSubsonic's published response pages (opensubsonic.netlify.app,
"Responses"), the way OpenSubsonic writes them in XML: a scalar is an attribute, a list is
repeated child elements (``<genres name="…"/>``), an object a child element
(``<replayGain trackGain="…"/>``). It stays strict for everything else.
"""

from __future__ import annotations

import copy
from pathlib import Path

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
HERE = Path(__file__).parent

_REF = {"attributes": {"id": "xs:string", "name": "xs:string"}}
_NAMED = {"attributes": {"name": "xs:string"}}
_CONTRIBUTOR = {
    "attributes": {"role": "xs:string", "subRole": "xs:string"},
    "elements": {"artist": _REF},
}
_REPLAY_GAIN = {
    "attributes": {
        name: "xs:double"
        for name in ("trackGain", "albumGain", "trackPeak", "albumPeak", "baseGain", "fallbackGain")
    }
}
_DATE = {"attributes": {"year": "xs:int", "month": "xs:int", "day": "xs:int"}}

# type -> (attributes, child elements) OpenSubsonic adds. An element's shape is an inline
# type: {"attributes": …, "elements": …} or a simple type name.
ADDITIONS: dict[str, tuple[dict[str, str], dict[str, object]]] = {
    "Child": (
        {
            "played": "xs:dateTime", "bpm": "xs:int", "comment": "xs:string",
            "sortName": "xs:string", "mediaType": "xs:string", "musicBrainzId": "xs:string",
            "channelCount": "xs:int", "samplingRate": "xs:int", "bitDepth": "xs:int",
            "displayArtist": "xs:string", "displayAlbumArtist": "xs:string",
            "displayComposer": "xs:string", "explicitStatus": "xs:string",
            # an album in folder form (getAlbumList, getStarred, search2): what apps read
            "name": "xs:string", "songCount": "xs:int",
        },
        {
            "genres": _NAMED, "replayGain": _REPLAY_GAIN, "artists": _REF,
            "albumArtists": _REF, "contributors": _CONTRIBUTOR, "isrc": "xs:string",
            "moods": "xs:string",
        },
    ),
    "AlbumID3": (
        {
            "played": "xs:dateTime", "userRating": "sub:Rating", "musicBrainzId": "xs:string",
            "isCompilation": "xs:boolean", "sortName": "xs:string",
            "displayArtist": "xs:string", "version": "xs:string", "explicitStatus": "xs:string",
        },
        {
            "genres": _NAMED, "artists": _REF, "recordLabels": _NAMED,
            "releaseTypes": "xs:string", "moods": "xs:string",
            "discTitles": {"attributes": {"disc": "xs:int", "title": "xs:string"}},
            "originalReleaseDate": _DATE, "releaseDate": _DATE,
        },
    ),
    "ArtistID3": (
        {"musicBrainzId": "xs:string", "sortName": "xs:string", "userRating": "sub:Rating"},
        {"roles": "xs:string"},
    ),
    # a folder-form artist: what apps read (issue 23)
    "Artist": ({"albumCount": "xs:int", "coverArt": "xs:string"}, {}),
    "PlayQueue": ({"currentIndex": "xs:int"}, {}),
}  # fmt: skip

# answers only OpenSubsonic has, as children of <subsonic-response>
ROOT_ELEMENTS: dict[str, object] = {
    "openSubsonicExtensions": {
        "attributes": {"name": "xs:string"},
        "elements": {"versions": "xs:int"},
    },
    "lyricsList": {
        "elements": {
            "structuredLyrics": {
                "attributes": {
                    "displayArtist": "xs:string", "displayTitle": "xs:string",
                    "lang": "xs:string", "offset": "xs:int", "synced": "xs:boolean",
                },
                "elements": {
                    "line": {"attributes": {"start": "xs:int"}, "text": True},
                },
            }
        }
    },
    "tokenInfo": {"attributes": {"username": "xs:string"}},
    # sonicSimilarity: getSonicSimilarTracks, findSonicPath
    "sonicMatch": {"attributes": {"similarity": "xs:double"}, "elements": {"entry": "sub:Child"}},
}  # fmt: skip
REPEATED_ROOT = ("openSubsonicExtensions", "sonicMatch")
ROOT_ATTRIBUTES = {"type": "xs:string", "serverVersion": "xs:string", "openSubsonic": "xs:boolean"}


def _x(tag: str, **attrs) -> etree._Element:
    element = etree.Element(f"{{{XS}}}{tag}")
    for key, value in attrs.items():
        element.set(key, value)
    return element


def _attribute(name: str, type_: str) -> etree._Element:
    return _x("attribute", name=name, type=type_)


def _element(name: str, shape: object, repeated: bool = True) -> etree._Element:
    element = _x("element", name=name, minOccurs="0")
    if repeated:
        element.set("maxOccurs", "unbounded")
    if isinstance(shape, str):
        element.set("type", shape)
        return element
    complex_ = _x("complexType")
    if shape.get("text"):
        complex_.set("mixed", "true")
    if shape.get("elements"):
        choice = _x("choice", minOccurs="0", maxOccurs="unbounded")
        for child, child_shape in shape["elements"].items():
            choice.append(_element(child, child_shape))
        complex_.append(choice)
    for attr, type_ in shape.get("attributes", {}).items():
        complex_.append(_attribute(attr, type_))
    element.append(complex_)
    return element


def _extend(complex_type: etree._Element, attributes: dict, elements: dict) -> None:
    """Add optional attributes, and optional repeatable elements in any order before the
    type's own content (a type with a sequence gets them as its sequence's first choice)."""
    if elements:
        choice = _x("choice", minOccurs="0", maxOccurs="unbounded")
        for name, shape in elements.items():
            choice.append(_element(name, shape))
        model = complex_type.find(f"{{{XS}}}sequence")
        if model is not None:
            model.insert(0, choice)
        else:
            complex_type.insert(0, choice)
    for name, type_ in attributes.items():
        complex_type.append(_attribute(name, type_))


def _load(path: Path) -> etree._ElementTree:
    return etree.parse(str(path))


def open_subsonic_tree() -> etree._ElementTree:
    tree = copy.deepcopy(_load(HERE / "subsonic-1.16.1.xsd"))
    root = tree.getroot()
    types = {t.get("name"): t for t in root.findall(f"{{{XS}}}complexType")}
    for name, (attributes, elements) in ADDITIONS.items():
        _extend(types[name], attributes, elements)
    response = root.find(f"{{{XS}}}element[@name='subsonic-response']/{{{XS}}}complexType")
    choice = response.find(f"{{{XS}}}choice")
    for name, shape in ROOT_ELEMENTS.items():
        element = _element(name, shape, repeated=name in REPEATED_ROOT)
        element.attrib.pop("minOccurs")
        choice.append(element)
    # several extensions repeat the element: the choice itself may repeat it
    for name, type_ in ROOT_ATTRIBUTES.items():
        response.append(_attribute(name, type_))
    return tree


SUBSONIC = etree.XMLSchema(_load(HERE / "subsonic-1.16.1.xsd"))
OPEN_SUBSONIC = etree.XMLSchema(open_subsonic_tree())
