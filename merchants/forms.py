"""Declarative forms. Field formats reuse the rules in ``identity``; cross-record checks stay in services."""

from __future__ import annotations

from collections.abc import Callable

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from merchants import identity
from merchants.errors import InvalidField
from qr import all_banks

REQUIRED = "Trường này không được để trống."


def rule(check: Callable[[str], object]) -> Callable:
    """Turn an ``identity`` rule into a WTForms validator that shows its Vietnamese message."""

    def _validate(_form: FlaskForm, field) -> None:  # noqa: ANN001
        if field.data and str(field.data).strip():
            try:
                check(field.data)
            except InvalidField as exc:
                raise ValidationError(exc.message) from exc

    return _validate


def bank_choices() -> list[tuple[str, str]]:
    return [("", "— Chọn ngân hàng —")] + [(b.bin, f"{b.short_name} – {b.name}") for b in all_banks()]


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired(REQUIRED), Length(max=40)])
    password = PasswordField("Mật khẩu", validators=[DataRequired(REQUIRED), Length(max=200)])


class OwnerFields(FlaskForm):
    owner_name = StringField("Họ tên chủ hộ", validators=[DataRequired(REQUIRED), Length(max=100)])
    phone = StringField("Số điện thoại", validators=[Optional(), rule(identity.normalise_phone)])
    citizen_id = StringField("Số CCCD", validators=[Optional(), rule(identity.validate_citizen_id)])
    goods = StringField("Mặt hàng kinh doanh", validators=[Optional(), Length(max=120)])


class AccountFields(FlaskForm):
    bin = SelectField("Ngân hàng", choices=[], validate_choice=False)
    account_number = StringField("Số tài khoản", validators=[Optional(), rule(identity.normalise_account_number)])
    holder_name = StringField("Tên chủ tài khoản", validators=[Optional(), Length(max=100),
                                                                rule(identity.normalise_holder_name)])

    def fill_banks(self) -> None:
        self.bin.choices = bank_choices()

    def validate_account_number(self, field) -> None:  # noqa: ANN001
        if self.bin.data and not (field.data or "").strip():
            raise ValidationError("Hãy nhập số tài khoản của ngân hàng đã chọn.")

    def validate_bin(self, field) -> None:  # noqa: ANN001
        if (self.account_number.data or "").strip() and not field.data:
            raise ValidationError("Hãy chọn ngân hàng của tài khoản.")


class RegisterForm(OwnerFields, AccountFields):
    stall_ids = SelectMultipleField("Sạp / ki-ốt", coerce=int, validators=[InputRequired("Hãy chọn ít nhất một sạp.")])


class EditHouseholdForm(OwnerFields):
    version = HiddenField()


class ChangeAccountForm(AccountFields):
    version = HiddenField()
    reason = TextAreaField("Lý do đổi tài khoản", validators=[DataRequired(REQUIRED), Length(min=5, max=300)])


class QRPhotoForm(FlaskForm):
    photo = FileField("Ảnh mã QR có sẵn", validators=[FileAllowed(["png", "jpg", "jpeg", "webp"],
                                                                    "Chỉ nhận ảnh PNG, JPEG hoặc WEBP.")])


class PrintForm(FlaskForm):
    layout = SelectField("Khổ in", choices=[("a6", "A6 – mỗi trang một bảng"), ("a5", "A5"), ("a4", "A4"),
                                            ("a4-2up", "A4 – 2 bảng/tờ"), ("a4-4up", "A4 – 4 bảng/tờ"),
                                            ("a4-8up", "A4 – 8 bảng/tờ")], default="a4-4up")
    selection = SelectField("In cho", choices=[("needed", "Chỉ các sạp cần in (mới hoặc in lại)"),
                                               ("all", "Tất cả sạp đã cấp QR"), ("zone", "Một dãy / khu"),
                                               ("picked", "Các sạp chọn tay")], default="needed")
    zone = StringField("Dãy / khu", validators=[Optional(), Length(max=40)])
    stall_codes = StringField("Mã sạp (cách nhau bởi dấu phẩy)", validators=[Optional(), Length(max=4000)])


class VerifyForm(FlaskForm):
    photo = FileField("Ảnh chụp bảng QR", validators=[FileAllowed(["png", "jpg", "jpeg", "webp"],
                                                                    "Chỉ nhận ảnh PNG, JPEG hoặc WEBP.")])
    payload = StringField("Hoặc nội dung mã đã quét", validators=[Optional(), Length(max=512)])


class TargetForm(FlaskForm):
    target = IntegerField("Mục tiêu (%)", validators=[Optional()])
