"""Driving adapter: arq worker settings and the job functions it runs."""
