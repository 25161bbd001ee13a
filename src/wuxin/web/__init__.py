"""The web console: a single-page app in plain JavaScript modules, served by the API process."""
