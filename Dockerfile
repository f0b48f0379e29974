FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY alternator ./alternator
RUN pip install --no-cache-dir .
EXPOSE 8000 8043
CMD ["alternator", "serve", "--alternator-address", "0.0.0.0"]
