"""Job functions: thin calls into domain services, safe to run more than once."""
