"""Web Push: subscriptions by prefecture and threshold, delivered by a durable job.

Imports broadcast (the timeline), geo (prefecture vocabulary, through an injected
resolver) and ingest.event (the event wire contract); only web imports push.
"""
