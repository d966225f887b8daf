"""Python SDK for the mlops-bot management API and the Healing Guard API.

    from mlops_bot_sdk import MLOpsBotClient, NotFound

    client = MLOpsBotClient(base_url="https://mlops-bot.example.com", api_key="mlb_...")
    for issue in client.issues.list(status="resolved", limit=10):
        print(issue.type, issue.description)

Errors are exceptions carrying the spec's `code`, `message`, `request_id` and the HTTP status;
429/503 (and 502/504 for idempotent calls) are retried a bounded number of times.
Results are dataclasses; fields a server adds later are kept in `model_extra`.
"""

from mlops_bot_sdk.client import DashboardSubscription, HealingGuardClient, MLOpsBotClient, __version__
from mlops_bot_sdk.errors import (
    Conflict,
    DependencyMissing,
    Forbidden,
    HealingGuardError,
    InternalError,
    InvalidRequest,
    MLOpsBotError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    ValidationFailed,
)
from mlops_bot_sdk.models import (
    Analytics,
    Answer,
    ApiHealth,
    Audit,
    ClusterStatus,
    DashboardMessage,
    DetailedHealth,
    Failure,
    FailurePattern,
    Health,
    InvalidAnswer,
    Issue,
    Page,
    Pipeline,
    Playbook,
    PlaybookDetails,
    PredictionResult,
    Repository,
    RepositoryDetails,
    ResolutionResult,
    SpecModel,
    SystemConfig,
    Tenant,
    TenantUsage,
    TokenPair,
    User,
)

__all__ = [
    "Analytics",
    "Answer",
    "ApiHealth",
    "Audit",
    "ClusterStatus",
    "Conflict",
    "DashboardMessage",
    "DashboardSubscription",
    "DependencyMissing",
    "DetailedHealth",
    "Failure",
    "FailurePattern",
    "Forbidden",
    "HealingGuardClient",
    "HealingGuardError",
    "Health",
    "InternalError",
    "InvalidAnswer",
    "InvalidRequest",
    "Issue",
    "MLOpsBotClient",
    "MLOpsBotError",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "Pipeline",
    "Playbook",
    "PlaybookDetails",
    "PredictionResult",
    "RateLimited",
    "Repository",
    "RepositoryDetails",
    "ResolutionResult",
    "ServiceUnavailable",
    "SpecModel",
    "SystemConfig",
    "Tenant",
    "TenantUsage",
    "TokenPair",
    "TransportError",
    "Unauthorized",
    "User",
    "ValidationFailed",
    "__version__",
]
