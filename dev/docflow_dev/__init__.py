"""DocFlow's developer package: ``make run`` and the test fixtures, never part of a production image."""
