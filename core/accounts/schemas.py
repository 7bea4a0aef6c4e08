"""Schemas of organizations, users and registration."""
from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from core import validation
from core.schemas import DbId, Password, Schema, check_phone_field, check_region_field
from core.security import password_problem
from core.vocab import OrgKind, Role


class OrganizationIn(Schema):
    kind: OrgKind
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    credit_code: str
    region: str
    industry: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    sme_year: int | None = Field(default=None, ge=2017, le=2100)
    sme_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    hnte_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    hnte_year: int | None = Field(default=None, ge=2008, le=2100)

    _credit = field_validator("credit_code")(lambda v: validation.check_credit_code(v))
    _region = field_validator("region")(check_region_field)

    @model_validator(mode="after")
    def _enterprise_only(self):
        if self.kind != OrgKind.enterprise and (self.sme_number or self.hnte_number):
            raise ValueError("只有企业可以填写科技型中小企业和高新技术企业信息")
        if bool(self.sme_year) != bool(self.sme_number):
            raise ValueError("科技型中小企业入库年度和编号需同时填写")
        if bool(self.hnte_year) != bool(self.hnte_number):
            raise ValueError("高新技术企业认定年度和证书编号需同时填写")
        return self


class OrganizationUpdate(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] | None = None
    region: str | None = None
    industry: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    sme_year: int | None = Field(default=None, ge=2017, le=2100)
    sme_number: str | None = None
    hnte_number: str | None = None
    hnte_year: int | None = Field(default=None, ge=2008, le=2100)

    _region = field_validator("region")(lambda v: v if v is None else check_region_field(v))


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    name: str
    credit_code: str
    region: str
    industry: str
    sme_year: int | None
    sme_number: str | None
    hnte_number: str | None
    hnte_year: int | None
    approved: bool


class UserCreate(Schema):
    org_id: DbId
    email: EmailStr
    password: Password
    role: Role
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    phone: str | None = None

    _phone = field_validator("phone")(lambda v: check_phone_field(v) if v else None)

    @model_validator(mode="after")
    def _password_not_personal(self):
        problem = password_problem(self.password, [self.email, self.name])
        if problem:
            raise ValueError(problem)
        return self


class RegistrationIn(Schema):
    """Self-registration: a new organization and its first user, pending approval."""

    org: OrganizationIn
    email: EmailStr
    password: Password
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    phone: str | None = None

    _phone = field_validator("phone")(lambda v: check_phone_field(v) if v else None)

    @model_validator(mode="after")
    def _password_not_personal(self):
        problem = password_problem(self.password, [self.email, self.name])
        if problem:
            raise ValueError(problem)
        return self


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    email: str
    name: str
    role: str
    is_active: bool
    status: str


class PasswordChange(Schema):
    """The user's own password change (the policy is checked with the account's e-mail and name)."""

    current_password: Annotated[str, StringConstraints(max_length=512)]
    new_password: Annotated[str, StringConstraints(max_length=512)]
