"""One id recipe for every service: shapes each service's OpenAPI patterns accept, time order."""

from __future__ import annotations

import re
import time

import pytest

from docflow_shared.ids import DOCUMENT_ID_LENGTH, DOCUMENT_ID_PATTERN, id_pattern, new_id, well_formed
from docflow_shared.openapi import USER_ID_PATTERN


@pytest.mark.parametrize(("prefix", "length"), [("u", 24), ("", 32), ("crt_", 24), ("", 30)])
def test_ids_match_their_pattern(prefix: str, length: int) -> None:
    assert re.fullmatch(id_pattern(prefix, length=length), new_id(prefix, length=length))


def test_user_ids_match_the_pattern_other_services_check() -> None:
    assert re.fullmatch(USER_ID_PATTERN, new_id("u"))


def test_newer_ids_sort_after_older_ones() -> None:
    first = new_id("s")
    time.sleep(0.002)
    assert new_id("s") > first


def test_new_ids_sort_after_ids_stored_before_the_shared_recipe() -> None:
    """auth wrote 12 hex digits of milliseconds; its keyset pages sort by ``_id``."""
    old_auth_id = f"u{int(time.time() * 1000):012x}{'f' * 12}"
    assert new_id("u") > old_auth_id


def test_an_id_keeps_enough_randomness() -> None:
    with pytest.raises(ValueError):
        new_id(length=16)


def test_well_formed_tells_our_ids_from_anything_else() -> None:
    assert well_formed(new_id("crt_"), "crt_")
    assert well_formed(new_id(length=DOCUMENT_ID_LENGTH), length=DOCUMENT_ID_LENGTH)
    assert re.fullmatch(DOCUMENT_ID_PATTERN, new_id(length=DOCUMENT_ID_LENGTH))
    for value in (new_id("sig_"), new_id("crt_").upper().replace("CRT_", "crt_"), new_id("crt_") + "0",
                  new_id("crt_")[:-1], "", "crt_../../etc", new_id(length=DOCUMENT_ID_LENGTH)):
        assert not well_formed(value, "crt_"), value
    assert not well_formed(new_id("crt_"), length=DOCUMENT_ID_LENGTH)
