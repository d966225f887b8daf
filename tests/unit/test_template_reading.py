from pathlib import Path

from mlops_bot.local.template import Route, Template

ROOT = Path(__file__).resolve().parents[2]


def test_routes_prefer_literal_paths_over_the_greedy_proxy() -> None:
    routes = Template.load(ROOT / "template.yaml").http_routes()
    first = next(r for r in routes if r.match("POST", "/webhooks/github") is not None)
    assert first.function == "WebhookIngressFunction"
    health = next(r for r in routes if r.match("GET", "/health/ready") is not None)
    assert health.function == "ManagementApiFunction"


def test_route_matching_extracts_path_parameters() -> None:
    route = Route("GET", "/api/v1/repositories/{owner}/{repo}", "F")
    assert route.match("GET", "/api/v1/repositories/acme/model") == {"owner": "acme", "repo": "model"}
    assert route.match("POST", "/api/v1/repositories/acme/model") is None
    assert Route("ANY", "/{proxy+}", "F").match("DELETE", "/a/b/c") == {"proxy": "a/b/c"}


def test_queue_sources_come_from_the_template() -> None:
    sources = {s.function: s for s in Template.load(ROOT / "template.yaml").queue_sources()}
    assert sources["DetectorFunction"].queue == "EventsQueue"
    assert sources["DetectorFunction"].report_failures
    assert sources["HealerFunction"].queue == "HealingQueue"
