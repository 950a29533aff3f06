"""mkdocs-tfjs: Keras models as live TensorFlow.js widgets in MkDocs sites.

The core (``directive``, ``spec``, ``widgets``, ``convert``, ``cache``,
``render``, ``runtime``, ``build``) knows nothing of MkDocs; ``plugin`` and
``config`` adapt it to MkDocs (and ProperDocs), ``markdown`` and ``prepare``
to Zensical, and ``project`` reads the options for both.
"""

__version__ = "0.1.0"
