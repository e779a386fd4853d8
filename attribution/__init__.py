"""The organisation and the customers: stores, guides, bindings, sale credit, follow-ups."""
