"""gunicorn settings, read automatically when gunicorn starts in this folder:
gunicorn "app:create_app()"
"""

bind = "127.0.0.1:8000"
workers = 2
threads = 4  # requests only; print batches render in `choqr worker` (merchants/jobs.py)
timeout = 120  # requests are short: a household list over 300 rows is imported by `choqr worker` as a job
# No query strings in the access log: search boxes carry phone, CCCD and account numbers (merchants/logmask.py).
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's Arbiter
    """Mask long numbers and escape control characters (a forged line via %0A in a path) in the access log."""
    import logging

    from merchants.logmask import MaskNumbers

    logging.getLogger("gunicorn.access").addFilter(MaskNumbers())
