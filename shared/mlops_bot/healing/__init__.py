"""Healing: from an incident to a playbook execution, its planned or made writes, and their audit."""
