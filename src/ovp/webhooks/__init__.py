"""Delivering call webhooks: each server claims due events from the database and sends them."""
