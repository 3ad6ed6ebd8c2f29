"""Currencies and their minor units, from the ISO 4217 table that the `iso4217` package ships
(the XML list published by SIX, the ISO 4217 maintenance agency). Only its data file is read:
importing the package would also build an enum of every currency, 4x slower."""

from __future__ import annotations

import os
from functools import cache

from ordercli.core.errors import UsageError


@cache
def minor_units() -> dict[str, int | None]:
    """Code -> number of decimal places (None for units such as gold, XAU, that have none)."""
    import importlib.util
    from xml.etree import ElementTree

    spec = importlib.util.find_spec("iso4217")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a broken install
        raise RuntimeError("the iso4217 package is missing: reinstall ordercli")
    root = ElementTree.parse(os.path.join(list(spec.submodule_search_locations)[0], "table.xml")).getroot()
    table: dict[str, int | None] = {}
    for entry in root.iter("CcyNtry"):
        code = (entry.findtext("Ccy") or "").strip()
        units = (entry.findtext("CcyMnrUnts") or "").strip()
        if code:
            table[code] = int(units) if units.isdigit() else None
    return table


def places(code: str, option: str = "currency") -> int:
    """The decimal places of a currency of payment; an unknown code, or a unit with no minor
    unit (XAU, XDR...), is exit 2 naming the option."""
    table = minor_units()
    if code not in table:
        raise UsageError(f"{option}: {code!r} is not an ISO 4217 currency code", "bad_currency", field=option)
    units = table[code]
    if units is None:
        raise UsageError(f"{option}: {code!r} is not a currency an order can be paid in", "bad_currency", field=option)
    return units
