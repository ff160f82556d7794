"""The erase list: ids appended and synced, read back whole, a torn last line ignored, and an
id taken off again when its erasure rolls back."""

import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.db import after_rollback, transaction
from app.services import erase_list


def test_ids_are_appended_one_a_line_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "erased"
    first, second = uuid.uuid4(), uuid.uuid4()
    erase_list.record(path, first)
    erase_list.record(path, second)
    assert path.read_text() == f"{first}\n{second}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert erase_list.read([path, tmp_path / "missing"]) == {first, second}


def test_a_line_cut_short_by_a_crash_is_no_id_and_is_dropped_by_the_next(
    tmp_path: Path,
) -> None:
    path = tmp_path / "erased"
    kept, torn, after = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    path.write_text(f"{kept}\n{str(torn)[:20]}")
    assert erase_list.read([path]) == {kept}
    erase_list.record(path, after)
    assert path.read_text() == f"{kept}\n{after}\n"


def test_a_damaged_list_is_refused_rather_than_half_applied(tmp_path: Path) -> None:
    path = tmp_path / "erased"
    path.write_text(f"{uuid.uuid4()}\nnot an id\n")
    with pytest.raises(erase_list.EraseListError, match="line 2"):
        erase_list.read([path])


def test_an_erasure_that_rolls_back_takes_its_id_off_again(
    tmp_path: Path, db_engine: Engine
) -> None:
    path = tmp_path / "erased"
    earlier, rolled_back = uuid.uuid4(), uuid.uuid4()
    erase_list.record(path, earlier)
    with pytest.raises(RuntimeError), transaction(db_engine, writes=True) as db:
        erase_list.record(path, rolled_back)
        after_rollback(db, lambda: erase_list.withdraw(path, rolled_back))
        raise RuntimeError("the commit did not happen")
    assert erase_list.read([path]) == {earlier}
    # And one that commits keeps it.
    with transaction(db_engine, writes=True) as db:
        erase_list.record(path, rolled_back)
        after_rollback(db, lambda: erase_list.withdraw(path, rolled_back))
    assert erase_list.read([path]) == {earlier, rolled_back}
