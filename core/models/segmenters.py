"""segmenters entries of the zoo (registered by their lesson)."""
