"""HTTP plumbing both services share: the error envelope, health checks, request ids, body limits."""
