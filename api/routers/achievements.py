from fastapi import APIRouter

from api.routers.listings import download_router, make_router
from core.listings.schemas import AchievementIn, AchievementUpdate

router = APIRouter()
router.include_router(make_router("achievement", "/achievements", AchievementIn, AchievementUpdate, "科技成果"))
router.include_router(download_router())
