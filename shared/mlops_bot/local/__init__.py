"""The local stack: the template's resources on an embedded moto server, run without Docker.

`template.yaml` is the only list of resources; this package reads it, provisions its tables,
queues, secrets and state machines on moto, serves its HTTP API routes, polls its SQS event
sources, and runs the same handler code Lambda runs, in process.
"""
