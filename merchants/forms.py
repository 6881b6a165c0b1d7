"""Declarative forms. Field formats reuse the rules in ``identity``; cross-record checks stay in services.

Labels and messages are Vietnamese msgids wrapped in ``lazy_gettext``, so they follow the user's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import Select, html_params

from merchants import identity, stallcodes
from merchants.errors import InvalidField
from merchants.limits import max_length
from merchants.models import BankAccount, Household
from merchants.services.stalls import ZONE_MAX
from merchants.views.helpers import translated
from qr import all_banks

REQUIRED = _l("Trường này không được để trống.")
PHOTO_TYPES = _l("Chỉ nhận ảnh PNG, JPEG hoặc WEBP.")


def rule(check: Callable[[str], object]) -> Callable:
    """Turn an ``identity`` rule into a WTForms validator that shows its message in the user's language."""

    def _validate(_form: FlaskForm, field) -> None:  # noqa: ANN001
        if field.data and str(field.data).strip():
            try:
                check(field.data)
            except InvalidField as exc:
                raise ValidationError(translated(exc)) from exc

    return _validate


def too_long(limit: int) -> Length:
    return Length(max=limit, message=_l("Tối đa %(max)d ký tự."))


def bank_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("— Chọn ngân hàng —"))] + [
        SelectChoice(b.bin, f"{b.short_name} – {b.name}") for b in all_banks()
    ]


class ManyOptions(Select):
    """A select of plain options drawn in one pass: WTForms renders each option's attributes on its own, which cost
    about 20 ms a page for 1,000 stalls and still a quarter of the register form for the 60 banks. Options carry no
    attributes of their own."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        if "required" not in kwargs and "required" in getattr(field, "flags", {}):
            kwargs["required"] = True
        data = field.data if self.multiple else [] if field.data is None else [field.data]
        chosen = {str(v) for v in (data or ())}
        options = "".join(
            f'<option value="{escape(c.value)}"{" selected" if str(c.value) in chosen else ""}>'
            f"{escape(c.label)}</option>"
            for c in field.choices or ()
        )
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class LoginForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(REQUIRED), too_long(40)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(REQUIRED), too_long(200)])


class OwnerFields(FlaskForm):
    owner_name = StringField(
        _l("Họ tên chủ hộ"), validators=[DataRequired(REQUIRED), too_long(max_length(Household, "owner_name"))]
    )
    phone = StringField(_l("Số điện thoại"), validators=[Optional(), rule(identity.normalise_phone)])
    citizen_id = StringField(_l("Số CCCD"), validators=[Optional(), rule(identity.validate_citizen_id)])
    goods = StringField(_l("Mặt hàng kinh doanh"), validators=[Optional(), too_long(max_length(Household, "goods"))])


class AccountFields(FlaskForm):
    bin = SelectField(_l("Ngân hàng"), choices=[], validate_choice=False, widget=ManyOptions())
    # Letters only with the alias tick: checked in validate_account_number with the tick's value.
    account_number = StringField(_l("Số tài khoản"), validators=[Optional()])
    account_alias = BooleanField(_l("Đây là tài khoản định danh có chữ do ngân hàng cấp (đã đối chiếu với chủ hộ)"))
    holder_name = StringField(
        _l("Tên chủ tài khoản"),
        validators=[Optional(), too_long(max_length(BankAccount, "holder_name")), rule(identity.normalise_holder_name)],
    )

    def fill_banks(self) -> None:
        self.bin.choices = bank_choices()

    def validate_account_number(self, field) -> None:  # noqa: ANN001
        if self.bin.data and not (field.data or "").strip():
            raise ValidationError(_l("Hãy nhập số tài khoản của ngân hàng đã chọn."))
        if (field.data or "").strip():
            rule(lambda v: identity.normalise_account_number(v, alias=bool(self.account_alias.data)))(self, field)

    def validate_bin(self, field) -> None:  # noqa: ANN001
        if (self.account_number.data or "").strip() and not field.data:
            raise ValidationError(_l("Hãy chọn ngân hàng của tài khoản."))


class RegisterForm(OwnerFields, AccountFields):
    # Offers one zone's page of free stalls (registry_queries.stall_choice); the service checks what is posted
    # (this market's, open, still free), so a stall taken meanwhile is refused by name with a link to its household.
    stall_ids = SelectMultipleField(
        _l("Sạp / ki-ốt"), coerce=int, widget=ManyOptions(multiple=True), validate_choice=False
    )
    # A stall not listed yet: created with the household, so a trader at an unlisted stall is not turned away.
    new_stall_code = StringField(
        _l("Mã sạp chưa có trong danh sách"), validators=[Optional(), rule(stallcodes.clean_stall_code)]
    )
    new_stall_zone = StringField(_l("Khu / dãy của sạp mới"), validators=[Optional(), too_long(ZONE_MAX)])

    def validate_stall_ids(self, field) -> None:  # noqa: ANN001
        if not field.data and not (self.new_stall_code.data or "").strip():
            raise ValidationError(_l("Hãy chọn ít nhất một sạp."))


class EditHouseholdForm(OwnerFields):
    version = HiddenField()


class ChangeAccountForm(AccountFields):
    version = HiddenField()
    reason = TextAreaField(
        _l("Lý do đổi tài khoản"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=5, max=300, message=_l("Lý do cần từ %(min)d đến %(max)d ký tự.")),
        ],
    )


class QRPhotoForm(FlaskForm):
    photo = FileField(_l("Ảnh mã QR có sẵn"), validators=[FileAllowed(["png", "jpg", "jpeg", "webp"], PHOTO_TYPES)])


class PrintForm(FlaskForm):
    layout = SelectField(
        _l("Khổ in"),
        choices=[
            ("a6", _l("A6 – mỗi trang một bảng")),
            ("a5", "A5"),
            ("a4", "A4"),
            ("a4-2up", _l("A4 – 2 bảng/tờ")),
            ("a4-4up", _l("A4 – 4 bảng/tờ")),
            ("a4-8up", _l("A4 – 8 bảng/tờ")),
        ],
        default="a4-4up",
    )
    selection = SelectField(
        _l("In cho"),
        choices=[
            ("needed", _l("Chỉ các sạp cần in (mới hoặc in lại)")),
            ("all", _l("Tất cả sạp đã cấp QR")),
            ("zone", _l("Một dãy / khu")),
            ("picked", _l("Các sạp chọn tay")),
        ],
        default="needed",
    )
    zone = StringField(_l("Dãy / khu"), validators=[Optional(), too_long(40)])
    stall_codes = StringField(_l("Mã sạp (cách nhau bởi dấu phẩy)"), validators=[Optional(), too_long(4000)])


class VerifyForm(FlaskForm):
    photo = FileField(_l("Ảnh chụp bảng QR"), validators=[FileAllowed(["png", "jpg", "jpeg", "webp"], PHOTO_TYPES)])
    payload = StringField(_l("Hoặc nội dung mã đã quét"), validators=[Optional(), too_long(512)])


class TargetForm(FlaskForm):
    target = IntegerField(_l("Mục tiêu (%)"), validators=[Optional()])
