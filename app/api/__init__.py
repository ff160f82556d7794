"""HTTP only: one router per resource."""
