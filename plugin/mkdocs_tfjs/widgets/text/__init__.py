"""The ``text`` part: its Python is part.py, beside its module, template and styles."""
