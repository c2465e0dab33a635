"""The modes layer."""
