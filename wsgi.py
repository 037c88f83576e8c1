"""The WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`."""

from pro_app import create_app

app = create_app()
