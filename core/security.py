"""Password hashing (argon2id), the password policy (zxcvbn), session secrets and the
login rate limiter (``limits``)."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import parse_many, storage, strategies
from zxcvbn import zxcvbn

from core.settings import get_settings, settings_cache

_hasher = PasswordHasher()
_dummy_hashes: dict[int, str] = {}

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
#: zxcvbn's cost grows with length; what lies past this adds nothing to the estimate
_ESTIMATE_CHARS = 64


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_dummy(password: str) -> bool:
    """The same work as :func:`verify_password` for an account that does not exist: a
    verification against a hash made with the current parameters. Always False."""
    key = id(_hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash(secrets.token_urlsafe(16))
    verify_password(_dummy_hashes[key], password)
    return False


# ----------------------------------------------------------------- password policy

def password_problem(password: str, user_inputs: list[str] | tuple[str, ...] = ()) -> str | None:
    """None if the password is acceptable, else the reason in Chinese. The strength is
    zxcvbn's estimate (dictionaries of common passwords, names, keyboard patterns, dates,
    sequences and repeats), with the account's own e-mail and name as extra words."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少 {MIN_PASSWORD_LENGTH} 个字符"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"密码最多 {MAX_PASSWORD_LENGTH} 个字符"
    words = [w for w in user_inputs if w]
    for w in list(words):
        if "@" in w:
            words.extend(part for part in w.replace("@", ".").split(".") if len(part) > 2)
    result = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=words)
    if result["score"] < get_settings().password_min_score:
        return ("密码太容易被猜到：请避免连续或重复的数字和字母、常见密码、键盘顺序、日期以及邮箱或姓名，"
                "建议用三四个不相关的词加数字或符号组成（例如 qiao-lian-yun-2026）")
    return None


def check_password(password: str) -> str:
    """Pydantic validator of a password field (without account context)."""
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return password


# ----------------------------------------------------------------- session secrets

def new_session_secret() -> str:
    """The secret a client holds for one login (cookie or bearer token): 256 random bits."""
    return secrets.token_urlsafe(32)


def session_key(secret: str) -> str:
    """What the database stores for a session secret (a leaked table cannot be replayed)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


# ----------------------------------------------------------------- login throttle

def ratelimit_storage_url() -> str:
    s = get_settings()
    if s.ratelimit_storage_url:
        return s.ratelimit_storage_url
    if s.celery_broker_url and s.celery_broker_url.startswith(("redis://", "rediss://")):
        return s.celery_broker_url
    return "memory://"


@settings_cache
def login_limiter() -> strategies.MovingWindowRateLimiter:
    return strategies.MovingWindowRateLimiter(storage.storage_from_string(ratelimit_storage_url()))


@settings_cache
def login_limits() -> dict[str, list]:
    s = get_settings()
    return {"account": parse_many(s.login_limit_account), "address": parse_many(s.login_limit_address)}
