"""Which tenant owns an installation or a repository."""
