"""The management API's services: the rules behind each route, without AWS or HTTP."""
