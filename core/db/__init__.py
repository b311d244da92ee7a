"""Where reads go: the primary ("default"), or a streaming read replica ("replica") for reports.

`scope` marks the reads that may be served by the replica (`replica_reads()`,
`@reads_from_replica`), `health` says whether the replica may serve them now, `router` decides
each query, and `middleware` keeps a user who has just written on the primary for a while.
docs/operations.md ("Read replica") describes the settings.
"""
