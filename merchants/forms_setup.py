"""Forms for setting up markets, zones and stalls (administrators): declarative only, the rules are in services.

Targets and dates are text fields: the service parses them with the same rule as the spreadsheet import and the
CLI, so every entry point refuses a value with the same Vietnamese message.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Optional

from merchants.forms import REQUIRED, too_long
from merchants.services.setup_markets import ADDRESS_MAX, CODE_MAX, NAME_MAX
from merchants.services.stalls import ZONE_MAX

# The stall list's filter: each of models.STALL_STATES by its name on the page.
STALL_STATE_CHOICES = (
    ("", _l("Mọi trạng thái")),
    ("free", _l("Trống")),
    ("occupied", _l("Có hộ")),
    ("closed", _l("Đã đóng")),
)


class MarketForm(FlaskForm):
    code = StringField(_l("Mã chợ"), validators=[DataRequired(REQUIRED), too_long(CODE_MAX)])
    name = StringField(_l("Tên chợ"), validators=[DataRequired(REQUIRED), too_long(NAME_MAX)])
    province = SelectField(_l("Tỉnh / thành phố"), choices=[], validate_choice=False)
    commune_q = StringField(_l("Tìm xã / phường theo tên (không cần dấu)"), validators=[Optional(), too_long(80)])
    commune_code = SelectField(
        _l("Xã / phường / đặc khu"),
        choices=[],
        validate_choice=False,
        validators=[DataRequired(_l("Hãy chọn xã/phường trong danh sách địa bàn chính thức."))],
    )
    address = StringField(_l("Địa chỉ"), validators=[Optional(), too_long(ADDRESS_MAX)])
    is_demo = BooleanField(_l("Chợ mẫu: bảng QR in dấu MẪU, không dùng để nhận tiền thật"))
    target_percent = StringField(_l("Mục tiêu bao phủ (%)"), validators=[Optional(), too_long(6)])
    target_date = StringField(_l("Hạn đạt mục tiêu"), validators=[Optional(), too_long(10)])
    version = HiddenField()


class AddStallsForm(FlaskForm):
    codes = StringField(_l("Mã sạp hoặc dãy sạp"), validators=[DataRequired(REQUIRED), too_long(400)])
    zone = StringField(_l("Khu / dãy"), validators=[Optional(), too_long(ZONE_MAX)])


class StallForm(FlaskForm):
    code = StringField(_l("Mã sạp"), validators=[DataRequired(REQUIRED)])
    zone = StringField(_l("Khu / dãy"), validators=[Optional(), too_long(ZONE_MAX)])


class ZoneRenameForm(FlaskForm):
    zone = SelectField(_l("Khu cần đổi tên"), choices=[], validate_choice=False)
    new_zone = StringField(_l("Tên mới"), validators=[DataRequired(REQUIRED), too_long(ZONE_MAX)])


class SetupImportForm(FlaskForm):
    file = FileField(_l("Tệp danh sách (.xlsx hoặc .csv)"), validators=[FileRequired(_l("Hãy chọn tệp cần nhập."))])
    dry_run = BooleanField(_l("Chạy thử: chỉ kiểm tra, không lưu gì"))
    all_or_nothing = BooleanField(_l("Chỉ lưu khi mọi dòng đều hợp lệ"))
    update_existing = BooleanField(_l("Cập nhật chợ đã có theo tệp"))
