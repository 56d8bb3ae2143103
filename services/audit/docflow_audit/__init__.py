"""DocFlow audit service: a hash-chained, append-only trail of every action on a document."""
