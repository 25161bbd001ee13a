"""Vendored GS1 EPCIS 2.0 artefacts (JSON Schema, JSON-LD context); see PROVENANCE.md."""
