"""Spider hardness, hand-checked against the rules of Spider's evaluation script.

Notation in the comments: c1 = count_component1, c2 = count_component2, o = count_others.
Thresholds: easy  c1<=1, o==0, c2==0
            medium (o<=2, c1<=1, c2==0) or (c1<=2, o<2, c2==0)
            hard   (o>2, c1<=2, c2==0) or (2<c1<=3, o<=2, c2==0) or (c1<=1, o==0, c2<=1)
            extra  otherwise
"""

import pytest

from sqlsynth.sql import ComponentCounts, component_counts, difficulty_score, spider_hardness
from sqlsynth.sql.hardness import hardness_from_counts
from sqlsynth.sql.parse import SQLParseError

JOIN2 = "FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id"
JOIN3 = JOIN2 + " JOIN stadium AS T3 ON T2.stadium_id = T3.id"

CASES = [
    # 1. nothing at all: c1=0 c2=0 o=0 -> easy
    ("SELECT count(*) FROM singer", (0, 0, 0), "easy"),
    # 2. WHERE only: c1=1 -> easy
    ("SELECT name FROM singer WHERE age > 20", (1, 0, 0), "easy"),
    # 3. two select columns: o=1 (select>1), c1=0 -> medium (o<=2, c1<=1)
    ("SELECT name, age FROM singer", (0, 0, 1), "medium"),
    # 4. ORDER BY + LIMIT: c1=2, o=0 -> medium (c1<=2, o<2)
    ("SELECT name FROM singer ORDER BY age LIMIT 1", (2, 0, 0), "medium"),
    # 5. one join = 2 table units: c1=1 -> easy
    (f"SELECT T1.name {JOIN2}", (1, 0, 0), "easy"),
    # 6. join + WHERE: c1=2 -> medium
    (f"SELECT T1.name {JOIN2} WHERE T2.year = 2014", (2, 0, 0), "medium"),
    # 7. three tables: c1=2 -> medium
    (f"SELECT T1.name {JOIN3}", (2, 0, 0), "medium"),
    # 8. three tables + WHERE: c1=3, o=0 -> hard (2<c1<=3)
    (f"SELECT T1.name {JOIN3} WHERE T3.capacity > 10", (3, 0, 0), "hard"),
    # 9. three tables + WHERE + ORDER BY: c1=4 -> extra
    (f"SELECT T1.name {JOIN3} WHERE T3.capacity > 10 ORDER BY T1.age", (4, 0, 0), "extra"),
    # 10. OR: c1 = where + one OR = 2; o = 1 (two WHERE conditions) -> medium (c1<=2, o<2)
    ("SELECT name FROM singer WHERE age > 20 OR age < 10", (2, 0, 1), "medium"),
    # 11. LIKE: c1 = where + like = 2 -> medium
    ("SELECT name FROM singer WHERE name LIKE '%a%'", (2, 0, 0), "medium"),
    # 12. two LIKEs joined by OR: c1 = 1 + 2 likes + 1 or = 4 -> extra
    ("SELECT name FROM singer WHERE name LIKE '%a%' OR name LIKE '%b%'", (4, 0, 1), "extra"),
    # 13. two aggregates: o = (agg>1) + (select>1) = 2, c1=0 -> medium (o<=2, c1<=1)
    ("SELECT max(age), min(age) FROM singer", (0, 0, 2), "medium"),
    # 14. o = aggs(3>1) + select(3>1) + where conds(2>1) + group keys(2>1) = 4, c1 = 2
    #     -> hard (o>2, c1<=2)
    (("SELECT max(age), min(age), avg(age) FROM singer WHERE country = 'x' AND age > 3 "
      "GROUP BY country, gender"), (2, 0, 4), "hard"),
    # 15. NOT IN subquery: c1=1, c2=1; the NOT adds one "aggregation" (Spider counts the
    #     not-flag of WHERE conditions), 1 is not >1 so o=0 -> hard (c1<=1, o==0, c2<=1)
    ("SELECT name FROM stadium WHERE id NOT IN (SELECT stadium_id FROM concert)",
     (1, 1, 0), "hard"),
    # 16. comparison with a scalar subquery: c1=1, c2=1, o=0 -> hard
    ("SELECT name FROM stadium WHERE capacity > (SELECT avg(capacity) FROM stadium)",
     (1, 1, 0), "hard"),
    # 17. same with two select columns: o=1 and c2=1 -> extra (hard needs o==0 when c2>0)
    ("SELECT name, capacity FROM stadium WHERE capacity > (SELECT avg(capacity) FROM stadium)",
     (1, 1, 1), "extra"),
    # 18. INTERSECT: top level c1=1 (its own WHERE), c2=1 -> hard
    (("SELECT country FROM singer WHERE age > 40 INTERSECT "
      "SELECT country FROM singer WHERE age < 30"), (1, 1, 0), "hard"),
    # 19. a UNION chain is one continuation at the top level: c2=1 -> hard
    ("SELECT a FROM t UNION SELECT a FROM s UNION SELECT a FROM r", (0, 1, 0), "hard"),
    # 20. EXCEPT whose right side nests another query: only the continuation counts at the
    #     top (c2=1), its WHERE belongs to the continuation -> hard
    ("SELECT id FROM t EXCEPT SELECT id FROM s WHERE x IN (SELECT y FROM r)",
     (0, 1, 0), "hard"),
    # 21. two condition subqueries: c2=2 -> extra
    ("SELECT name FROM t WHERE a IN (SELECT x FROM s) AND b IN (SELECT y FROM r)",
     (1, 2, 1), "extra"),
    # 22. HAVING with an aggregate: Spider's aggregation count over HAVING looks at the
    #     not-flag/connectors, so it adds 0: c1=1 (group), o=0 -> easy
    ("SELECT name FROM t GROUP BY name HAVING count(*) > 1", (1, 0, 0), "easy"),
    # 23. HAVING with AND: the connector counts as an "aggregation": select 1 + 1 = 2 >1,
    #     select>1 -> o=2; c1=1 -> medium (o<=2, c1<=1)
    ("SELECT name, count(*) FROM t GROUP BY name HAVING count(*) > 1 AND avg(x) > 2",
     (1, 0, 2), "medium"),
    # 24. GROUP BY + ORDER BY count(*) + LIMIT: c1=3; aggs select 1 + order 1 = 2 -> +1,
    #     select>1 -> +1, o=2 -> hard (2<c1<=3, o<=2)
    ("SELECT name, count(*) FROM t GROUP BY name ORDER BY count(*) DESC LIMIT 1",
     (3, 0, 2), "hard"),
    # 25. the same with a join: c1=4 -> extra
    (("SELECT T1.name, count(*) FROM a AS T1 JOIN b AS T2 ON T1.id = T2.aid GROUP BY T1.id "
      "ORDER BY count(*) DESC LIMIT 1"), (4, 0, 2), "extra"),
    # 26. a FROM subquery is a table unit, not a nested query: c1=0, c2=0 -> easy
    ("SELECT count(*) FROM (SELECT a FROM t UNION SELECT a FROM s)", (0, 0, 0), "easy"),
    # 27. FROM subquery joined with a table: 2 table units, c1=1 -> easy
    ("SELECT T1.a FROM (SELECT a FROM t) AS T1 JOIN s ON T1.a = s.a", (1, 0, 0), "easy"),
    # 28. c1 = where + like = 2; c2 = 1; o = aggs(2 NOT flags >1) + where conds(2>1) = 2
    #     -> extra
    ("SELECT name FROM t WHERE a NOT IN (SELECT x FROM s) AND b NOT LIKE '%z%'",
     (2, 1, 2), "extra"),
    # 29. Spider quirk: count(*) plus a NOT condition make two "aggregations": o=1, c2=1
    #     -> extra ...
    ("SELECT count(*) FROM t WHERE a NOT IN (SELECT x FROM s)", (1, 1, 1), "extra"),
    # 30. ... while without NOT it stays hard (o=0)
    ("SELECT count(*) FROM t WHERE a IN (SELECT x FROM s)", (1, 1, 0), "hard"),
    # 31. OR in a join condition counts too: c1 = join 1 + or 1 = 2, o=0 -> medium
    ("SELECT t.a FROM t JOIN s ON t.id = 1 OR t.x = s.y", (2, 0, 0), "medium"),
    #     ... but after a column on the right of a comparison Spider's parser skips to the
    #     next AND, so this OR (and its condition) vanishes: c1 = join 1 -> easy
    #     (this case expected medium before it was checked against Spider's script)
    ("SELECT t.a FROM t JOIN s ON t.id = s.id OR t.x = s.y", (1, 0, 0), "easy"),
    # 32. DISTINCT is not a component -> easy
    ("SELECT DISTINCT name FROM t", (0, 0, 0), "easy"),
    # 33. two ORDER BY aggregates: c1 = group + order = 2, o = 1 -> medium
    ("SELECT name FROM t GROUP BY name ORDER BY count(*), sum(x)", (2, 0, 1), "medium"),
    # 34. parentheses are flattened: c1 = where + or = 2, o = 1 (3 conditions) -> medium
    ("SELECT a FROM t WHERE (x = 1 OR y = 2) AND z = 3", (2, 0, 1), "medium"),
    # 35. c1=2 and o=2 falls through every Spider bucket -> extra; ORDER BY an alias of
    #     count(*) counts like ORDER BY count(*)
    ("SELECT name, count(*) AS c FROM t GROUP BY name ORDER BY c DESC", (2, 0, 2), "extra"),
    ("SELECT name, count(*) FROM t GROUP BY name ORDER BY count(*) DESC", (2, 0, 2), "extra"),
    # 36. ORDER BY an ordinal resolves to the select item as well
    ("SELECT name, count(*) FROM t GROUP BY name ORDER BY 2 DESC", (2, 0, 2), "extra"),
    # 37. extension: a scalar subquery in SELECT counts as nested: c2=1, o=1 -> extra
    ("SELECT a, (SELECT max(b) FROM s) FROM t", (0, 1, 1), "extra"),
    # 38. BETWEEN is one condition; c1=1 -> easy
    ("SELECT a FROM t WHERE b BETWEEN 1 AND 5", (1, 0, 0), "easy"),
    # 38b. Spider counts only the aggregate around a SELECT item, not aggregates inside an
    #      arithmetic item: no aggregation at all here -> easy ...
    ("SELECT (max(a) - min(a)) FROM t", (0, 0, 0), "easy"),
    #      ... and only count(*) here (1 is not >1), select>1 -> o=1 -> medium
    ("SELECT count(*), (max(a) - min(a)) FROM t", (0, 0, 1), "medium"),
    # 38c. column-valued comparison swallows the following OR-joined condition up to the
    #      next AND: WHERE keeps 2 conditions, no OR: c1 = join + where = 2, o = 1 -> medium
    ("SELECT t.a FROM t JOIN s ON t.id = s.id WHERE t.a = s.b OR t.x = 1 AND t.b = 2",
     (2, 0, 1), "medium"),
    # 39. double-quoted strings (Spider style) are values, LIKE still counted: c1=2 -> medium
    ('SELECT a FROM t WHERE name LIKE "%x%"', (2, 0, 0), "medium"),
]


