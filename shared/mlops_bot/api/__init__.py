"""The management API: one FastAPI app (behind Mangum in Lambda), routers per resource."""
