"""Who may read a document's trail: audit's own projection of owners and participants."""
