"""Playbook definitions: the Amazon States Language files the template wires into state machines."""

from pathlib import Path

ASL_DIR = Path(__file__).parent / "asl"
