"""One module per engine; each is imported only when a manager of that type is created."""
