"""The cloud capacity model: events per day -> AWS usage, GitHub calls, and monthly cost.

Counts come from the code paths (how many DynamoDB/SQS/Step Functions operations each event and
incident makes); prices are us-east-1 on-demand list prices (edit PRICES for your region). Prints
the markdown table that docs/capacity.md quotes. Run: .venv/bin/python bench/capacity_model.py
"""

from __future__ import annotations

from dataclasses import dataclass

# Per repository per day (an active ML repository; change to fit yours).
EVENTS_PER_REPO_DAY = 170  # 20 runs x (2 workflow_run + 6 workflow_job) + pushes, PRs, issues
INCIDENTS_PER_REPO_DAY = 2
API_CALLS_PER_REPO_DAY = 20  # management API and dashboard reads

# Operations per unit of work, read off the code paths.
INGRESS_WRU, INGRESS_RRU = 3, 2  # rate counter, delivery put, delivery status | route get, delivery get
DETECTOR_WRU, DETECTOR_RRU = 3, 0  # event put (+ GSI copy), repository counters
INCIDENT_WRU, INCIDENT_RRU = 25, 15  # incident, timeline appends, actions, audit, budget, breaker
SQS_REQUESTS_PER_EVENT = 2.2  # send + batched receive/delete (batch ~5 at load)
DETECTOR_BATCH = 5
SFN_TRANSITIONS_PER_INCIDENT = 12
LAMBDA_PER_INCIDENT = 6  # healer, plan, execute, await, resolve/fail, notify
GITHUB_CALLS_PER_INCIDENT = 14  # logs (2), config file, repo, 4-6 file probes, branch, put, PR find/create
LAMBDA_GB_SECONDS = {"ingress": 0.25 * 0.06, "detector": 0.5 * 0.15, "action": 0.5 * 0.4, "api": 0.5 * 0.08}
PRICES = {
    "lambda_request": 0.20e-6,
    "lambda_gb_s": 16.6667e-6,
    "ddb_wru": 1.25e-6,
    "ddb_rru": 0.25e-6,
    "ddb_storage_gb": 0.25,
    "sqs_request": 0.40e-6,
    "sfn_transition": 25e-6,
    "apigw_http_request": 1.00e-6,
}
STORAGE_KB_PER_EVENT = 1.0  # kept for the TTL (90 days)
EVENT_TTL_DAYS = 90
GITHUB_INSTALLATION_LIMIT_PER_HOUR = 5000


@dataclass
class Usage:
    repositories: int

    @property
    def events(self) -> float:
        return self.repositories * EVENTS_PER_REPO_DAY * 30

    @property
    def incidents(self) -> float:
        return self.repositories * INCIDENTS_PER_REPO_DAY * 30

    @property
    def api_calls(self) -> float:
        return self.repositories * API_CALLS_PER_REPO_DAY * 30

    def monthly(self) -> dict[str, float]:
        invocations = self.events + self.events / DETECTOR_BATCH + self.incidents * LAMBDA_PER_INCIDENT + self.api_calls
        gb_s = (
            self.events * LAMBDA_GB_SECONDS["ingress"]
            + self.events / DETECTOR_BATCH * LAMBDA_GB_SECONDS["detector"]
            + self.incidents * LAMBDA_PER_INCIDENT * LAMBDA_GB_SECONDS["action"]
            + self.api_calls * LAMBDA_GB_SECONDS["api"]
        )
        wru = self.events * (INGRESS_WRU + DETECTOR_WRU) + self.incidents * INCIDENT_WRU
        rru = self.events * (INGRESS_RRU + DETECTOR_RRU) + self.incidents * INCIDENT_RRU + self.api_calls * 5
        storage_gb = self.repositories * EVENTS_PER_REPO_DAY * EVENT_TTL_DAYS * STORAGE_KB_PER_EVENT * 2 / 1e6
        sqs = self.events * SQS_REQUESTS_PER_EVENT + self.incidents * 3
        transitions = self.incidents * SFN_TRANSITIONS_PER_INCIDENT
        cost = {
            "lambda": invocations * PRICES["lambda_request"] + gb_s * PRICES["lambda_gb_s"],
            "dynamodb": wru * PRICES["ddb_wru"] + rru * PRICES["ddb_rru"] + storage_gb * PRICES["ddb_storage_gb"],
            "sqs": sqs * PRICES["sqs_request"],
            "step_functions": transitions * PRICES["sfn_transition"],
            "api_gateway": (self.events + self.api_calls) * PRICES["apigw_http_request"],
        }
        return {
            "invocations": invocations,
            "wru": wru,
            "rru": rru,
            "sqs": sqs,
            "transitions": transitions,
            "storage_gb": storage_gb,
            **{f"cost_{k}": v for k, v in cost.items()},
            "cost_total": sum(cost.values()),
        }


def main() -> None:
    print(
        "| repositories | events/day | Lambda invocations/mo | DynamoDB WRU/mo | RRU/mo | SQS req/mo "
        "| SFN transitions/mo | storage GB | $/month |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for repositories in (10, 1_000, 100_000):
        m = Usage(repositories).monthly()
        print(
            f"| {repositories:,} | {repositories * EVENTS_PER_REPO_DAY:,} | {m['invocations']:,.0f} | "
            f"{m['wru']:,.0f} | {m['rru']:,.0f} | {m['sqs']:,.0f} | {m['transitions']:,.0f} | "
            f"{m['storage_gb']:,.1f} | {m['cost_total']:,.2f} |"
        )
    per_install_hour = INCIDENTS_PER_REPO_DAY * GITHUB_CALLS_PER_INCIDENT / 24
    print(
        f"\nGitHub calls per repository-hour: {per_install_hour:.2f}; one installation's "
        f"{GITHUB_INSTALLATION_LIMIT_PER_HOUR}/h limit covers "
        f"{GITHUB_INSTALLATION_LIMIT_PER_HOUR / per_install_hour:,.0f} repositories at this incident rate."
    )
    peak = 100_000 * EVENTS_PER_REPO_DAY / 86_400 * 5
    print(f"Peak webhook rate at 100,000 repositories (5x the daily mean): {peak:,.0f}/s.")


if __name__ == "__main__":
    main()
