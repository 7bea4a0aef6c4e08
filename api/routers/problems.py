from api.routers.listings import make_router
from core.listings.schemas import ProblemIn, ProblemUpdate

router = make_router("problem", "/problems", ProblemIn, ProblemUpdate, "技术需求")
