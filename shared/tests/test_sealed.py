"""Secrets sealed in events for the mail service: only the right key and context open them."""

from __future__ import annotations

import pytest

from docflow_shared.sealed import SealError, SecretSealer, development_key_spec, new_key_spec, parse_keys


def sealer(*specs: str, current: str = "") -> SecretSealer:
    return SecretSealer(parse_keys(",".join(specs)), current)


class TestSealing:
    def test_sealed_values_open_with_their_context_only(self) -> None:
        box = sealer(new_key_spec("k1"))
        sealed = box.seal({"code": "123456"}, context="user.x\x1fu1")
        assert "123456" not in sealed and sealed.startswith("v1.k1.")
        assert box.open(sealed, context="user.x\x1fu1") == {"code": "123456"}
        with pytest.raises(SealError):
            box.open(sealed, context="user.x\x1fu2")

    def test_a_tampered_value_or_another_key_does_not_open(self) -> None:
        box = sealer(new_key_spec("k1"))
        sealed = box.seal({"token": "t"}, context="c")
        with pytest.raises(SealError):
            box.open(sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1], context="c")
        with pytest.raises(SealError):
            sealer(new_key_spec("k1")).open(sealed, context="c")

    def test_rotation_seals_with_the_current_key_and_opens_with_every_key(self) -> None:
        old, new = new_key_spec("old"), new_key_spec("new")
        sealed_before = sealer(old).seal({"code": "1"}, context="c")
        rotated = sealer(new, old, current="new")
        assert rotated.seal({"code": "2"}, context="c").startswith("v1.new.")
        assert rotated.open(sealed_before, context="c") == {"code": "1"}

    @pytest.mark.parametrize("spec", ["k1", "k1:not-base64!", "k1:" + "QUJD", "a.b:" + new_key_spec()[3:]])
    def test_malformed_keys_are_refused(self, spec: str) -> None:
        with pytest.raises(ValueError):
            parse_keys(spec)

    def test_development_services_share_one_key_file(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        first = development_key_spec(tmp_path)
        assert development_key_spec(tmp_path) == first
        assert (tmp_path / "event-secrets.key").stat().st_mode & 0o077 == 0
