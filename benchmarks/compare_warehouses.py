"""Compare two builds' warehouses table by table: the check behind "behaviour is unchanged" after a
refactor (build the default pipeline at the old and the new commit, then run this on the two
``warehouse/lce.duckdb`` files).

For every table of either warehouse it prints whether the rows are equal (compared as sets of
whole rows over the columns both builds have, in a canonical order, so row order and column order
do not matter), which columns only one build has, and how many rows only one build has. ``meta``
(build time, source revision) differs by design and is left out. Exits 1 when a shared table's
rows differ. Run: ``python benchmarks/compare_warehouses.py OLD.duckdb NEW.duckdb``.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

IGNORED = {"meta"}  # build time and revision: different in every build


def tables(con, catalog: str) -> dict[str, list[str]]:
    rows = con.execute("select table_name, column_name from information_schema.columns "
                       "where table_catalog = ? and table_schema = 'main' "
                       "order by table_name, ordinal_position", [catalog]).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return {t: c for t, c in out.items() if t not in IGNORED}


def compare(old_path: str, new_path: str) -> int:
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{old_path}' as old (read_only)")
    con.execute(f"attach '{new_path}' as new (read_only)")
    old, new = tables(con, "old"), tables(con, "new")
    differing = 0
    for table in sorted(set(old) | set(new)):
        if table not in old or table not in new:
            print(f"{table}: only in the {'new' if table in new else 'old'} build")
            continue
        shared = [c for c in old[table] if c in new[table]]
        columns = ", ".join(f'"{c}"' for c in shared)
        counts = [con.execute(f"select count(*) from {side}.{table}").fetchone()[0]
                  for side in ("old", "new")]
        only = [con.execute(f"select count(*) from (select {columns} from {a}.{table} except all "
                            f"select {columns} from {b}.{table})").fetchone()[0]
                for a, b in (("old", "new"), ("new", "old"))]
        extra = ([f"columns only in old: {sorted(set(old[table]) - set(new[table]))}"]
                 if set(old[table]) - set(new[table]) else [])
        extra += ([f"columns only in new: {sorted(set(new[table]) - set(old[table]))}"]
                  if set(new[table]) - set(old[table]) else [])
        same = only == [0, 0]
        differing += not same
        print(f"{table}: {'equal' if same else 'DIFFERENT'} ({counts[0]} vs {counts[1]} rows"
              + ("" if same else f"; {only[0]} only in old, {only[1]} only in new")
              + (f"; {'; '.join(extra)}" if extra else "") + ")")
    return 1 if differing else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    args = parser.parse_args()
    sys.exit(compare(args.old, args.new))


if __name__ == "__main__":
    main()
