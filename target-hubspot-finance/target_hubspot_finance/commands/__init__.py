"""Operator commands of target-hubspot-finance (console scripts and Meltano plugin commands).

check      connectivity and permissions of the HubSpot token, one line per problem
replay     list and replay the dead-letter through the target's normal sink path
reconcile  compare SAP and HubSpot per customer; non-zero exit on any difference
encrypt    turn a secret into an `enc:...` setting value (and make keys)
"""
