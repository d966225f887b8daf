"""What users see of incidents and ask of the healer: the issues view, manual healing, the playbook catalog."""
