"""The outbox of outgoing notifications (DESIGN section 5) lives here."""
