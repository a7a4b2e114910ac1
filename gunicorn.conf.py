"""gunicorn for qualdash: `make serve`, or `gunicorn -c gunicorn.conf.py` (README, "Deploying").

Threaded workers: a request spends its time waiting on MTurk, and an export streams for as long
as a large type takes to walk, which a sync worker's timeout would cut. Several processes share
the walks through the cache (Redis for more than one server), so any worker can answer any request.

Environment: QUALDASH_BIND (host:port, default 127.0.0.1:8000: only the TLS proxy on this host
reaches it), WEB_CONCURRENCY (worker processes, default 2 per CPU, 2 to 8), QUALDASH_THREADS
(threads per worker, default 4). FORWARDED_ALLOW_IPS and GUNICORN_CMD_ARGS work as in gunicorn.
"""

import os

wsgi_app = "qualdash.wsgi:application"
bind = [os.environ.get("QUALDASH_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY") or min(max(2 * (os.cpu_count() or 1), 2), 8))
worker_class = "gthread"
threads = int(os.environ.get("QUALDASH_THREADS") or 4)
# A threaded worker reports to the arbiter while its threads serve, so this bounds a hung worker,
# not a long export.
timeout = 60
graceful_timeout = 30
keepalive = 5
# A worker's memory of complete walks (qualdash/mturk/pages.py) is let go now and then.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms worker %(p)s'
# gunicorn 25+ opens a control socket at one path in the home directory, which a second instance
# on the host (another port, a test run) would fight over; nothing here uses it.
control_socket_disable = True
