# LensLab in a container: the whole workbench on port 7860, run as a non-root user (uid 1000),
# the same layout Hugging Face Spaces uses. Embedded weights are inside the image, so it works offline.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False \
    MPLCONFIGDIR=/tmp/matplotlib

RUN useradd --create-home --uid 1000 lenslab
WORKDIR /home/lenslab/app

COPY requirements.txt .
RUN pip install --upgrade pip && pip install -r requirements.txt

COPY --chown=1000:1000 . .
USER 1000

EXPOSE 7860
CMD ["python", "apps/app.py"]
