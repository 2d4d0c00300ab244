"""The data every embedded model learns from: ShapesWorld, and the held-out worlds the lessons show.

ShapesWorld is data, not training: lessons render its held-out scenes (the SimOTA and PointRend
scene buttons, the transformer pages' examples), trainers render its training scenes, and both
import it from here. Nothing in ``core`` outside ``core/train`` imports the trainers.
"""
