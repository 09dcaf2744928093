"""Timing and relevance runs that print figures; kept out of the test suite."""
