"""Forms of the Users pages and of a user's own account. Limits and the password rule come from the services.

Labels and messages are Vietnamese msgids wrapped in ``lazy_gettext``; the password rule's refusals are said in
the user's language from the refusal's own template, so a form and the service can never disagree on what passes.
"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, NumberRange, Optional, ValidationError

from merchants import passwords, roles
from merchants.forms import REQUIRED, too_long
from merchants.services import api_tokens, users
from merchants.services.user_scope import AreaGrant, split_codes
from merchants.views.helpers import role_text, translated


def password_hint() -> str:
    """The rule as the form states it, from the service's limits."""
    return gettext(
        "Từ %(min)s đến %(max)s ký tự; không dùng mật khẩu phổ biến như 12345678 hay matkhau123.",
        min=passwords.MIN_PASSWORD,
        max=passwords.MAX_PASSWORD,
    )


def _password_rule(form: PasswordFields, field: PasswordField) -> None:
    try:
        passwords.check_password(field.data or "", username=form.rule_username)
    except passwords.PasswordRefused as exc:
        raise ValidationError(translated(exc)) from exc


class PasswordFields(FlaskForm):
    """A new password, typed twice; ``rule_username`` is set by the view so it can refuse the username itself."""

    rule_username = ""
    password = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(REQUIRED), _password_rule])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("Hai mật khẩu không giống nhau."))],
    )


class SetPasswordForm(PasswordFields):
    pass


class ChangePasswordForm(PasswordFields):
    current_password = PasswordField(
        _l("Mật khẩu hiện tại"), validators=[DataRequired(REQUIRED), too_long(passwords.MAX_PASSWORD)]
    )


def role_choices() -> list[tuple[str, str]]:
    return [(r, role_text(r)) for r in roles.ROLES]


class UserFields(FlaskForm):
    """Name, role and areas; the scope fields take official codes, several separated by commas."""

    full_name = StringField(_l("Họ tên"), validators=[DataRequired(REQUIRED), too_long(users.FULL_NAME_MAX)])
    role = SelectField(_l("Vai trò"), choices=[], validate_choice=False)
    provinces = SelectMultipleField(_l("Tỉnh/thành phố"), choices=[], validate_choice=False)
    communes = StringField(_l("Mã xã/phường"), validators=[Optional(), too_long(2000)])
    markets = StringField(_l("Mã chợ"), validators=[Optional(), too_long(2000)])
    commune_query = StringField(_l("Tìm xã/phường theo tên hoặc mã"), validators=[Optional(), too_long(100)])
    picked_communes = SelectMultipleField(_l("Kết quả tìm"), choices=[], validate_choice=False)
    scope = HiddenField()  # carries no value: refusals about the areas as a whole are shown with it

    def fill(self, provinces: list[tuple[str, str]]) -> None:
        self.role.choices = role_choices()
        self.provinces.choices = provinces

    def scope_input(self) -> AreaGrant:
        return AreaGrant.of(
            self.provinces.data or [],
            [self.communes.data or "", *(self.picked_communes.data or [])],
            [self.markets.data or ""],
        )

    def merge_picked(self) -> None:
        """Communes ticked in the search results join the typed codes, so a second search keeps them."""
        codes = list(dict.fromkeys([*split_codes(self.communes.data or ""), *(self.picked_communes.data or [])]))
        self.communes.data = ", ".join(codes)
        self.picked_communes.data = []


class NewUserForm(UserFields):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(REQUIRED), too_long(users.USERNAME_MAX)])


class EditUserForm(UserFields):
    version = HiddenField()


class TokenForm(FlaskForm):
    label = StringField(_l("Dùng cho việc gì"), validators=[DataRequired(REQUIRED), too_long(api_tokens.LABEL_MAX)])
    days = IntegerField(
        _l("Hiệu lực (số ngày, để trống: không hết hạn)"),
        validators=[Optional(), NumberRange(1, api_tokens.MAX_TOKEN_DAYS, _l("Số ngày phải từ %(min)s đến %(max)s."))],
    )


class UserImportForm(FlaskForm):
    file = FileField(
        _l("Tệp danh sách người dùng (.xlsx hoặc .csv)"), validators=[FileRequired(_l("Hãy chọn tệp cần nhập."))]
    )
    dry_run = BooleanField(_l("Chạy thử: chỉ kiểm tra, không lưu gì"))


class ActionForm(FlaskForm):
    """The buttons on a user's page (disable, enable, new link, revoke): nothing but the CSRF token."""
