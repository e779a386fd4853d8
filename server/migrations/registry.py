"""Every package's tables on one metadata, for Alembic (env.py) and the schema tests.

Only the migrations need all tables at once; kept here, the engine module (server/db.py) and
everything that takes `Services` import no domain.
"""

from __future__ import annotations

import attribution.models
import live.models
import live.scores_models
import orders.coupons_models
import orders.deals_models
import orders.groups_models
import orders.models
from server.model_base import Base

# Importing the models registers their tables on Base.metadata, which Alembic reads.
metadata = Base.metadata
__all__ = ["attribution", "live", "metadata", "orders"]
