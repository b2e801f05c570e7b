"""HubSpot API access: one client and one rate limiter per run, shared by every sink."""
