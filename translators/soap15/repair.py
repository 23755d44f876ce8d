"""Lenient 1.5: lift the deviations real SOAP chargers send instead of refusing them.

``validation = lenient`` makes the codec repair a request body before it is
checked against the 1.5 schema (:class:`SoapSettings` ``repair``). Each
repair is reported as one line (the gateway logs them as lossy notes; the
journal keeps the envelope as it arrived), and nothing the charger reported
is thrown away: an element that cannot be placed is named, with its text, in
a note. What is lifted, in this order, at every level of the body:

- **renamed elements**: a name the 1.5 schema does not have but 1.6 (or a
  spelling variant) does, e.g. vasyas' ``meterValue`` where 1.5 says
  ``values`` (:data:`ALIASES`), or a name in the wrong letter case;
- **missing optional wrappers**: an element that belongs inside a declared
  wrapper one level down is moved into one (StopTransaction ``values``
  without their ``transactionData``);
- **element order**: children are put in the schema's sequence order (a
  stable sort: repeated elements keep their order);
- **values as text**: surrounding white space; an integer written as a
  decimal (``12.0``); a boolean as ``True``/``1``; an enumeration value or
  attribute in the wrong letter case (``charging`` -> ``Charging``).

What remains invalid is refused as before, with the schema's reason.
"""

from __future__ import annotations

from lxml import etree

from ocppkit.translators.soap15.operations import TYPES, Complex, Field, Restricted

# Element names chargers use for a 1.5 field: (wrong name) -> 1.5 name.
ALIASES: dict[str, str] = {
    "meterValue": "values",  # the 1.6 name (vasyas charger-simulator)
    "meterValues": "values",
    "sampledValue": "value",  # the 1.6 name of a reading
}
_INTEGERS = frozenset({"int", "integer", "long", "short", "nonNegativeInteger"})
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def _local(el: etree._Element) -> str:
    return str(etree.QName(el).localname)


def _text_value(type_name: str, text: str) -> str:
    """``text`` as the 1.5 type wants it, or unchanged when it is not fixable."""
    value = text.strip()
    declared = TYPES.get(type_name)
    if type_name in _INTEGERS:
        try:
            number = float(value)
        except ValueError:
            return value
        return str(int(number)) if number.is_integer() else value
    if type_name == "boolean":
        lowered = value.lower()
        return "true" if lowered in _TRUE else "false" if lowered in _FALSE else value
    if isinstance(declared, Restricted) and declared.enum:
        by_lower = {v.lower(): v for v in declared.enum}
        return by_lower.get(value.lower(), value)
    return value


def _place(name: str, known: dict[str, Field]) -> str | None:
    """The declared field a stray element name stands for, if any."""
    if name in known:
        return name
    alias = ALIASES.get(name)
    if alias in known:
        return alias
    by_lower = {k.lower(): k for k in known}
    return by_lower.get(name.lower())


def _wrapper_for(name: str, fields: tuple[Field, ...]) -> Field | None:
    """A declared complex child whose own fields include ``name`` (or its alias)."""
    for f in fields:
        t = TYPES.get(f.type)
        if isinstance(t, Complex) and t.text is None:
            inner = {g.name: g for g in t.fields}
            if _place(name, inner) is not None:
                return f
    return None


def _fix_text(el: etree._Element, type_name: str, where: str, notes: list[str]) -> None:
    declared = TYPES.get(type_name)
    if isinstance(declared, Complex):
        if declared.text is not None and el.text is not None:
            fixed = _text_value(declared.text, el.text)
            if fixed != el.text:
                notes.append(f"{where}: value {el.text!r} read as {fixed!r}")
                el.text = fixed
        for attribute in declared.attributes:
            raw = el.get(attribute.name)
            if raw is not None:
                fixed = _text_value(attribute.type, raw)
                if fixed != raw:
                    notes.append(f"{where}@{attribute.name}: {raw!r} read as {fixed!r}")
                    el.set(attribute.name, fixed)
        return
    if el.text is not None and len(el) == 0:
        fixed = _text_value(type_name, el.text)
        if fixed != el.text:
            notes.append(f"{where}: value {el.text!r} read as {fixed!r}")
            el.text = fixed


def repair(
    el: etree._Element, fields: tuple[Field, ...], notes: list[str], where: str = ""
) -> None:
    """Repair the children of ``el`` (declared as ``fields``) in place; append what was done."""
    known = {f.name: f for f in fields}
    path = where or _local(el)
    namespace = etree.QName(el).namespace
    wrappers: dict[str, etree._Element] = {}
    for child in list(el):
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        target = _place(name, known)
        if target is not None and target != name:
            notes.append(f"{path}/{name}: read as {target}")
            child.tag = etree.QName(namespace, target).text
            continue
        if target is not None:
            continue
        wrapper = _wrapper_for(name, fields)
        if wrapper is not None:
            holder = wrappers.get(wrapper.name)
            if holder is None:
                holder = etree.Element(etree.QName(namespace, wrapper.name).text)
                child.addprevious(holder)
                wrappers[wrapper.name] = holder
                notes.append(f"{path}/{name}: missing {wrapper.name} wrapper added")
            holder.append(child)
            continue
        text = etree.tostring(child, encoding="unicode", with_tail=False)
        notes.append(f"{path}/{name}: not in the 1.5 schema, left out: {text[:300]}")
        el.remove(child)
    order = {f.name: i for i, f in enumerate(fields)}
    children = [c for c in el if isinstance(c.tag, str)]
    ordered = sorted(children, key=lambda c: order.get(_local(c), len(order)))
    if [_local(c) for c in ordered] != [_local(c) for c in children]:
        notes.append(f"{path}: elements put in schema order")
        for c in children:
            el.remove(c)
        el.extend(ordered)
    for child in ordered:
        f = known[_local(child)]
        child_path = f"{path}/{f.name}"
        declared = TYPES.get(f.type)
        if isinstance(declared, Complex) and declared.text is None:
            repair(child, declared.fields, notes, child_path)
        else:
            _fix_text(child, f.type, child_path, notes)
