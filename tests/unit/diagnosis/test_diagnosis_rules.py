"""The rule table itself: grep-compatible patterns, pre-filters that never hide a match, the model."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from mlops_bot.diagnosis import Category, Evidence, Problem, diagnose_lines
from mlops_bot.diagnosis.classifier import _PREFILTER
from mlops_bot.diagnosis.logs import normalize_line
from mlops_bot.diagnosis.rules import (
    LITERALS,
    RULES,
    Rule,
    grep_patterns,
    is_data_path,
    literal_regex,
    seconds,
    to_ere,
)

CORPUS = Path(__file__).resolve().parents[2] / "data" / "logs"


def corpus_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(CORPUS.glob("*.log")):
        lines += [normalize_line(line) for line in path.read_text(encoding="utf-8-sig").splitlines()]
    for path in sorted(CORPUS.glob("fresh*/*.log")):  # the blind corpora: real tools, new scenarios
        lines += [normalize_line(line) for line in path.read_text(encoding="utf-8-sig").splitlines()]
    for path in sorted((CORPUS / "fragments").glob("*.txt")):  # real tool output used by unit tests
        lines += [normalize_line(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines


def test_rule_names_are_unique_and_every_category_has_a_rule() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert set(Category) == {rule.category for rule in RULES}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_patterns_stay_in_the_subset_grep_understands(rule: Rule) -> None:
    pattern = rule.pattern
    assert "\\d" not in pattern and "*?" not in pattern and "+?" not in pattern
    for bracket in re.findall(r"\[[^\]]*\]", pattern.replace("\\[", "").replace("\\]", "")):
        assert "\\" not in bracket, bracket


@pytest.mark.skipif(shutil.which("grep") is None, reason="needs grep")
def test_grep_accepts_every_exported_pattern() -> None:
    for pattern in grep_patterns():
        result = subprocess.run(["grep", "-E", "-e", pattern, "/dev/null"], capture_output=True, check=False)
        assert result.returncode == 1, (pattern, result.stderr)


@pytest.mark.skipif(shutil.which("grep") is None, reason="needs grep")
def test_grep_and_python_agree_on_the_corpus(tmp_path: Path) -> None:
    lines = corpus_lines()
    sample = tmp_path / "lines.txt"
    sample.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for rule in RULES:
        ours = sum(1 for line in lines if rule.regex.search(line))
        grep = subprocess.run(["grep", "-c", "-E", "-e", to_ere(rule.pattern), str(sample)], capture_output=True)
        assert int(grep.stdout or b"0") == ours, rule.name


def test_literals_never_hide_a_regex_match() -> None:
    matched = set()
    for line in corpus_lines():
        for rule in RULES:
            if rule.regex.search(line):
                matched.add(rule.name)
                assert any(literal in line for literal in rule.literals), (rule.name, line)
                retained = rule.literals if rule.retain is None else rule.retain
                if any(literal in line for literal in retained):
                    assert _PREFILTER.search(line) is not None, (rule.name, line)
    assert len(matched) >= 30


def test_literal_regex_matches_exactly_the_lines_containing_a_literal() -> None:
    regex = literal_regex(LITERALS)
    for line in corpus_lines():
        assert (regex.search(line) is not None) == any(literal in line for literal in LITERALS), line


@pytest.mark.parametrize(
    ("path", "is_data"),
    [
        ("data/train.csv", True),
        ("/home/runner/work/p/p/datasets/images/cat.png", True),
        ("features.parquet", True),
        ("data/raw/labels", True),
        ("models/model.pkl", True),
        ("config/settings.toml", False),
        ("package.json", False),
        ("src/train.py", False),
    ],
)
def test_data_paths_are_told_from_code_and_config(path: str, is_data: bool) -> None:
    assert is_data_path(path) is is_data


@pytest.mark.parametrize(("limit", "value"), [("1", 1.0), ("2.5s", 2.5), ("10m", 600.0), ("1h", 3600.0), ("x", None)])
def test_duration_parsing(limit: str, value: float | None) -> None:
    assert seconds(limit) == value


def test_problem_model_validates_its_boundary() -> None:
    with pytest.raises(ValidationError):
        Problem(category=Category.TIMEOUT, kind="job-timeout", confidence=1.5)
    with pytest.raises(ValidationError):
        Problem(category="not-a-category", kind="x", confidence=0.5)
    with pytest.raises(ValidationError):
        Evidence(line=0, text="line numbers are 1-based")


def test_unknown_problem_says_why() -> None:
    problem = Problem.unknown("log was empty")
    assert problem.category is Category.UNKNOWN
    assert problem.details == {"reason": "log was empty"}
    assert problem.confidence == 0.0
    assert problem.evidence == [] and problem.step is None


def test_problem_round_trips_through_json() -> None:
    problem = diagnose_lines((CORPUS / "pytest_timeout.log").read_text(encoding="utf-8-sig").splitlines())
    again = Problem.model_validate_json(problem.model_dump_json())
    assert again == problem
    assert again.category == "timeout"


# Messages the corpus cannot produce on this machine (no GPU, no DNS, no GitHub server, no dmesg).
# They only pin each regex to the message format; classification is covered by the real corpus.
UNREACHABLE_MESSAGES = {
    # No Docker daemon, registry or conda on the machine that generates the corpus: documented wording.
    "docker-daemon": "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    " Is the docker daemon running?",
    "registry-rate-limit": "toomanyrequests: You have reached your pull rate limit. You may increase the limit"
    " by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
    "docker-pull-denied": "Error response from daemon: pull access denied for acme/trainer, repository does not"
    " exist or may require 'docker login': denied: requested access to the resource is denied",
    "docker-manifest-unknown": "Error response from daemon: manifest for python:3.99-slim not found:"
    " manifest unknown: manifest unknown",
    "registry-unauthorized": "Error response from daemon: unauthorized: authentication required",
    "conda-solve": "PackagesNotFoundError: The following packages are not available from current channels:",
    "cuda-oom": "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
    "dvc-missing-data": "ERROR: failed to pull data from the cloud - Checkout failed for following targets:",
    "eslint": "\u2716 3 problems (3 errors, 0 warnings)",
    "http-403": "urllib.error.HTTPError: HTTP Error 403: Forbidden",
    "gha-runner-error": "##[error]The hosted runner encountered an error while running your job.",
    "git-push-denied": "remote: Permission to org/repo.git denied to github-actions[bot].",
    "github-token-permissions": "Error: Resource not accessible by integration",
    "jest-summary": "Tests:       2 failed, 14 passed, 16 total",
    "kernel-oom-killer": "Out of memory: Killed process 4242 (python) total-vm:30000000kB",
    "network-dns": "fatal: unable to access 'https://github.com/org/repo/': Could not resolve host: github.com",
    "npm-404": "npm error 404 Not Found - GET https://registry.npmjs.org/@org%2fwidgets - Not found",
    "eacces": "Error: EACCES: permission denied, open '/usr/lib/node_modules/.package-lock.json'",
    "ssh-publickey": "git@github.com: Permission denied (publickey).",
}


@pytest.mark.parametrize(("name", "message"), sorted(UNREACHABLE_MESSAGES.items()))
def test_rules_without_corpus_cases_match_their_message(name: str, message: str) -> None:
    rule = next(rule for rule in RULES if rule.name == name)
    assert any(literal in message for literal in rule.literals)
    assert rule.regex.search(message)
    problem = diagnose_lines([message])
    assert problem.category is rule.category


@pytest.mark.parametrize(
    ("line", "kind", "path"),
    [
        ("bash: ./train.sh: Permission denied", "exec-permission-denied", "./train.sh"),
        ("/home/runner/work/_temp/1a2b.sh: line 1: ./deploy: Permission denied", "exec-permission-denied", "./deploy"),
        ("error: cannot open .git/FETCH_HEAD: Permission denied", "permission-denied", None),
        (
            "cp: cannot create regular file '/opt/models/m.pkl': Permission denied",
            "permission-denied",
            "/opt/models/m.pkl",
        ),
    ],
)
def test_plain_permission_denied_messages(line: str, kind: str, path: str | None) -> None:
    problem = diagnose_lines([line])
    assert (problem.category, problem.kind) == (Category.PERMISSION_DENIED, kind)
    assert problem.details.get("path") == path


def test_npm_404_names_the_package() -> None:
    problem = diagnose_lines([UNREACHABLE_MESSAGES["npm-404"]])
    assert problem.details["package"] == "@org/widgets"


def test_every_rule_is_exercised_by_the_corpus_or_a_message() -> None:
    lines = corpus_lines()
    exercised = {rule.name for rule in RULES if any(rule.regex.search(line) for line in lines)}
    assert {rule.name for rule in RULES} - exercised <= set(UNREACHABLE_MESSAGES)
