"""Booked freight after the booking: tracking, the shipments export, and documents."""
