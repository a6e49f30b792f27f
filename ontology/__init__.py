"""The Open Skies OWL ontology, its SHACL shapes, and reasoning with owlready2."""
