"""Definition generation: environment + site -> ImageSpec -> Apptainer definition / Dockerfile.

Kept apart like spack's container writer: the schema (:mod:`builder.model.image`), the pure
construction of an ImageSpec (:mod:`.imagespec`, one small function per concern in
:mod:`.components`), the template context with all quoting (:mod:`.context`), and the jinja2
templates beside the code (``templates/``). :mod:`.api` is the only module with side effects.
"""
