"""Shared fixtures: a small generated world that trains in seconds; real data from ../shared/data."""

import os
from pathlib import Path

import pytest

from recattn.data.builtin import generate_films


@pytest.fixture
def toy():
    """tests/toy_kind.py's kind registered for one test: it must show up wherever kinds are listed."""
    from recattn.models import registry
    from tests.toy_kind import TOY

    registry.register(TOY)
    yield TOY
    registry.unregister(TOY.name)


@pytest.fixture(scope="session")
def small_world():
    """A 120-film, 300-user film world: big enough to learn franchises, small enough to train in seconds."""
    return generate_films(seed=11, n_films=120, n_users=300, n_franchises=20)


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data_dir():
    """A function name -> folder of real data under ../shared/data (never copied into the project).
    Where the folder is absent the test skips, except under CI=true, where that is a failure."""

    def locate(name: str) -> Path:
        path = SHARED_DATA / name
        if not path.is_dir():
            reason = f"real data {name!r} not found at {path}"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(reason + " (CI=true: the shared data must be present)")
            pytest.skip(reason)
        return path

    return locate


def assert_cause_items(interactions, rules_without_item):
    """`cause_item` is "" exactly for the rules that name no single item, and otherwise an earlier interaction of
    the same user (cause_distances finds it); returns those distances."""
    from recattn.data.info import cause_distances

    empty = interactions["cause_item"] == ""
    assert (empty == interactions["cause"].isin(rules_without_item)).all()
    distance = cause_distances(interactions)
    assert ((distance > 0) == ~empty).all()
    return distance
