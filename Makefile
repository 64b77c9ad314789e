# Common targets. `make demo` and `make test` are the README's two commands.
.PHONY: setup demo test test-fast lint typecheck bench spark-server serve clean

setup:
	bash scripts/bootstrap.sh

demo: setup
	.venv/bin/qingfeng demo

test:
	bash scripts/test.sh

test-fast: setup
	.venv/bin/python -m pytest -m "not slow and not browser"

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: setup
	.venv/bin/mypy jobs graphs qingfeng

bench: setup
	.venv/bin/qingfeng bench --households $${HOUSEHOLDS:-2000} $${SPARK_SERVER:+--spark-server}

spark-server: setup
	.venv/bin/qingfeng spark-server

serve: setup
	.venv/bin/qingfeng serve

clean:
	rm -rf var .pytest_cache
