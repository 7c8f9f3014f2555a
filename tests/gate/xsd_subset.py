"""A validator for the small XSD subset that tests/gate/junit.xsd uses (neither lxml nor xmlschema is
installed here): global ``xs:element`` declarations with a ``xs:complexType`` (optionally mixed) holding
a ``xs:sequence`` of ``xs:element ref`` / ``xs:choice`` particles with minOccurs/maxOccurs, and
``xs:attribute`` with ``use`` and the simple types string, nonNegativeInteger, decimal and dateTime.
Anything else in the schema raises, so the validator cannot silently accept what it does not check."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

XS = "{http://www.w3.org/2001/XMLSchema}"
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _check_type(kind: str, value: str) -> bool:
    if kind == "xs:string":
        return True
    if kind == "xs:nonNegativeInteger":
        return value.strip().isdigit()
    if kind == "xs:decimal":
        return bool(_DECIMAL.match(value.strip()))
    if kind == "xs:dateTime":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return "T" in value
    raise ValueError(f"schema uses unsupported type {kind}")


def _occurs(node: ET.Element) -> tuple[int, float]:
    high = node.get("maxOccurs", "1")
    return int(node.get("minOccurs", "1")), float("inf") if high == "unbounded" else int(high)


class Schema:
    def __init__(self, path) -> None:
        root = ET.parse(path).getroot()
        self.elements: dict[str, dict] = {}
        for decl in root.findall(f"{XS}element"):
            complex_type = decl.find(f"{XS}complexType")
            if complex_type is None:
                raise ValueError(f"element {decl.get('name')} has no complexType")
            particles, attributes = [], {}
            for child in complex_type:
                if child.tag == f"{XS}sequence":
                    for part in child:
                        if part.tag == f"{XS}element":
                            particles.append(({part.get("ref")}, *_occurs(part)))
                        elif part.tag == f"{XS}choice":
                            refs = {e.get("ref") for e in part.findall(f"{XS}element")}
                            particles.append((refs, *_occurs(part)))
                        else:
                            raise ValueError(f"unsupported particle {part.tag}")
                elif child.tag == f"{XS}attribute":
                    attributes[child.get("name")] = (child.get("type"), child.get("use") == "required")
                else:
                    raise ValueError(f"unsupported schema construct {child.tag}")
            self.elements[decl.get("name")] = {
                "mixed": complex_type.get("mixed") == "true",
                "particles": particles,
                "attributes": attributes,
            }

    def errors(self, document: ET.Element) -> list[str]:
        """Every violation found in the document (empty when it validates)."""
        problems: list[str] = []
        self._validate(document, document.tag, problems)
        return problems

    def _validate(self, node: ET.Element, where: str, problems: list[str]) -> None:
        decl = self.elements.get(node.tag)
        if decl is None:
            problems.append(f"{where}: element <{node.tag}> is not declared")
            return
        for name, (kind, required) in decl["attributes"].items():
            if name not in node.attrib:
                if required:
                    problems.append(f"{where}: missing required attribute '{name}'")
            elif not _check_type(kind, node.attrib[name]):
                problems.append(f"{where}: attribute {name}={node.attrib[name]!r} is not a {kind}")
        for name in node.attrib:
            if name not in decl["attributes"]:
                problems.append(f"{where}: attribute '{name}' is not allowed")
        if not decl["mixed"]:
            texts = [node.text] + [child.tail for child in node]
            if any(t and t.strip() for t in texts):
                problems.append(f"{where}: text is not allowed in <{node.tag}>")
        children = list(node)
        position = 0
        for refs, low, high in decl["particles"]:
            count = 0
            while position < len(children) and children[position].tag in refs and count < high:
                position, count = position + 1, count + 1
            if count < low:
                problems.append(f"{where}: expected at least {low} of {sorted(refs)}, found {count}")
        for extra in children[position:]:
            problems.append(f"{where}: unexpected <{extra.tag}> here")
        for i, child in enumerate(children):
            self._validate(child, f"{where}/{child.tag}[{i}]", problems)
