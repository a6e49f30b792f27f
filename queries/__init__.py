"""The question catalog: one SPARQL file per question."""
