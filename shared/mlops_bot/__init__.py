"""mlops-bot (Healing Guard): the self-healing MLOps bot's shared library, shipped as a Lambda layer."""

__version__ = "0.1.0"
