"""LensLab's Gradio pages: one module per lesson (each exports ``demo``) and ``app`` holding them all."""
