"""One router per concern: scheduler verbs, health, debug, metrics."""
