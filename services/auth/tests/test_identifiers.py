"""E-mail, phone and IIN normalisation and the password policy (pure functions)."""

from __future__ import annotations

import itertools

import pytest
from pydantic_core import PydanticCustomError

from docflow_auth.security.identifiers import iin_check_digit, normalize_email, normalize_iin, normalize_phone
from docflow_auth.security.passwords import password_problems


class TestIin:
    def test_first_pass_weights(self) -> None:
        assert iin_check_digit("00000000001") == 0
        assert normalize_iin("000000000010") == "000000000010"

    def test_second_pass_when_the_first_gives_ten(self) -> None:
        assert iin_check_digit("00000000010") == 1
        assert normalize_iin(" 000000000101 ") == "000000000101"
        with pytest.raises(PydanticCustomError):
            normalize_iin("000000000100")

    def test_numbers_whose_both_passes_give_ten_are_invalid(self) -> None:
        hopeless = next("".join(d) for d in itertools.product("0123456789", repeat=3)
                        if iin_check_digit("00000000" + "".join(d)) is None)
        for last in "0123456789":
            with pytest.raises(PydanticCustomError):
                normalize_iin("00000000" + hopeless + last)

    @pytest.mark.parametrize("value", ["", "12345", "1234567890123", "１２３４５６７８９０１２", "12345678901x"])
    def test_format(self, value: str) -> None:
        with pytest.raises(PydanticCustomError):
            normalize_iin(value)


class TestPhone:
    @pytest.mark.parametrize(("raw", "e164"), [
        ("8 701 234 56 78", "+77012345678"),
        ("+7 (701) 234-56-78", "+77012345678"),
        ("7012345678", "+77012345678"),
        ("+7 916 123-45-67", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ])
    def test_normalised_to_e164_reading_local_numbers_as_kazakh(self, raw: str, e164: str) -> None:
        assert normalize_phone(raw) == e164

    @pytest.mark.parametrize("raw", ["12", "phone", "+7 000 000 0000", "+999 123"])
    def test_invalid(self, raw: str) -> None:
        with pytest.raises(PydanticCustomError):
            normalize_phone(raw)


class TestEmail:
    def test_lower_cased_and_trimmed(self) -> None:
        assert normalize_email("  Aigerim.N@Mail.KZ ") == "aigerim.n@mail.kz"

    def test_idn_domain(self) -> None:
        assert normalize_email("Иван@Почта.рф") == "иван@почта.рф"

    @pytest.mark.parametrize("raw", ["plain", "a@", "@b.kz", "a b@c.kz", "a@b@c.kz"])
    def test_invalid(self, raw: str) -> None:
        with pytest.raises(PydanticCustomError):
            normalize_email(raw)


class TestPasswordPolicy:
    def test_good_password(self) -> None:
        assert password_problems("Sturdy-Kettle-47", "aigerim@mail.kz") == []

    def test_rules(self) -> None:
        assert password_problems("short", None)
        assert password_problems("Aigerim-2026-!", "aigerim@mail.kz")
        assert password_problems("QWERTYUIOP", None)
        assert password_problems("password1234!", None)
        assert password_problems("x" * 300, None)
        assert password_problems("Ab-Sturdy-Kettle", "ab@mail.kz") == []
