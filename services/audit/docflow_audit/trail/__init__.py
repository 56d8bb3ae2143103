"""The audit trail: records chained by hash per document, appended from events, read by the
document's owner and participants."""
