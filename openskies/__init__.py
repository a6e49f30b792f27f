"""Open Skies knowledge graph: ontology, instance data, SPARQL endpoint.

The distribution maps one import namespace onto the project's folders:
``openskies.ontology`` is ``ontology/``, ``openskies.graph`` is ``graph/``,
``openskies.server`` is ``server/`` and ``openskies.queries`` is ``queries/``,
so each folder keeps its data beside the code that handles it.
"""

__version__ = "0.1.0"
