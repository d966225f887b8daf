"""What the bot watches: monitored repositories and their configuration, Healing Guard pipelines and failures."""
