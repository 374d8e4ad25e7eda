"""Source adapters behind one interface (``base.Source``) and the registry that builds the
right adapter for an ``ErpSource`` row (``registry.build_source``)."""
