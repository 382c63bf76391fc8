"""One router per concern: scheduler verbs, the plan gate's admission webhook, health, debug, metrics."""
