"""The real-time dashboard (the spec's `/ws/dashboard`): connections, messages, broadcasts.

API Gateway's WebSocket API holds the sockets; `DashboardFunction` registers them (`$connect`,
`$disconnect`, `subscribe`) and `BroadcasterFunction` turns the state table's stream into the
spec's message types and pushes them to the connections of the tenant a change belongs to.
"""
