"""Stand-alone scripts run by path in another environment (they import nothing from `studio`)."""
