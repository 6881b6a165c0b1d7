"""Forms of the programme's own set-up pages: settings and loading a newer list of units."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Optional

from merchants.forms import REQUIRED, too_long
from merchants.services.settings import NAME_MAX


class SettingsForm(FlaskForm):
    name = StringField(_l("Tên chương trình"), validators=[DataRequired(REQUIRED), too_long(NAME_MAX)])
    # The 1–100 rule lives in services.settings.check_target_percent; its message lands under this field.
    target_percent = IntegerField(_l("Mục tiêu bao phủ mặc định (%)"), validators=[DataRequired(REQUIRED)])
    target_date = DateField(_l("Hạn đạt mục tiêu"), validators=[Optional()])
    version = HiddenField()


class AreaLoadForm(FlaskForm):
    file = FileField(_l("Tệp danh sách địa bàn (CSV)"))
    dry_run = BooleanField(_l("Chạy thử: chỉ xem thay đổi, chưa lưu"), default=True)
