"""Flask extensions, created unbound here and bound to an app in ``init_web``."""

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
compress = Compress()  # pages are 3-7x smaller gzipped: it matters on a market's weak 3G link
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
