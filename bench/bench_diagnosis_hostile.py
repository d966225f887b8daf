"""Hostile CI logs: no diagnosis rule may take more than linear time on a line a build can print.

A CI log is text anyone who can run the repository's CI writes (a pull request from a fork
included), and the detector diagnoses it inside a Lambda with a timeout. A rule whose regex
backtracks (an unanchored `[A-Za-z-]+ runner: .*`, a `.+` before a literal) costs quadratic time
on a long line built from its own markers: one 16 KB line took a second, a 1.6 MB log a minute.

For every rule and each of its literal markers, lines of the longest length the log reader keeps
(`MAX_LINE_CHARS`) are built from the marker and a filler character, in three arrangements
(filler then marker, marker then filler, marker and filler repeated). Each rule's regex is timed on
them; the unit is one linear pass over a line of that length (a regex trying an alternation at
every position), timed in the same run. Each rule's worst line is timed again at a quarter of the
length: the growth exponent log4(t(16 KB) / t(4 KB)) is about 1 for a linear rule and 2 for a
quadratic one, whatever the machine's speed. Printed worst first; exit status 1 when a rule that
costs more than ``--floor`` passes (default 50) grows with an exponent above ``--limit`` (1.5).

Usage::

    .venv/bin/python bench/bench_diagnosis_hostile.py [--limit 50] [--top 10]
"""

from __future__ import annotations

import argparse
import math
import re
import time

from mlops_bot.diagnosis.classifier import _PASSED, RULES  # the toolchain rules and the core ones
from mlops_bot.diagnosis.logs import MAX_LINE_CHARS

FILLERS = ("a", "-", " ", "a ", "a.", "/", "a:", "1", "'", '"', "(", "=", "_", ".", ":", "a,", "[", "x y ")
ORDINARY = "2026-11-27T10:00:00.0000000Z Collecting numpy==1.26.4 (from -r requirements.txt (line 3)) "
ONE_PASS = re.compile(r"(?:Q|Z)W")  # tried at every position, never matching: one linear pass


class _Matcher:
    """A regex the scanner applies to every line (not a rule), with the markers that reach it."""

    def __init__(self, name: str, match: re.Pattern[str], literals: tuple[str, ...]) -> None:
        self.name = name
        self.regex = _AnchoredSearch(match)
        self.literals = literals


class _AnchoredSearch:
    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.search = pattern.match  # applied with match(): timing search() would overstate it


LINE_MATCHERS = (_Matcher("scanner: pytest PASSED line", _PASSED, ("::", " PASSED", "PASSED ")),)


def _lines(marker: str, filler: str, length: int = MAX_LINE_CHARS) -> list[str]:
    body = (filler * (length // len(filler) + 1))[: length - len(marker)]
    repeated = ((marker + filler) * (length // (len(marker) + len(filler)) + 1))[:length]
    return [body + marker, marker + body, repeated]


def _seconds(search: object, line: str, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        search(line)  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def _growth(search: object, marker: str, filler: str, arrangement: int, rounds: int = 9) -> float:
    """log4 of the time on a full-length line over a quarter-length one, measured alternately
    (best of `rounds` each) so that a burst of load on the machine hits both alike."""
    long_line = _lines(marker, filler)[arrangement]
    short_line = _lines(marker, filler, MAX_LINE_CHARS // 4)[arrangement]
    long, short = float("inf"), float("inf")
    for _ in range(rounds):
        short = min(short, _seconds(search, short_line, rounds=1))
        long = min(long, _seconds(search, long_line, rounds=1))
    return math.log(max(long, 1e-9) / max(short, 1e-9), 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=1.5, help="largest growth exponent allowed")
    parser.add_argument("--floor", type=float, default=50.0, help="passes below which growth is not judged")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    ordinary = (ORDINARY * (MAX_LINE_CHARS // len(ORDINARY) + 1))[:MAX_LINE_CHARS]
    baseline = _seconds(ONE_PASS.search, ordinary, rounds=20)
    results: list[tuple[float, float, str, str, str]] = []
    checked: list[object] = [*RULES, *LINE_MATCHERS]
    for rule in checked:
        worst = (0.0, "", "", 0)
        for marker in rule.literals or ("",):  # type: ignore[attr-defined]
            for filler in FILLERS:
                for arrangement, line in enumerate(_lines(marker, filler)):
                    passes = _seconds(rule.regex.search, line, rounds=1) / baseline  # type: ignore[attr-defined]
                    if passes > worst[0]:
                        worst = (passes, marker, filler, arrangement)
        passes, marker, filler, arrangement = worst
        search = rule.regex.search  # type: ignore[attr-defined]
        growth = _growth(search, marker, filler, arrangement)
        results.append((passes, growth, rule.name, marker, filler))  # type: ignore[attr-defined]
    results.sort(reverse=True)
    print(
        f"{len(RULES)} rules and {len(LINE_MATCHERS)} line matcher(s), lines of {MAX_LINE_CHARS} characters;"
        f" one linear pass = {baseline * 1e6:.0f} µs; each one's worst hostile line in passes, worst first"
    )
    print(f"  {'passes':>10}  {'growth':>6}  rule")
    for passes, growth, name, marker, filler in results[: args.top]:
        print(f"  {passes:10.1f}  {growth:6.2f}  {name:40s} marker={marker!r} filler={filler!r}")
    failing = [r for r in results if r[0] > args.floor and r[1] > args.limit]
    if failing:
        names = ", ".join(r[2] for r in failing)
        print(f"FAIL: {len(failing)} rule(s) grow faster than length^{args.limit:g}: {names}")
        return 1
    print(f"ok: no rule above {args.floor:g} passes grows faster than length^{args.limit:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
