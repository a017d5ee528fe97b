"""The web UI: admin screens under ``/ui/``, server-rendered with Jinja2 and htmx, in en/fr/es.

The process mounts it on the API's app (``callbridge.ui.mount``); the screens call the API's own
route functions and models, so a rule is written once and the UI and the API apply the same one.
"""
