"""Rows as dicts: the compiled row builder answers as dict(zip(names, row)) does."""

import pytest

from soniquebay.library import db, sql


@pytest.mark.parametrize(
    "names",
    [("id",), ("id", "title", "bpm"), ("a", "b'c", 'x"y\\', "a"), ("lambda", "}]{", "\n")],
)
def test_rows_as_dicts_is_dict_of_zip(names):
    rows = [tuple(range(i, i + len(names))) for i in range(4)]
    assert sql.rows_as_dicts(names)(rows) == [dict(zip(names, row, strict=True)) for row in rows]
    with pytest.raises(ValueError):  # a row of the wrong length, as zip(strict=True) refuses
        sql.rows_as_dicts(names)([(*rows[0], 99)])
    assert sql.rows_as_dicts(())([(), ()]) == [{}, {}]


def test_dict_rows_names_the_columns_of_a_real_query(tmp_path):
    conn = db.connect(tmp_path / "rows.db")
    conn.execute('CREATE TABLE t (id INTEGER, title TEXT, "odd\'name" REAL)')
    conn.execute("INSERT INTO t VALUES (1, 'a', 0.5), (2, NULL, NULL)")
    assert sql.dict_rows(conn, "SELECT * FROM t ORDER BY id", ()) == [
        {"id": 1, "title": "a", "odd'name": 0.5},
        {"id": 2, "title": None, "odd'name": None},
    ]
    assert sql.dict_rows(conn, "SELECT * FROM t WHERE id > ?", (5,)) == []
