#!/usr/bin/env python3
"""Seeds artifacts straight into a stopped-or-running Berth's SQLite database, for the console's
long-list test: COUNT image manifests in an existing repository, each tagged b<n>, pushed one
second apart and older than anything pushed by the test. 100,000 pushes would take far too long;
the rows are what a push leaves in the metadata tables (the blobs are not stored, which the
artifact list does not read).

    seed-artifacts.py <berth.db> <project/repository> <count>
"""
import sqlite3
import sys
import time

db_path, repository, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
started = time.monotonic()
db = sqlite3.connect(db_path, timeout=30)
row = db.execute("SELECT id FROM repositories WHERE name = ?", (repository,)).fetchone()
if row is None:
    sys.exit(f"no repository {repository}: push to it first")
repository_id = row[0]
(before,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM manifests").fetchone()
with db:
    db.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
        INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, created_at)
        SELECT ?, printf('sha256:%064x', i), 'application/vnd.oci.image.manifest.v1+json',
               'application/vnd.oci.image.config.v1+json', 1000 + i,
               strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-2 days', printf('+%d seconds', i))
        FROM n
        """,
        (count, repository_id),
    )
    db.execute(
        """
        INSERT INTO tags (repository_id, name, manifest_id, created_at, updated_at)
        SELECT repository_id, 'b' || (id - ?), id, created_at, created_at
        FROM manifests WHERE repository_id = ? AND id > ?
        """,
        (before + 1, repository_id, before),
    )
(seeded,) = db.execute(
    "SELECT COUNT(*) FROM manifests WHERE repository_id = ? AND id > ?", (repository_id, before)
).fetchone()
db.close()
if seeded != count:
    sys.exit(f"seeded {seeded} artifacts, wanted {count}")
print(f"# seeded {count} artifacts into {repository} in {time.monotonic() - started:.1f} s")
