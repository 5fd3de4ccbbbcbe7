"""Kubernetes quantities (a port of apimachinery's ParseQuantity, checked on its own test table)
and the numbers pxctl prints."""
from decimal import Decimal

import pytest

from placement.imports.quantities import QuantityError, gib, parse_count, parse_quantity, parse_size_text

# From k8s.io/apimachinery/pkg/api/resource/quantity_test.go (TestQuantityParse), value as a Decimal.
VALID = [
    ("0", "0"), ("0n", "0"), ("0u", "0"), ("0m", "0"), ("0Ki", "0"), ("0k", "0"), ("0Mi", "0"), ("0M", "0"),
    ("1Ki", "1024"), ("8Ki", "8192"), ("7Mi", str(7 * 2**20)), ("6Gi", str(6 * 2**30)), ("5Ti", str(5 * 2**40)),
    ("4Pi", str(4 * 2**50)), ("3Ei", str(3 * 2**60)), ("10Ti", str(10 * 2**40)), ("100Ti", str(100 * 2**40)),
    ("5n", "5e-9"), ("4u", "4e-6"), ("3m", "0.003"), ("9", "9"), ("8k", "8000"), ("50k", "50000"), ("7M", "7e6"),
    ("6G", "6e9"), ("5T", "5e12"), ("40T", "4e13"), ("300T", "3e14"), ("2P", "2e15"), ("1E", "1e18"),
    ("1E-3", "0.001"), ("1e3", "1000"), ("1E6", "1e6"), ("1e9", "1e9"), ("1E12", "1e12"), ("1e15", "1e15"), ("1E18", "1e18"),
    ("1e14", "1e14"), ("1e13", "1e13"), ("100.035k", "100035"),
    ("0.001", "0.001"), ("0.0005k", "0.5"), ("0.005", "0.005"), ("0.05", "0.05"), ("0.5", "0.5"), ("0.00050k", "0.5"),
    ("0.5e0", "0.5"), ("0.5e-1", "0.05"), ("0.5e-2", "0.005"), ("10.035M", "10035000"),
    ("1.2e3", "1200"), ("1.3E+6", "1300000"), ("1.40e9", "1.4e9"), ("1.53E12", "1.53e12"), ("1.6e15", "1.6e15"), ("1.7E18", "1.7e18"),
    ("9.01", "9.01"), ("8.1k", "8100"), ("7.123456M", "7123456"), ("6.987654321G", "6987654321"), ("5.444T", "5.444e12"),
    ("40.1T", "4.01e13"), ("300.2T", "3.002e14"), ("2.5P", "2.5e15"), ("1.01E", "1.01e18"),
    # things that round up to a whole nano unit, or saturate
    ("3.001n", "4e-9"), ("1.1E-9", "2e-9"), ("0.0000000001", "1e-9"), ("0.0000000005", "1e-9"), ("0.5e-9", "1e-9"),
    ("0.9n", "1e-9"), ("0.00000012345", "1.24e-7"), ("9Ei", str(2**63 - 1)), ("9223372036854775807Ki", str(2**63 - 1)),
    ("12E", "1.2e19"),
    ("100.035Ki", "102435.84"), ("0.5Mi", str(2**19)), ("0.05Gi", "53687091.2"), ("0.025Ti", "27487790694.4"),
    (".001", "0.001"), (".0001k", "0.1"), ("1.", "1"), ("1.G", "1e9"),
    # what the samples and the Python client show (NOTES.md)
    ("3500m", "3.5"), ("15387080Ki", "15756369920"), ("1.5Gi", "1610612736"), ("122112633448", "122112633448"),
    ("+5", "5"), ("-3m", "-0.003"),
]
INVALID = ["1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 ", "10 GiB", "1K", "", "NaN"]


@pytest.mark.parametrize("text,value", VALID)
def test_valid_quantities(text, value):
    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize("text", INVALID)
def test_invalid_quantities(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_numbers_pass_through_exactly():
    assert parse_quantity(4) == 4
    assert parse_quantity(2.5) == Decimal("2.5")
    with pytest.raises(QuantityError):
        parse_quantity(True)


@pytest.mark.parametrize("text,nbytes", [("8.4 GiB", Decimal("8.4") * 2**30), ("594 MiB", 594 * 2**20), ("1.5 TiB", Decimal("1.5") * 2**40),
                                         ("0 B", 0), ("340 KiB", 340 * 1024), ("3.9 GB", Decimal("3.9") * 2**30)])
def test_pxctl_sizes(text, nbytes):
    assert parse_size_text(text) == nbytes


def test_counts_come_as_strings_or_numbers():
    assert parse_count("1073741824", "spec.size") == parse_count(1073741824, "spec.size") == 2**30
    for bad in ("1.5", "ten", None, True):
        with pytest.raises(QuantityError):
            parse_count(bad, "spec.size")


def test_gib_is_exact_and_whole_numbers_stay_whole():
    assert gib(2**30 * 4000) == 4000 and isinstance(gib(2**30), int)
    assert gib(33964032) == pytest.approx(0.031631469, abs=1e-9)
