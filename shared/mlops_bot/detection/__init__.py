"""Detection: from a queued repository event to recorded activity and incidents."""
