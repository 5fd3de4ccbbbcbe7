"""Numbers as the tools print them: Kubernetes quantities, Portworx sizes, byte counts.

``parse_quantity`` is a faithful port of the grammar of Kubernetes'
``resource.ParseQuantity`` (k8s.io/apimachinery/pkg/api/resource/quantity.go)::

    <quantity>        ::= <signedNumber><suffix>
    <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>

with its two rounding rules: a value is rounded up (away from zero) to a whole
nano unit, and a binary-suffixed one saturates at 2^63 - 1. The value is exact (a
Decimal), so ``15387080Ki`` is 15756369920 bytes, not a float near it.
"""
from __future__ import annotations

import re
from decimal import ROUND_UP, Decimal

from placement.models.errors import excerpt

# Unambiguous (the fraction needs its dot: "\d+\.?\d*" split a run of digits every way, quadratic on 16,000 of
# them) and ASCII digits only, as apimachinery reads them.
_QUANTITY = re.compile(r"([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?")
_QUANTITY_CHARACTERS = 100  # "15387080Ki" is 10; a longer one is no quantity a cluster holds
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_NANO = Decimal("1e-9")
_MAX = Decimal(2 ** 63 - 1)

GIB = 2 ** 30


class QuantityError(ValueError):
    """Not a Kubernetes quantity; the message says what was expected."""


def parse_quantity(value: object) -> Decimal:
    """A Kubernetes quantity (``"3500m"``, ``"15387080Ki"``, ``"1e3"``, or a plain number) as an exact Decimal."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QuantityError(f"{value!r} is not a quantity")
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a quantity")
    if len(value) > _QUANTITY_CHARACTERS:
        raise QuantityError(f"{excerpt(value)} is not a Kubernetes quantity (such as 3500m, 16Gi, 15387080Ki or 1e3)")
    match = _QUANTITY.fullmatch(value)
    if not match:
        raise QuantityError(f"{value!r} is not a Kubernetes quantity (such as 3500m, 16Gi, 15387080Ki or 1e3)")
    sign, number, suffix = match.groups()
    amount = Decimal(number)
    if suffix in _BINARY:
        amount *= 2 ** _BINARY[suffix]
    elif suffix in _DECIMAL:
        amount = amount.scaleb(_DECIMAL[suffix])
    elif suffix:
        amount = amount.scaleb(int(suffix[1:]))
    amount = amount.quantize(_NANO, rounding=ROUND_UP) if amount.as_tuple().exponent < -9 else amount
    if suffix in _BINARY:
        amount = min(amount, _MAX)  # apimachinery caps binary-suffixed amounts only
    return -amount if sign == "-" else amount


# Portworx text output: "8.4 GiB", "594 MiB", "1.5 TiB", "0 B" (IEC units, one decimal).
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|PiB|EiB|KB|MB|GB|TB|PB)$")
_SIZE_UNITS = {"B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40, "PiB": 50, "EiB": 60,
               # pxctl prints IEC sizes; the two-letter forms are read the same way (its "3.9 GB" is GiB)
               "KB": 10, "MB": 20, "GB": 30, "TB": 40, "PB": 50}
# starts only where a number starts (searched, it would otherwise retry every digit of a long run: quadratic)
SIZE_PATTERN = r"(?<![0-9.])[0-9]+(?:\.[0-9]+)?\s*(?:B|KiB|MiB|GiB|TiB|PiB|EiB|KB|MB|GB|TB|PB)"


def parse_size_text(text: str) -> Decimal:
    """A size as pxctl prints it (``"8.4 GiB"``) in bytes. Lossy by nature: the tool rounds."""
    match = _SIZE.match(text.strip())
    if not match:
        raise QuantityError(f"{text!r} is not a size such as '8.4 GiB'")
    return Decimal(match.group(1)) * 2 ** _SIZE_UNITS[match.group(2)]


_COUNT = re.compile(r"\s*\+?([0-9]+)\s*", re.ASCII)  # ASCII digits only: int() would also take "\u0663"
_UINT64 = 2 ** 64 - 1  # Portworx keeps sizes, usage and ha_level as unsigned 64-bit integers


def parse_count(value: object, what: str) -> int:
    """A whole number that may come as a JSON number or as a string of digits (pxctl -j prints 64-bit ints as strings),
    in 0..2^64-1: a longer string is refused by its length before int() reads it (which fails past 4,300 digits)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        match = _COUNT.fullmatch(value)
        if match is None:
            raise QuantityError(f"{what} is {excerpt(value)}; expected a whole number")
        digits = match.group(1).lstrip("0") or "0"
        if len(digits) > len(str(_UINT64)):
            raise QuantityError(f"{what} has {len(digits):,} digits; expected a whole number that fits 64 bits "
                                f"(at most {_UINT64:,})")
        value = int(digits)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= _UINT64:
            raise QuantityError(f"{what} is {excerpt(value)}; expected a whole number that fits 64 bits (0..{_UINT64:,})")
        return value
    raise QuantityError(f"{what} is {excerpt(value)}; expected a whole number")


def gib(amount: Decimal | int) -> float | int:
    """Bytes as GiB for the cluster file: exact to about a byte, an int when whole."""
    value = Decimal(amount) / GIB
    if value == value.to_integral_value():
        return int(value)
    return round(float(value), 9)


def cores(amount: Decimal) -> float | int:
    if amount == amount.to_integral_value():
        return int(amount)
    return round(float(amount), 9)
