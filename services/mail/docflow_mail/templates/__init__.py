"""E-mail templates: Jinja2 files (HTML and text, ru and en) and their rendering."""