@pytest.mark.parametrize(("sql", "counts", "label"), CASES)
def test_spider_hardness(sql, counts, label):
    assert component_counts(sql) == ComponentCounts(*counts)
    assert spider_hardness(sql) == label


def test_case_count_is_substantial():
    assert len(CASES) >= 25


@pytest.mark.parametrize(
    ("counts", "label"),
    [
        ((1, 0, 0), "easy"), ((1, 0, 2), "medium"), ((2, 0, 1), "medium"),
        ((2, 0, 2), "extra"), ((2, 0, 3), "hard"), ((3, 0, 2), "hard"), ((3, 0, 3), "extra"),
        ((1, 1, 0), "hard"), ((2, 1, 0), "extra"), ((0, 2, 0), "extra"), ((4, 0, 0), "extra"),
    ],
)
def test_thresholds(counts, label):
    assert hardness_from_counts(ComponentCounts(*counts)) == label


def test_case_and_whitespace_do_not_matter():
    assert component_counts("select NAME from SINGER   where AGE>1") == \
        component_counts("SELECT name FROM singer WHERE age > 1")


def test_difficulty_score_weights_nesting():
    assert difficulty_score("SELECT a FROM t") == 0
    # c1=1, c2=1, o=0 -> 1 + 2 = 3
    assert difficulty_score("SELECT a FROM t WHERE b IN (SELECT c FROM s)") == 3
    # c1=4, c2=0, o=2 -> 6
    assert difficulty_score(CASES[24][0]) == 6


def test_unparseable_raises():
    with pytest.raises(SQLParseError):
        spider_hardness("SELECT FROM WHERE ((")
    with pytest.raises(SQLParseError):
        spider_hardness("SELECT 1; SELECT 2")
