"""The Healing Guard API client under the import name its document uses.

    from healing_guard import HealingGuardClient

    client = HealingGuardClient(base_url="http://127.0.0.1:8080", api_token="...")
    pipelines = client.pipelines.list()
    handle = client.dashboard.subscribe(callback=print)  # returns at once; handle.stop() ends it

The same classes as `mlops_bot_sdk` (one distribution, `mlops-bot-sdk`, provides both names).
"""

from mlops_bot_sdk import *  # noqa: F403
from mlops_bot_sdk import __all__ as __all__
from mlops_bot_sdk import __version__ as __version__
