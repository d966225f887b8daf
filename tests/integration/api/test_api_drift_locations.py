"""Where a tenant's drift data may be: an `s3://` object or a path inside the repository, nothing else.

Where the numeric stack is installed (the local stack, or a deployment that adds it), the bot reads
these locations itself; an absolute path, `..` or another scheme would make it read its own file
system (`/proc/self/environ` holds the function's credentials).
"""

from __future__ import annotations

import pytest

from mlops_bot.repository_config import ConfigProblem, parse
from tests.integration.api.conftest import Api

PATH = "/api/v1/repositories/acme/model/config"
OUTSIDE = [
    "/proc/self/environ",
    "/etc/passwd",
    "file:///etc/passwd",
    "../../proc/self/environ",
    "data/../../../etc/passwd",
    "~/.aws/credentials",
    "C:\\data\\ref.csv",
    "https://169.254.169.254/latest/meta-data/",
    "s3://",
    "s3://bucket-only",
    "data/ref.csv\x00.parquet",
]


@pytest.mark.parametrize("location", OUTSIDE)
@pytest.mark.parametrize("field", ["reference", "current"])
def test_a_drift_location_outside_s3_or_the_repository_is_refused(api: Api, location: str, field: str) -> None:
    api.repository("acme/model")
    answer = api.client.put(PATH, headers=api.key("write"), json={"drift": {field: location}})
    assert answer.status_code == 422, location
    assert f"drift.{field}" in str(answer.json()["error"]["details"])


@pytest.mark.parametrize("location", OUTSIDE[:5])
def test_the_repository_file_refuses_them_too(location: str) -> None:
    problem = parse(f"drift:\n  reference: '{location}'\n  current: s3://ml-data/cur.parquet\n")
    assert isinstance(problem, ConfigProblem) and problem.errors[0].startswith("drift.reference")


@pytest.mark.parametrize("location", ["s3://ml-data/churn/reference.parquet", "data/reference.csv", "ref.parquet"])
def test_s3_objects_and_paths_in_the_repository_are_accepted(api: Api, location: str) -> None:
    api.repository("acme/model")
    answer = api.client.put(PATH, headers=api.key("write"), json={"drift": {"reference": location}})
    assert answer.status_code == 200, answer.text
