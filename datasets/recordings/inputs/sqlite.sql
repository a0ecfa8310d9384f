-- virtuoso's sqlite3 recording: an in-memory table of 100000 rows, indexed, queried.
CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO t SELECT i, hex(randomblob(8)), randomblob(64) FROM n;
CREATE INDEX tk ON t (k);
SELECT count(*), sum(length(v)) FROM t WHERE k > '8';
