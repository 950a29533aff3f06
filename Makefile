# The two commands of the README. Both set everything up first (idempotent).
.PHONY: serve test setup models benchmark

setup:
	./scripts/bootstrap

serve: setup
	.venv/bin/mkdocs serve --dev-addr 127.0.0.1:8000

test: setup
	.venv/bin/python -m pytest

models: setup
	.venv/bin/python models/palette/train.py
	.venv/bin/python models/digits/train.py
	.venv/bin/python models/emoji/train.py
	.venv/bin/python models/penguin-mass/train.py
	.venv/bin/python models/penguin-profile/train.py
	.venv/bin/python models/penguins/train.py
	.venv/bin/python models/digit-segmenter/train.py
	.venv/bin/python models/digit-vae/train.py
	.venv/bin/python models/digit-denoiser/train.py
	.venv/bin/python models/sunspots/train.py
	.venv/bin/python models/spam/train.py

benchmark: setup
	.venv/bin/python benchmarks/run.py
	.venv/bin/python benchmarks/backends.py
	.venv/bin/python benchmarks/peers.py
	.venv/bin/python benchmarks/webgpu.py
	.venv/bin/python benchmarks/any_length.py
