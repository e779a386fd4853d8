"""The demo chain's organisation and customers: an HQ, two regions, three stores, guides, members."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import Binding, Customer, Guide, Region, Staff, Store
from server.model_base import utcnow

STORES = [  # (region, code, name, city)
    ("华东大区", "SH01", "上海南京路店", "上海"),
    ("华东大区", "HZ01", "杭州湖滨店", "杭州"),
    ("华南大区", "GZ01", "广州天河店", "广州"),
]
GUIDE_NAMES = ["王丽", "陈静", "李娜", "张敏", "刘芳", "赵雪"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "小红",
    "晓燕",
    "丽华",
    "婷婷",
    "佳怡",
    "欣怡",
    "雨涵",
    "思琪",
    "梦瑶",
    "静怡",
    "子涵",
    "诗雨",
]


@dataclass
class OrgSeed:
    hq_staff_id: int
    store_ids: list[int]
    host_ids: dict[int, int]
    """Host staff id per store id."""
    guides: dict[int, list[tuple[int, str]]]
    """(guide id, share code) per store id."""
    customer_ids: list[int] = field(default_factory=list)


async def seed_org(session: AsyncSession, customers: int = 300, seed: int = 7) -> OrgSeed:
    rng = random.Random(seed)
    regions: dict[str, Region] = {}
    for region_name, *_ in STORES:
        if region_name not in regions:
            regions[region_name] = Region(name=region_name)
            session.add(regions[region_name])
    await session.flush()
    hq = Staff(role="hq", name="总部运营 周总")
    session.add(hq)
    org = OrgSeed(hq_staff_id=0, store_ids=[], host_ids={}, guides={})
    guide_names = iter(GUIDE_NAMES)
    for region_name, code, name, city in STORES:
        store = Store(region_id=regions[region_name].id, code=code, name=name, city=city)
        session.add(store)
        await session.flush()
        host = Staff(role="host", name=f"{name}店长", store_id=store.id)
        session.add(host)
        guides = [
            Guide(
                store_id=store.id,
                name=next(guide_names),
                phone=f"139{rng.randrange(10**8):08d}",
                share_code=f"{code}-G{n + 1}",
            )
            for n in range(2)
        ]
        session.add_all(guides)
        await session.flush()
        org.store_ids.append(store.id)
        org.host_ids[store.id] = host.id
        org.guides[store.id] = [(g.id, g.share_code) for g in guides]
    await session.flush()
    org.hq_staff_id = hq.id

    now = utcnow()
    for n in range(customers):
        store_id = rng.choice(org.store_ids)
        customer = Customer(
            openid=f"demo-openid-{n:04d}",
            phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            nickname=rng.choice(SURNAMES) + rng.choice(GIVEN),
            home_store_id=store_id,
            created_at=now - timedelta(days=rng.randrange(30, 900)),
        )
        session.add(customer)
        await session.flush()
        org.customer_ids.append(customer.id)
        if rng.random() < 0.7:  # most members were added by a guide; the rest are unbound
            guide_id, _ = rng.choice(org.guides[store_id])
            session.add(
                Binding(
                    customer_id=customer.id,
                    guide_id=guide_id,
                    store_id=store_id,
                    source="import",
                    bound_at=customer.created_at,
                )
            )
    await session.flush()
    return org
