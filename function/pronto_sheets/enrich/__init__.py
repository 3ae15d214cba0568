"""Enrichment: contacts, the gate, the answer cache, the credit budget, the consent gate,
the Pronto client and the `Enricher` that ties them together (its results in outcome.py)."""
