"""Enrichment: contacts, the gate, the answer cache, the credit budget, the Pronto client
and the `Enricher` that ties them together."""
