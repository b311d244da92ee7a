"""The backup and restore drill: back up the database and the evidence store, restore both
into fresh ones, and prove the copy is whole (row counts, files by SHA-256, audit chains)."""
