"""Console pages of the agent: queues, the ticket workspace and phone intake."""
