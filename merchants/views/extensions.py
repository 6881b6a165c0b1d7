"""Flask extensions, created unbound here and bound to an app in ``init_web``."""

from flask_babel import Babel
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
compress = Compress()  # pages are 3-7x smaller gzipped: it matters on a market's weak 3G link
babel = Babel()
