"""The deployment itself: the Lambda fleet and DLQ redrive, component health, the system
configuration, the API's settings."""
