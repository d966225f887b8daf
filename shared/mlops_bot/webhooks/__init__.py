"""GitHub webhook admission: signature, parsing, de-duplication, tenancy and queueing."""
