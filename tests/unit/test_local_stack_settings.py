"""The local stack's switches mean what they say: a word it does not know is an error, never `false`.

A typo such as `MLOPS_BOT_DRY_RUN=ture` read as false would let the bot write for real.
"""

from __future__ import annotations

import pytest

from mlops_bot.local.stack import StackConfig


@pytest.mark.parametrize("name", ["MLOPS_BOT_DRY_RUN", "MLOPS_BOT_SANDBOX", "MLOPS_BOT_AUTO_ENROLL"])
def test_an_unknown_boolean_word_is_refused_not_read_as_false(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, "ture")
    with pytest.raises(ValueError, match=name):
        StackConfig.from_environment()


@pytest.mark.parametrize(
    ("word", "meaning"), [("true", True), ("YES", True), ("1", True), ("off", False), ("0", False)]
)
def test_the_boolean_words_are_read_as_they_say(word: str, meaning: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_DRY_RUN", word)
    monkeypatch.setenv("MLOPS_BOT_SANDBOX", word)
    config = StackConfig.from_environment()
    assert (config.dry_run, config.sandbox) == (meaning, meaning)
