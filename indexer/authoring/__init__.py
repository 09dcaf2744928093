"""What authors run beside the index: ``kb lint``, ``kb new`` and ``kb export``."""
