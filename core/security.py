"""Password hashing (argon2id) and signed bearer tokens."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.settings import get_settings

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().get_secret_key(), salt=salt)


def _fingerprint(password_hash: str) -> str:
    # Changing the password invalidates earlier tokens.
    return password_hash[-10:]


def create_token(user_id: int, password_hash: str) -> str:
    return _serializer("api-token").dumps({"uid": user_id, "pf": _fingerprint(password_hash)})


def read_token(token: str) -> tuple[int, str] | None:
    """Return (user_id, password fingerprint) or None if invalid or expired."""
    try:
        data = _serializer("api-token").loads(token, max_age=get_settings().token_ttl_seconds)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or "uid" not in data:
        return None
    return int(data["uid"]), str(data.get("pf", ""))


def token_matches(password_hash: str, fingerprint: str) -> bool:
    return _fingerprint(password_hash) == fingerprint
